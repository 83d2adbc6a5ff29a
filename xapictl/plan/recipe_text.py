"""A ``DesiredState`` written back as recipe YAML: ``load_text(recipe_text(d)) == d``.

Fleet forms of the single-pool commands build their desired state from options; the rollout
journal keeps recipes by file (``rollout resume`` reads the file again), so that state is saved
as a recipe. Only stated fields are written: an unstated one means "leave alone".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import yaml

from xapictl.plan.desired import RECIPE_VERSION, SECTIONS, DesiredState


def recipe_text(desired: DesiredState) -> str:
    doc: dict[str, Any] = {"version": RECIPE_VERSION}
    for section, specs in (("networks", desired.networks), ("bonds", desired.bonds),
                           ("vifs", desired.vifs)):
        if specs:
            doc[section] = [_entry(spec, section) for spec in specs]
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _entry(spec: Any, section: str) -> dict[str, Any]:
    defaults = {f.name: f.default for f in dataclasses.fields(spec)}
    out: dict[str, Any] = {}
    for rule in SECTIONS[section]:
        value = getattr(spec, rule.name)
        if value is None or (not rule.required and value == defaults[rule.name]):
            continue
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        out[rule.name] = value
    return out


__all__ = ["recipe_text"]
