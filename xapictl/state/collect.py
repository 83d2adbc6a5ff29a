"""Read a pool's networking state into a ``PoolSnapshot`` in a fixed number of round trips.

1. an ``event.from`` token taken *before* the reads (``event.inject`` on the pool), so live
   mode following from it misses nothing;
2. one ``get_all_records`` per class of ``SNAPSHOT_CLASSES``, all sent at once over the pooled
   connection.

Two dependent round trips whatever the size of the pool; one for every later snapshot of the
same connection, whose token was fetched alongside the previous reads
(``Connection.read_all_since``). Importing this module also teaches
``Connection.snapshot()`` to use it (the client layer cannot import the state layer).
"""

from __future__ import annotations

from xapictl.client.connection import Connection
from xapictl.state.snapshot import SNAPSHOT_CLASSES, PoolSnapshot


def collect(conn: Connection) -> PoolSnapshot:
    """The pool's networking state now, with the token it is current at."""
    token, raw = conn.read_all_since(list(SNAPSHOT_CLASSES))
    return PoolSnapshot.from_records(raw, token=token)


Connection.snapshot_builder = collect

__all__ = ["collect"]
