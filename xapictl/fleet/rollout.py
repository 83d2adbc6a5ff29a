"""Rollouts: one recipe applied to many pools, canary first, then waves, within a failure budget.

The order of events, and the promises each one keeps:

1. **Plan every selected pool** (``concurrency`` at a time). Nothing is written. The summary
   (changes per pool, pools that could not be planned) goes to ``confirm``; no means no write.
2. **Canary**: the first ``canary`` pools (fleet-file order). A canary failure stops the
   rollout whatever the budget: that is what a canary is for. ``pause_after_canary`` asks
   ``confirm`` again before the waves.
3. **Waves** of ``batch_size`` pools, up to ``concurrency`` of them in parallel. A pool is
   started only while the failures so far are within ``max_failures``; once the budget is spent
   no further pool is started (those are ``skipped``, untouched), running ones finish.
4. **Stop** (Ctrl-C, or ``stop`` set): each running pool stops at its next step boundary; no
   new pool starts; every session is logged out; the journal says where each pool stopped.

Every pool's state and every step's outcome are written to the journal as they happen (a step
is recorded ``running`` before it starts, each write's intent before it is sent, the count of
steps done after each one), so ``resume`` (re-plan the pools that are not done — a fresh read,
never a re-sent write — then the same waves) finishes the job, also after ``kill -9``.

States are exact: a pool a pre-flight check refused, and every pool of a run refused before
any write (``confirm`` raising ``UsageError``: no ``--yes`` off a terminal), is ``refused``,
never ``done``; ``RolloutResult.changed`` names the pools this run may have changed (so a
stopped or failed rollout that changed one is a partial apply).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from typing import Any

from xapictl._frozen import Frozen, frozen
from xapictl.fleet.fleetfile import FleetPool
from xapictl.fleet.journal import Journal, PoolState, RolloutState
from xapictl.fleet.work import ApplyHooks, PoolPlan, PoolWork
from xapictl.plan.core import Step, StepResult, StepStatus

STOPPING = "stopping: interrupted (Ctrl-C)"
"""The rollout's reason from the moment a Ctrl-C is taken until it has stopped."""


@frozen
class RolloutOptions(Frozen):
    canary: int = 1
    batch_size: int = 5
    concurrency: int = 4
    max_failures: int = 0
    pause_after_canary: bool = False

    def __post_init__(self) -> None:
        from xapictl.errors import UsageError

        if self.canary < 0 or self.max_failures < 0:
            raise UsageError("--canary and --max-failures cannot be negative")
        if self.batch_size < 1 or self.concurrency < 1:
            raise UsageError("--batch-size and --concurrency must be at least 1")


@frozen
class RolloutEvent(Frozen):
    """What progress displays hear: ``kind`` is ``pool`` (a pool changed state), ``step``
    (a step started or finished), ``wave`` (a wave starts) or ``rollout`` (overall state)."""

    kind: str
    pool: str = ""
    state: str = ""
    detail: str = ""
    step: int = -1
    steps: int = 0


@dataclass
class Summary:
    """The plan summary shown before anything is applied."""

    plans: dict[str, PoolPlan] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"{len(self.plans) + len(self.errors)} pool(s) planned: "
               f"{sum(1 for p in self.plans.values() if p.changes)} with changes, "
               f"{sum(1 for p in self.plans.values() if not p.changes)} already as desired, "
               f"{len(self.errors)} could not be planned"]
        for name, p in self.plans.items():
            detail = ", ".join(f"{n} {k}" for k, n in sorted(p.summary.items()))
            out.append(f"  {name}: {p.changes} change(s)" + (f" ({detail})" if detail else "")
                       + "".join(f"\n    warning: {w}" for w in p.plan.warnings))
        out += [f"  {name}: CANNOT PLAN: {err}" for name, err in self.errors.items()]
        return out


@dataclass
class RolloutResult:
    id: int
    state: RolloutState
    reason: str
    pools: dict[str, PoolState]
    elapsed: float
    summary: Summary
    changed: frozenset[str] = frozenset()
    """The pools this run sent a write to that may have taken effect."""

    def to_json(self, journal: Journal) -> dict[str, Any]:
        runs = journal.pool_runs(self.id)
        counts: dict[str, int] = {}
        for r in runs:
            counts[r.state.value] = counts.get(r.state.value, 0) + 1
        return {"rollout": self.id, "state": self.state.value, "reason": self.reason,
                "elapsed_s": round(self.elapsed, 3), "counts": counts,
                "pools": [{**asdict(r), "state": r.state.value} for r in runs]}


def waves(names: Sequence[str], canary: int, batch_size: int) -> list[list[str]]:
    """The canary (wave 0, if any) then batches of ``batch_size``, in the given order."""
    out = [list(names[:canary])] if canary and names else []
    rest = list(names[canary:])
    out += [rest[i:i + batch_size] for i in range(0, len(rest), batch_size)]
    return out


def plan_fleet(work: PoolWork, pools: Sequence[FleetPool], concurrency: int = 4) -> Summary:
    """Plan every pool (``concurrency`` at a time), write nothing, log out everywhere: what a
    rollout would do, for ``xapictl rollout --plan-only`` and for scripts."""
    summary = Summary()
    lock = threading.Lock()

    def one(pool: FleetPool) -> None:
        planned = None
        try:
            planned = work.plan(pool)
        except Exception as exc:  # a pool that cannot be planned is reported, not raised
            with lock:
                summary.errors[pool.name] = f"{type(exc).__name__}: {exc}"
        finally:
            with contextlib.suppress(Exception):
                work.close(planned, pool)
        if planned is not None:
            with lock:
                summary.plans[pool.name] = planned

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(pools)))) as ex:
        list(ex.map(one, pools))
    order = {p.name: i for i, p in enumerate(pools)}
    summary.plans = dict(sorted(summary.plans.items(), key=lambda kv: order[kv[0]]))
    summary.errors = dict(sorted(summary.errors.items(), key=lambda kv: order[kv[0]]))
    return summary


def _describe(step: Step) -> str:
    return step.describe()


class RolloutRunner:
    """Runs (or resumes) one journaled rollout. Not reusable: one runner, one run."""

    def __init__(self, journal: Journal, work: PoolWork, options: RolloutOptions, *,
                 on_event: Callable[[RolloutEvent], None] | None = None,
                 confirm: Callable[[str, Summary], bool] | None = None,
                 stop: threading.Event | None = None) -> None:
        self.journal = journal
        self.work = work
        self.options = options
        self.on_event = on_event or (lambda e: None)
        self.confirm = confirm or (lambda question, summary: True)
        self.stop = stop or threading.Event()
        self._lock = threading.Lock()
        self._failures = 0
        self._canary_failed = False
        self._states: dict[str, PoolState] = {}
        self._wave_of: dict[str, int] = {}
        self._changed: set[str] = set()

    # --- entry points -------------------------------------------------------------------

    def start(self, pools: Sequence[FleetPool], *, recipe: str, fleet: str,
              selection: str | None) -> RolloutResult:
        rid = self.journal.new_rollout(recipe=recipe, fleet=fleet, selection=selection,
                                       options=asdict(self.options),
                                       pools=[p.name for p in pools])
        return self._run(rid, list(pools), canary=self.options.canary)

    def resume(self, rid: int, pools: Sequence[FleetPool]) -> RolloutResult:
        """Re-plan every pool of the rollout that is not done, and run the same waves over
        them. A canary that had not succeeded is the canary again."""
        from xapictl.errors import UsageError

        if self.journal.gone(rid):  # killed: settle what it left in flight, then re-read
            self.journal.settle(rid)
        ordered = self.journal.pool_runs(rid)
        runs = {r.pool: r for r in ordered}
        known = {p.name for p in pools}
        missing = sorted(n for n, r in runs.items() if not r.state.finished_ok and n not in known)
        if missing:
            raise UsageError(f"rollout {rid}: pool(s) {', '.join(missing)} are not done and no "
                             "longer in the fleet file; give the fleet file it was started with")
        todo = [p for p in pools if p.name in runs and not runs[p.name].state.finished_ok]
        canary = sum(1 for p in todo if runs[p.name].position < self.options.canary)
        # Journal the waves of the rollout as started, not of this run: numbered afresh, the
        # first resumed wave would be wave 0, which ``rollout status`` shows as the canary.
        planned = waves([r.pool for r in ordered], self.options.canary, self.options.batch_size)
        wave_of = {name: n for n, wave in enumerate(planned) for name in wave}
        wave_of.update({r.pool: r.wave for r in ordered if r.wave >= 0})
        return self._run(rid, todo, canary=canary, wave_of=wave_of)

    # --- the run ------------------------------------------------------------------------

    def _set(self, rid: int, pool: str, state: PoolState, detail: str = "",
             **cols: Any) -> None:
        with self._lock:
            self._states[pool] = state
        self.journal.set_pool(rid, pool, state, **cols)
        self.on_event(RolloutEvent("pool", pool, state.value, detail,
                                   steps=int(cols.get("planned") or 0)))

    def _run(self, rid: int, pools: list[FleetPool], *, canary: int,
             wave_of: dict[str, int] | None = None) -> RolloutResult:
        from xapictl.errors import UsageError

        self._wave_of = wave_of or {}
        began = time.monotonic()
        self.journal.set_runner(rid)
        if not pools:
            self.journal.set_rollout_state(rid, RolloutState.DONE, "nothing left to do")
            return RolloutResult(rid, RolloutState.DONE, "nothing left to do", {}, 0.0,
                                 Summary())
        summary = Summary()
        # Until a path below says otherwise: an exception nobody expected ends it failed.
        state, reason = RolloutState.FAILED, "stopped by an unexpected error"
        try:
            try:
                summary = self._plan_all(rid, pools)
                if summary.errors and len(summary.errors) > self.options.max_failures:
                    state, reason = RolloutState.FAILED, (
                        f"{len(summary.errors)} pool(s) could not be planned, more than "
                        f"--max-failures {self.options.max_failures}")
                elif self.stop.is_set():
                    state, reason = RolloutState.STOPPED, "interrupted while planning"
                elif (any(p.changes for p in summary.plans.values())
                      and not self.confirm("apply these changes?", summary)):
                    state, reason = RolloutState.DECLINED, "not confirmed"
                else:
                    self._failures = len(summary.errors)
                    self.journal.set_rollout_state(rid, RolloutState.RUNNING)
                    self.on_event(RolloutEvent("rollout", state=RolloutState.RUNNING.value))
                    order = [p.name for p in pools if p.name in summary.plans]
                    state, reason = self._waves(rid, order, summary, canary)
            except KeyboardInterrupt:
                self.stop.set()
                state, reason = RolloutState.STOPPED, "interrupted"
            except UsageError as refused:  # confirm refused to ask (no --yes off a terminal)
                state, reason = RolloutState.REFUSED, str(refused)
        finally:
            self._finish_shielded(rid, pools, summary, state, reason)
        return RolloutResult(rid, state, reason, dict(self._states),
                             time.monotonic() - began, summary, frozenset(self._changed))

    def _plan_all(self, rid: int, pools: list[FleetPool]) -> Summary:
        from xapictl.errors import PreflightError

        summary = Summary()

        def one(pool: FleetPool) -> None:
            if self.stop.is_set():
                return
            try:
                planned = self.work.plan(pool)
            except PreflightError as exc:  # refused before any write: untouched
                with self._lock:
                    summary.errors[pool.name] = f"{type(exc).__name__}: {exc}"
                self._set(rid, pool.name, PoolState.REFUSED, str(exc),
                          error=f"refused before any change: {exc}")
                return
            except Exception as exc:  # any failure to plan fails the pool, nothing written
                with self._lock:
                    summary.errors[pool.name] = f"{type(exc).__name__}: {exc}"
                self._set(rid, pool.name, PoolState.FAILED, str(exc),
                          error=f"planning: {type(exc).__name__}: {exc}")
                return
            with self._lock:
                summary.plans[pool.name] = planned
            self._set(rid, pool.name, PoolState.PLANNED, planned=planned.changes)

        self._pool_map(one, pools, rid)
        order = {p.name: i for i, p in enumerate(pools)}
        summary.plans = dict(sorted(summary.plans.items(), key=lambda kv: order[kv[0]]))
        summary.errors = dict(sorted(summary.errors.items(), key=lambda kv: order[kv[0]]))
        return summary

    def _pool_map(self, fn: Callable[[FleetPool], None], pools: Sequence[FleetPool],
                  rid: int | None = None) -> None:
        with ThreadPoolExecutor(max_workers=max(1, min(self.options.concurrency,
                                                       len(pools)))) as ex:
            futures = [ex.submit(fn, p) for p in pools]
            self._wait_all(futures, rid)

    def _wait_all(self, futures: Sequence[Future[Any]], rid: int | None = None) -> None:
        """Wait for every future; a Ctrl-C meanwhile asks the workers to stop, and we go on
        waiting for them to reach a step boundary (that is the promise). With ``rid`` the
        journal says at once that the rollout is stopping."""
        pending = set(futures)
        interrupted = False
        while pending:
            try:
                _, pending = wait(pending, timeout=0.5)
            except KeyboardInterrupt:
                if not interrupted and rid is not None:
                    self._stopping(rid)
                interrupted = True
                self.stop.set()
        for f in futures:
            f.result()
        if interrupted:
            raise KeyboardInterrupt

    def _budget_spent(self) -> bool:
        return self._canary_failed or self._failures > self.options.max_failures

    def _waves(self, rid: int, order: list[str], summary: Summary,
               canary: int) -> tuple[RolloutState, str]:
        plan_waves = waves(order, canary, self.options.batch_size)
        for number, wave in enumerate(plan_waves):
            is_canary = canary > 0 and number == 0
            if self.stop.is_set():
                break
            if self._budget_spent():
                break
            self.on_event(RolloutEvent("wave", detail="canary" if is_canary else str(number),
                                       steps=len(wave)))
            self._run_wave(rid, wave, summary, number, is_canary)
            if (is_canary and self.options.pause_after_canary and not self._budget_spent()
                    and not self.stop.is_set() and len(plan_waves) > 1
                    and not self.confirm("canary done; continue with the waves?", summary)):
                return RolloutState.STOPPED, "paused after the canary"
        if self.stop.is_set():
            return RolloutState.STOPPED, "interrupted"
        if self._canary_failed:
            return RolloutState.FAILED, "the canary failed"
        if self._failures > self.options.max_failures:
            return RolloutState.FAILED, (f"failure budget spent: {self._failures} pool(s) "
                                         f"failed, --max-failures {self.options.max_failures}")
        if self._failures:
            return RolloutState.DONE, f"{self._failures} pool(s) failed within the budget"
        return RolloutState.DONE, ""

    def _run_wave(self, rid: int, wave: list[str], summary: Summary, number: int,
                  is_canary: bool) -> None:
        queue = list(wave)
        with ThreadPoolExecutor(max_workers=min(self.options.concurrency, len(wave))) as ex:
            running: set[Future[Any]] = set()
            try:
                while queue or running:
                    while (queue and len(running) < self.options.concurrency
                           and not self.stop.is_set() and not self._budget_spent()):
                        name = queue.pop(0)
                        running.add(ex.submit(self._apply_pool, rid, summary.plans[name],
                                              number, is_canary))
                    if not running:
                        break
                    done, running = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                    for f in done:
                        f.result()
            except KeyboardInterrupt:
                self.stop.set()
                self._stopping(rid)
                self._wait_all(list(running))
                raise

    def _stopping(self, rid: int) -> None:
        """Journal at once that a Ctrl-C was taken: ``status`` says so while the running steps
        finish (and a watcher knows no new step will start)."""
        self.journal.set_reason(rid, STOPPING)

    def _apply_pool(self, rid: int, planned: PoolPlan, wave: int, is_canary: bool) -> None:
        name = planned.pool
        attempt = self.journal.next_attempt(rid, name)
        steps = planned.changes
        self._set(rid, name, PoolState.RUNNING, wave=self._wave_of.get(name, wave),
                  planned=steps, done=0, error="")
        done = 0

        def started(i: int, step: Step) -> None:
            self.journal.record_step(rid, name, attempt, i, _describe(step), "running")
            self.on_event(RolloutEvent("step", name, "running", _describe(step), i, steps))

        def finished(i: int, result: StepResult) -> None:
            nonlocal done
            if result.status is StepStatus.DONE:
                done += 1
                with self._lock:
                    self._changed.add(name)
            self.journal.record_step(rid, name, attempt, i, _describe(result.step),
                                     result.status.value, result.detail)
            if result.status is StepStatus.DONE:
                self.journal.set_done(rid, name, done)
            self.on_event(RolloutEvent("step", name, result.status.value, result.detail, i,
                                       steps))

        hooks = ApplyHooks(started, finished, self.stop.is_set, rid)
        try:
            report = self.work.apply(planned, hooks)
        except Exception as exc:  # the pool stopped answering, or worse: fail it, go on
            self._fail(rid, name, f"{type(exc).__name__}: {exc}", done, is_canary)
            return
        if report.writes:
            with self._lock:
                self._changed.add(name)
        if report.failed:
            first = report.failed[0]
            self._fail(rid, name, f"{first.step.describe()}: {first.status.value}: "
                                  f"{first.detail}", done, is_canary)
        elif report.not_run:
            self._set(rid, name, PoolState.STOPPED, "stopped at a step boundary", done=done,
                      error=f"stopped after {done} of {steps} step(s)")
        else:
            self._set(rid, name, PoolState.DONE, done=done)

    def _fail(self, rid: int, name: str, error: str, done: int, is_canary: bool) -> None:
        with self._lock:
            self._failures += 1
            self._canary_failed = self._canary_failed or is_canary
        self._set(rid, name, PoolState.FAILED, error, done=done, error=error)

    def _finish_shielded(self, rid: int, pools: Sequence[FleetPool], summary: Summary,
                         state: RolloutState, reason: str) -> None:
        """Run ``_finish`` to its end whatever Ctrl-Cs come meanwhile: it runs in a thread of
        its own (Python delivers Ctrl-C to the main thread only) while the main thread waits,
        taking further Ctrl-Cs as the stop they already are. The wait is bounded: logouts run
        in parallel, each within its connection's timeout; the journal is a local file."""
        with ThreadPoolExecutor(max_workers=1) as ex:
            finishing = ex.submit(self._finish, rid, pools, summary, state, reason)
            with contextlib.suppress(KeyboardInterrupt):
                self._wait_all([finishing])

    def _finish(self, rid: int, pools: Sequence[FleetPool], summary: Summary,
                state: RolloutState, reason: str) -> None:
        """Log out everywhere, mark the pools never started, record the rollout's end."""
        self._pool_map(lambda pool: self._logout(pool, summary), pools)
        untouched = PoolState.REFUSED if state is RolloutState.REFUSED else PoolState.SKIPPED
        for pool in pools:
            if self._states.get(pool.name) in (None, PoolState.PENDING, PoolState.PLANNED):
                self._set(rid, pool.name, untouched)
        self.journal.set_rollout_state(rid, state, reason)
        self.on_event(RolloutEvent("rollout", state=state.value, detail=reason))

    def _logout(self, pool: FleetPool, summary: Summary) -> None:
        # BaseException: a Ctrl-C raised inside one pool's logout must not skip the others.
        with contextlib.suppress(BaseException):
            self.work.close(summary.plans.get(pool.name), pool)

__all__ = ["STOPPING", "RolloutEvent", "RolloutOptions", "RolloutResult", "RolloutRunner",
           "Summary", "plan_fleet", "waves"]
