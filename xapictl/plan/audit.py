"""The audit log: JSON lines, written ahead: one line with a write's intent before it is sent,
one with its outcome after.

Each line names the pool (its URL, or ``embedded``), the XAPI user, the host the call acted on
(else the pool master) and who ran xapictl (``client``: OS user@machine). An ``intent`` line
with no outcome line of the same ``run`` and ``write`` is a write in doubt: it may or may not
have reached the pool (the process was killed, the machine lost power); the next run's fresh
read says which. Intent lines are flushed and fsynced before the write is sent.

Only method names, object refs and the values the plan stated are written; the caller never
hands credentials to a step, so none can reach the log. Reads are not logged.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import os
import socket
import threading
import uuid
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from xapictl._files import open_private
from xapictl.errors import XapiFailure

if TYPE_CHECKING:
    from xapictl.model.refs import HostRef
    from xapictl.state.snapshot import PoolSnapshot

_READ_CLASSES = ("session", "event")

INTENT = "intent"
"""The ``outcome`` of the line written before a write is sent."""


def is_write(method: str) -> bool:
    """Getters, sessions and events are reads; everything else is a write."""
    cls, _, message = method.partition(".")
    return not (message.startswith("get_") or cls in _READ_CLASSES)


def client_id() -> str:
    """Who runs xapictl, for audit records: ``user@machine`` of the operating system."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


class AuditLog:
    """Appends to ``path`` (created with its directory); ``None`` keeps records in memory.

    ``pool`` (URL or ``embedded``) and ``user`` (the XAPI user) go into every record; the
    connection sets them once known. ``sent`` counts the writes handed to the connection,
    ``effective`` those that may have taken effect (every write from its intent on, unless
    XAPI refused it): messages say "Nothing was sent" only while ``sent`` is 0.
    """

    def __init__(self, path: Path | None = None, *, pool: str = "", user: str = "") -> None:
        self.path = path
        self.pool = pool
        self.user = user
        self.client = client_id()
        self.run = uuid.uuid4().hex[:12]
        self.records: list[dict[str, Any]] = []
        self.sent = 0
        self.effective = 0
        self._lock = threading.Lock()
        self._stream: IO[str] | None = None
        if path is not None:
            self._stream = open_private(path)

    def intent(self, method: str, args: tuple[Any, ...], *, step: str = "",
               host: str = "") -> int:
        """Record that ``method`` is about to be sent (durably, before it is); returns the
        write's number, which its outcome record repeats."""
        with self._lock:
            self.sent += 1
            self.effective += 1  # until an outcome says XAPI refused it
            number = self.sent
        self._append({"method": method, "args": [_plain(a) for a in args], "outcome": INTENT,
                      "step": step, "host": host, "write": number}, sync=True)
        return number

    def write(self, method: str, args: tuple[Any, ...], outcome: str, *,
              result: Any = None, error: BaseException | None = None, step: str = "",
              host: str = "", write: int = 0) -> None:
        """Record a write's outcome: ``ok``, ``failed`` (XAPI refused it: nothing changed) or
        ``unknown`` (the answer was lost)."""
        record: dict[str, Any] = {
            "method": method, "args": [_plain(a) for a in args], "outcome": outcome,
            "step": step, "host": host, "write": write}
        if result is not None:
            record["result"] = _plain(result)
        if isinstance(error, XapiFailure):
            record["error"] = [error.code, *error.params]
        elif error is not None:
            record["error"] = [type(error).__name__]
        if outcome == "failed":
            with self._lock:
                self.effective -= 1
        self._append(record, sync=False)

    def _append(self, fields: dict[str, Any], *, sync: bool) -> None:
        record = {"time": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds"),
                  "pool": self.pool, "user": self.user, "client": self.client,
                  "run": self.run, **fields}
        with self._lock:
            self.records.append(record)
            if self._stream is not None:
                self._stream.write(json.dumps(record, sort_keys=True) + "\n")
                self._stream.flush()
                if sync:
                    os.fsync(self._stream.fileno())

    @property
    def outcomes(self) -> list[dict[str, Any]]:
        """The outcome records (one per write that came back or failed), in order."""
        return [r for r in self.records if r["outcome"] != INTENT]

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


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


def host_of(snap: PoolSnapshot | None, method: str, args: tuple[Any, ...]) -> str | None:
    """The name (else address) of the host a call acts on, when its first argument is a ref of
    an object bound to one host that the snapshot knows; None otherwise (pool-wide calls such
    as ``network.create`` or ``pool.create_VLAN_from_PIF``, objects made since the read)."""
    cls = method.removeprefix("Async.").partition(".")[0]
    if snap is None or not args or not isinstance(args[0], str):
        return None
    ref = _host_ref(snap, cls, args[0])
    host = snap.hosts.get(ref) if ref is not None else None
    return (host.name_label or host.address or None) if host is not None else None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


__all__ = ["INTENT", "AuditLog", "client_id", "host_of", "is_write"]
