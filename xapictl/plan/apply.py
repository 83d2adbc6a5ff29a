"""Apply a plan: each step re-checks its precondition, runs, and is recorded; the first
failure stops the run with a report (done / failed / not run). Then verify, then re-plan,
which must be empty.

A write whose answer was lost (``OutcomeUnknown``, or a connection that failed) is resolved by
re-reading the pool: if the step's effect is there it is done; if not, it is sent once more
(now knowing it did not happen). Never a blind repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from xapictl.errors import ApplyError, TaskError, TransportError, XapiFailure
from xapictl.plan.backend import XapiBackend
from xapictl.plan.core import ApplyReport, Plan, StepResult, StepStatus
from xapictl.plan.desired import DesiredState
from xapictl.plan.diff import diff
from xapictl.plan.preflight import preflight
from xapictl.plan.steps import RunContext, XapiStep
from xapictl.plan.verify import verify
from xapictl.state.snapshot import PoolSnapshot


def apply(plan: Plan, backend: XapiBackend, *, snapshot: PoolSnapshot | None = None
          ) -> ApplyReport:
    """Run the plan's steps in order; stop at the first failure or drift.

    ``snapshot`` is the state to re-check preconditions against; by default the pool is read
    again first, so a plan reviewed a while ago is checked against the pool as it is now.
    """
    snap = snapshot if snapshot is not None else backend.collect()
    ctx = RunContext(backend.caller)
    report = ApplyReport()
    steps = list(plan.steps)
    for step in steps:
        if not isinstance(step, XapiStep):
            report.results.append(StepResult(step, StepStatus.FAILED, "not a XAPI step"))
            break
        drift = step.precondition(snap, ctx)
        if drift is not None:
            report.results.append(StepResult(step, StepStatus.DRIFT, drift))
            break
        backend.caller.step = step.describe()
        try:
            produced, detail = _run(step, ctx, backend)
        except (XapiFailure, TaskError, TransportError) as exc:
            report.results.append(StepResult(step, StepStatus.FAILED, str(exc)))
            break
        if step.key and produced:
            ctx.produced[step.key] = produced
        report.results.append(StepResult(step, StepStatus.DONE, detail))
    ran = len(report.results)
    report.results += [StepResult(s, StepStatus.NOT_RUN) for s in steps[ran:]]
    return report


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
        return step.execute(ctx), (f"answer lost ({type(lost).__name__}); re-read shows it "
                                   "not done; sent once more")


@dataclass
class RunResult:
    """What ``converge`` did: the plan, the apply report, and the re-plan after verify."""

    plan: Plan
    report: ApplyReport = field(default_factory=ApplyReport)
    replan: Plan | None = None
    applied: bool = False


def converge(desired: DesiredState, backend: XapiBackend, *,
             confirm: Callable[[Plan], bool] | None = None,
             on_plan: Callable[[Plan], None] | None = None) -> RunResult:
    """Plan, pre-flight, (confirm,) apply, verify, re-plan. Raises ``PreflightError`` before
    any write, ``ApplyError`` (with ``.report``) when a step failed, ``VerificationError``
    when the pool does not match afterwards, ``PlanDriftError`` if the re-plan is not empty."""
    snap = backend.collect()
    plan = diff(desired, snap)
    preflight(plan, backend.permissions())
    if on_plan is not None:
        on_plan(plan)
    result = RunResult(plan)
    if plan.is_empty or (confirm is not None and not confirm(plan)):
        return result
    result.report = apply(plan, backend, snapshot=snap if confirm is None else None)
    result.applied = True
    if not result.report.ok:
        failed = result.report.failed[0]
        raise ApplyError(f"apply stopped at: {failed.step.describe()}: {failed.detail}",
                         result.report)
    after = verify(desired, backend.collect)
    result.replan = diff(desired, after)
    if not result.replan.is_empty:
        from xapictl.errors import PlanDriftError

        raise PlanDriftError("after apply the plan is not empty: " + "; ".join(
            s.describe() for s in result.replan.steps))
    return result


__all__ = ["RunResult", "apply", "converge"]
