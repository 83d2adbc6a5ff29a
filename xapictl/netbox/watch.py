"""Follow a pool's event stream and keep NetBox in step, change by change, from a checkpoint.

The watch reads the pool (snapshot and disks), syncs, then after each batch of XAPI events
(``event.from`` on the snapshot's classes and VBD/VDI, a long poll: nothing sleeps here)
applies the batch to its snapshot and syncs again: the sync writes only what the batch changed.

With a checkpoint (``WatchCheckpoint``, ``netbox watch --state FILE``) the event token of the
state last synced is written after each sync, atomically (a temporary file renamed over the
old one), so a watch killed at any point leaves a whole checkpoint. A restart asks XAPI what
changed since that token: nothing, and it sends NetBox nothing at all; something, and it syncs
once (the changes made while it was down). A watch killed after its NetBox writes but before
its checkpoint replays that batch: the sync finds NetBox already showing it and writes
nothing, so nothing is missed and nothing is written twice. A token XAPI no longer knows
(``EVENTS_LOST``) means a full sync, as without a checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xapictl._files import open_private
from xapictl.errors import UsageError, XapiFailure
from xapictl.netbox.api import NetBoxApi
from xapictl.netbox.disks import read_disks
from xapictl.netbox.model import NetBoxPlan, SyncReport
from xapictl.netbox.sync import SyncOptions, sync
from xapictl.state.collect import collect_at_once
from xapictl.state.events import apply_events
from xapictl.state.snapshot import SNAPSHOT_CLASSES, PoolSnapshot

# What a NetBox sync reads: the snapshot's classes and the disks'.
WATCHED: tuple[str, ...] = (*(name.lower() for name in SNAPSHOT_CLASSES), "vbd", "vdi")
_RESYNC_CODES = frozenset({"EVENTS_LOST", "EVENT_FROM_TOKEN_PARSE_FAILURE"})
KIND = "NetBoxWatchCheckpoint"


class WatchCheckpoint:
    """The event token of the pool state last synced into one NetBox, in a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, str] | None:
        """The saved pool, NetBox and token (None before the first save); a file that is not
        a checkpoint is bad input (``UsageError``), found before anything is sent."""
        if not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data["kind"] != KIND:
                raise ValueError(data["kind"])
            return {k: str(data[k]) for k in ("pool", "netbox", "token")}
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            raise UsageError(f"--state {self.path}: not a netbox watch checkpoint file; give "
                             "another path or remove it") from None

    def token_for(self, pool_uuid: str, netbox: str) -> str:
        """The token saved for this pool and NetBox ("" when there is none: another pool or
        NetBox, or no file yet)."""
        data = self.load()
        same = data is not None and data["pool"] == pool_uuid and data["netbox"] == netbox
        return data["token"] if data is not None and same else ""

    def save(self, pool_uuid: str, netbox: str, token: str) -> None:
        text = json.dumps({"kind": KIND, "pool": pool_uuid, "netbox": netbox,
                           "token": token}) + "\n"
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open_private(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def _changes_since(conn: Any, token: str) -> int | None:
    """How many events XAPI has after ``token`` (without waiting); None when it no longer
    knows the token."""
    try:
        return len(conn.events(list(WATCHED), token, 0.0).events)
    except XapiFailure as failure:
        if failure.code not in _RESYNC_CODES:
            raise
        return None


def watch(api: NetBoxApi, conn: Any, options: SyncOptions | None = None, *,
          stop: threading.Event, on_sync: Callable[[SyncReport, int], None] | None = None,
          poll_timeout: float = 30.0, checkpoint: WatchCheckpoint | None = None) -> int:
    """Sync until ``stop`` is set; ``on_sync(report, events)`` after each sync (events: how many
    pool events it follows; for the first, those since the checkpoint, else 0). Returns how
    many syncs wrote something."""
    # One event.from from the empty token: its token is exactly the state read (a snapshot
    # through get_all_records takes its token with event.inject, itself an event since any
    # checkpoint).
    snap: PoolSnapshot = collect_at_once(conn)
    pool = snap.pool.uuid
    since = checkpoint.token_for(pool, api.url) if checkpoint is not None else ""
    pending = _changes_since(conn, since) if since else None
    if pending == 0:
        # Nothing changed since the state last synced: NetBox shows it already.
        report = SyncReport(NetBoxPlan(snap.pool.name_label or pool, (), ()), 0, 0)
    else:
        report = sync(api, snap, options, read_disks(conn, snap))
    written = 1 if report.writes else 0
    if checkpoint is not None:
        checkpoint.save(pool, api.url, snap.token)
    if on_sync is not None:
        on_sync(report, pending or 0)
    while not stop.is_set():
        try:
            batch = conn.events(list(WATCHED), snap.token, poll_timeout)
        except XapiFailure as failure:
            if failure.code not in _RESYNC_CODES:
                raise
            snap, count = collect_at_once(conn), 0  # the stream was lost: read it all again
        else:
            if not batch.events:
                snap = dataclasses.replace(snap, token=batch.token)
                continue
            snap, count = apply_events(snap, batch.events, batch.token), len(batch.events)
        report = sync(api, snap, options, read_disks(conn, snap))
        written += 1 if report.writes else 0
        if checkpoint is not None:
            checkpoint.save(pool, api.url, snap.token)
        if on_sync is not None:
            on_sync(report, count)
    return written


__all__ = ["WATCHED", "WatchCheckpoint", "watch"]
