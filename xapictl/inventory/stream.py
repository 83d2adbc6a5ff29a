"""The change stream: inventory changes of a pool as NDJSON events, for CMDB sync jobs.

Each event is one line::

    {"op": "mod", "object": "pif", "uuid": "...", "pool": "...", "token": "...",
     "record": {...the new record...}, "fields": {"mtu": [1500, 9000]}}

``op`` is ``add``, ``mod`` or ``del`` (``record`` is then the last known record). The records
are inventory records (the export's format), so applying the events in order to an export
gives exactly what a new export would give (``xapictl.inventory.diff.apply``).

How it works, and why nothing is lost or sent twice: the stream keeps the pool's state current
from ``event.from`` (``xapictl.state.live.LiveSnapshot``; with ``disks=True`` the VBD and VDI
records too, from the same batches) and, after each batch, emits the *difference* between the
inventory it last emitted and the inventory of the new state. So:

* a lost connection or a master change: reconnect (the client follows the new master) and
  read the pool again in full, since a new master's database may not know the old token; the
  difference from what was emitted is exact, so nothing is lost or sent twice;
* ``EVENTS_LOST`` or a refused token: the pool is read again in full, same reasoning;
* resuming (``base`` + ``token`` from a checkpoint or an export): the pool is read once and the
  difference from ``base`` is emitted first: the events missed, coalesced per object, exactly as
  ``event.from`` itself coalesces them. ``base`` may hold many pools (a fleet export or
  checkpoint): the stream takes the part whose pool UUID is the pool's, and refuses (nothing
  emitted) when there is none, since diffing against another pool's objects would report them
  all deleted (``base_optional=True``: such a pool starts from its current state instead, and
  the consumer sees ``resumed`` false).

Each batch's ``Checkpoint`` carries the state its inventory was exported from (``snapshot``,
``disks``), so a consumer that needs more than the inventory's fields (``xapictl netbox
watch`` maps the pool into NetBox) works from exactly the state the events describe.

The wait between reconnects is ``backoff``'s (``xapictl.xapi.retry.Backoff``): the one place
that decides how long to wait.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from xapictl.errors import TransportError, XapiFailure
from xapictl.inventory.diff import Change, diff
from xapictl.inventory.disks import DISK_CLASSES, DiskRecords
from xapictl.inventory.document import Inventory
from xapictl.inventory.export import export_snapshot
from xapictl.state.snapshot import PoolSnapshot

if TYPE_CHECKING:
    from xapictl.state.live import LiveSnapshot

log = logging.getLogger("xapictl.inventory.stream")

# Failures after which the same connection cannot go on; anything else is a bug to surface.
_RECONNECT_CODES = frozenset({"SESSION_INVALID", "HOST_IS_SLAVE", "HOST_OFFLINE",
                              "HOST_STILL_BOOTING", "EVENTS_LOST",
                              "EVENT_FROM_TOKEN_PARSE_FAILURE"})


class StreamConnection(Protocol):
    """What the stream needs of a connection (``xapictl.connect(...)`` objects fit)."""

    def events(self, classes: Any, token: str = "", timeout: float = 30.0) -> Any: ...

    def call(self, method: str, *args: Any) -> Any: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class StreamEvent:
    """A change, and the token after which the pool is in the state it describes."""

    change: Change
    pool: str
    token: str

    def to_json(self) -> dict[str, Any]:
        out = self.change.to_json()
        return {**out, "pool": self.pool, "token": self.token}


class ReconnectWait(Protocol):
    """What the stream needs of a backoff (``xapictl.xapi.retry.Backoff`` fits)."""

    def wait(self, stop: threading.Event) -> bool: ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class Checkpoint:
    """What a consumer keeps to resume: the inventory it holds and the token it is at; and
    the state that inventory was exported from (``disks``: None unless the stream reads
    them), for consumers that need more of it."""

    inventory: Inventory
    token: str
    snapshot: PoolSnapshot | None = None
    disks: DiskRecords | None = None


class ChangeStream:
    """Follows one pool. ``connect`` opens a new connection (called again after a loss);
    ``base`` is the inventory the consumer holds (``None``: start from the current state,
    emitting nothing for it); ``disks``: follow the VMs' disks too (``disks`` objects)."""

    def __init__(self, connect: Callable[[], StreamConnection], *, backoff: ReconnectWait,
                 source: str = "", base: Inventory | None = None, poll_timeout: float = 30.0,
                 stop: threading.Event | None = None, disks: bool = False,
                 base_optional: bool = False) -> None:
        self._connect = connect
        self.backoff = backoff
        self.source = source
        self.base = base
        self.poll_timeout = poll_timeout
        self.stop = stop or threading.Event()
        self.disks = disks
        self.base_optional = base_optional
        self._point: Checkpoint | None = None  # replaced whole: readers never see half of one
        self.reconnects = 0
        self.resumed = False  # whether the first read was diffed against ``base``

    @property
    def emitted(self) -> Inventory | None:
        return self._point.inventory if self._point is not None else None

    @property
    def token(self) -> str:
        return self._point.token if self._point is not None else ""

    def checkpoint(self) -> Checkpoint | None:
        """What has been emitted so far and the token it is at (None before the first read)."""
        return self._point

    def _base_part(self, pool: str) -> Inventory | None:
        if self.base is None:
            return None
        if pool not in self.base.pool_uuids:
            if self.base_optional:
                return None
            from xapictl.errors import UsageError

            held = ", ".join(self.base.pool_uuids) or "none"
            raise UsageError(f"pool {self.source or pool} ({pool}) has no part in the base "
                             f"(it holds pool(s) {held}): give an export or checkpoint that "
                             "includes this pool, or no base to start from its current state")
        return self.base.pool_part(pool)

    def _export(self, snap: PoolSnapshot, disks: DiskRecords | None) -> Inventory:
        return export_snapshot(snap, source=self.source, generated_at="", disks=disks)

    def _emit_difference(self, snap: PoolSnapshot, disks: DiskRecords | None,
                         emit: Callable[[StreamEvent], None]) -> None:
        new = self._export(snap, disks)
        pool = new.pool_uuids[0] if new.pool_uuids else ""
        if self._point is not None:
            old: Inventory | None = self.emitted
        else:
            old = self._base_part(pool)
            self.resumed = old is not None
        for change in diff(old if old is not None else new, new):
            emit(StreamEvent(change, pool, snap.token))
        self._point = Checkpoint(new, snap.token, snap, disks)

    def _read(self, conn: StreamConnection) -> tuple[LiveSnapshot, DiskRecords | None]:
        """The whole pool; the disks after the snapshot, so that no change between the two
        reads is missed (one made after the snapshot's token comes again as an event)."""
        from xapictl.state.live import LiveSnapshot

        live = LiveSnapshot(conn, also=DISK_CLASSES if self.disks else ())  # type: ignore[arg-type]
        return live, self._read_disks(conn)

    def _read_disks(self, conn: StreamConnection) -> DiskRecords | None:
        return DiskRecords.read(conn) if self.disks else None

    def _poll(self, conn: StreamConnection, live: LiveSnapshot, disks: DiskRecords | None,
              ) -> DiskRecords | None:
        """One ``event.from`` long poll from the snapshot's token, applied to both; the disks
        as they are after it."""
        events = live.poll_events(self.poll_timeout)
        if events is None:  # the token was refused and the pool read again: the disks too
            return self._read_disks(conn)
        return disks.apply(events) if disks is not None and events else disks

    def run(self, emit: Callable[[StreamEvent], None],
            on_batch: Callable[[Checkpoint], None] | None = None) -> None:
        """Emit events until ``stop`` is set (the first read's at least); after each batch of
        them, ``on_batch`` hears the checkpoint they lead to. Only errors that no reconnect can
        cure (bad credentials, permission denied, a base without this pool) are raised."""
        conn: StreamConnection | None = None
        live: LiveSnapshot | None = None
        disks: DiskRecords | None = None
        try:
            # The first read is made even when ``stop`` is already set (a job with a short
            # --max-seconds on a busy machine still gets the state it starts from).
            while self._point is None or not self.stop.is_set():
                try:
                    if conn is None or live is None:
                        conn = self._connect()
                        # Start, or restart after a loss, from a full read: a new master's
                        # database may not know our token (or know it as a different point),
                        # and the difference from what was emitted is exact either way.
                        live, disks = self._read(conn)
                        self._emit_difference(live.current, disks, emit)
                        self._batch_done(on_batch)
                        continue  # a consumer may have asked to stop
                    disks = self._poll(conn, live, disks)
                    self._emit_difference(live.current, disks, emit)
                    self._batch_done(on_batch)
                    self.backoff.reset()
                except (TransportError, XapiFailure) as exc:
                    if isinstance(exc, XapiFailure) and exc.code not in _RECONNECT_CODES:
                        raise
                    log.warning("change stream: %s; reconnecting", exc)
                    self.reconnects += 1
                    if conn is not None:
                        _close_quietly(conn)
                    conn, live = None, None
                    if self.backoff.wait(self.stop):
                        break
        finally:
            if conn is not None:
                _close_quietly(conn)

    def _batch_done(self, on_batch: Callable[[Checkpoint], None] | None) -> None:
        if on_batch is not None and self._point is not None:
            on_batch(self._point)


def _close_quietly(conn: StreamConnection) -> None:
    try:
        conn.close()
    except Exception as exc:  # logging out of a dead pool fails; the session dies with it
        log.debug("logout after a lost connection failed: %s", exc)


__all__ = ["ChangeStream", "Checkpoint", "ReconnectWait", "StreamConnection", "StreamEvent"]
