"""Writing and reading inventories: JSON (one document), NDJSON (a header line, then one object
per line), CSV (one file per object type, lists joined with ``;``)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from xapictl.inventory.document import Inventory, Obj
from xapictl.inventory.fields import OBJECT_FIELDS, OBJECT_TYPES, PLURAL, SINGULAR, Kind

FORMATS = ("json", "ndjson", "csv")


def to_json(inv: Inventory) -> str:
    """The document indented by two spaces, byte for byte what ``json.dumps(indent=2)``
    wrote, written by orjson: the standard library's encoder falls back to pure Python as
    soon as it indents (0.93 s of CPU for a 40 MB export, against 0.23 s unindented)."""
    return _indented(inv.to_document()) + "\n"


def _indented(document: Any) -> str:
    """``json.dumps(document, indent=2)`` (ASCII only: other characters as ``\\u`` escapes,
    as the standard library writes them) through orjson, for documents without floats (an
    inventory has none: orjson writes some exponents differently); values orjson cannot
    write (an integer beyond 64 bits, a lone surrogate) fall back to the standard library."""
    try:
        text = orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONEncodeError:
        return json.dumps(document, indent=2)
    return text if text.isascii() and "\x7f" not in text else _ESCAPE.sub(_escaped, text)


# What json.dumps escapes beyond what orjson does: every character past "~" (orjson writes
# them as UTF-8), as \uXXXX, astral ones as their surrogate pair.
_ESCAPE = re.compile("[\x7f-\U0010ffff]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xd800 | (code >> 10):04x}\\u{0xdc00 | (code & 0x3ff):04x}"


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
        try:
            output.mkdir(parents=True, exist_ok=True)
            for name, text in csv_tables(inv).items():
                (output / name).write_text(text)
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
            raise UsageError(f"--out {output}: cannot write there ({_reason(exc)}); give "
                             "a directory you can write to") from None
        return None
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    text = to_json(inv) if fmt == "json" else to_ndjson(inv)
    if output is None:
        return text
    try:
        output.write_text(text)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--out {output}: cannot write there ({_reason(exc)}); give a file "
                         "path you can write to") from None
    return None


def read_text(path: Path, what: str) -> str:
    """The text of a file the user named, or a one-line ``UsageError`` saying why not."""
    from xapictl.errors import UsageError

    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such {what}; check the path") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory; give the {what} itself") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the {what} ({exc.strerror or exc}); check its "
                         "permissions") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text, so not an {what}") from None


def read(path: Path) -> Inventory:
    """Read a JSON or NDJSON export (told apart by content, not by name)."""
    from xapictl.errors import UsageError

    text = read_text(path, "inventory export")
    try:
        first = text.lstrip()[:1]
        if first == "{" and not text.lstrip().startswith('{"object"'):
            return Inventory.from_document(json.loads(text))
        return _from_ndjson(text.splitlines())
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and numbers too long to convert
        raise UsageError(f"{path}: not an xapictl inventory export ({_reason(exc)}); give a "
                         "JSON or NDJSON file written by `xapictl inventory export`") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return text if len(text) <= 80 else f"{text[:77]}..."


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


__all__ = ["FORMATS", "csv_tables", "ndjson_lines", "read", "read_text", "to_json", "to_ndjson",
           "write"]
