"""Worked example: keep a CMDB's copy of a pool's network inventory up to date.

The CMDB here is one SQLite table of objects (type, uuid, pool, record as JSON) plus the
``event.from`` token it is current at. The first run loads a full export; every run after that
follows the change stream and applies each event as it comes: ``add``/``mod`` upsert the record,
``del`` deletes it. Stopping and starting again loses nothing and repeats nothing: the stream
starts from what the CMDB holds.

    XAPI_PASSWORD=... python docs/examples/cmdb_sync.py https://pool.example cmdb.sqlite \\
        --seconds 300

(the test suite runs this file against a simulated pool: tests/inventory/
test_inventory_cmdb_example.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import xapictl
from xapictl.inventory import Inventory, export_snapshot
from xapictl.inventory.fields import OBJECT_TYPES, PLURAL
from xapictl.inventory.stream import ChangeStream, StreamEvent
from xapictl.xapi.retry import Backoff

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
  type TEXT NOT NULL, uuid TEXT NOT NULL, pool TEXT NOT NULL, record TEXT NOT NULL,
  PRIMARY KEY (type, uuid));
CREATE TABLE IF NOT EXISTS sync (pool TEXT PRIMARY KEY, token TEXT NOT NULL);
"""


def open_cmdb(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    return db


def _pool_of(object_type: str, record: dict[str, Any]) -> str:
    return str(record["uuid"] if object_type == "pools" else record["pool"])


def load_export(db: sqlite3.Connection, inv: Inventory) -> None:
    """First run: the whole export, in one transaction."""
    with db:
        db.execute("DELETE FROM objects")
        for t in OBJECT_TYPES:
            db.executemany("INSERT INTO objects VALUES (?, ?, ?, ?)",
                           [(t, o["uuid"], _pool_of(t, dict(o)), json.dumps(o))
                            for o in inv.of(t)])
        db.executemany("INSERT OR REPLACE INTO sync VALUES (?, ?)", inv.tokens.items())


def apply_event(db: sqlite3.Connection, event: StreamEvent) -> None:
    """One change: upsert or delete, and remember the token, atomically."""
    change = event.change
    object_type = PLURAL[change.object]
    with db:
        if change.op.value == "del":
            db.execute("DELETE FROM objects WHERE type = ? AND uuid = ?",
                       (object_type, change.uuid))
        else:
            db.execute("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?)",
                       (object_type, change.uuid, _pool_of(object_type, dict(change.record)),
                        json.dumps(change.record)))
        db.execute("INSERT OR REPLACE INTO sync VALUES (?, ?)", (event.pool, event.token))


def cmdb_inventory(db: sqlite3.Connection) -> Inventory | None:
    """What the CMDB holds, as an inventory (None before the first load)."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sync'").fetchone() is None:
        return None  # the sync job has not created its tables yet
    tokens = dict(db.execute("SELECT pool, token FROM sync").fetchall())
    if not tokens:
        return None
    objects: dict[str, list[Any]] = {t: [] for t in OBJECT_TYPES}
    for object_type, record in db.execute("SELECT type, record FROM objects"):
        objects[object_type].append(json.loads(record))
    return Inventory({t: tuple(v) for t, v in objects.items()}, tokens)


def sync(connect: Callable[[], Any], cmdb_path: str, stop: threading.Event,
         on_event: Callable[[StreamEvent], None] | None = None) -> None:
    """Load (first run) or resume, then follow the pool until ``stop`` is set."""
    db = open_cmdb(cmdb_path)
    try:
        base = cmdb_inventory(db)
        if base is None:
            with connect() as conn:
                base = export_snapshot(conn.snapshot())
            load_export(db, base)

        def handle(event: StreamEvent) -> None:
            apply_event(db, event)
            if on_event is not None:
                on_event(event)

        ChangeStream(connect, backoff=Backoff(), base=base, poll_timeout=1.0,
                     stop=stop).run(handle)
    finally:
        db.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("cmdb")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    password = os.environ["XAPI_PASSWORD"]  # never on the command line
    stop = threading.Event()
    threading.Timer(args.seconds, stop.set).start()
    sync(lambda: xapictl.connect(args.url, password=password), args.cmdb, stop)


if __name__ == "__main__":
    main()
