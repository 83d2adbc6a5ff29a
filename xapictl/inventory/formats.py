"""Writing and reading inventories: JSON (one document), NDJSON (a header line, then one object
per line), CSV (one file per object type, lists joined with ``;``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xapictl.inventory.document import Inventory, Obj
from xapictl.inventory.fields import OBJECT_FIELDS, OBJECT_TYPES, PLURAL, SINGULAR, Kind

FORMATS = ("json", "ndjson", "csv")


def to_json(inv: Inventory) -> str:
    return json.dumps(inv.to_document(), indent=2) + "\n"


def ndjson_lines(inv: Inventory) -> Iterator[str]:
    """A header (``"object": "inventory"``) then ``{"object": <type>, ...fields}`` per object."""
    yield json.dumps({"object": "inventory", "schema_version": inv.schema_version,
                      "generated_at": inv.generated_at, "tokens": dict(inv.tokens)})
    for t in OBJECT_TYPES:
        for o in inv.of(t):
            yield json.dumps({"object": SINGULAR[t], **o})


def to_ndjson(inv: Inventory) -> str:
    return "".join(line + "\n" for line in ndjson_lines(inv))


def _cell(kind: Kind, value: Any) -> str:
    if value is None:
        return ""
    if kind in (Kind.STRINGS, Kind.UUIDS):
        return ";".join(value)
    if kind is Kind.INT_BY_UUID:
        return ";".join(f"{k}={v}" for k, v in value.items())
    if kind in (Kind.BOOL, Kind.BOOL_OR_NULL):
        return "true" if value else "false"
    return str(value)


def csv_tables(inv: Inventory) -> dict[str, str]:
    """CSV text per object type (file name ``<type>.csv``), header row first."""
    out = {}
    for t in OBJECT_TYPES:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        fields = OBJECT_FIELDS[t]
        writer.writerow([f.name for f in fields])
        for o in inv.of(t):
            writer.writerow([_cell(f.kind, o[f.name]) for f in fields])
        out[f"{t}.csv"] = buf.getvalue()
    return out


def write(inv: Inventory, fmt: str, output: Path | None) -> str | None:
    """Write to ``output`` (a directory for CSV); with no output, return the text (JSON/NDJSON)."""
    from xapictl.errors import UsageError

    if fmt == "csv":
        if output is None:
            raise UsageError("CSV export writes one file per object type: give --out DIR")
        output.mkdir(parents=True, exist_ok=True)
        for name, text in csv_tables(inv).items():
            (output / name).write_text(text)
        return None
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    text = to_json(inv) if fmt == "json" else to_ndjson(inv)
    if output is None:
        return text
    output.write_text(text)
    return None


def read(path: Path) -> Inventory:
    """Read a JSON or NDJSON export (told apart by content, not by name)."""
    from xapictl.errors import UsageError

    text = path.read_text()
    try:
        first = text.lstrip()[:1]
        if first == "{" and not text.lstrip().startswith('{"object"'):
            return Inventory.from_document(json.loads(text))
        return _from_ndjson(text.splitlines())
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: not an xapictl inventory export ({exc})") from exc


def _from_ndjson(lines: list[str]) -> Inventory:
    objs: dict[str, list[Obj]] = {t: [] for t in OBJECT_TYPES}
    header: dict[str, Any] = {}
    for line in lines:
        if not line.strip():
            continue
        rec = json.loads(line)
        kind = rec.pop("object")
        if kind == "inventory":
            header = rec
        else:
            objs[PLURAL[kind]].append(rec)
    return Inventory.from_document({**header, **objs})


__all__ = ["FORMATS", "csv_tables", "ndjson_lines", "read", "to_json", "to_ndjson", "write"]
