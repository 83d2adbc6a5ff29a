"""A snapshot kept current from ``event.from``.

``LiveSnapshot(conn)`` starts from ``collect(conn)`` (or a snapshot you have) and each
``poll(timeout)`` applies one batch of changes: records added or changed are replaced by the
event's copy, deleted ones dropped, and ``current`` becomes a new immutable ``PoolSnapshot``
(the old one stays valid for whoever holds it). ``follow()`` yields each new snapshot;
``start()``/``stop()`` run the polling in a background thread. If XAPI refuses the token
(``EVENTS_LOST``, ``EVENT_FROM_TOKEN_PARSE_FAILURE``) the snapshot is read again in full.
``also`` follows more classes in the same ``event.from`` calls (the snapshot ignores their
events; ``poll_events`` hands them over, as the inventory stream does with the VMs' disks).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from xapictl.client.connection import Connection
from xapictl.errors import XapiFailure
from xapictl.state.collect import collect
from xapictl.state.events import apply_events
from xapictl.state.snapshot import SNAPSHOT_CLASSES, PoolSnapshot

log = logging.getLogger("xapictl.live")

_RESYNC_CODES = frozenset({"EVENTS_LOST", "EVENT_FROM_TOKEN_PARSE_FAILURE"})


class LiveSnapshot:
    """The latest ``PoolSnapshot`` of a pool, updated from its event stream."""

    def __init__(self, conn: Connection, snapshot: PoolSnapshot | None = None, *,
                 also: Sequence[str] = ()) -> None:
        self.conn = conn
        self.classes = [*(name.lower() for name in SNAPSHOT_CLASSES), *also]
        self.current: PoolSnapshot = snapshot if snapshot is not None else collect(conn)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.on_change: Callable[[PoolSnapshot], None] | None = None

    def poll(self, timeout: float = 30.0) -> int:
        """Wait up to ``timeout`` s for changes and apply them; how many events applied."""
        events = self.poll_events(timeout)
        return 0 if events is None else len(events)

    def poll_events(self, timeout: float = 30.0) -> Sequence[Any] | None:
        """``poll``, returning the batch's events (those of the ``also`` classes too); None
        when XAPI refused the token and the pool was read again in full (what the events of
        the ``also`` classes would have said is then lost: read those again too)."""
        try:
            batch = self.conn.events(self.classes, self.current.token, timeout)
        except XapiFailure as failure:
            if failure.code not in _RESYNC_CODES:
                raise
            log.warning("event stream lost (%s): reading the pool again", failure.code)
            self._publish(collect(self.conn))
            return None
        if not batch.events:
            if batch.token != self.current.token:
                self._publish(dataclasses.replace(self.current, token=batch.token))
            return ()
        self._publish(apply_events(self.current, batch.events, batch.token))
        return tuple(batch.events)

    def _publish(self, snapshot: PoolSnapshot) -> None:
        with self._lock:
            self.current = snapshot
        if self.on_change is not None:
            self.on_change(snapshot)

    def follow(self, timeout: float = 30.0) -> Iterator[PoolSnapshot]:
        """Yield the snapshot after every batch of changes (forever; break to stop)."""
        while True:
            if self.poll(timeout):
                yield self.current

    # --- background -------------------------------------------------------------------------

    def start(self, timeout: float = 5.0) -> LiveSnapshot:
        """Poll in a daemon thread until ``stop()``; ``current`` is always the latest."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, args=(timeout,),
                                            name="xapictl-live", daemon=True)
            self._thread.start()
        return self

    def _run(self, timeout: float) -> None:
        while not self._stop.is_set():
            try:
                self.poll(timeout)
            except Exception as exc:  # a background loop must not die silently
                log.error("live snapshot stopped: %s", exc)
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None


__all__ = ["LiveSnapshot"]
