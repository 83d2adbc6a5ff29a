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

from xapictl.plan.desired import RECIPE_VERSION, DesiredState


def recipe_text(desired: DesiredState) -> str:
    doc: dict[str, Any] = {"version": RECIPE_VERSION}
    for section, specs in (("networks", desired.networks), ("bonds", desired.bonds),
                           ("vifs", desired.vifs)):
        if specs:
            doc[section] = [_entry(spec, section) for spec in specs]
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _entry(spec: Any, section: str) -> dict[str, Any]:
    from xapictl.plan.recipe_model import SECTIONS

    defaults = {f.name: f.default for f in dataclasses.fields(spec)}
    out: dict[str, Any] = {}
    for name, info in SECTIONS[section].model_fields.items():
        value = getattr(spec, name)
        if value is None or (not info.is_required() and value == defaults[name]):
            continue
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        out[name] = value
    return out


__all__ = ["recipe_text"]
