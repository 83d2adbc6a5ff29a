"""A plan as plain text: what ``xapictl plan`` prints without colour, and what the
``tests/plan_cases`` fixtures pin. One line per step, no-op and warning, in plan order."""

from __future__ import annotations

from typing import Any

from xapictl.plan.core import Plan, Step


def step_line(step: Step) -> str:
    args = getattr(step, "args_text", lambda: "")()
    tail = f" [{args}]" if args else ""
    hurt = f" (disruptive: {step.disruption})" if step.disruptive else ""
    return f"+ {step.action} {step.subject}{tail}: {step.reason}{hurt}"


def render_text(plan: Plan) -> str:
    """``+`` a step, ``=`` a no-op, ``~`` deferred work, ``!`` a warning; a summary line last
    (which counts the disruptive steps, if any)."""
    lines = [step_line(s) for s in plan.steps]
    lines += [f"= {n.subject}: {n.reason}" for n in plan.noops]
    lines += [f"~ deferred {d.subject}: {d.reason}" for d in plan.deferred]
    lines += [f"! {w}" for w in plan.warnings]
    calls = sum(len(getattr(s, "calls", ())) for s in plan.steps)
    deferred = f"; {len(plan.deferred)} deferred" if plan.deferred else ""
    if plan.is_empty and not plan.deferred:
        lines.append("Nothing to do: the pool already matches.")
    elif plan.is_empty:
        lines.append(f"Nothing to do now, but the pool does not match: {len(plan.deferred)} "
                     "deferred.")
    else:
        disruptive = len(plan.disruptive_steps)
        lines.append(f"{len(plan.steps)} step(s), {calls} write call(s) to XAPI"
                     + (f", {disruptive} disruptive" if disruptive else "") + f"{deferred}.")
    return "\n".join(lines) + "\n"


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-able data (``--output json``)."""
    return {
        "steps": [{"action": s.action, "subject": s.subject, "reason": s.reason,
                   "args": getattr(s, "args_text", lambda: "")(),
                   "calls": list(getattr(s, "calls", ()))} for s in plan.steps],
        "noops": [{"subject": n.subject, "reason": n.reason} for n in plan.noops],
        "warnings": list(plan.warnings),
        "deferred": [{"subject": d.subject, "reason": d.reason} for d in plan.deferred],
        "changes_pending": plan.pending,
    }


__all__ = ["plan_json", "render_text", "step_line"]
