"""The call pipeline, in the order XAPI's generated dispatcher runs it (REFERENCE §1.6).

1. UTF-8 check of every parameter (``INVALID_VALUE``);
2. ``Async.`` prefix, method lookup (``MESSAGE_METHOD_UNKNOWN``; with parameters the first is
   checked as a session and the caller needs ``host.call_extension`` first);
3. parameter count (``MESSAGE_PARAMETER_COUNT_MISMATCH [method, expected, received]``);
4. unmarshalling per datamodel type (``INTERNAL_ERROR``);
5. session check (``SESSION_INVALID``, then ``HOST_IS_SLAVE`` at a member's address);
6. ``MESSAGE_REMOVED`` for removed messages; ``Fault`` for ``Async.`` without an async form;
7. the operation: RBAC (``RBAC_PERMISSION_DENIED``), then the handler or the generic message
   — for ``Async.`` calls inside a task, so a denial fails the task, not the call.

This module knows the methods (``MethodInfo``) and turns wire values into typed arguments;
the ``Dispatcher`` runs the pipeline for the engine.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xapictl.model._flags import DEFAULT_ROLES
from xapictl.model._types import TypeSpec, parse_datetime, zero_value
from xapictl.model.schema import NO_ASYNC_CLASSES, ClassInfo, Datamodel, ParamInfo, datamodel
from xapictl.sim import generic, rbac
from xapictl.sim.classes import session as sessions
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import HANDLERS, CallContext, Handler, SessionInfo
from xapictl.sim.state import NULL_REF, SimState
from xapictl.sim.tasks import TaskRunner, Transact
from xapictl.sim.values import Bare, int64_of_string

ASYNC_PREFIXES = ("Async.", "InternalAsync.")

# Messages that block: the dispatcher does not hold the state lock around them.
UNLOCKED = frozenset({"event.from", "event.next"})

# The "emergency" calls a member serves itself instead of answering HOST_IS_SLAVE (§1.9).
MEMBER_LOCAL = frozenset({
    "session.local_logout", "session.slave_local_login_with_password",
    "host.local_management_reconfigure", "host.management_disable",
    "pool.transition_to_master", "pool.emergency_transition_to_master",
    "pool.emergency_reset_master", "host.emergency_ha_disable",
})

# Roles of hidden messages that are not in the datamodel JSON (datamodel.ml ~allowed_roles of
# each: _R_POOL_OP, _R_VM_POWER_ADMIN); any other falls back to its class's default roles.
_POOL_OPERATOR_UP = frozenset(rbac.ROLES[:2])
HIDDEN_ROLES: dict[str, frozenset[str]] = {
    "network.attach": _POOL_OPERATOR_UP,
    "network.pool_introduce": _POOL_OPERATOR_UP,
    "PIF.pool_introduce": _POOL_OPERATOR_UP,
    "VLAN.pool_introduce": _POOL_OPERATOR_UP,
    "network.attach_for_vm": frozenset(rbac.ROLES[:3]),
    "network.detach_for_vm": frozenset(rbac.ROLES[:3]),
}

# Annotation text of a handler parameter -> datamodel type, for handlers of hidden messages.
_ANNOTATION_TYPES = {"int": "int", "float": "float", "bool": "bool", "str": "string"}


@dataclass(frozen=True, slots=True)
class MethodInfo:
    """One callable method: where it lives and how its arguments are checked."""

    name: str
    """``Class.message`` as the datamodel spells it."""
    cls: ClassInfo
    message: str
    params: tuple[ParamInfo, ...]
    """After the session."""
    takes_session: bool
    roles: frozenset[str]
    has_async: bool
    removed: bool
    handler: Handler | None
    generic: bool

    @property
    def required_count(self) -> int:
        return sum(p.required for p in self.params)

    @property
    def has_optional(self) -> bool:
        return any(not p.required for p in self.params)


def _handler_params(handler: Handler) -> tuple[ParamInfo, ...]:
    """Parameters of a handler for a message the datamodel does not list (hidden ones)."""
    params = list(inspect.signature(handler).parameters.values())[1:]
    out: list[ParamInfo] = []
    for p in params:
        text = str(p.annotation).replace("'", "")
        if text.startswith("dict"):
            type_text = "(string -> string) map"
        elif text.startswith("list"):
            type_text = "string set"
        else:
            type_text = _ANNOTATION_TYPES.get(text, "string")
        out.append(ParamInfo(p.name, type_text, p.default is inspect.Parameter.empty))
    return tuple(out)


def _class_default_roles(cls_name: str) -> frozenset[str]:
    """The roles a class's messages default to: datamodel.ml ``create_obj
    ~messages_default_allowed_roles`` (derived into ``model/_flags.py``); ``""`` is
    ``_R_LOCAL_ROOT_ONLY`` (no role: only the local superuser passes)."""
    weakest = DEFAULT_ROLES.get(cls_name, rbac.DEFAULT_ROLE)
    return frozenset(rbac.ROLES[: rbac.ROLES.index(weakest) + 1]) if weakest else frozenset()


def build_methods(dm: Datamodel, handlers: Mapping[str, Handler]) -> dict[str, MethodInfo]:
    """Every method name a client may send (``Class.msg`` and ``Class_msg``) → its info."""
    table: dict[str, MethodInfo] = {}
    for cls in dm.classes.values():
        for msg in cls.messages.values():
            handler = handlers.get(msg.wire_name)
            table[msg.wire_name] = MethodInfo(
                msg.wire_name, cls, msg.name, msg.params, msg.takes_session, msg.roles,
                msg.has_async, msg.state == "removed", handler,
                handler is None and generic.is_generic(cls, msg.name))
        get_all = cls.messages.get("get_all_records")
        if get_all is not None:
            for name in generic.HIDDEN_GET_ALL:
                wire = f"{cls.name}.{name}"
                table[wire] = MethodInfo(
                    wire, cls, name, (ParamInfo("expr", "string", True),), True,
                    get_all.roles, False, False, handlers.get(wire), wire not in handlers)
    for wire, handler in handlers.items():
        if wire in table:
            continue
        cls_name, _, msg_name = wire.partition(".")
        cls_info = dm.classes.get(cls_name)
        if cls_info is None:
            raise RuntimeError(f"handler for {wire}: no class {cls_name} in the datamodel")
        table[wire] = MethodInfo(
            wire, cls_info, msg_name, _handler_params(handler), True,
            HIDDEN_ROLES.get(wire, _class_default_roles(cls_name)),
            cls_name not in NO_ASYNC_CLASSES,
            False, handler, False)
    for info in list(table.values()):
        table.setdefault(f"{info.cls.name}_{info.message}", info)
    return table


@functools.cache
def _methods_for(count: int) -> dict[str, MethodInfo]:
    return build_methods(datamodel(), HANDLERS)


def methods() -> dict[str, MethodInfo]:
    """The method table (rebuilt if more handlers registered since)."""
    return _methods_for(len(HANDLERS))


def list_methods() -> Bare:
    """``system.listMethods``: every synchronous method name, sorted."""
    return Bare(sorted(name for name, info in methods().items() if name == info.name))


# --- step 1: UTF-8 ---------------------------------------------------------------------------

def check_utf8(value: Any) -> None:
    """``INVALID_VALUE`` if any string (or key) cannot be UTF-8 (lone surrogates, bad bytes)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            shown = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            raise SimFailure("INVALID_VALUE", "Invalid UTF-8 string in parameter", shown) \
                from None
    elif isinstance(value, bytes):
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            raise SimFailure("INVALID_VALUE", "Invalid UTF-8 string in parameter",
                             value.decode("utf-8", "replace")) from None
    elif isinstance(value, list | tuple):
        for item in value:
            check_utf8(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_utf8(key)
            check_utf8(item)


# --- step 4: unmarshalling -------------------------------------------------------------------

class _Unmarshal(Exception):
    pass


def _enum(dm: Datamodel, name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _Unmarshal(f"Expected string for enum {name}, got {value!r}")
    values = dm.enums.get(name, ())
    if name == "bond_mode":  # hand-written decoder in XAPI: exact spelling only
        if value in values:
            return value
    else:
        low = value.lower()
        for v in values:
            if v.lower() == low:
                return v
    raise _Unmarshal(f"Unknown value {value} for enum {name}")


def unmarshal(dm: Datamodel, spec: TypeSpec, value: Any) -> Any:
    """A wire value as the typed value handlers receive; ``_Unmarshal`` when it does not fit."""
    kind = spec.kind
    if kind in ("string", "ref"):
        if isinstance(value, bytes):
            return value.decode("utf-8")
        if not isinstance(value, str):
            raise _Unmarshal(f"Expected string, got {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _Unmarshal(f"Expected int, got {value!r}")
        if isinstance(value, int):
            return value
        try:  # rpc.ml int64_of_rpc: Int64.of_string on a string
            return int64_of_string(value)
        except ValueError:
            raise _Unmarshal(f"Expected int, got {value!r}") from None
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _Unmarshal(f"Expected float, got {value!r}")
        try:
            return float(value)
        except ValueError:
            raise _Unmarshal(f"Expected float, got {value!r}") from None
    if kind == "bool":
        if not isinstance(value, bool):  # a string "true" is rejected, as in XAPI
            raise _Unmarshal(f"Expected bool, got {value!r}")
        return value
    if kind == "datetime":
        try:
            return parse_datetime(value)
        except (ValueError, TypeError):
            raise _Unmarshal(f"Expected datetime, got {value!r}") from None
    if kind == "enum":
        return _enum(dm, spec.name, value)
    if kind == "option" and spec.item is not None:
        return None if value is None else unmarshal(dm, spec.item, value)
    if kind == "set" and spec.item is not None:
        if not isinstance(value, list | tuple):
            raise _Unmarshal(f"Expected array, got {value!r}")
        return [unmarshal(dm, spec.item, v) for v in value]
    if kind == "map" and spec.key is not None and spec.item is not None:
        if not isinstance(value, dict):
            raise _Unmarshal(f"Expected struct, got {value!r}")
        return {unmarshal(dm, spec.key, k): unmarshal(dm, spec.item, v)
                for k, v in value.items()}
    if kind == "record":
        return _constructor_record(dm, spec.name, value)
    raise _Unmarshal(f"cannot unmarshal {spec}")


def _constructor_record(dm: Datamodel, cls_name: str, value: Any) -> dict[str, Any]:
    """A constructor's struct: constructor fields only, required ones present, defaults filled."""
    if not isinstance(value, dict):
        raise _Unmarshal(f"Expected struct, got {value!r}")
    info = dm.classes[cls_name]
    out: dict[str, Any] = {}
    for name, f in info.fields.items():
        if f.qualifier == "RO/runtime":
            continue
        if name in value:
            out[name] = unmarshal(dm, f.spec, value[name])
        elif f.default_text is None:
            raise _Unmarshal(f'Server_helpers.Dispatcher_FieldNotFound("{name}")')
        else:
            out[name] = generic.fresh(f.default())
    return out


def unmarshal_args(dm: Datamodel, method: MethodInfo, raw: list[Any]) -> list[Any]:
    """Typed arguments (after the session). Missing optional ones are left out when the
    handler has a Python default for them, otherwise they take the type's zero value."""
    out: list[Any] = []
    handler_defaults = _handler_defaults(method.handler) if method.handler else ()
    for i, param in enumerate(method.params):
        if i >= len(raw):
            if i < len(handler_defaults) and handler_defaults[i]:
                break
            out.append(generic.fresh(zero_value(param.spec)))
            continue
        try:
            out.append(unmarshal(dm, param.spec, raw[i]))
        except _Unmarshal as exc:
            raise SimFailure("INTERNAL_ERROR", str(exc)) from None
    return out


@functools.cache
def _handler_defaults(handler: Handler) -> tuple[bool, ...]:
    params = list(inspect.signature(handler).parameters.values())[1:]
    return tuple(p.default is not inspect.Parameter.empty for p in params)


# --- the pipeline ------------------------------------------------------------------------------

@dataclass(slots=True)
class Call:
    """A call as it arrives."""

    method: str
    params: list[Any]
    host_address: str
    protocol: str = "xmlrpc"
    preauth: bool = False
    """Through the local unix socket, where XAPI trusts root (``Context.preauth``)."""


class Dispatcher:
    """Runs calls against one state. The engine supplies the accounts, the task runner and
    ``transact`` (lock + persistence transaction around a piece of work)."""

    def __init__(self, state: SimState, accounts: sessions.Accounts, runner: TaskRunner,
                 transact: Transact[Any]) -> None:
        self.state = state
        self.accounts = accounts
        self.runner = runner
        self.transact = transact
        self.dm = state.dm
        self._topology_key: tuple[int, int] | None = None
        self._topology_cache: tuple[str, dict[str, str]] = (NULL_REF, {})
        self._liveness_key: tuple[int, int] | None = None
        self._liveness: dict[str, bool] = {}

    # -- pool topology ----------------------------------------------------------------------

    def _topology(self) -> tuple[str, dict[str, str]]:
        """(master ref, address → host ref), recomputed only after a write: every call needs
        it, and big pools have many hosts."""
        hosts = self.state.all("host")
        key = (self.state.generation, id(hosts))
        if self._topology_key != key:
            master = NULL_REF
            for record in self.state.all("pool").values():
                master = str(record.get("master", NULL_REF))
                break
            by_address: dict[str, str] = {}
            for ref, record in hosts.items():
                by_address.setdefault(str(record.get("address", "")), ref)
            self._topology_cache = (master, by_address)
            self._topology_key = key
        return self._topology_cache

    def live_by_address(self) -> dict[str, bool]:
        """Host address → alive (``host_metrics.live``), cached until the next write."""
        key = (self.state.generation, id(self.state.all("host")))
        if self._liveness_key != key:
            metrics = self.state.all("host_metrics")
            live: dict[str, bool] = {}
            for record in self.state.all("host").values():
                found = metrics.get(str(record.get("metrics", NULL_REF)))
                live[str(record.get("address", ""))] = (
                    True if found is None else bool(found.get("live", True)))
            self._liveness = live
            self._liveness_key = key
        return self._liveness

    def master(self) -> str:
        return self._topology()[0]

    def master_address(self) -> str:
        record = self.state.all("host").get(self.master())
        return str(record.get("address", "")) if record else ""

    def master_address_seen_by(self, member: str) -> str:
        """The master address a member names in ``HOST_IS_SLAVE``: its ``pool.conf``'s, which
        lags behind a master whose management interface moved until ``recover_slaves``."""
        return self.state.master_seen_by.get(member) or self.master_address()

    def receiving_host(self, address: str) -> tuple[str, bool]:
        """(host ref, is a member) for a call that arrived at ``address``. Addresses that are
        no host's (a server bound elsewhere, an empty pool) count as the master's."""
        master, by_address = self._topology()
        ref = by_address.get(address)
        if ref is None:
            return master, False
        return ref, ref != master

    # -- entry point ------------------------------------------------------------------------

    def call(self, call: Call) -> Any:
        name = call.method
        if name == "system.listMethods":
            return list_methods()
        if name == "system.isAlive" or name.startswith("system.isAlive:"):
            return call.params[0] if call.params else ""
        check_utf8(call.params)
        as_called = name
        is_async = False
        for prefix in ASYNC_PREFIXES:
            if name.startswith(prefix):
                name, is_async = name[len(prefix):], True
                break
        method = methods().get(name)
        if method is None:
            return self._unknown(name, call)
        n_session = 1 if method.takes_session else 0
        received = len(call.params) - n_session
        expected = len(method.params)
        if (received < method.required_count if method.has_optional else received != expected):
            # Both counts exclude the session, so a call without even a session says -1; the
            # method is named as sent (gen_server.ml: __call, ``Async.`` removed).
            raise SimFailure("MESSAGE_PARAMETER_COUNT_MISMATCH", name,
                             method.required_count if method.has_optional else expected,
                             received)
        args = unmarshal_args(self.dm, method, call.params[n_session:])
        if not method.takes_session:
            return self.transact(lambda: self._sessionless(method, args, call))
        session_ref = call.params[0]
        if not isinstance(session_ref, str):
            raise SimFailure("INTERNAL_ERROR", f"Expected string, got {session_ref!r}")
        if method.name in UNLOCKED and not is_async:
            session, host = self.transact(
                lambda: self._check_session(session_ref, call, method.name))
            ctx = CallContext(self.state, session, method.name, host)
            return self._operate(ctx, method, args, name)
        return self.transact(lambda: self._locked(method, args, call, session_ref, as_called,
                                                  is_async, name))

    def _locked(self, method: MethodInfo, args: list[Any], call: Call, session_ref: str,
                as_called: str, is_async: bool, called: str) -> Any:
        session, host = self._check_session(session_ref, call, method.name)
        if method.removed:
            raise SimFailure("MESSAGE_REMOVED")
        ctx = CallContext(self.state, session, method.name, host)
        if not is_async:
            return self._operate(ctx, method, args, called)
        if not method.has_async:
            # server_helpers.ml do_dispatch: called_fn_name is __call, the prefix removed
            raise SimFailure("Fault", f"No async mode for this operation (rpc: {called})")
        task = self.runner.create(as_called, host)
        ctx.task = task
        self.runner.start(task, lambda: self._operate(ctx, method, args, called))
        return task

    def _check_session(self, ref: str, call: Call, method: str = "") -> tuple[SessionInfo, str]:
        session = sessions.session_info(self.state, self.accounts, ref)
        if session is None:
            raise SimFailure("SESSION_INVALID", ref)
        host, is_member = self.receiving_host(call.host_address)
        if is_member and method not in MEMBER_LOCAL:
            raise SimFailure("HOST_IS_SLAVE", self.master_address_seen_by(host))
        return session, host

    def _unknown(self, name: str, call: Call) -> Any:
        if call.params:
            def check() -> None:
                session, _ = self._check_session(str(call.params[0]), call)
                rbac.check(session, rbac.CALL_EXTENSION_PERMISSION, rbac.CALL_EXTENSION_ROLES)
            self.transact(check)
        raise SimFailure("MESSAGE_METHOD_UNKNOWN", name)

    def _sessionless(self, method: MethodInfo, args: list[Any], call: Call) -> Any:
        host, is_member = self.receiving_host(call.host_address)
        if method.name in ("session.login_with_password",):
            if is_member:  # before the password is even looked at (§1.8)
                raise SimFailure("HOST_IS_SLAVE", self.master_address_seen_by(host))
            return sessions.login(self.state, self.accounts, host, args[0], args[1],
                                  args[3] if len(args) > 3 else "", preauth=call.preauth)
        if method.name == "session.slave_local_login_with_password":
            return sessions.login(self.state, self.accounts, host, args[0], args[1])
        raise SimFailure("NOT_IMPLEMENTED", method.name)

    def _operate(self, ctx: CallContext, method: MethodInfo, args: list[Any],
                 called: str | None = None) -> Any:
        """Inside the operation: RBAC first, then the implementation."""
        self._authorise(ctx.session, method, args, method.name if called is None else called)
        if method.handler is not None:
            return method.handler(ctx, *args)
        if method.generic:
            return generic.run(ctx, method.cls, method.message, args)
        raise SimFailure("NOT_IMPLEMENTED", method.name)

    def _authorise(self, session: SessionInfo, method: MethodInfo, args: list[Any],
                   called: str) -> None:
        """rbac.ml ``check session_id __call``: the permission is the name as sent,
        lower-cased. Roles hold ``vlan.create``, never ``vlan_create``, so a call by its
        alternative wire name (``VLAN_create``) passes only for the local superuser and is
        otherwise denied with no role listed."""
        if session.is_local_superuser:
            return
        permission = rbac.permission_name(called)
        opened = (rbac.open_key_permission(method.name, args[1])
                  if len(args) >= 2 and isinstance(args[1], str) else None)
        if called != method.name:
            keyed = opened[0].partition("/")[2] if opened is not None else ""
            raise rbac.denied(f"{permission}/{keyed}" if keyed else permission, ())
        if session.roles & method.roles:
            return
        if opened is not None:
            rbac.check(session, *opened)
            return
        raise rbac.denied(permission, method.roles)


__all__ = [
    "ASYNC_PREFIXES",
    "UNLOCKED",
    "Call",
    "Dispatcher",
    "MethodInfo",
    "build_methods",
    "check_utf8",
    "list_methods",
    "methods",
    "unmarshal",
    "unmarshal_args",
]
