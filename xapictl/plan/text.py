"""A plan as plain text: what ``xapictl plan`` prints without colour, and what the
``tests/plan_cases`` fixtures pin. One line per step, no-op and warning, in plan order.

The text is rendered from the plan's document (``xapictl.plan.document``), the one
``plan -o json`` prints, so the two cannot disagree.
"""

from __future__ import annotations

from typing import Any

from xapictl.plan.core import Plan, Step
from xapictl.plan.document import change_line, change_of, plan_document, render_document, to_json


def step_line(step: Step) -> str:
    return change_line(change_of(step))


def render_text(plan: Plan, snap: Any = None) -> str:
    """``+`` a step, ``=`` a no-op, ``~`` deferred work, ``!`` a warning; a summary line last
    (which counts the disruptive steps, if any). ``snap``: the snapshot the plan was made
    from (it changes nothing in the text)."""
    return render_document(plan_document(plan, snap))


def plan_json(plan: Plan, snap: Any = None) -> dict[str, Any]:
    """The plan as JSON-able data: the document (``--output json``)."""
    return to_json(plan_document(plan, snap))


__all__ = ["plan_json", "render_text", "step_line"]
