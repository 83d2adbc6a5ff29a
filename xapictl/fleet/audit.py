"""The audit log: every write a rollout sends, with pool, host, call, arguments and result.

``AuditedCaller`` wraps a connection (anything with ``call(method, *args)``, which is what plan
steps send through) and records each write in the journal after it returns or fails. Its
``host`` is the host the call acted on when the call's object is bound to one (``host_of``:
a host, PIF, VLAN, Bond, VM or VIF known from the plan's snapshot), else the connection URL. Reads
(getters, records, events, sessions) are not writes and are not recorded. Arguments that the
datamodel names as secrets (``*password*``, ``*secret*``, ``*token*``) and map values under such
keys are replaced by ``"<redacted>"`` before anything is stored.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from xapictl.fleet.journal import AuditRow, Journal, now

if TYPE_CHECKING:
    from xapictl.model.refs import HostRef
    from xapictl.state.snapshot import PoolSnapshot

REDACTED = "<redacted>"
_SECRET_WORDS = ("password", "secret", "token", "credential")
_READ_PREFIXES = ("get_", "login", "logout", "slave_local_login")
_READ_CLASSES = ("event", "session")


def is_write(method: str) -> bool:
    """Whether an XAPI call changes state (``Async.`` calls are judged by their target)."""
    name = method.removeprefix("Async.")
    cls, _, msg = name.partition(".")
    if cls in _READ_CLASSES:
        return False
    return not msg.startswith(_READ_PREFIXES)


def _secretish(name: str) -> bool:
    low = name.lower()
    return any(w in low for w in _SECRET_WORDS)


@functools.lru_cache(maxsize=512)
def _param_names(method: str) -> tuple[str, ...]:
    from xapictl.model.schema import datamodel

    cls, _, msg = method.removeprefix("Async.").partition(".")
    klass = datamodel().find_class(cls)
    if klass is None or msg not in klass.messages:
        return ()
    return tuple(p.name for p in klass.messages[msg].params)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): REDACTED if _secretish(str(k)) else _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def redact_args(method: str, args: tuple[Any, ...]) -> list[Any]:
    """The arguments as stored: secrets by parameter name or map key replaced."""
    names = _param_names(method)
    out = []
    for i, arg in enumerate(args):
        name = names[i] if i < len(names) else ""
        out.append(REDACTED if name and _secretish(name) else _plain(arg))
    return out


def _host_ref(snap: PoolSnapshot, cls: str, ref: str) -> HostRef | None:
    """The host an object of ``cls`` lives on, from the snapshot; None when not bound to one
    host or not in the snapshot (made after it was read)."""
    from xapictl.model.refs import NULL_REF, BondRef, HostRef, PIFRef, VIFRef, VLANRef, VMRef

    pif: PIFRef | None = None
    if cls == "host":
        return HostRef(ref) if HostRef(ref) in snap.hosts else None
    if cls == "PIF":
        pif = PIFRef(ref)
    elif cls == "VLAN" and (vlan := snap.vlans.get(VLANRef(ref))) is not None:
        pif = vlan.tagged_pif
    elif cls == "Bond" and (bond := snap.bonds.get(BondRef(ref))) is not None:
        pif = bond.master
    elif cls in ("VM", "VIF"):
        vif = snap.vifs.get(VIFRef(ref)) if cls == "VIF" else None
        vm_ref = VMRef(ref) if cls == "VM" else (vif.vm if vif is not None else None)
        vm = snap.vms.get(vm_ref) if vm_ref is not None else None
        return vm.resident_on if vm is not None and vm.resident_on != NULL_REF else None
    record = snap.pifs.get(pif) if pif is not None else None
    return record.host if record is not None else None


def host_of(snap: PoolSnapshot, method: str, args: tuple[Any, ...]) -> str | None:
    """The name (else address) of the host a call acts on, when its first argument is a ref of
    an object bound to one host that the snapshot knows; None otherwise (pool-wide calls such
    as ``network.create`` or ``pool.create_VLAN_from_PIF``, objects made since the read)."""
    cls = method.removeprefix("Async.").partition(".")[0]
    if not args or not isinstance(args[0], str):
        return None
    ref = _host_ref(snap, cls, args[0])
    host = snap.hosts.get(ref) if ref is not None else None
    return (host.name_label or host.address or None) if host is not None else None


class AuditedCaller:
    """A connection whose writes land in the journal's audit table, tagged with the rollout and
    pool. Everything else is passed through untouched."""

    def __init__(self, conn: Any, journal: Journal, *, pool: str, rollout: int | None,
                 host: str | Callable[[], str],
                 host_of: Callable[[str, tuple[Any, ...]], str | None] | None = None) -> None:
        self._conn = conn
        self._journal = journal
        self._pool = pool
        self._rollout = rollout
        self._host = host
        self._host_of = host_of or (lambda method, args: None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def _host_now(self, method: str, args: tuple[Any, ...]) -> str:
        acted_on = self._host_of(method, args)
        if acted_on:
            return acted_on
        return self._host() if callable(self._host) else self._host

    def call(self, method: str, *args: Any) -> Any:
        if not is_write(method):
            return self._conn.call(method, *args)
        stored = redact_args(method, args)
        try:
            result = self._conn.call(method, *args)
        except Exception as exc:
            self._journal.record_write(AuditRow(
                self._rollout, self._pool, self._host_now(method, args), method, stored,
                {"error": type(exc).__name__, "detail": str(exc)}, False, now()))
            raise
        self._journal.record_write(AuditRow(self._rollout, self._pool,
                                            self._host_now(method, args), method, stored,
                                            _plain(result), True, now()))
        return result


def export_audit(journal: Journal, rollout: int, fmt: str = "json") -> str:
    """The audit of one rollout as JSON (a list), NDJSON or CSV."""
    import csv
    import io
    import json

    rows = [r.to_json() for r in journal.audit(rollout)]
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    if fmt == "ndjson":
        return "".join(json.dumps(r) + "\n" for r in rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, ["at", "rollout", "pool", "host", "call", "args", "result",
                                  "ok"], lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({**r, "args": json.dumps(r["args"]), "result": json.dumps(r["result"])})
    return buf.getvalue()


__all__ = ["REDACTED", "AuditedCaller", "export_audit", "host_of", "is_write", "redact_args"]
