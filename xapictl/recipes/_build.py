"""Turn ``ensure_*`` arguments into a validated ``DesiredState``: the arguments go through the
recipe file validator, so the rules and the messages are the same as for a YAML file."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import yaml

from xapictl.errors import DesiredStateError, Problem
from xapictl.plan.desired import DesiredState, load_text


def build(section: str, source: str, **values: Any) -> DesiredState:
    entry = {k: _plain(v) for k, v in values.items() if v is not None}
    try:
        text = yaml.safe_dump({"version": 1, section: [entry]}, sort_keys=False)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):  # a 5000-digit int too
        raise DesiredStateError([f"{source}: arguments must be plain strings, numbers, "
                                 "booleans, lists and mappings"]) from None
    try:
        return load_text(text, source=source)
    except DesiredStateError as exc:
        # Line numbers of the generated text mean nothing to a caller: keep field and fix.
        raise DesiredStateError([_argument(p, source) for p in exc.details]) from None


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return value


def _argument(problem: Problem, source: str) -> Problem:
    """``src:3`` / ``networks[0].vlan`` -> ``src`` / ``vlan``: the argument's name."""
    return replace(problem, where=source, field=re.sub(r"^(networks|bonds|vifs)\[0\]\.?", "",
                                                       problem.field))


__all__ = ["build"]
