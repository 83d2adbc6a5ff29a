"""Typed access to one XAPI class: the part every class shares.

``ClassClient`` gives the generated messages of any class with typed refs in and the
generated records out (``get_record``, ``get_all_records``, ``get_all``, ``get_by_uuid``,
``get_by_name_label``, ``destroy``) and the plumbing the typed methods use: ``invoke`` sends a
message with its arguments in XAPI's order and decodes the result by the message's declared
type (records, enums, ints as ints).

Every other message is a typed method of the class's generated client
(``xapictl.client.generated``, written by ``python -m xapictl.model._codegen --clients``):
``conn.client("SR").get_physical_size(ref)``, ``conn.pifs.set_disallow_unplug(ref, value=True)``.
There is no ``__getattr__`` fallback: a misspelt message is an error mypy reports. The
networking modules (``networks``, ``pifs``, ``vlans``…) subclass the generated clients to keep
their positional forms (``conn.networks.set_mtu(ref, 9000)``) and their conveniences.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Generic, Protocol, TypeVar

from xapictl.client.values import typed_decoder
from xapictl.errors import UsageError
from xapictl.model._base import Record, record_type, to_wire
from xapictl.model.schema import ClassInfo, MessageInfo, datamodel
from xapictl.xapi.tasks import TaskHandle

RefT = TypeVar("RefT", bound=str)
RecT = TypeVar("RecT", bound=Record)


class Caller(Protocol):
    """What a class client needs of its connection (``Connection`` is one): declared here,
    below ``connection``, so the two modules do not import each other."""

    def raw_call(self, method: str, *args: Any, read_timeout: float | None = None) -> Any: ...

    def start_task(self, method: str, args: list[Any], *,
                   decode: Callable[[Any], Any]) -> TaskHandle: ...


@functools.cache  # once per class, not once per client: a connection makes ten clients
def _messages_by_lower(xapi_class: str) -> Mapping[str, MessageInfo]:
    info = datamodel().find_class(xapi_class)
    messages = info.messages if info is not None else {}
    return MappingProxyType({m.lower(): msg for m, msg in messages.items()})


class ClassClient(Generic[RefT, RecT]):
    """Messages of one XAPI class, typed by the datamodel."""

    xapi_class: str = ""

    def __init__(self, conn: Caller, xapi_class: str | None = None) -> None:
        name = xapi_class or type(self).xapi_class
        info = datamodel().find_class(name)
        if info is None:
            raise UsageError(f"the datamodel has no class named {name!r}")
        self._conn = conn
        self.info: ClassInfo = info
        self.xapi_class = info.name
        self.record: type[Record] = record_type(info.name)
        self._by_lower = _messages_by_lower(info.name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} for {self.xapi_class}>"

    # --- plumbing ---------------------------------------------------------------------------

    def message(self, name: str) -> MessageInfo:
        """The datamodel message by its XAPI or lower-cased name."""
        found = self.info.messages.get(name) or self._by_lower.get(name.lower())
        if found is None:
            raise AttributeError(f"XAPI class {self.xapi_class} has no message {name!r}")
        return found

    def invoke(self, name: str, *args: Any) -> Any:
        """Call a message and decode its result into typed values. Arguments go in XAPI's
        order, in their Python form (enums, records, tuples: sent as the wire wants them);
        trailing ``None``s are optional parameters not given."""
        msg = self.message(name)
        raw = self._conn.raw_call(msg.wire_name, *self._wire_args(msg, args))
        spec = msg.result_spec
        if spec is None:  # void, or an event batch: the wire's own structure
            return None if msg.result == "void" else raw
        return typed_decoder(spec)(raw)

    @staticmethod
    def _wire_args(msg: MessageInfo, args: tuple[Any, ...]) -> list[Any]:
        given = list(args)
        while given and given[-1] is None:
            given.pop()
        for param, value in zip(msg.params, given, strict=False):
            if value is None:  # XAPI has no null: only trailing parameters may be left out
                later = msg.params[min(len(given), len(msg.params)) - 1].name
                raise UsageError(f"{msg.wire_name}: give {param.name} too when you give "
                                 f"{later} (XAPI takes its optional parameters in order)")
        return [to_wire(value) for value in given]

    def invoke_async(self, name: str, *args: Any) -> TaskHandle:
        """``Async.<Class>.<message>``: a task handle whose ``wait()`` gives the typed result."""
        msg = self.message(name)
        if not msg.has_async:
            raise UsageError(f"{msg.wire_name} has no asynchronous form")
        spec = msg.result_spec
        decode: Callable[[Any], Any] = (typed_decoder(spec) if spec is not None
                                        else (lambda value: None))
        return self._conn.start_task(msg.wire_name, self._wire_args(msg, args), decode=decode)

    # --- generated messages every stored class has ------------------------------------------

    def get_record(self, ref: RefT) -> RecT:
        """The object's record (``HandleInvalid`` if it does not exist)."""
        rec: RecT = self.record.from_xapi(
            self._conn.raw_call(f"{self.xapi_class}.get_record", ref))  # type: ignore[assignment]
        return rec

    get = get_record

    def get_all(self) -> list[RefT]:
        return list(self._conn.raw_call(f"{self.xapi_class}.get_all"))

    def get_all_records(self) -> dict[RefT, RecT]:
        """Every object of the class, in one call."""
        raw: Mapping[RefT, Mapping[str, Any]] = self._conn.raw_call(
            f"{self.xapi_class}.get_all_records")
        build = self.record.from_xapi
        return {ref: build(rec) for ref, rec in raw.items()}  # type: ignore[misc]

    def get_by_uuid(self, uuid: str) -> RefT:
        ref: RefT = self._conn.raw_call(f"{self.xapi_class}.get_by_uuid", uuid)
        return ref

    def get_by_name_label(self, label: str) -> list[RefT]:
        """Every object with exactly that name (XAPI does not keep names unique)."""
        return list(self._conn.raw_call(f"{self.xapi_class}.get_by_name_label", label))

    def create_record(self, **fields: Any) -> RefT:
        """A generated constructor (``network.create``, ``VIF.create``…) from Python field
        names; constructor fields not given take their datamodel defaults."""
        msg = self.message("create")
        if len(msg.params) != 1 or msg.params[0].spec.kind != "record":
            raise UsageError(f"{self.xapi_class}.create takes positional parameters; "
                             "call it with them")
        ref: RefT = self._conn.raw_call(msg.wire_name, self.constructor_args(fields))
        return ref

    def create_given(self, fields: Mapping[str, Any]) -> RefT:
        """``create_record`` with the fields that are not None (the generated ``create``s:
        None is "not given", XAPI's default), after ``prepare_create``."""
        return self.create_record(**self.prepare_create(
            {name: value for name, value in fields.items() if value is not None}))

    def prepare_create(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A class's own checks and defaults for ``create`` (the fields given); none here."""
        return fields

    def constructor_args(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The wire struct for a generated constructor, checked against the datamodel."""
        wire_of = {py: wire for py, wire, _ in self.record.wire_fields}
        unknown = sorted(set(fields) - set(wire_of))
        if unknown:
            raise UsageError(f"{self.xapi_class} has no field(s) {', '.join(unknown)}")
        args: dict[str, Any] = {}
        for py, value in fields.items():
            info = self.info.fields[wire_of[py]]
            if info.qualifier == "RO/runtime":
                raise UsageError(f"{self.xapi_class}.{py} is set by XAPI, not by create")
            args[info.name] = to_wire(value)
        for info in self.info.fields.values():
            if info.qualifier == "RO/runtime" or info.name in args:
                continue
            if info.required_in_constructor:
                if info.spec.kind == "ref":
                    raise UsageError(f"{self.xapi_class}.create needs {info.python_name}=")
                args[info.name] = info.default()
        return args

    def destroy(self, ref: RefT) -> None:
        self._conn.raw_call(f"{self.xapi_class}.destroy", ref)

    # Last: inside this class body the name ``list`` means this method from here on.
    def list(self) -> list[RecT]:
        """Every record of the class (``get_all_records`` without the refs)."""
        return list(self.get_all_records().values())


__all__ = ["Caller", "ClassClient"]
