"""The XAPI backend: reads a pool into a ``PoolSnapshot`` and sends the plan's calls.

It adapts a connection (``xapictl.connect(...)``, contract 4) to the plan engine without
importing the client: anything with ``call``, ``snapshot`` and (optionally) ``permissions``
fits, which is also how tests drive it. Every write goes through the audit log.
"""

from __future__ import annotations

from typing import Any, Protocol

from xapictl.errors import XapictlError, XapiFailure
from xapictl.plan.audit import AuditLog, is_write
from xapictl.state.snapshot import PoolSnapshot


class Connection(Protocol):
    def call(self, method: str, *args: Any) -> Any: ...

    def snapshot(self) -> PoolSnapshot: ...


class AuditedCaller:
    """``call`` that records every write (and its outcome) in the audit log."""

    def __init__(self, conn: Connection, audit: AuditLog) -> None:
        self.conn = conn
        self.audit = audit
        self.step = ""
        self.writes = 0

    def call(self, method: str, *args: Any) -> Any:
        if not is_write(method):
            return self.conn.call(method, *args)
        self.writes += 1
        try:
            result = self.conn.call(method, *args)
        except XapiFailure as exc:
            self.audit.write(method, args, "failed", error=exc, step=self.step)
            raise
        except XapictlError as exc:
            self.audit.write(method, args, "unknown", error=exc, step=self.step)
            raise
        self.audit.write(method, args, "ok", result=result, step=self.step)
        return result


class XapiBackend:
    """The plan engine's view of one pool."""

    name = "xapi"

    def __init__(self, conn: Connection, *, audit: AuditLog | None = None) -> None:
        self.conn = conn
        self.audit = audit if audit is not None else AuditLog()
        self.caller = AuditedCaller(conn, self.audit)

    def collect(self) -> PoolSnapshot:
        """One round of ``get_all_records`` per class (the client sends them at once)."""
        return self.conn.snapshot()

    def read(self, classes: tuple[str, ...]) -> PoolSnapshot:
        """Just these classes' records (one round trip, sent at once); the other tables are
        empty. A connection without ``read_all`` is read whole."""
        read_all = getattr(self.conn, "read_all", None)
        if read_all is None:
            return self.collect()
        return PoolSnapshot.from_records(read_all(list(classes)))

    def permissions(self) -> frozenset[str] | None:
        """The session's RBAC permissions, or ``None`` when the connection cannot say."""
        get = getattr(self.conn, "permissions", None)
        if get is None:
            return None
        perms: frozenset[str] = frozenset(p.lower() for p in get())
        return perms


__all__ = ["AuditedCaller", "Connection", "XapiBackend"]
