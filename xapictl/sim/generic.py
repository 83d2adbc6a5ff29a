"""The messages XAPI generates for every class (§1.11), served from the datamodel alone.

``get_record``, ``get_all``, ``get_all_records``, the hidden ``get_all_where`` and
``get_all_records_where``, ``get_by_uuid``, ``get_by_name_label``, ``get_<field>``,
``set_<field>``, ``add_to_<map>``/``remove_from_<map>``, ``add_<set>``/``remove_<set>`` and the
generated ``create``/``destroy``. A handler registered for the same method always wins; the
dispatcher only comes here when there is none.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from xapictl.model._types import TypeSpec
from xapictl.model.schema import ClassInfo, FieldInfo, datamodel
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import CallContext
from xapictl.sim.where import compile_filter, db_field_names

HIDDEN_GET_ALL = ("get_all_where", "get_all_records_where")


def fresh(value: Any) -> Any:
    """A copy of a stored value that later writes cannot change (containers only; scalars are
    immutable). Much cheaper than ``copy.deepcopy`` on records of plain values."""
    kind = type(value)
    if kind is list or kind is tuple:
        return [fresh(v) if type(v) in _CONTAINERS else v for v in value]
    if kind is dict:
        return {k: fresh(v) if type(v) in _CONTAINERS else v for k, v in value.items()}
    return value


_CONTAINERS = frozenset({list, dict, tuple})


def _is_scalar(spec: TypeSpec | None) -> bool:
    return spec is not None and spec.kind not in ("set", "map", "record", "option")


@functools.cache
def _container_fields(cls: str) -> tuple[tuple[str, bool], ...]:
    """(field, flat) for every container field: flat ones (sets of scalars, maps from scalars
    to scalars — nearly all of XAPI's) need only a shallow copy."""
    info = datamodel().classes[cls]
    return tuple((n, _is_scalar(f.spec.item) and (f.spec.kind == "set" or _is_scalar(f.spec.key)))
                 for n, f in info.fields.items() if f.spec.kind in ("set", "map", "record"))


def record_copy(record: Mapping[str, Any], cls: str | None = None) -> dict[str, Any]:
    """A wire-ready copy of a stored record (the hot path of ``get_all_records``); with the
    class name only its container fields are copied, and flat ones shallowly."""
    out = dict(record)
    if cls is not None:
        for key, flat in _container_fields(cls):
            value = out.get(key)
            if value is None:
                continue
            kind = type(value)
            out[key] = value.copy() if flat and (kind is list or kind is dict) else fresh(value)
        return out
    for key, value in out.items():
        if type(value) in _CONTAINERS:
            out[key] = fresh(value)
    return out


_ACCESSORS: dict[tuple[str, str], tuple[str, FieldInfo] | None] = {}


def field_for(info: ClassInfo, message: str) -> tuple[str, FieldInfo] | None:
    """Which generated accessor ``message`` is (``get``, ``set``, ``add_to`` …) and its field.
    Asked at every generic call, so remembered (the datamodel never changes)."""
    key = (info.name, message)
    try:
        return _ACCESSORS[key]
    except KeyError:
        found = _ACCESSORS[key] = _find_accessor(info, message)
        return found


def _find_accessor(info: ClassInfo, message: str) -> tuple[str, FieldInfo] | None:
    for prefix in ("get_", "set_", "add_to_", "remove_from_", "add_", "remove_"):
        if not message.startswith(prefix):
            continue
        f = info.fields.get(message[len(prefix):])
        if f is None:
            continue
        verb = prefix.rstrip("_")
        shape = accessor_shape(info, verb, f)
        if shape is not None and _params_match(info, message, shape):
            return verb, f
    return None


def accessor_shape(info: ClassInfo, verb: str, f: FieldInfo) -> tuple[TypeSpec, ...] | None:
    """The parameter types (self first) of the generated accessor ``verb`` of field ``f``, or
    None when the field's type has no such accessor (``add_to`` needs a map, ``add`` a set)."""
    spec = f.spec
    this = TypeSpec("ref", info.name)
    match verb:
        case "get":
            return (this,)
        case "set":
            return (this, spec)
        case "add_to" if spec.kind == "map" and spec.key and spec.item:
            return (this, spec.key, spec.item)
        case "remove_from" if spec.kind == "map" and spec.key:
            return (this, spec.key)
        case "add" | "remove" if spec.kind == "set" and spec.item:
            return (this, spec.item)
    return None


def _params_match(info: ClassInfo, message: str, shape: tuple[TypeSpec, ...]) -> bool:
    """A message the datamodel lists is an accessor only if its parameters have the accessor's
    shape: ``host.set_power_on_mode(host, mode, config)`` is a custom message, and serving it
    as a setter would write the wrong value into the field."""
    msg = info.messages.get(message)
    if msg is None:
        return True
    return (len(msg.params) == len(shape) and all(p.required for p in msg.params)
            and all(p.spec == want for p, want in zip(msg.params, shape, strict=True)))


def is_generic(info: ClassInfo, message: str) -> bool:
    """Whether the generic layer can serve ``message`` of this class."""
    if message == "create":
        return is_generated_create(info)
    if message in ("get_record", "get_all", "get_all_records", "get_by_uuid",
                   "get_by_name_label", "destroy", *HIDDEN_GET_ALL):
        return True
    return field_for(info, message) is not None


def is_generated_create(info: ClassInfo) -> bool:
    """Whether ``create`` is the generated constructor (its one parameter is the class's record);
    hand-written ones such as ``SR.create`` or ``VTPM.create`` take their own parameters."""
    msg = info.messages.get("create")
    return (msg is not None and len(msg.params) == 1
            and msg.params[0].type_text == f"{info.name} record")


def run(ctx: CallContext, info: ClassInfo, message: str, args: list[Any]) -> Any:
    """Serve one generated message. ``args`` are unmarshalled and exclude the session."""
    state = ctx.state
    cls = info.name
    match message:
        case "get_record":
            return record_copy(state.get(cls, args[0]), cls)
        case "get_all":
            return state.refs(cls)
        case "get_all_records":
            return {ref: record_copy(rec, cls) for ref, rec in state.all(cls).items()}
        case "get_all_records_where" | "get_all_where":
            matches = compile_filter(str(args[0]), info)
            hits = {ref: rec for ref, rec in state.all(cls).items() if matches(rec)}
            if message == "get_all_where":
                return list(hits)
            return {ref: record_copy(rec, cls) for ref, rec in hits.items()}
        case "get_by_uuid":
            return state.by_uuid(cls, str(args[0]))
        case "get_by_name_label":
            return state.find(cls, name_label=args[0])
        case "create":
            return create(ctx, info, args[0])
        case "destroy":
            state.get(cls, args[0])
            state.destroy(cls, args[0])
            return None
    found = field_for(info, message)
    if found is None:
        raise SimFailure("NOT_IMPLEMENTED", f"{cls}.{message}")
    verb, f = found
    record = state.get(cls, args[0])
    current = record[f.name]
    match verb:
        case "get":
            return fresh(current)
        case "set":
            state.set_field(cls, args[0], f.name, fresh(args[1]))
        case "add_to":
            key, value = args[1], args[2]
            if key == "":
                raise SimFailure("INTERNAL_ERROR", "Empty key in map")
            if key in current:
                # XAPI refuses even an identical value; the third parameter is the object ref.
                raise SimFailure("MAP_DUPLICATE_KEY", cls, _db_name(cls, f.name), args[0], key)
            state.set_field(cls, args[0], f.name, {**current, key: value})
        case "remove_from":
            if args[1] in current:
                state.set_field(cls, args[0], f.name,
                                {k: v for k, v in current.items() if k != args[1]})
        case "add":
            if args[1] not in current:
                state.set_field(cls, args[0], f.name, [args[1], *current])
        case "remove":
            if args[1] in current:
                state.set_field(cls, args[0], f.name, [v for v in current if v != args[1]])
    return None


@functools.cache
def _db_name(cls: str, wire: str) -> str:
    """The database spelling of a field (``qos__algorithm_params``), as errors name it."""
    for db, name in db_field_names(datamodel().classes[cls]).items():
        if name == wire:
            return db
    return wire


def create(ctx: CallContext, info: ClassInfo, args: Mapping[str, Any]) -> str:
    """The generated constructor: only constructor fields (RW, RO/constructor) are taken."""
    fields = {name: fresh(value) for name, value in args.items()
              if name in info.fields and info.fields[name].qualifier != "RO/runtime"}
    return ctx.state.create(info.name, fields)


__all__ = ["HIDDEN_GET_ALL", "accessor_shape", "create", "field_for", "fresh",
           "is_generated_create", "is_generic", "record_copy", "run"]
