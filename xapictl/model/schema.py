"""The XAPI datamodel at the target release, typed: classes, fields, messages, roles, enums.

The simulator reads it to serve every class generically (defaults, setters only for RW fields,
parameter counts, RBAC roles, which messages have an async form); the client reads it to decode
results. Built once from the generated ``_schema`` module and cached; each class from its row
(JSON text) when first looked up, each message of a class likewise.

    >>> dm = datamodel()
    >>> dm.classes["VLAN"].messages["create"].params[0].name
    'tagged_PIF'
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import field
from typing import Any, TypeVar

from xapictl._frozen import Frozen, frozen
from xapictl.model._types import TypeSpec, parse_default, parse_type, zero_value

# Classes with no asynchronous form at all (REFERENCE §1.10).
NO_ASYNC_CLASSES = frozenset({"session", "event", "task", "blob", "data_source"})

# RBAC roles, strongest first; each includes everything the ones after it can do (§5).
ROLE_ORDER = ("pool-admin", "pool-operator", "vm-power-admin", "vm-admin", "vm-operator",
              "read-only")


@frozen
class FieldInfo(Frozen):
    """One field of a XAPI class, as the datamodel declares it."""

    name: str
    """The wire name (``MTU``, ``name_label``)."""
    python_name: str
    type_text: str
    qualifier: str
    """``RW``, ``RO/constructor`` or ``RO/runtime``."""
    default_text: str | None
    state: str

    @property
    def spec(self) -> TypeSpec:
        return parse_type(self.type_text)

    @property
    def writable(self) -> bool:
        return self.qualifier == "RW"

    @property
    def required_in_constructor(self) -> bool:
        return self.default_text is None and self.qualifier != "RO/runtime"

    def default(self) -> Any:
        """A fresh default value (datamodel default, else the type's zero value)."""
        if self.default_text is None:
            return zero_value(self.spec)
        return parse_default(self.spec, self.default_text)


@frozen
class ParamInfo(Frozen):
    """One parameter of a XAPI message (the session excepted)."""

    name: str
    type_text: str
    required: bool

    @property
    def spec(self) -> TypeSpec:
        return parse_type(self.type_text)


@frozen
class MessageInfo(Frozen):
    """One XAPI message: its parameters, result type and the roles allowed to call it."""

    class_name: str
    name: str
    params: tuple[ParamInfo, ...]
    """Parameters after the session."""
    result: str
    roles: frozenset[str]
    implicit: bool
    takes_session: bool
    state: str

    @property
    def wire_name(self) -> str:
        return f"{self.class_name}.{self.name}"

    @property
    def has_async(self) -> bool:
        """Whether ``Async.<class>.<name>`` exists (custom messages, generated create/destroy)."""
        if self.class_name in NO_ASYNC_CLASSES:
            return False
        return not self.implicit or self.name in ("create", "destroy")

    @property
    def required_count(self) -> int:
        return sum(p.required for p in self.params)

    @property
    def result_spec(self) -> TypeSpec | None:
        if self.result in ("void", "an event batch"):
            return None
        return parse_type(self.result)


@frozen
class ClassInfo(Frozen):
    """One XAPI class: its names in xapictl, its fields and its messages."""

    name: str
    module: str
    record_name: str
    ref_name: str
    state: str
    fields: Mapping[str, FieldInfo]
    messages: Mapping[str, MessageInfo]

    @property
    def has_name_label_namespace(self) -> bool:
        """Classes with ``get_by_name_label`` (their datamodel has the ``name`` namespace)."""
        return "get_by_name_label" in self.messages


@frozen
class Datamodel(Frozen):
    """The XAPI datamodel at the target release: classes, enums, hidden classes."""

    target_release: str
    classes: Mapping[str, ClassInfo]
    enums: Mapping[str, tuple[str, ...]]
    hidden_classes: tuple[str, ...]
    _lower: Mapping[str, str] = field(default_factory=dict)

    def find_class(self, name: str) -> ClassInfo | None:
        """Case-insensitive class lookup (event subscriptions lower-case names)."""
        exact = self.classes.get(name)
        if exact is not None:
            return exact
        real = self._lower.get(name.lower())
        return self.classes[real] if real else None


V = TypeVar("V")


class _Built(Mapping[str, V]):
    """Entries by name, each built from its generated table row when first looked up: the
    classes (a client run reads about ten of the seventy), each class's messages (a call
    decodes its answer by its one message; ``host`` has hundreds) and fields (the client
    reads none of ``host``'s 79 to create a VLAN)."""

    def __init__(self, raw: Mapping[str, Any], build: Callable[[Any], V]) -> None:
        self._raw = raw
        self._build = build
        self._built: dict[str, V] = {}

    def __getitem__(self, name: str) -> V:
        found = self._built.get(name)
        if found is None:
            found = self._built[name] = self._build(self._raw[name])
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, name: object) -> bool:
        return name in self._raw


def _class_info(raw: str, role_sets: list[frozenset[str]]) -> ClassInfo:
    name, module, record, ref, state, raw_fields, raw_messages = json.loads(raw)
    fields = _Built({f[0]: f for f in raw_fields}, lambda f: FieldInfo(*f))

    def message(m: tuple[Any, ...]) -> MessageInfo:
        return MessageInfo(name, m[0], tuple(ParamInfo(*p) for p in m[1]), m[2],
                           role_sets[m[3]], m[4], m[5], m[6])

    return ClassInfo(name, module, record, ref, state, fields,
                     _Built({m[0]: m for m in raw_messages}, message))


@functools.cache
def datamodel() -> Datamodel:
    from xapictl.model import _schema

    role_sets = [frozenset(r) for r in _schema.ROLE_SETS]
    classes = _Built(_schema.CLASSES, functools.partial(_class_info, role_sets=role_sets))
    return Datamodel(
        target_release=_schema.TARGET_RELEASE,
        classes=classes,
        enums=dict(_schema.ENUMS),
        hidden_classes=tuple(_schema.HIDDEN_CLASSES),
        _lower={n.lower(): n for n in classes},
    )


@functools.cache
def message_wire_names() -> frozenset[str]:
    """Every message's wire name (``VLAN.create``), lower-cased, read from the generated
    list without building the classes (the local superuser's permissions: all of them)."""
    from xapictl.model import _schema

    return frozenset(_schema.MESSAGE_NAMES.split())


__all__ = ["ClassInfo", "Datamodel", "FieldInfo", "MessageInfo", "ParamInfo", "datamodel",
           "message_wire_names"]
