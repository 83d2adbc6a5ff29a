"""The rollout backend for XAPI pools: plan with the plan engine, apply step by step.

Planning is the plan engine's (``diff`` then ``preflight``, nothing written). Applying is
``xapictl.plan.apply`` itself — every precondition against a fresh read before the first write,
each later step re-checked as it comes, all under the pool's write lease (taken before that
fresh read, kept until the re-plan; a pool another run already brought to the desired state is
left alone), a lost answer resolved by re-reading — with hooks
around each step, so the rollout can stop between two steps and journal each one. Every write
goes through the journal's audit table. After the last step the pool is read again and
re-planned: a pool is done only when nothing is left to do.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from xapictl.fleet.audit import AuditedCaller, host_of
from xapictl.fleet.connect import PoolConnector
from xapictl.fleet.fleetfile import FleetPool
from xapictl.fleet.journal import Journal
from xapictl.fleet.work import ApplyHooks, PoolPlan
from xapictl.plan.apply import apply, settled
from xapictl.plan.backend import XapiBackend
from xapictl.plan.core import ApplyReport, StepResult, StepStatus
from xapictl.plan.desired import DesiredState
from xapictl.plan.diff import diff
from xapictl.plan.preflight import preflight


@dataclass
class _Handle:
    conn: Any
    snapshot: Any = None


class XapiPoolWork:
    """``PoolWork`` for XAPI pools: one session per pool from plan to close."""

    def __init__(self, desired: DesiredState, connector: PoolConnector,
                 journal: Journal | None = None, lock_timeout: float | None = None) -> None:
        self.desired = desired
        self.lock_timeout = lock_timeout
        self.connector = connector
        self.journal = journal
        self._open: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._callers: list[AuditedCaller] = []

    @property
    def sent(self) -> int:
        """Writes sent to any pool so far (audited ones: with a journal)."""
        return sum(c.sent for c in self._callers)

    @property
    def effective(self) -> int:
        """Writes so far that may have taken effect."""
        return sum(c.effective for c in self._callers)

    def plan(self, pool: FleetPool) -> PoolPlan:
        conn = self.connector.connect(pool)
        with self._lock:
            self._open[pool.name] = conn
        snap = conn.snapshot()
        plan = diff(self.desired, snap)
        preflight(plan, conn.permissions(), reach=getattr(conn, "reaches", None))
        counts = Counter(step.action for step in plan.steps)
        return PoolPlan(pool.name, plan, _Handle(conn, snap), dict(counts))

    def apply(self, planned: PoolPlan, hooks: ApplyHooks) -> ApplyReport:
        conn = planned.handle.conn
        caller: Any = conn
        audited: AuditedCaller | None = None
        if self.journal is not None:
            session = getattr(conn, "session", None)
            caller = audited = AuditedCaller(
                conn, self.journal, pool=planned.pool, rollout=hooks.rollout,
                host=lambda: str(conn.url),
                host_of=functools.partial(host_of, planned.handle.snapshot),
                user=str(getattr(session, "username", "") or ""))
            with self._lock:
                self._callers.append(audited)
        if not planned.plan.steps:
            return ApplyReport()
        backend = XapiBackend(caller, lock_timeout=self.lock_timeout,
                              lease=getattr(conn, "lease", None))
        if audited is not None:
            audited.step_of = lambda: backend.caller.step
        with backend.writing():
            fresh = backend.collect()
            if settled(self.desired, fresh):
                return ApplyReport()  # another run did it meanwhile: nothing left here
            report = apply(planned.plan, backend, hooks, fresh=fresh)
            if report.ok:
                left = diff(self.desired, conn.snapshot())
                if not left.is_empty:
                    report.results.append(StepResult(
                        left.steps[0], StepStatus.FAILED,
                        "after apply the pool still needs: " + "; ".join(
                            s.describe() for s in left.steps)))
        return report

    def close(self, planned: PoolPlan | None, pool: FleetPool) -> None:
        with self._lock:
            conn = self._open.pop(pool.name, None)
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


__all__ = ["XapiPoolWork"]
