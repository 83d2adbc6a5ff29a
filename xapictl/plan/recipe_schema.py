"""The recipe format, published: the JSON Schema (``docs/recipe.schema.json``) and the field
tables of ``docs/recipes.md``, both built from the field tables the loader validates with.

    python -m xapictl.plan.recipe_schema > docs/recipe.schema.json
"""

from __future__ import annotations

from typing import Any

from xapictl.plan.desired import (
    DEVICE_PATTERN,
    MAC_PATTERN,
    RECIPE_VERSION,
    SECTIONS,
    FieldRule,
)

SCHEMA_ID = "https://xapictl.example/recipe.schema.json"


def _field_schema(rule: FieldRule) -> dict[str, Any]:
    out: dict[str, Any] = {"description": rule.help}
    if rule.kind in ("str",):
        out.update(type="string", minLength=1)
    elif rule.kind == "device":
        out.update(type="string", pattern=DEVICE_PATTERN.pattern)
    elif rule.kind == "mac":
        out.update(type="string", pattern=MAC_PATTERN.pattern)
    elif rule.kind == "bool":
        out.update(type="boolean")
    elif rule.kind == "int":
        out.update(type="integer")
        if rule.minimum is not None:
            out["minimum"] = rule.minimum
        if rule.maximum is not None:
            out["maximum"] = rule.maximum
    elif rule.kind == "enum":
        out.update(type="string", enum=list(rule.choices))
    elif rule.kind == "strlist":
        items: dict[str, Any] = {"type": "string"}
        if rule.choices:
            items["enum"] = list(rule.choices)
        out.update(type="array", items=items)
    elif rule.kind == "strmap":
        out.update(type="object", additionalProperties={"type": "string"})
    elif rule.kind == "vifdevice":
        out["oneOf"] = [{"type": "integer", "minimum": 0, "maximum": 15},
                        {"type": "string", "pattern": "^(auto|[0-9]|1[0-5])$"}]
    return out


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the recipe format, built from the field tables."""
    defs = {}
    for section, rules in SECTIONS.items():
        defs[section] = {
            "type": "object",
            "additionalProperties": False,
            "required": [r.name for r in rules if r.required],
            "properties": {r.name: _field_schema(r) for r in rules},
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "xapictl recipe",
        "description": "Desired networking state of a XenServer / XCP-ng pool. Fields left "
                       "out are left alone; `present: false` removes the object.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "version": {"const": RECIPE_VERSION},
            **{s: {"type": ["array", "null"], "items": {"$ref": f"#/$defs/{s}"}}
               for s in SECTIONS},
        },
        "$defs": defs,
    }


def markdown_fields() -> str:
    """The field tables of docs/recipes.md (a test keeps the page equal to this)."""
    out = []
    bar = " \\| "  # a literal | inside a table cell
    for section, rules in SECTIONS.items():
        out += [f"### `{section}:`", "", "| field | type | required | meaning | example |",
                "|---|---|---|---|---|"]
        for r in rules:
            kind = {"strlist": "list of strings", "strmap": "mapping string → string",
                    "vifdevice": "0-15 or auto", "enum": bar.join(r.choices)}.get(
                r.kind, r.kind)
            if r.kind == "int" and r.minimum is not None:
                kind = f"int {r.minimum}-{r.maximum}"
            if r.kind == "strlist" and r.choices:
                kind = f"list of {bar.join(r.choices)}"
            out.append(f"| `{r.name}` | {kind} | {'yes' if r.required else ''} | {r.help} | "
                       f"`{r.example}` |")
        out.append("")
    return "\n".join(out)


__all__ = ["SCHEMA_ID", "json_schema", "markdown_fields"]


if __name__ == "__main__":
    import json
    import sys

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
