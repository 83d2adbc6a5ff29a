"""Read a pool's networking state into a ``PoolSnapshot`` in a fixed number of round trips.

1. an ``event.from`` token taken *before* the reads (``event.inject`` on the pool), so live
   mode following from it misses nothing;
2. one ``get_all_records`` per class of ``SNAPSHOT_CLASSES``, all sent at once over the pooled
   connection.

Two dependent round trips whatever the size of the pool; one for every later snapshot of the
same connection, whose token was fetched alongside the previous reads
(``Connection.read_all_since``).

The client layer cannot import this one (ARCHITECTURE's layer table), so it cannot name
``PoolSnapshot``. Two ways across: ``PoolConnection`` (what ``xapictl.connect`` returns) is a
``Connection`` whose ``snapshot()`` is typed ``PoolSnapshot``; and importing this module
teaches a plain ``Connection.snapshot()`` to build one too, for code holding a connection
made by ``xapictl.client.connect``.
"""

from __future__ import annotations

from xapictl.client.connection import Connection
from xapictl.state.snapshot import SNAPSHOT_CLASSES, PoolSnapshot


def collect(conn: Connection, *, lazy: bool = False) -> PoolSnapshot:
    """The pool's networking state now, with the token it is current at (``lazy``: see
    ``PoolSnapshot.from_records``)."""
    token, raw = conn.read_all_since(list(SNAPSHOT_CLASSES))
    return PoolSnapshot.from_records(raw, token=token, lazy=lazy)


ONE_REQUEST_MAX_HOSTS = 12
"""``collect_once`` reads pools of up to this many hosts in one ``event.from`` request, and
larger ones with the parallel reads of ``collect``. One request saves a dependent round trip
(the token), but the one answer is built and sent by one server thread and decoded in one
piece, which loses to parallel reads once a pool is large: ``tests/bench/bench_collect.py``
measures both by size (docs/library.md quotes it)."""


def reads_in_one_request(conn: Connection) -> bool:
    """Whether ``collect_once`` takes one ``event.from`` request for this pool (its size is
    known from the login, which read every host's address: no request is spent on it)."""
    return len(conn.session.members) <= ONE_REQUEST_MAX_HOSTS


def collect_once(conn: Connection) -> PoolSnapshot:
    """``collect`` for a connection that takes no further snapshot (an export, a one-shot
    view), in whichever way reads a pool of its size faster (``reads_in_one_request``):
    ``collect_at_once`` for small and mid-sized pools, ``collect`` for large ones. Its wide
    records (pool, host, VM) decode each field as it is read (``from_records(lazy=True)``):
    a view reads few of their fields."""
    if reads_in_one_request(conn):
        return collect_at_once(conn, lazy=True)
    return collect(conn, lazy=True)


def collect_once_for_show(conn: Connection, *, sriov_vfs: bool = False) -> PoolSnapshot:
    """``collect_once``; with ``sriov_vfs`` each SR-IOV NIC's remaining VFs too
    (``with_sriov_capacity``: one more round trip, in a pool with SR-IOV only)."""
    snap = collect_once(conn)
    if sriov_vfs:
        from xapictl.state.capacity import with_sriov_capacity

        snap = with_sriov_capacity(conn, snap)
    return snap


def collect_at_once(conn: Connection, *, lazy: bool = False) -> PoolSnapshot:
    """Every class in one ``event.from`` request with the empty token, which also makes the
    records consistent with each other (``Connection.read_all_at_once``). One request per pool
    instead of a token and one read per class: on both ends, that is what a fleet read costs."""
    token, raw = conn.read_all_at_once(list(SNAPSHOT_CLASSES))
    return PoolSnapshot.from_records(raw, token=token, lazy=lazy)


class PoolConnection(Connection):
    """A ``Connection`` whose snapshots are typed: ``xapictl.connect`` returns one."""

    def snapshot(self) -> PoolSnapshot:
        """The pool's networking state (see ``collect``): two dependent round trips the first
        time on a connection, one afterwards, whatever the size of the pool."""
        return collect(self)

    async def asnapshot(self) -> PoolSnapshot:
        """``snapshot`` for asyncio code (on a worker thread)."""
        import asyncio  # only asyncio code pays for it (a CLI start-up does not)

        return await asyncio.to_thread(self.snapshot)


connect = PoolConnection.open
"""``xapictl.connect``: log in and return a ``PoolConnection`` (options: see
``xapictl.client.connection.connect``)."""

connect_profile = PoolConnection.open_profile
"""``xapictl.connect_profile``: a ``PoolConnection`` from a named profile."""

Connection.snapshot_builder = collect

__all__ = ["ONE_REQUEST_MAX_HOSTS", "PoolConnection", "collect", "collect_at_once", "collect_once",
           "collect_once_for_show", "connect", "connect_profile", "reads_in_one_request"]
