"""Results decoded by the datamodel, so ints are ints whatever the protocol.

XML-RPC sends int fields as strings, JSON-RPC as numbers. ``plain_result(method, value)``
converts a raw result by the message's declared result type into plain Python values
(records stay dicts keyed by wire names); ``typed_result`` builds the generated records and
enums instead. Both are built once per type and cached.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from xapictl.model import enums as _enums
from xapictl.model._base import record_type
from xapictl.model._names import camel
from xapictl.model._types import TypeSpec, decoder, parse_type
from xapictl.model._xapienum import XapiEnum
from xapictl.model.schema import MessageInfo, datamodel

Decoder = Callable[[Any], Any]


def message_info(method: str) -> MessageInfo | None:
    """The datamodel's message for ``Class.message`` (``Async.`` ignored; class any case)."""
    cls_name, _, message = method.removeprefix("Async.").partition(".")
    info = datamodel().find_class(cls_name)
    return info.messages.get(message) if info is not None else None


# --- plain: wire-keyed dicts, typed scalars -----------------------------------------------------


def _plain_record(cls_name: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    fields = _field_decoders(cls_name)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        decode = fields.get(key)
        try:
            out[key] = decode(value) if decode is not None else value
        except (TypeError, ValueError):
            out[key] = value  # a newer pool's shape: keep what was sent
    return out


@functools.cache
def _field_decoders(cls_name: str) -> dict[str, Decoder]:
    info = datamodel().find_class(cls_name)
    if info is None:
        return {}
    return {name: plain_decoder(f.spec) for name, f in info.fields.items()}


@functools.cache
def plain_decoder(spec: TypeSpec) -> Decoder:
    """Scalars typed, sets as lists, maps as dicts, records as wire-keyed dicts."""
    match spec.kind:
        case "set":
            item = plain_decoder(spec.item or parse_type("string"))
            return lambda v: [item(x) for x in v]
        case "map":
            key = plain_decoder(spec.key or parse_type("string"))
            val = plain_decoder(spec.item or parse_type("string"))
            return lambda v: {key(k): val(x) for k, x in v.items()}
        case "option":
            inner = plain_decoder(spec.item or parse_type("string"))
            return lambda v: None if v is None else inner(v)
        case "record":
            name = spec.name
            return lambda v: _plain_record(name, v)
    return decoder(spec)


def plain_result(method: str, value: Any) -> Any:
    """``value`` converted by the result type of ``method`` (unchanged when unknown)."""
    info = message_info(method)
    spec = info.result_spec if info is not None else None
    if spec is None or (value == "" and spec.kind not in ("string", "ref", "enum")):
        return value
    return plain_decoder(spec)(value)


# --- typed: generated records and enums ---------------------------------------------------------


def _enum_type(name: str) -> Callable[[Any], Any]:
    found = getattr(_enums, camel(name), None)
    if isinstance(found, type) and issubclass(found, XapiEnum):
        return found
    return str


def _record(cls_name: str, raw: Mapping[str, Any]) -> Any:
    return record_type(cls_name).from_xapi(raw)


@functools.cache
def typed_decoder(spec: TypeSpec) -> Decoder:
    """Records become the generated dataclasses, enums their ``XapiEnum``."""
    return decoder(spec, enum=_enum_type, record=_record)


def typed_result(method: str, value: Any) -> Any:
    info = message_info(method)
    spec = info.result_spec if info is not None else None
    if spec is None:
        return value
    return typed_decoder(spec)(value)


__all__ = ["message_info", "plain_decoder", "plain_result", "typed_decoder", "typed_result"]
