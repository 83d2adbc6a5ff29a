"""Follow a pool's event stream and keep NetBox in step, change by change.

One full sync first (it catches up on whatever happened while nothing was watching: after a
restart nothing is missed, and what NetBox already shows is not written again), then, after
each batch of XAPI events, a sync of the live snapshot: it writes only what the batch changed.
The waiting is XAPI's ``event.from`` long poll (``LiveSnapshot.poll``), nothing sleeps here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from xapictl.netbox.api import NetBoxApi
from xapictl.netbox.model import SyncReport
from xapictl.netbox.sync import SyncOptions, sync
from xapictl.state.live import LiveSnapshot


def watch(api: NetBoxApi, conn: Any, options: SyncOptions | None = None, *,
          stop: threading.Event, on_sync: Callable[[SyncReport, int], None] | None = None,
          poll_timeout: float = 30.0) -> int:
    """Sync until ``stop`` is set; ``on_sync(report, events)`` after each sync (events: how many
    pool events it follows, 0 for the first). Returns how many syncs wrote something."""
    live = LiveSnapshot(conn, conn.snapshot())
    report = sync(api, live.current, options)
    written = 1 if report.writes else 0
    if on_sync is not None:
        on_sync(report, 0)
    while not stop.is_set():
        events = live.poll(timeout=poll_timeout)
        if not events:
            continue
        report = sync(api, live.current, options)
        written += 1 if report.writes else 0
        if on_sync is not None:
            on_sync(report, events)
    return written


__all__ = ["watch"]
