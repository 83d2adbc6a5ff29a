"""The XAPI backend: reads a pool into a ``PoolSnapshot`` and sends the plan's calls.

It adapts a connection (``xapictl.connect(...)``, contract 4) to the plan engine without
importing the client: anything with ``call``, ``snapshot`` and (optionally) ``permissions``
fits, which is also how tests drive it. Every write goes through the audit log.

A run that writes holds the pool's write lease (``writing()``): the connection's ``lease``
(``xapictl.client.lease``, one writer per pool) is taken before the fresh pre-write read and
kept until verify ends, and every write asks it first whether it is still ours.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from xapictl.errors import XapiFailure
from xapictl.plan.audit import AuditLog, host_of, is_write
from xapictl.state.snapshot import PoolSnapshot


class Connection(Protocol):
    def call(self, method: str, *args: Any) -> Any: ...

    def snapshot(self) -> PoolSnapshot: ...


class Lease(Protocol):
    """What the plan engine needs of a pool's write lease (``xapictl.client.lease.PoolLease``
    fits): a context manager that takes and releases it, and ``check`` before each write."""

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: Any) -> Any: ...

    def check(self) -> None: ...


LeaseTaker = Callable[..., Lease]


class AuditedCaller:
    """``call`` that records every write in the audit log, written ahead: its intent before it
    is sent, its outcome (``ok``, ``failed``, ``unknown``) after; and checks first that the run
    still holds the pool's write lease (``LeaseLost`` otherwise). ``writes`` counts the writes
    sent; ``snapshot`` (the latest read) names the host each call acts on."""

    def __init__(self, conn: Connection, audit: AuditLog) -> None:
        self.conn = conn
        self.audit = audit
        self.step = ""
        self.writes = 0
        self.lease: Lease | None = None
        self.changed = 0
        """Writes that may have taken effect: answered ok, or whose answer was lost."""
        self.snapshot: PoolSnapshot | None = None

    def _host(self, method: str, args: tuple[Any, ...]) -> str:
        return host_of(self.snapshot, method, args) or str(getattr(self.conn, "url", ""))

    def call(self, method: str, *args: Any) -> Any:
        if not is_write(method):
            return self.conn.call(method, *args)
        if self.lease is not None:
            self.lease.check()
        self.writes += 1
        # From the moment it may leave, a write may take effect: only XAPI's refusal says not.
        self.changed += 1
        host = self._host(method, args)
        number = self.audit.intent(method, args, step=self.step, host=host)
        try:
            result = self.conn.call(method, *args)
        except XapiFailure as exc:
            self.changed -= 1
            self.audit.write(method, args, "failed", error=exc, step=self.step, host=host,
                             write=number)
            raise
        except BaseException as exc:  # lost answer, Ctrl-C mid-call: it may have happened
            self.audit.write(method, args, "unknown", error=exc, step=self.step, host=host,
                             write=number)
            raise
        self.audit.write(method, args, "ok", result=result, step=self.step, host=host,
                         write=number)
        return result


class XapiBackend:
    """The plan engine's view of one pool."""

    name = "xapi"

    def __init__(self, conn: Connection, *, audit: AuditLog | None = None,
                 lock_timeout: float | None = None, command: str | None = None,
                 lease: LeaseTaker | None = None) -> None:
        """``lock_timeout``: seconds to wait for another run's write lease (``None``: the
        default, a few seconds); ``command`` names this run to the others; ``lease`` takes
        the lease (default: the connection's ``lease``; a connection without one, a test's
        fake, writes without a lease)."""
        self.conn = conn
        self.audit = audit if audit is not None else AuditLog()
        self.caller = AuditedCaller(conn, self.audit)
        self.lock_timeout = lock_timeout
        self.command = command
        self.take_lease: LeaseTaker | None = lease if lease is not None else getattr(
            conn, "lease", None)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the pool's write lease for the block (re-entrant: an inner block under an
        outer one shares its lease). Released however the block ends, Ctrl-C included."""
        if self.caller.lease is not None or self.take_lease is None:
            yield
            return
        with self.take_lease(timeout=self.lock_timeout, command=self.command) as lease:
            self.caller.lease = lease
            try:
                yield
            finally:
                self.caller.lease = None

    def collect(self) -> PoolSnapshot:
        """One round of ``get_all_records`` per class (the client sends them at once)."""
        snap = self.conn.snapshot()
        self.caller.snapshot = snap
        return snap

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


__all__ = ["AuditedCaller", "Connection", "Lease", "LeaseTaker", "XapiBackend"]
