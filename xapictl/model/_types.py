"""XAPI datamodel type strings, parsed once, and the value conversions they drive.

The datamodel writes types as text: ``int``, ``enum vif_locking_mode``, ``PIF ref``,
``string set``, ``(PIF ref -> PIF record) map``, ``string option``. ``parse_type`` turns that
into a ``TypeSpec``; ``decoder(spec)`` builds a function that turns a wire value (XML-RPC sends
ints as strings, JSON-RPC as numbers) into the Python value the records hold; ``parse_default``
reads the datamodel's rendering of a field default.

The simulator and the typed client share this module so that both sides agree on what every
type means. Stdlib only.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from xapictl._frozen import Frozen, frozen

Kind = Literal[
    "string", "int", "float", "bool", "datetime", "enum", "ref", "set", "map", "record", "option"
]

NULL_REF = "OpaqueRef:NULL"
EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)

_SCALARS: frozenset[str] = frozenset({"string", "int", "float", "bool", "datetime"})


@frozen
class TypeSpec(Frozen):
    """One datamodel type. ``name`` is the enum or class name; ``item``/``key`` for containers."""

    kind: Kind
    name: str = ""
    item: TypeSpec | None = None
    key: TypeSpec | None = None

    def __str__(self) -> str:
        match self.kind:
            case "enum":
                return f"enum {self.name}"
            case "ref" | "record":
                return f"{self.name} {self.kind}"
            case "set" | "option":
                return f"{self.item} {self.kind}"
            case "map":
                return f"({self.key} -> {self.item}) map"
            case _:
                return self.kind


@functools.cache
def parse_type(text: str) -> TypeSpec:
    """Parse a datamodel type string. Raises ``ValueError`` naming the text it cannot read."""
    text = text.strip()
    # every field given by position: TypeSpec's __init__ (xapictl._frozen) takes its fast path
    if text.endswith(" set"):
        return TypeSpec("set", "", parse_type(text[:-4]), None)
    if text.endswith(" option"):
        return TypeSpec("option", "", parse_type(text[:-7]), None)
    if text.startswith("(") and text.endswith(") map"):
        inner = text[1:-5]
        depth = 0
        for i, ch in enumerate(inner):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and inner.startswith(" -> ", i):
                return TypeSpec("map", "", parse_type(inner[i + 4 :]), parse_type(inner[:i]))
        raise ValueError(f"cannot read map type {text!r}")
    if text.startswith("enum "):
        return TypeSpec("enum", text[5:], None, None)
    if text.endswith(" ref"):
        return TypeSpec("ref", text[:-4], None, None)
    if text.endswith(" record"):
        return TypeSpec("record", text[:-7], None, None)
    if text in _SCALARS:
        return TypeSpec(text, "", None, None)  # type: ignore[arg-type]
    raise ValueError(f"unknown datamodel type {text!r}")


def _item(spec: TypeSpec) -> TypeSpec:
    if spec.item is None:
        raise ValueError(f"{spec.kind} type without an element type")
    return spec.item


def _key(spec: TypeSpec) -> TypeSpec:
    if spec.key is None:
        raise ValueError("map type without a key type")
    return spec.key


# --- datetimes --------------------------------------------------------------------------------

_DT_FORMATS = ("%Y%m%dT%H:%M:%SZ", "%Y%m%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S")


def parse_datetime(value: Any) -> _dt.datetime:
    """XAPI's ``YYYYMMDDTHH:MM:SSZ`` (also with dashes, or an xmlrpc ``DateTime``) as UTC."""
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)
    return _parse_datetime_text(str(getattr(value, "value", value)).strip())


_XAPI_DT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z?")


@functools.lru_cache(maxsize=4096)
def _parse_datetime_text(text: str) -> _dt.datetime:
    # Cached: a pool's records repeat a few timestamps (the epoch above all) many times, and
    # datetimes are immutable. XAPI's own form is read by the pattern, which takes exactly
    # the digits strptime would for it; anything else (or an impossible date) goes the
    # strptime way and gets its answer or its error.
    found = _XAPI_DT.fullmatch(text)
    if found is not None:
        try:
            year, month, day, hour, minute, second = map(int, found.groups())
            return _dt.datetime(year, month, day, hour, minute, second, tzinfo=_dt.UTC)
        except ValueError:
            pass
    for fmt in _DT_FORMATS:
        try:
            return _dt.datetime.strptime(text, fmt).replace(tzinfo=_dt.UTC)
        except ValueError:
            continue
    raise ValueError(f"not a XAPI datetime: {text!r}")


@functools.lru_cache(maxsize=4096)
def parse_datetime_text(text: str) -> _dt.datetime:
    """``parse_datetime`` of a wire string, the form both protocols send (a record reader's
    shortcut: one cached lookup per field)."""
    return _parse_datetime_text(text.strip())


def format_datetime(value: _dt.datetime) -> str:
    """The wire form XAPI prints: ``20240131T12:34:56Z`` (UTC, no dashes)."""
    return value.astimezone(_dt.UTC).strftime("%Y%m%dT%H:%M:%SZ")


# --- wire value -> python value ---------------------------------------------------------------

Decoder = Callable[[Any], Any]
RecordDecoder = Callable[[str, Mapping[str, Any]], Any]
EnumLookup = Callable[[str], Callable[[Any], Any]]


_only_str = {str}.issuperset
"""Whether every type in an iterable of types is ``str`` (a set method: no Python frame)."""


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected an int, got {value!r}")
    return int(value)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "1", 1):
        return True
    if value in ("false", "0", 0):
        return False
    raise ValueError(f"expected a bool, got {value!r}")


def decoder(
    spec: TypeSpec, *, enum: EnumLookup | None = None, record: RecordDecoder | None = None
) -> Decoder:
    """A function that turns a decoded wire value into the typed Python value.

    ``enum(name)`` returns the constructor of an enum type; ``record(class, raw)`` builds a
    nested record. Without them enums stay strings and records stay dicts.
    """
    match spec.kind:
        case "string" | "ref":
            return str
        case "int":
            return _to_int
        case "float":
            return float
        case "bool":
            return _to_bool
        case "datetime":
            return parse_datetime
        case "enum":
            return enum(spec.name) if enum else str
        case "record":
            if record is None:
                return dict
            cls = spec.name
            return lambda raw: record(cls, raw)
        case "option":
            inner = decoder(_item(spec), enum=enum, record=record)
            return lambda v: None if v is None else inner(v)
        case "set":
            item = decoder(_item(spec), enum=enum, record=record)
            return lambda v: tuple(map(item, v))
        case "map":
            key = decoder(_key(spec), enum=enum, record=record)
            val = decoder(_item(spec), enum=enum, record=record)
            # What {key(k): val(x) for k, x in v.items()} gives, without a Python frame per
            # entry (records carry many small string maps: other_config, …).
            full: Decoder = lambda v: dict(zip(map(key, v.keys()), map(val, v.values()),  # noqa: E731
                                               strict=True))
            if key is str and val is str:  # a string map as the wire has it: a copy will do
                return lambda v: dict(v) if _only_str(map(type, v)) and _only_str(
                    map(type, v.values())) else full(v)
            return full
    raise AssertionError(spec)  # pragma: no cover - exhaustive


def zero_value(spec: TypeSpec) -> Any:
    """The value a field takes when the datamodel gives no default."""
    match spec.kind:
        case "string" | "enum":
            return ""
        case "ref":
            return NULL_REF
        case "int":
            return 0
        case "float":
            return 0.0
        case "bool":
            return False
        case "datetime":
            return EPOCH
        case "set":
            return ()
        case "map" | "record":
            return {}
        case "option":
            return None
    raise AssertionError(spec)  # pragma: no cover


# --- datamodel default renderings -------------------------------------------------------------

_MAP_ITEM = re.compile(r'"((?:[^"\\]|\\.)*)"\s*->\s*"((?:[^"\\]|\\.)*)"')


def parse_default(spec: TypeSpec, text: str) -> Any:
    """Read the datamodel's rendering of a default (``Null``, ``"x"``, ``{}``, ``1.``, …).

    Returns plain values: ints, floats, bools, strings, tuples for sets, dicts for maps, an
    aware ``datetime`` for datetimes. Enum defaults stay their wire spelling.
    """
    text = text.strip()
    match spec.kind:
        case "ref":
            return NULL_REF if text in ("Null", "", NULL_REF) else text
        case "string":
            return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text
        case "int":
            return int(text)
        case "float":
            return float(text)
        case "bool":
            return text == "true"
        case "datetime":
            return parse_datetime(text)
        case "enum":
            return text
        case "set":
            body = text.strip("{}").strip()
            if not body:
                return ()
            return tuple(parse_default(_item(spec), part) for part in body.split(","))
        case "map":
            return dict(_MAP_ITEM.findall(text))
        case "option":
            return None
        case "record":
            return {}
    raise AssertionError(spec)  # pragma: no cover


def is_container(spec: TypeSpec) -> bool:
    return spec.kind in ("set", "map")


def python_type(spec: TypeSpec, **names: Callable[[str], str]) -> str:
    """The Python annotation for a spec, as source text (used by the generator).

    ``names`` holds ``enum_name``, ``ref_name`` and ``record_name``: datamodel name → Python name.
    """
    match spec.kind:
        case "string":
            return "str"
        case "int":
            return "int"
        case "float":
            return "float"
        case "bool":
            return "bool"
        case "datetime":
            return "datetime.datetime"
        case "enum":
            return names["enum_name"](spec.name)
        case "ref":
            return names["ref_name"](spec.name)
        case "record":
            return names["record_name"](spec.name)
        case "option":
            return f"{python_type(_item(spec), **names)} | None"
        case "set":
            return f"tuple[{python_type(_item(spec), **names)}, ...]"
        case "map":
            key = python_type(_key(spec), **names)
            return f"Mapping[{key}, {python_type(_item(spec), **names)}]"
    raise AssertionError(spec)  # pragma: no cover


__all__ = [
    "EPOCH",
    "NULL_REF",
    "Decoder",
    "TypeSpec",
    "decoder",
    "format_datetime",
    "is_container",
    "parse_datetime",
    "parse_datetime_text",
    "parse_default",
    "parse_type",
    "python_type",
    "zero_value",
]
