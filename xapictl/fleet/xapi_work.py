"""The rollout backend for XAPI pools: plan with the plan engine, apply step by step.

Planning is the plan engine's (``diff`` then ``preflight``, nothing written). Applying runs the
same per-step protocol as ``xapictl.plan.apply`` — precondition against a fresh read, execute,
and when the answer was lost re-read and send again only if the effect is absent — but one step
at a time, so the rollout can stop between two steps and journal each one. Every write goes
through the audit log. After the last step the pool is read again and re-planned: a pool is
done only when nothing is left to do.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from xapictl.errors import TaskError, TransportError, XapiFailure
from xapictl.fleet.audit import AuditedCaller
from xapictl.fleet.connect import PoolConnector
from xapictl.fleet.fleetfile import FleetPool
from xapictl.fleet.journal import Journal
from xapictl.fleet.work import ApplyHooks, PoolPlan
from xapictl.plan.core import ApplyReport, StepResult, StepStatus
from xapictl.plan.desired import DesiredState
from xapictl.plan.diff import diff
from xapictl.plan.preflight import preflight
from xapictl.plan.steps import RunContext, XapiStep


@dataclass
class _Handle:
    conn: Any


class XapiPoolWork:
    """``PoolWork`` for XAPI pools: one session per pool from plan to close."""

    def __init__(self, desired: DesiredState, connector: PoolConnector,
                 journal: Journal | None = None) -> None:
        self.desired = desired
        self.connector = connector
        self.journal = journal
        self._open: dict[str, Any] = {}
        self._lock = threading.Lock()

    def plan(self, pool: FleetPool) -> PoolPlan:
        conn = self.connector.connect(pool)
        with self._lock:
            self._open[pool.name] = conn
        snap = conn.snapshot()
        plan = diff(self.desired, snap)
        preflight(plan, conn.permissions())
        counts = Counter(step.action for step in plan.steps)
        return PoolPlan(pool.name, plan, _Handle(conn), dict(counts))

    def apply(self, planned: PoolPlan, hooks: ApplyHooks) -> ApplyReport:
        conn = planned.handle.conn
        caller: Any = conn
        if self.journal is not None:
            caller = AuditedCaller(conn, self.journal, pool=planned.pool,
                                   rollout=hooks.rollout, host=lambda: str(conn.url))
        report = ApplyReport()
        steps = list(planned.plan.steps)
        if not steps:
            return report
        snap = conn.snapshot()  # time has passed since planning: check against the pool now
        ctx = RunContext(caller)
        for i, step in enumerate(steps):
            if hooks.should_stop():
                break
            hooks.step_started(i, step)
            result = self._step(step, snap, ctx, conn)
            report.results.append(result)
            hooks.step_finished(i, result)
            if result.status is not StepStatus.DONE:
                break
        report.results += [StepResult(s, StepStatus.NOT_RUN) for s in steps[len(report.results):]]
        if report.ok:
            left = diff(self.desired, conn.snapshot())
            if not left.is_empty:
                report.results.append(StepResult(
                    left.steps[0], StepStatus.FAILED,
                    "after apply the pool still needs: " + "; ".join(
                        s.describe() for s in left.steps)))
        return report

    @staticmethod
    def _step(step: Any, snap: Any, ctx: RunContext, conn: Any) -> StepResult:
        if not isinstance(step, XapiStep):
            return StepResult(step, StepStatus.FAILED, "not a XAPI step")
        drift = step.precondition(snap, ctx)
        if drift is not None:
            return StepResult(step, StepStatus.DRIFT, drift)
        detail = ""
        try:
            try:
                produced = step.execute(ctx)
            except TransportError as lost:
                # Did it happen? Look before sending again; a dead pool raises here.
                effect = step.effect_in(conn.snapshot(), ctx)
                if effect:
                    produced = effect if isinstance(effect, str) else None
                    detail = f"answer lost ({type(lost).__name__}); re-read shows it done"
                else:
                    produced = step.execute(ctx)
                    detail = (f"answer lost ({type(lost).__name__}); re-read shows it not "
                              "done; sent once more")
        except (XapiFailure, TaskError) as exc:
            return StepResult(step, StepStatus.FAILED, str(exc))
        if step.key and produced:
            ctx.produced[step.key] = produced
        return StepResult(step, StepStatus.DONE, detail)

    def close(self, planned: PoolPlan | None, pool: FleetPool) -> None:
        with self._lock:
            conn = self._open.pop(pool.name, None)
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


__all__ = ["XapiPoolWork"]
