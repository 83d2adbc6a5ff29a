"""The JSON Schema of the inventory document, generated from ``fields.OBJECT_FIELDS``.

The published copy is ``docs/inventory.schema.json``; ``python -m xapictl.inventory.schema PATH``
rewrites it, and a test fails when the committed file is not what this module produces.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from xapictl.inventory.fields import OBJECT_FIELDS, SCHEMA_VERSION, SINGULAR, Kind

SCHEMA_ID = "https://xapictl.example/schemas/inventory.schema.json"
# No empty string: a missing reference is JSON null (the *_OR_NULL kinds), never "".
_UUID = {"type": "string", "pattern": "^[0-9a-fA-F-]{36}$"}

_KIND_SCHEMAS: dict[Kind, dict[str, Any]] = {
    Kind.STRING: {"type": "string"},
    Kind.UUID: _UUID,
    Kind.UUID_OR_NULL: {"anyOf": [_UUID, {"type": "null"}]},
    Kind.INT: {"type": "integer"},
    Kind.INT_OR_NULL: {"type": ["integer", "null"]},
    Kind.BOOL: {"type": "boolean"},
    Kind.BOOL_OR_NULL: {"type": ["boolean", "null"]},
    Kind.STRINGS: {"type": "array", "items": {"type": "string"}},
    Kind.UUIDS: {"type": "array", "items": _UUID},
    Kind.INT_BY_UUID: {"type": "object", "additionalProperties": {"type": "integer"}},
}


def object_schema(object_type: str) -> dict[str, Any]:
    fields = OBJECT_FIELDS[object_type]
    return {
        "type": "object",
        "properties": {f.name: {**_KIND_SCHEMAS[f.kind], "description": f.doc}
                       for f in fields},
        "required": [f.name for f in fields],
        "additionalProperties": False,
    }


def json_schema() -> dict[str, Any]:
    """The schema of the JSON document (and, through ``$defs``, of each NDJSON object line)."""
    defs = {SINGULAR[t]: object_schema(t) for t in OBJECT_FIELDS}
    props: dict[str, Any] = {
        "schema_version": {"type": "string", "pattern": r"^\d+\.\d+$",
                           "description": f"Format version; this schema is {SCHEMA_VERSION}."},
        "generated_at": {"type": "string", "description": "When the export was made (UTC)."},
        "tokens": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "event.from token each pool was read at, by pool UUID."},
    }
    for t in OBJECT_FIELDS:
        props[t] = {"type": "array", "items": {"$ref": f"#/$defs/{SINGULAR[t]}"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"xapictl network inventory {SCHEMA_VERSION}",
        "type": "object",
        "properties": props,
        "required": list(props),
        # A later 1.x may add members (a new object type): readers of 1.x ignore them.
        "additionalProperties": True,
        "$defs": defs,
    }


def render() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"


def write(path: Path) -> None:
    path.write_text(render())


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/inventory.schema.json"))


__all__ = ["json_schema", "object_schema", "render", "write"]
