"""The base of every generated record (enums have theirs in ``_xapienum``).

A record is plain typed data: a frozen dataclass whose ``wire_fields`` say, once, which wire
name and datamodel type each Python field has. ``from_xapi`` reads a record as either protocol
sends it (XML-RPC ints arrive as strings) and ignores keys it does not know; ``to_xapi`` gives
the wire form back. Nothing here talks to the network.

Why the generated classes are not made by the dataclass decorator: it makes each method by
building its source and ``exec``-ing it, per class, at import, and even with every method
written out it still reads every annotation and makes a ``Field`` per field and the class
again with slots; for the few records a ``network create`` loads (``host`` has 79 fields,
``pool`` 66) that was a visible part of its client CPU (issue 12). So the generator writes
what the decorator would compute: ``__slots__``, a keyword-only ``__init__`` with the same
defaults (and a fresh value of a factory per call), ``field_factories``; ``Record`` has the
shared ``__eq__``, ``__hash__``, ``__repr__``, the frozen ``__setattr__``/``__delattr__`` and
the pickling of a frozen slotted dataclass. ``@record`` is ``@dataclass(frozen=True,
kw_only=True)`` to type checkers (``dataclass_transform``); at run time it leaves only a
stand-in for ``__dataclass_fields__`` (and ``__dataclass_params__``), which runs the decorator
on a throwaway copy of the class's declarations the first time something reads it
(``dataclasses.fields``, ``replace``, ``asdict``, ``is_dataclass``): nothing on the path of a
run that only decodes, compares and prints records. ``tests/model/test_model_record_methods.py``
holds every record to a dataclass made the ordinary way from the same fields.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
import importlib
import operator
import re
import reprlib
import sys
import threading
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, NoReturn, Self, TypeVar, dataclass_transform

from xapictl.model._names import camel
from xapictl.model._types import (
    Decoder,
    decoder,
    format_datetime,
    parse_datetime_text,
    parse_type,
)
from xapictl.model._xapienum import XapiEnum

R = TypeVar("R", bound="Record")
T = TypeVar("T", bound=type)


class _Factory:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"


FACTORY: Any = _Factory()
"""The default of a generated ``__init__``'s parameter whose field has a default factory (a
map): the parameter left out, the field gets a fresh value, as a dataclass's does."""

set_field: Callable[[object, str, Any], None] = object.__setattr__
"""How a generated ``__init__`` fills a frozen record's slot (what a frozen dataclass's does)."""


class Record:
    """Base of the generated record dataclasses (one per XAPI class)."""

    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()  # the decorator's, every field keyword-only
    xapi_class: ClassVar[str]
    ref_type: ClassVar[type]
    wire_fields: ClassVar[tuple[tuple[str, str, str], ...]]
    field_factories: ClassVar[Mapping[str, Callable[[], Any]]] = MappingProxyType({})
    """The default factory of each field that has one (maps and records: a fresh value per
    record); every other field's default is its ``__init__`` parameter's."""
    _decoders: ClassVar[tuple[tuple[str, str, Decoder], ...] | None]

    @classmethod
    def _compiled(cls) -> tuple[tuple[str, str, Decoder], ...]:
        compiled: tuple[tuple[str, str, Decoder], ...] | None = cls.__dict__.get("_decoders_")
        if compiled is None:
            compiled = tuple(
                (py, wire, field_decoder(t))
                for py, wire, t in cls.wire_fields
            )
            type.__setattr__(cls, "_decoders_", compiled)
        return compiled

    @classmethod
    def from_xapi(cls, raw: Mapping[str, Any]) -> Self:
        """Build the record from a wire struct of either protocol; unknown keys are ignored."""
        fast: Callable[[Mapping[str, Any]], Self] | None = cls.__dict__.get("_fast_from_xapi_")
        if fast is None:
            fast = _fast_reader(cls)
            type.__setattr__(cls, "_fast_from_xapi_", fast)
        try:
            return fast(raw)
        except (TypeError, ValueError):
            return cls._from_xapi_checked(raw)  # raises the error naming the field

    @classmethod
    def from_xapi_lazy(cls, raw: Mapping[str, Any]) -> Self:
        """``from_xapi`` for readers that look at a few of a wide record's fields: the record
        keeps ``raw`` (which must not change afterwards) and decodes each field the first
        time it is read, as ``from_xapi`` would. A value that cannot be read raises the same
        ``ValueError`` naming the field, when that field is read. It is an instance of
        ``cls`` and equal to the record ``from_xapi`` makes of ``raw``."""
        made: tuple[type[Self], Callable[[Any, Any], None]] | None = cls.__dict__.get(
            "_lazy_type_")
        if made is None:
            lazy = _lazy_type(cls)
            made = (lazy, lazy.__dict__["_wire_"].__set__)
            type.__setattr__(cls, "_lazy_type_", made)
        lazy, keep = made
        o = object.__new__(lazy)
        keep(o, raw)
        return o

    @classmethod
    def _from_xapi_checked(cls, raw: Mapping[str, Any]) -> Self:
        kwargs: dict[str, Any] = {}
        for py, wire, decode in cls._compiled():
            if wire in raw:
                try:
                    kwargs[py] = decode(raw[wire])
                except (TypeError, ValueError) as exc:
                    raise ValueError(
                        f"{cls.xapi_class}.{wire}: cannot read {raw[wire]!r} ({exc})"
                    ) from exc
        return cls(**kwargs)

    @classmethod
    def _values(cls) -> Callable[[Any], tuple[Any, ...]]:
        values: Callable[[Any], tuple[Any, ...]] | None = cls.__dict__.get("_values_")
        if values is None:
            names = [py for py, _, _ in cls.wire_fields]
            if len(names) >= 2:
                values = operator.attrgetter(*names)
            else:
                getters = [operator.attrgetter(name) for name in names]
                values = lambda record: tuple(get(record) for get in getters)  # noqa: E731
            type.__setattr__(cls, "_values_", values)
        return values

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        values = self._values()
        return values(self) == values(other)

    def __hash__(self) -> int:
        return hash(self._values()(self))

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        fields = ", ".join(f"{py}={getattr(self, py)!r}" for py, _, _ in self.wire_fields)
        return f"{self.__class__.__qualname__}({fields})"

    # A frozen dataclass's: no assignment, no deletion; pickled as the list of its values
    # (what the decorator gives a frozen class with slots).
    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self) -> list[Any]:
        return [getattr(self, py) for py, _, _ in self.wire_fields]

    def __setstate__(self, state: list[Any]) -> None:
        for (py, _, _), value in zip(self.wire_fields, state, strict=True):
            set_field(self, py, value)

    def to_xapi(self) -> dict[str, Any]:
        """The record as XAPI sends it, keyed by wire names (ints as ints, enums as text)."""
        return {wire: to_wire(getattr(self, py)) for py, wire, _ in self.wire_fields}


class _Dataclass:
    """Stands in a record class's ``__dataclass_fields__`` or ``__dataclass_params__`` until
    something reads it; then the decorator runs on a copy of the class's declarations and the
    class gets the real ones (``record``)."""

    __slots__ = ("attr", "cls")

    def __init__(self, cls: type[Record], attr: str) -> None:
        self.cls, self.attr = cls, attr

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        return _as_dataclass(self.cls).__dict__[self.attr]


_making = threading.Lock()


def _as_dataclass(cls: type[R]) -> type[R]:
    """Give ``cls`` the ``__dataclass_fields__`` and ``__dataclass_params__`` that
    ``@dataclass(frozen=True, slots=True, kw_only=True, init=False, repr=False, eq=False)``
    would have given it: the decorator runs on a throwaway class declaring the same fields,
    with the same annotations, defaults and default factories (``field_defaults``)."""
    with _making:
        if isinstance(cls.__dict__["__dataclass_fields__"], _Dataclass):
            names: dict[str, Any] = {"__module__": cls.__module__,
                                     "__qualname__": cls.__qualname__,
                                     "__annotations__": dict(cls.__annotations__)}
            for name in cls.__annotations__:  # the class's own constants (ClassVar)
                if name in cls.__dict__ and name not in cls.__slots__:
                    names[name] = cls.__dict__[name]
            for name, (default, factory) in field_defaults(cls).items():
                names[name] = (dataclasses.field(default_factory=factory) if factory
                               else default)
            made: type = dataclasses.dataclass(type(cls.__name__, (), names), frozen=True,
                                         slots=True, kw_only=True, init=False, repr=False,
                                         eq=False)
            for attr in ("__dataclass_params__", "__dataclass_fields__"):  # fields last
                type.__setattr__(cls, attr, made.__dict__[attr])
    return cls


@dataclass_transform(frozen_default=True, kw_only_default=True,
                     field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: T) -> T:
    """A generated record class: ``@dataclass(frozen=True, slots=True, kw_only=True)`` to
    type checkers, and at run time the class as written (its ``__slots__``, ``__init__`` and
    ``field_factories`` are the decorator's work done by the generator) with stand-ins for
    the dataclass tables, made when first read (see the module)."""
    for attr in ("__dataclass_fields__", "__dataclass_params__"):
        type.__setattr__(cls, attr, _Dataclass(cls, attr))
    return cls


def field_defaults(cls: type[Record]) -> dict[str, tuple[Any, Callable[[], Any] | None]]:
    """Each field's ``(default, None)``, or ``(MISSING, factory)`` for a field with a default
    factory, in field order, read from the generated ``__init__``'s parameter defaults and
    ``field_factories`` (no dataclass machinery)."""
    init = cls.__dict__.get("__init__")
    given: dict[str, Any] = (getattr(init, "__kwdefaults__", None) or {}) if init else {}
    out: dict[str, tuple[Any, Callable[[], Any] | None]] = {}
    for py, _, _ in cls.wire_fields:
        factory = cls.field_factories.get(py)
        out[py] = (dataclasses.MISSING, factory) if factory else (given[py], None)
    return out


def to_wire(value: Any) -> Any:
    """A Python value back to its protocol-neutral wire form."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    if isinstance(value, Record):
        return value.to_xapi()
    if isinstance(value, tuple | list | frozenset | set):
        return [to_wire(v) for v in value]
    if isinstance(value, Mapping):
        return {str(to_wire(k)): to_wire(v) for k, v in value.items()}
    return value


def _module_of(xapi_class: str) -> str:
    return f"xapictl.model.{xapi_class.lower()}"


@functools.cache  # found once: snapshots look their twelve classes up every time
def record_type(xapi_class: str) -> type[Record]:
    """The generated record class for a XAPI class name (``"PIF"`` → ``PIF``)."""
    try:
        module = importlib.import_module(_module_of(xapi_class))
    except ModuleNotFoundError:
        raise KeyError(f"no XAPI class named {xapi_class!r}") from None
    for value in vars(module).values():
        is_record = isinstance(value, type) and issubclass(value, Record) and value is not Record
        if is_record and value.xapi_class == xapi_class:
            found: type[Record] = value
            return found
    raise KeyError(f"no XAPI class named {xapi_class!r}")


@functools.cache
def field_decoder(type_text: str) -> Decoder:
    """The decoder of a record field of this datamodel type (enums as their enum, records as
    their record), made once per type: a class's fields share a few dozen types (``host``'s
    79 fields, 30), and every record class decodes ``string`` or ``(string -> string) map``
    the same way."""
    return decoder(parse_type(type_text), enum=_enum_ctor, record=_decode_record)


def _enum_ctor(name: str) -> Callable[[Any], Any]:
    from xapictl.model import enums
    cls: type[XapiEnum] = getattr(enums, camel(name))
    members: dict[Any, Any] = dict(cls._value2member_map_)

    def lookup(value: Any) -> Any:
        # What ``cls(value)`` does first, without its two Python-level calls; anything not an
        # exact member value (other case, unknown, unhashable) still goes through ``cls``, once
        # per distinct text: its answer is kept (a pool sends ``""`` for every VM's
        # ``actions_after_*``), up to a bound.
        try:
            return members[value]
        except (KeyError, TypeError):
            found = cls(value)
            if type(value) is str and len(members) < _ENUM_CACHE_BOUND:
                members[value] = found
            return found

    return lookup


_ENUM_CACHE_BOUND = 1024


_MISSING = object()

# A wire value of exactly this type is already what the decoder would return (``str(s)`` is
# ``s``, ``int(i)`` is ``i``...), so the generated reader skips the call for it.
_SAME_TYPE: dict[str, type] = {"string": str, "ref": str, "int": int, "float": float,
                               "bool": bool}


def reader_code(wire_fields: tuple[tuple[str, str, str], ...]) -> list[tuple[str, str]]:
    """Per field of a record class, the source of its default (for a missing key: ``z{i}``,
    or ``z{i}()`` for a map or record, whose default is a factory) and of the expression that
    turns the wire value ``v`` into the field's value (its decoder ``d{i}``, skipped where the
    value already has its type; ``i{i}``, a set's item decoder). A pure function of the wire
    types: the generator writes it into each record module (``_reader``), and the readers made
    at run time (lazy records, records not generated) use the same text."""
    code = []
    for i, (_, _, t) in enumerate(wire_fields):
        spec = parse_type(t)
        kind = spec.kind
        default = f"z{i}()" if kind in ("map", "record") else f"z{i}"
        same = _SAME_TYPE.get(kind)
        if same is not None:
            value = f"v if type(v) is {same.__name__} else d{i}(v)"
        elif kind == "datetime":
            value = f"dt(v) if type(v) is str else d{i}(v)"
        elif kind == "set" and spec.item is not None:
            # d{i} is tuple(map(item, v)): the same call, inline
            value = f"() if type(v) is list and not v else tuple(map(i{i}, v))"
        elif kind == "map":
            value = f"{{}} if type(v) is dict and not v else d{i}(v)"
        else:
            value = f"d{i}(v)"
        code.append((default, value))
    return code


def reader_names(cls: type[R]) -> dict[str, Any]:
    """The names ``reader_code``'s expressions refer to, for one record class: its decoders,
    its defaults (default factories for maps and records), each slot's member descriptor's
    setter ``s{i}``, and the shared ones (``new``, ``MISSING``, ``dt``, the builtins)."""
    names: dict[str, Any] = {"cls": cls, "MISSING": _MISSING, "str": str, "int": int,
                             "float": float, "bool": bool, "list": list, "dict": dict,
                             "type": type, "new": object.__new__, "tuple": tuple,
                             "map": map, "dt": parse_datetime_text}
    defaults = field_defaults(cls)
    compiled = cls._compiled()
    if set(defaults) != set(cls.__slots__) or hasattr(cls, "__post_init__"):
        raise AssertionError(f"{cls.__name__}: wire_fields and the class's slots differ")
    for i, ((py, _, decode), (_, _, t)) in enumerate(zip(compiled, cls.wire_fields,
                                                          strict=True)):
        names[f"d{i}"] = decode
        names[f"s{i}"] = getattr(cls, py).__set__  # the slot's member descriptor
        default, made = defaults[py]
        spec = parse_type(t)
        factory = spec.kind in ("map", "record")
        if factory != (made is not None):
            raise AssertionError(f"{cls.__name__}.{py}: default and type disagree")
        names[f"z{i}"] = made if factory else default
        if spec.kind == "set" and spec.item is not None:
            names[f"i{i}"] = field_decoder(str(spec.item))
    return names


def reader_source(wire_fields: tuple[tuple[str, str, str], ...], record: str = "") -> str:
    """The fast reader as source: ``def from_xapi(raw):`` filling a new instance of ``cls``
    field by field (see ``_fast_reader``). With ``record`` (the class's name) it is the
    generated form: annotated, indented, inside ``_reader``, which takes its names from
    ``reader_names`` as locals of the enclosing function."""
    code = reader_code(wire_fields)
    pad = "    " if record else ""
    lines = ([f"def from_xapi(raw: Mapping[str, Any]) -> {record}:", "    get = raw.get",
              f"    o: {record} = new(cls)"] if record else
             ["def from_xapi(raw):", "    get = raw.get", "    o = new(cls)"])
    for i, ((_, wire, _), (default, value)) in enumerate(zip(wire_fields, code, strict=True)):
        lines += [f"    v = get({wire!r}, MISSING)",
                  f"    s{i}(o, {default} if v is MISSING else {value})"]
    lines.append("    return o")
    body = "\n".join(pad + line for line in lines) + "\n"
    if not record:
        return body
    used = ["new", "MISSING"]
    for i, (default, value) in enumerate(code):
        used += [f"s{i}", *re.findall(r"\b[dzi][0-9]+\b", f"{default} {value}")]
    used += ["dt"] * any("dt(" in value for _, value in code)
    head = [f"def _reader(cls: type[{record}], n: Mapping[str, Any]"
            f") -> Callable[[Mapping[str, Any]], {record}]:",
            f'    """``{record}.from_xapi``\'s reader (``_base._fast_reader``); ``n`` is '
            '``_base.reader_names(cls)``."""']
    head += [f"    {name} = n[{name!r}]" for name in used]
    return "\n".join(head) + "\n\n" + body + "\n    return from_xapi\n"


def _fast_reader(cls: type[R]) -> Callable[[Mapping[str, Any]], R]:
    """``from_xapi`` for one class as straight-line code, built once per class.

    A snapshot decodes thousands of fields, mostly strings, empty sets and empty maps; a
    generic loop calling one decoder per field was most of a pool export's client CPU. The
    reader does what that loop does field by field (same decoders, same defaults for missing
    keys) but skips the decoder where the value already has its type.

    It also skips the dataclass ``__init__``: the generated records have no
    ``__post_init__`` and nothing to check beyond the decoders, and a frozen ``__init__``
    taking a hundred keyword arguments (a VM) cost as much again as the decoding. The reader
    makes the instance with ``object.__new__`` and fills every slot through its descriptor,
    each missing key with the field's default (or a fresh value of its ``default_factory``),
    exactly as ``__init__`` would.

    The generator writes this source into each record module as ``_reader`` (a function that
    binds ``reader_names`` and returns the reader), so a run compiles nothing: compiling the
    readers of the classes a ``network create`` reads was ~6 ms of its client CPU (issue 12).
    A record class without one (made by hand, not generated) gets it compiled here.

    It raises the decoders' own errors; ``from_xapi`` then re-reads with the loop that names
    the field.
    """
    names = reader_names(cls)
    module = sys.modules.get(cls.__module__)
    written = getattr(module, "_reader", None)
    reader: Callable[[Mapping[str, Any]], R]
    if written is not None and getattr(module, cls.__name__, None) is cls:
        reader = written(cls, names)
    else:
        exec(reader_source(cls.wire_fields), names)  # noqa: S102 - source from the datamodel
        reader = names["from_xapi"]
    return reader


# --- records decoded field by field as they are read ---------------------------------------

def _lazy_type(cls: type[R]) -> type[R]:
    """The class of ``cls.from_xapi_lazy``'s records, built once per record class: a subclass
    of ``cls`` with one more slot, the wire struct, whose fields are decoded as read.

    Reading a slot that was never set raises ``AttributeError``, on which Python calls
    ``__getattr__``: it decodes that one field exactly as the fast reader does (the same
    generated expression, the same default for a missing key), stores it in its slot and
    returns it, so later reads are plain slot reads. Everything else is ``cls``'s own, read
    through attributes (``repr``, ``hash``, ``dataclasses.replace``, ``to_xapi``); ``__eq__``
    compares field values with any record of ``cls``, lazy or not, and a copy or a pickle is
    a plain ``cls`` record. The name, module and qualified name are ``cls``'s."""
    compiled = cls._compiled()
    names, code = reader_names(cls), reader_code(cls.wire_fields)
    lines = []
    for i, ((py, wire, _), (default, value)) in enumerate(zip(compiled, code, strict=True)):
        lines += [f"def read_{py}(o, raw):", f"    v = raw.get({wire!r}, MISSING)",
                  f"    v = {default} if v is MISSING else {value}", f"    s{i}(o, v)",
                  "    return v"]
    exec("\n".join(lines), names)  # noqa: S102 - source built above from the datamodel names
    readers = {py: (names[f"read_{py}"], wire) for py, wire, _ in compiled}
    field_names = tuple(py for py, _, _ in compiled)
    wire_of: Callable[[Any], Mapping[str, Any]]

    def __getattr__(self: Any, name: str) -> Any:
        found = readers.get(name)
        if found is None:
            raise AttributeError(f"{cls.__name__!r} object has no attribute {name!r}")
        read, wire = found
        raw = wire_of(self)
        try:
            return read(self, raw)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{cls.xapi_class}.{wire}: cannot read {raw[wire]!r} "
                             f"({exc})") from exc

    def __eq__(self: Any, other: object) -> Any:
        if not isinstance(other, cls):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in field_names)

    def __reduce__(self: Any) -> tuple[Any, ...]:
        return (_filled, (cls, tuple(getattr(self, n) for n in field_names)))

    lazy = type(cls.__name__, (cls,), {
        "__slots__": ("_wire_",), "__module__": cls.__module__,
        "__qualname__": cls.__qualname__, "__doc__": cls.__doc__,
        "__getattr__": __getattr__, "__eq__": __eq__, "__hash__": cls.__hash__,
        "__reduce__": __reduce__})
    wire_of = lazy.__dict__["_wire_"].__get__
    return lazy


def _filled(cls: type[R], values: tuple[Any, ...]) -> R:
    """A record of ``cls`` holding these field values (how a lazy record is copied and
    pickled)."""
    o = object.__new__(cls)
    for (py, _, _), value in zip(cls.wire_fields, values, strict=True):
        getattr(cls, py).__set__(o, value)
    return o


def _decode_record(xapi_class: str, raw: Mapping[str, Any]) -> Any:
    if xapi_class == "<class>":
        return dict(raw)
    return record_type(xapi_class).from_xapi(raw)
