"""Turn ``ensure_*`` arguments into a validated ``DesiredState``: the arguments construct the
recipe entry model directly (``xapictl.plan.recipe_model``), so the rules and the messages are
the same as for a YAML file, each naming the argument instead of a file line."""

from __future__ import annotations

import re
from dataclasses import replace

from xapictl.errors import DesiredStateError, Problem
from xapictl.plan.desired import (
    BondSpec,
    DesiredState,
    InterfaceSpec,
    ManagementSpec,
    NetworkSpec,
    VIFSpec,
    Where,
    check,
)


def build(section: str, source: str, **values: object) -> DesiredState:
    from xapictl.plan.recipe_model import SECTIONS, ManagementEntry, entry_from_arguments

    model = ManagementEntry if section == "management" else SECTIONS[section]
    spec = entry_from_arguments(model, source, values).spec(Where(source))
    state = DesiredState(
        networks=(spec,) if isinstance(spec, NetworkSpec) else (),
        bonds=(spec,) if isinstance(spec, BondSpec) else (),
        vifs=(spec,) if isinstance(spec, VIFSpec) else (), source=source,
        interfaces=(spec,) if isinstance(spec, InterfaceSpec) else (),
        management=spec if isinstance(spec, ManagementSpec) else None)
    try:
        check(state)
    except DesiredStateError as exc:
        raise DesiredStateError([_argument(p, source) for p in exc.details]) from None
    return state


def _argument(problem: Problem, source: str) -> Problem:
    """``networks[0].vlan`` -> ``vlan``: the argument's name."""
    return replace(problem, where=source, field=re.sub(
        r"^(networks|bonds|vifs|interfaces)\[0\]\.?|^management\.", "", problem.field))


__all__ = ["build"]
