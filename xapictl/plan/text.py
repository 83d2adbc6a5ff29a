"""A plan as plain text: what ``xapictl plan`` prints without colour, and what the
``tests/plan_cases`` fixtures pin. One line per step, no-op and warning, in plan order.

The lines are made from the same step data as the plan's document (``xapictl.plan.document``,
the one ``plan -o json`` prints, whose text ``render_document`` gives), without building the
document's models: a ``network create`` prints its plan without pydantic validating it.
``tests/plan/test_plan_document.py`` holds the two texts equal on every plan case.
"""

from __future__ import annotations

from typing import Any

from xapictl.plan.core import Plan, Step


def change_text(title: str, subject: str, details: str, reason: str, disruption: str) -> str:
    """A change's line: ``+ title subject [details]: reason (disruptive: …)``."""
    tail = f" [{details}]" if details else ""
    hurt = f" (disruptive: {disruption})" if disruption else ""
    return f"+ {title} {subject}{tail}: {reason}{hurt}"


def summary_text(steps: int, calls: int, disruptive: int, deferred: int) -> str:
    """The plan's last line."""
    if not steps and not deferred:
        return "Nothing to do: the pool already matches."
    if not steps:
        return f"Nothing to do now, but the pool does not match: {deferred} deferred."
    return (f"{steps} step(s), {calls} write call(s) to XAPI"
            + (f", {disruptive} disruptive" if disruptive else "")
            + (f"; {deferred} deferred" if deferred else "") + ".")


def step_line(step: Step) -> str:
    return change_text(step.action, step.subject, getattr(step, "args_text", lambda: "")(),
                       step.reason, step.disruption if step.disruptive else "")


def _calls(step: Step, snap: Any) -> int:
    facts = getattr(step, "facts", None)
    return len(facts(snap).calls) if callable(facts) else 0


def render_text(plan: Plan, snap: Any = None) -> str:
    """``+`` a step, ``=`` a no-op, ``~`` deferred work, ``!`` a warning; a summary line last
    (which counts the disruptive steps, if any). ``snap``: the snapshot the plan was made
    from (it changes nothing in the text)."""
    lines = [step_line(s) for s in plan.steps]
    lines += [f"= {n.subject}: {n.reason}" for n in plan.noops]
    lines += [f"~ deferred {d.subject}: {d.reason}" for d in plan.deferred]
    lines += [f"! {w}" for w in plan.warnings]
    lines += [f"< if a later host fails, undo: {step_line(u)[2:]}" for u in plan.undo]
    lines.append(summary_text(len(plan.steps), sum(_calls(s, snap) for s in plan.steps),
                              sum(s.disruptive for s in plan.steps), len(plan.deferred)))
    return "\n".join(lines) + "\n"


__all__ = ["change_text", "render_text", "step_line", "summary_text"]
