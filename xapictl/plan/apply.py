"""Apply a plan: every step's precondition is checked against a fresh read before the first
write (a drifted plan writes nothing); then each step is checked again as it comes, runs, and
is recorded; the first failure stops the run with a report (done / failed / drift / not run).
Then verify, then re-plan, which must be empty.

A run that writes holds the pool's write lease from before that fresh read until verify reads
the pool (``XapiBackend.writing``: one writer per pool; the release is sent beside verify's
read); each write checks first that the lease is still ours, and a lost lease stops the run
like a failed step.

A write whose answer was lost (``OutcomeUnknown``, or a connection that failed) is resolved by
re-reading the pool: if the step's effect is there it is done; if not, it is sent once more
(now knowing it did not happen). Never a blind repeat.

Ctrl-C is honest about what it cut: before any write it stays a plain ``KeyboardInterrupt``
(nothing changed); after one it becomes ``ApplyInterrupted`` (still a ``KeyboardInterrupt``)
whose report lists the steps done, the one interrupted (its write sent, its effect unknown until
the next read) and those not run. A pool that cannot be read to verify after writes raises
``ApplyError`` with the full report, never a bare transport error that would read as "nothing
changed".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import field
from typing import Protocol

from xapictl._frozen import Mutable, mutable
from xapictl.errors import (
    ApplyError,
    ApplyInterrupted,
    LeaseLost,
    PlanDriftError,
    PlanError,
    TaskError,
    TransportError,
    XapiFailure,
)
from xapictl.plan.backend import Beside, XapiBackend, classes_needed
from xapictl.plan.core import ApplyReport, Plan, Step, StepResult, StepStatus
from xapictl.plan.desired import DesiredState
from xapictl.plan.diff import diff
from xapictl.plan.preflight import preflight
from xapictl.plan.scope import read_scope
from xapictl.plan.steps import RunContext, XapiStep
from xapictl.plan.steps.base import ANY_CLASS
from xapictl.plan.verify import verify
from xapictl.state.snapshot import PoolSnapshot


class StepHooks(Protocol):
    """What a caller that runs steps one at a time (a rollout) hears around each step.
    ``should_stop`` is asked before every step: yes leaves the rest ``NOT_RUN``."""

    @property
    def step_started(self) -> Callable[[int, Step], None]: ...

    @property
    def step_finished(self) -> Callable[[int, StepResult], None]: ...

    @property
    def should_stop(self) -> Callable[[], bool]: ...


def apply(plan: Plan, backend: XapiBackend, hooks: StepHooks | None = None, *,
          fresh: PoolSnapshot | None = None) -> ApplyReport:
    """Run the plan's steps in order; stop at the first failure or drift.

    The pool's write lease is taken first (unless the caller holds it already), then the pool
    is read afresh (never the snapshot the plan was made from; ``fresh`` is such a read made
    under the lease by the caller) and every step's precondition is checked against that read:
    a plan the pool has drifted from writes nothing. Each later step is checked again just
    before it runs, against a re-read of the classes it looks at, so it sees what the earlier
    steps (and anyone else) did; that read is sent beside the previous step's write when no
    step before touches those classes (``read_ahead``: as fresh, one round trip less).
    """
    with backend.writing():
        return _apply(plan, backend, hooks, fresh)


def _apply(plan: Plan, backend: XapiBackend, hooks: StepHooks | None,
           fresh: PoolSnapshot | None) -> ApplyReport:
    ctx = RunContext(backend.caller)
    checked = _check_all(plan.steps, fresh if fresh is not None else backend.collect(), ctx)
    if any(r.status is not StepStatus.NOT_RUN for r in checked):
        if hooks is not None:
            for index, result in enumerate(checked):
                if result.status is not StepStatus.NOT_RUN:
                    hooks.step_finished(index, result)
        return ApplyReport(checked)
    steps = [r.step for r in checked if isinstance(r.step, XapiStep)]
    report = ApplyReport()
    changed_before = backend.caller.changed
    ahead: Beside[PoolSnapshot] | None = None
    for index, step in enumerate(steps):
        sent_before = backend.caller.writes
        recorded = False
        try:
            if hooks is not None:
                if hooks.should_stop():
                    break
                hooks.step_started(index, step)
            result, produced, ahead = _checked_run(index, step, ctx, backend, ahead,
                                                   read_ahead(steps, index))
            report.results.append(result)
            recorded = True
            if hooks is not None:
                hooks.step_finished(index, result)
            if result.status is not StepStatus.DONE:
                break
            if step.key and produced:
                ctx.produced[step.key] = produced
        except KeyboardInterrupt:
            # Wherever in the step it lands: the report says what is done and what is not.
            report.writes = backend.caller.changed - changed_before
            if recorded:
                report.results += [StepResult(s, StepStatus.NOT_RUN) for s in steps[index + 1:]]
            else:
                _interrupted(report, steps, index, sent=backend.caller.writes > sent_before)
                if hooks is not None:
                    hooks.step_finished(index, report.results[index])
            if report.writes:
                raise ApplyInterrupted(_stopped(report), report) from None
            raise
    ran = len(report.results)
    report.results += [StepResult(s, StepStatus.NOT_RUN) for s in steps[ran:]]
    if ran and report.results[ran - 1].status in (StepStatus.FAILED, StepStatus.DRIFT):
        report.undone = _undo(plan, report.results[ran - 1].step, report, ctx, backend)
    report.writes = backend.caller.changed - changed_before
    return report


def _undo(plan: Plan, failed: Step, report: ApplyReport, ctx: RunContext,
          backend: XapiBackend) -> list[StepResult]:
    """The planned undo steps (``Plan.undo``) of the failed step's group whose step is
    done, newest first; each is checked and run like a step. An undo that fails stops the
    rest (the report says which are left)."""
    group = getattr(failed, "group", "")
    if not group:
        return []
    undo = {getattr(u, "undoes", ""): u for u in plan.undo
            if isinstance(u, XapiStep) and u.group == group}
    todo = [undo[r.step.key] for r in reversed(report.results)
            if r.status is StepStatus.DONE and isinstance(r.step, XapiStep)
            and r.step.group == group and r.step.key in undo]
    seen: PoolSnapshot | None = None  # the read that found the failed step's effect
    if isinstance(failed, XapiStep) and failed.key in undo and failed.reads:
        first = undo[failed.key]
        snap = backend.read(tuple(dict.fromkeys((*failed.reads, *first.reads))))
        effect = failed.effect_in(snap, ctx)
        if effect:
            # it failed after taking effect (a member moved that does not answer there): the
            # pool is as before only once that is undone too, first, checked on that read
            if isinstance(effect, str) and failed.key:
                ctx.produced[failed.key] = effect  # what it made, for its undo's Later ref
            todo.insert(0, first)
            seen = snap
    results: list[StepResult] = []
    for index, step in enumerate(todo):
        # read (the first may be checked on the read above), then run
        result, _, _ = _checked_run(index + 1, step, ctx, backend,
                                    seen if index == 0 else None, ())
        results.append(result)
        if result.status is not StepStatus.DONE:
            results += [StepResult(s, StepStatus.NOT_RUN) for s in todo[index + 1:]]
            break
    return results


def _interrupted(report: ApplyReport, steps: Sequence[XapiStep], index: int, *,
                 sent: bool) -> None:
    """Ctrl-C during step ``index``: that step as interrupted (its write sent, its effect
    unknown) or not run (nothing of it sent), the rest not run."""
    if sent:
        report.results.append(StepResult(
            steps[index], StepStatus.INTERRUPTED, "interrupted (Ctrl-C) after its write was "
            "sent: whether it took effect is unknown until the pool is read again"))
    else:
        report.results.append(StepResult(steps[index], StepStatus.NOT_RUN,
                                         "interrupted (Ctrl-C) before its write was sent"))
    report.results += [StepResult(s, StepStatus.NOT_RUN) for s in steps[index + 1:]]


def read_ahead(steps: Sequence[XapiStep], index: int) -> tuple[str, ...]:
    """The classes to read beside step ``index``'s write, for the re-check of the step after
    it: that step's ``reads`` when no step up to ``index`` touches any of them (``touches``),
    so a read sent beside the write shows what the next step will find as well as a read sent
    after it would; ``()`` (read after the write) otherwise.

    Either way the read is one round trip older than the next step's write: sent beside the
    previous write it is served while that write is, sent after it a round trip later but
    also a round trip before the next write. What it cannot show is the write it is sent
    beside, which is why only steps that cannot change what the next one reads qualify."""
    if index + 1 >= len(steps) or not steps[index + 1].reads:
        return ()
    wanted = set(steps[index + 1].reads)
    for step in steps[:index + 1]:
        touched = set(step.touches)
        if ANY_CLASS in touched or touched & wanted:
            return ()
    return steps[index + 1].reads


def _checked_run(index: int, step: XapiStep, ctx: RunContext, backend: XapiBackend,
                 ahead: Beside[PoolSnapshot] | PoolSnapshot | None, next_reads: tuple[str, ...]
                 ) -> tuple[StepResult, str | None, Beside[PoolSnapshot] | None]:
    """Re-check the step (against ``ahead``: a read made since the last write, or the read
    sent beside the previous write, waited for here; a read now if there is none or it
    failed), run it, and return the read sent beside it for the next step (``next_reads``),
    still on its way: the step is recorded done as soon as its own answer is in."""
    backend.caller.step = step.describe()
    try:
        if index and step.reads:
            snap = ahead.result() if isinstance(ahead, Beside) else ahead
            drift = step.precondition(snap if snap is not None else backend.read(step.reads),
                                      ctx)
            if drift is not None:
                return StepResult(step, StepStatus.DRIFT, drift), None, None
        reading = Beside(lambda: backend.read(next_reads)) if next_reads else None
        produced, detail = _run(step, ctx, backend)
    except (XapiFailure, TaskError, TransportError, LeaseLost, PlanDriftError) as exc:
        # PlanDriftError: what a step builds on is not there once it ran (a NIC a scan
        # did not find): the step failed, apply stops with what is done reported
        return StepResult(step, StepStatus.FAILED, str(exc) + step.after_failure), None, None
    return StepResult(step, StepStatus.DONE, detail), produced, reading


def _check_all(steps: Sequence[Step], snap: PoolSnapshot, ctx: RunContext) -> list[StepResult]:
    """Every step against the pool as it is now: ``drift`` (or ``failed``) for each that no
    longer applies, ``not run`` for the others."""
    results = []
    for step in steps:
        if not isinstance(step, XapiStep):
            results.append(StepResult(step, StepStatus.FAILED, "not a XAPI step"))
            continue
        drift = step.precondition(snap, ctx)
        results.append(StepResult(step, StepStatus.DRIFT, drift) if drift is not None
                       else StepResult(step, StepStatus.NOT_RUN))
    return results


def _run(step: XapiStep, ctx: RunContext, backend: XapiBackend) -> tuple[str | None, str]:
    try:
        return step.execute(ctx), ""
    except TransportError as lost:
        # The request may or may not have reached the pool: look before sending again.
        after = backend.collect()
        effect = step.effect_in(after, ctx)
        if effect:
            ref = effect if isinstance(effect, str) else None
            return ref, f"answer lost ({type(lost).__name__}); re-read shows it done"
        return step.resume(after, ctx), (f"answer lost ({type(lost).__name__}); re-read shows it "
                                   "not done; sent once more")


def _stopped(report: ApplyReport) -> str:
    failed = report.failed
    if not failed:
        return "apply interrupted (Ctrl-C) between two steps"
    if failed[0].status is StepStatus.INTERRUPTED:
        return f"apply interrupted (Ctrl-C) at: {failed[0].step.describe()}"
    if report.rolled_back:
        return (f"apply stopped at: {failed[0].step.describe()}: {failed[0].detail}; rolled "
                f"back: {len(report.undone)} undo step(s) done, the pool is as before")
    if report.undone:
        undone = sum(r.status is StepStatus.DONE for r in report.undone)
        return (f"apply stopped at: {failed[0].step.describe()}: {failed[0].detail}; "
                f"{undone} of {len(report.undone)} undo step(s) done, and "
                f"{len(report.done)} step(s) done stay done")
    if report.done or report.writes or failed[0].status is not StepStatus.DRIFT:
        return f"apply stopped at: {failed[0].step.describe()}: {failed[0].detail}"
    return ("the pool changed since the plan was made; nothing was written:\n" + "\n".join(
        f"  {r.step.action} {r.step.subject}: {r.detail}" for r in failed))


def _settled(desired: DesiredState, fresh: PoolSnapshot) -> Plan | None:
    """The empty plan when ``fresh`` (read under the lease) already matches ``desired``; else
    ``None`` (the steps confirmed are then checked against it: changed ones are drift)."""
    try:
        now = diff(desired, fresh)
    except PlanError:
        return None
    return now if now.is_empty else None


def settled(desired: DesiredState, fresh: PoolSnapshot) -> bool:
    """Whether another run already brought the pool, read afresh, to ``desired``."""
    return _settled(desired, fresh) is not None


@mutable
class RunResult(Mutable):
    """What ``converge`` did: the plan, the apply report, and the re-plan after verify."""

    plan: Plan
    report: ApplyReport = field(default_factory=ApplyReport)
    replan: Plan | None = None
    applied: bool = False
    settled: bool = False
    """Nothing was applied because, read again under the write lease, the pool already
    matched: another run made the planned changes meanwhile."""
    snapshot: PoolSnapshot | None = None
    """The read the plan was made from."""


def converge(desired: DesiredState, backend: XapiBackend, *,
             confirm: Callable[[Plan], bool] | None = None,
             on_plan: Callable[[Plan], None] | None = None,
             check: Callable[[PoolSnapshot, Plan | None], None] | None = None
             ) -> RunResult:
    """Plan, pre-flight, (confirm,) apply, verify, re-plan. Every read is of the classes the
    recipe can touch (``classes_needed``: no VMs and VIFs unless it concerns them), of their
    records it can look at (``plan.scope``: a VLAN recipe's trunks, tag and bond masters), and
    the first carries the session's permissions for the pre-flight. The plan is made without a
    lock; apply and verify run under the pool's write lease (``backend.lock_timeout`` says
    how long to wait for another run's; ``PoolLocked`` when it does not come), after a fresh
    read under it: a pool that another run brought to the desired state meanwhile is left
    alone (``settled``). Raises ``PreflightError`` before any write, ``ApplyError`` (with
    ``.report``) when a step failed or the pool could not be read to verify after the
    writes, ``ApplyInterrupted`` (an ``ApplyError`` and a ``KeyboardInterrupt``) for Ctrl-C
    after a write, ``VerificationError`` when the pool does not match afterwards,
    ``PlanDriftError`` if the re-plan is not empty.

    ``confirm`` is asked before any write (the CLI asks whenever ``plan.is_disruptive``); a
    library caller that passes none applies disruptive plans as they come. Work deferred for
    an offline host is in ``plan.deferred`` and stays in ``replan.deferred``: the pool does
    not match until a later run does it (``replan.pending``).

    ``check(snapshot, plan)`` is called on the read the plan is made from, before anything
    else (with ``None`` for the plan when none can be made), and again on the fresh read under
    the lease, before the first write (the question may have taken a while): a saved plan's
    check (``xapictl.plan.saved.check_saved``) raises there, so a stale saved plan is refused
    with nothing sent."""
    classes = classes_needed(desired)
    # this recipe's scope (none for a saved plan: its fingerprint is of whole classes)
    backend.scope = read_scope(desired) if check is None else {}
    snap = backend.collect(classes)
    try:
        plan = diff(desired, snap)
    except PlanError:
        if check is not None:
            check(snap, None)  # what changed since the saved plan explains the refusal
        raise
    if check is not None:
        check(snap, plan)
    preflight(plan, backend.permissions(), reach=backend.reach)
    if on_plan is not None:
        on_plan(plan)
    result = RunResult(plan, snapshot=snap)
    if plan.is_empty or (confirm is not None and not confirm(plan)):
        return result
    with backend.writing(classes):
        fresh = backend.fresh(classes)  # the lease's read-back: one round trip for both
        if check is not None:
            check(fresh, plan)  # a saved plan: checked again on the pre-write read
        now = _settled(desired, fresh)
        if now is not None:
            result.replan = now
            result.settled = True
            return result
        result.report = apply(plan, backend, fresh=fresh)
        result.applied = True
        try:
            if not result.report.ok:
                raise ApplyError(_stopped(result.report), result.report)
            # The lease is released beside verify's read: verify writes nothing, and compares
            # only what the recipe states (a run that takes the lease at that instant changes
            # the pool only after its own read-back, a round trip after this read).
            after = backend.release_beside(
                lambda: verify(desired, backend.after_writes(classes)))
            result.replan = diff(desired, after)
        except KeyboardInterrupt:
            raise ApplyInterrupted("apply interrupted (Ctrl-C) while verifying, after every "
                                   "step was done", result.report) from None
        except (XapiFailure, TaskError, TransportError) as exc:
            raise ApplyError(f"every step was done, then the pool could not be read to "
                             f"verify: {exc}", result.report) from exc
    if not result.replan.is_empty:
        raise PlanDriftError("after apply the plan is not empty: " + "; ".join(
            s.describe() for s in result.replan.steps))
    return result


__all__ = ["RunResult", "StepHooks", "apply", "converge", "read_ahead", "settled"]
