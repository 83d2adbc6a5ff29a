"""Follow the pools' inventory change stream and keep NetBox in step, batch by batch, from a
checkpoint.

The watch consumes the change stream ``xapictl inventory watch`` writes
(``xapictl.inventory.stream.ChangeStream``, with the VMs' disks): after each batch of events
the stream hands over the state its inventory was exported from (snapshot and disk records),
and the watch syncs NetBox from that state when the batch changed something. The inventory
records every field the NetBox mapping reads, so a batch without inventory events changes
nothing in NetBox: the two never disagree, and nothing here polls XAPI on its own.

With a checkpoint (``WatchCheckpoint``, ``netbox watch --state FILE``) the inventory each pool
was last synced at (with its token) is written after each sync, atomically (a temporary file
renamed over the old one), so a watch killed at any point leaves a whole checkpoint. A restart
gives that inventory to the stream as its base: the stream reads the pool and emits what
changed since. Nothing, and NetBox gets no request at all; something, and one sync writes it.
A watch killed after its NetBox writes but before its checkpoint replays that batch: the sync
finds NetBox already showing it and writes nothing, so nothing is missed and nothing is written
twice. A pool the checkpoint does not hold (a first run, another NetBox, a pool new in the
fleet) starts with a full sync.

Many pools (``netbox watch --fleet``): one stream per pool, each in its thread, each its own
cluster; their syncs into the one NetBox go one at a time, and the one checkpoint file holds
every pool's position.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from xapictl._files import replace_private
from xapictl._frozen import Frozen, frozen
from xapictl.errors import UsageError
from xapictl.inventory.document import Inventory
from xapictl.inventory.stream import ChangeStream, Checkpoint, ReconnectWait, StreamConnection
from xapictl.netbox.api import NetBoxApi
from xapictl.netbox.disks import guest_disks
from xapictl.netbox.model import NetBoxPlan, SyncReport
from xapictl.netbox.sync import SyncOptions, sync

KIND = "NetBoxWatchCheckpoint"

OnSync = Callable[[SyncReport, int], None]


class WatchCheckpoint:
    """The inventory each pool was last synced at into one NetBox (with the ``event.from``
    token it was read at), in a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> tuple[str, Inventory] | None:
        """The NetBox and the inventory saved (None before the first save); a file that is
        not a checkpoint is bad input (``UsageError``), found before anything is sent."""
        if not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data["kind"] != KIND:
                raise ValueError(data["kind"])
            return str(data["netbox"]), Inventory.from_document(data["inventory"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            raise UsageError(f"--state {self.path}: not a netbox watch checkpoint file; give "
                             "another path or remove it") from None

    def base_for(self, netbox: str) -> Inventory | None:
        """What NetBox ``netbox`` was synced to (None: no file yet, or another NetBox's)."""
        data = self.load()
        return data[1] if data is not None and data[0] == netbox else None

    def save(self, netbox: str, inventory: Inventory) -> None:
        text = json.dumps({"kind": KIND, "netbox": netbox,
                           "tokens": dict(sorted(inventory.tokens.items())),
                           "inventory": inventory.to_document()}) + "\n"
        replace_private(self.path, text)  # pool data: 0600


class _Positions:
    """Every pool's synced inventory; written whole to the checkpoint after each sync."""

    def __init__(self, checkpoint: WatchCheckpoint | None, netbox: str,
                 base: Inventory | None) -> None:
        self.checkpoint = checkpoint
        self.netbox = netbox
        self.base = base
        self._parts = {u: base.pool_part(u) for u in base.pool_uuids} if base else {}
        self._lock = threading.Lock()

    def record(self, inventory: Inventory) -> None:
        with self._lock:
            for pool in inventory.pool_uuids:
                self._parts[pool] = inventory
            if self.checkpoint is not None:
                self.checkpoint.save(self.netbox, Inventory.merge(self._parts.values()))


@frozen
class WatchedPool(Frozen):
    """One pool to follow: a label (its fleet entry or URL), how to open a connection to it
    (again after a loss) and its sync options (a fleet entry names its cluster)."""

    label: str
    connect: Callable[[], StreamConnection]
    options: SyncOptions | None = None


class _PoolWatch:
    """One pool's stream, syncing each batch that changed something."""

    def __init__(self, api: NetBoxApi, pool: WatchedPool, positions: _Positions,
                 sync_lock: threading.Lock, on_sync: OnSync | None) -> None:
        self.api = api
        self.pool = pool
        self.positions = positions
        self.sync_lock = sync_lock
        self.on_sync = on_sync
        self.batch = 0  # events in the batch under way
        self.first = True
        self.written = 0

    def event(self, _: object) -> None:
        self.batch += 1

    def batch_done(self, stream: ChangeStream, point: Checkpoint) -> None:
        events, self.batch = self.batch, 0
        first, self.first = self.first, False
        if not events and not (first and not stream.resumed):
            if first and self.on_sync is not None:
                # Nothing changed since the checkpoint: NetBox shows it already.
                name = point.snapshot.pool.name_label if point.snapshot else ""
                self.on_sync(SyncReport(NetBoxPlan(name or self.pool.label, (), ()), 0, 0), 0)
            return
        assert point.snapshot is not None and point.disks is not None  # noqa: S101 - disks=True
        with self.sync_lock:  # one writer into the one NetBox
            report = sync(self.api, point.snapshot, self.pool.options,
                          guest_disks(point.snapshot, point.disks))
            self.positions.record(point.inventory)
        self.written += 1 if report.writes else 0
        if self.on_sync is not None:
            self.on_sync(report, events)

    def run(self, stop: threading.Event, poll_timeout: float, backoff: ReconnectWait) -> int:
        stream = ChangeStream(self.pool.connect, backoff=backoff, source=self.pool.label,
                              base=self.positions.base, poll_timeout=poll_timeout, stop=stop,
                              disks=True, base_optional=True)
        stream.run(self.event, lambda point: self.batch_done(stream, point))
        return self.written


def _backoff() -> ReconnectWait:
    from xapictl.xapi.retry import Backoff

    return Backoff()


def watch(api: NetBoxApi, connect: Callable[[], StreamConnection],
          options: SyncOptions | None = None, *, stop: threading.Event,
          on_sync: OnSync | None = None, poll_timeout: float = 30.0,
          checkpoint: WatchCheckpoint | None = None, source: str = "",
          backoff: ReconnectWait | None = None) -> int:
    """Sync one pool until ``stop`` is set; ``connect()`` opens a connection to it (again
    after a loss). ``on_sync(report, events)`` after each sync (events: the change stream's
    events it follows; 0 for a full first sync); a restart with nothing changed since the
    checkpoint hears one empty report and sends NetBox nothing. Returns how many syncs wrote
    something. Errors no reconnect cures (NetBox refusals among them) are raised."""
    base = checkpoint.base_for(api.url) if checkpoint is not None else None
    one = _PoolWatch(api, WatchedPool(source, connect, options),
                     _Positions(checkpoint, api.url, base), threading.Lock(), on_sync)
    return one.run(stop, poll_timeout, backoff or _backoff())


@frozen
class FleetWatch(Frozen):
    """How a fleet watch ended: syncs that wrote, and the pools that stopped (label ->
    error)."""

    written: int
    errors: dict[str, str]


def watch_fleet(api: NetBoxApi, pools: Sequence[WatchedPool], *, stop: threading.Event,
                on_sync: Callable[[str, SyncReport, int], None] | None = None,
                poll_timeout: float = 30.0, checkpoint: WatchCheckpoint | None = None,
                backoff: Callable[[], ReconnectWait] = _backoff) -> FleetWatch:
    """Follow every pool (a thread each) into one NetBox until ``stop`` is set; a pool whose
    stream stops on an error is reported and the others go on. ``on_sync(label, report,
    events)`` after each sync."""
    base = checkpoint.base_for(api.url) if checkpoint is not None else None
    positions = _Positions(checkpoint, api.url, base)
    sync_lock = threading.Lock()
    errors: dict[str, str] = {}
    watches = []
    for pool in pools:
        said = (None if on_sync is None else
                lambda report, events, label=pool.label: on_sync(label, report, events))
        watches.append(_PoolWatch(api, pool, positions, sync_lock, said))

    def run(one: _PoolWatch) -> None:
        try:
            one.run(stop, poll_timeout, backoff())
        except Exception as exc:  # reported; the other pools' streams go on
            errors[one.pool.label] = str(exc) or type(exc).__name__

    threads = [threading.Thread(target=run, args=(one,), name=f"netbox-watch-{one.pool.label}",
                                daemon=True) for one in watches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return FleetWatch(sum(one.written for one in watches), errors)


__all__ = ["FleetWatch", "WatchCheckpoint", "WatchedPool", "watch", "watch_fleet"]
