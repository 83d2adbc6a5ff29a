"""The simulator's state in an SQLite file (stdlib), shared safely between processes.

Every call runs in one transaction (``BEGIN IMMEDIATE``, so writers queue instead of failing):
at its start, if another process committed since we last looked, the state is reloaded from
the file; at its end the objects the call changed are written back with the new generation.
One row per object, values as JSON with tags for what JSON lacks (datetimes, non-string map
keys), so datetimes and typed keys round-trip exactly.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from xapictl._files import private_file
from xapictl.sim.state import SimState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    cls TEXT NOT NULL, ref TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (cls, ref));
"""


def encode(value: Any) -> Any:
    """A stored value as JSON-able data (``decode`` reverses it)."""
    if isinstance(value, _dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"$map": [[encode(k), encode(v)] for k, v in value.items()]}
    return value


def decode(data: Any) -> Any:
    if isinstance(data, list):
        return [decode(v) for v in data]
    if isinstance(data, dict):
        if "$dt" in data and len(data) == 1:
            return _dt.datetime.fromisoformat(data["$dt"])
        if "$map" in data and len(data) == 1:
            return {decode(k): decode(v) for k, v in data["$map"]}
        return {k: decode(v) for k, v in data.items()}
    return data


class SqliteStore:
    """Keeps one ``SimState`` and one SQLite file in step. Use under the state's lock."""

    def __init__(self, path: Path, state: SimState) -> None:
        self.path = Path(path)
        self.state = state
        private_file(self.path)
        self._db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._writer = str(uuid.uuid4())
        self._seen: tuple[int, str] | None = None
        self._depth = 0
        self._full = False

    def close(self) -> None:
        self._db.close()

    def is_empty(self) -> bool:
        row = self._db.execute("SELECT count(*) FROM objects").fetchone()
        return int(row[0]) == 0

    def _version(self) -> tuple[int, str] | None:
        rows = dict(self._db.execute(
            "SELECT key, value FROM meta WHERE key IN ('generation', 'writer')").fetchall())
        if "generation" not in rows:
            return None
        return int(rows["generation"]), str(rows.get("writer", ""))

    def _reload(self) -> None:
        """Take in what other processes committed. A fresh state simply loads the file; a
        state in use applies the difference as ordinary writes, so its change log (and every
        ``event.from`` waiting on it) sees the other processes' changes as events."""
        tables: dict[str, dict[str, Any]] = {}
        for cls, ref, data in self._db.execute("SELECT cls, ref, data FROM objects"):
            tables.setdefault(cls, {})[ref] = decode(json.loads(data))
        state = self.state
        if not any(state.count(cls) for cls in state.dm.classes):
            version = self._version()
            state.load({"generation": version[0] if version else 0, "tables": tables})
            return
        for cls in state.dm.classes:
            new = tables.get(cls, {})
            old = state.all(cls)
            for ref in [r for r in old if r not in new]:
                state.destroy(cls, ref)
            for ref, record in new.items():
                current = old.get(ref)
                if current is None:
                    state.create(cls, record, ref=ref)
                elif current != record:
                    state.update(cls, ref, {k: v for k, v in record.items()
                                            if current.get(k) != v})

    @contextmanager
    def transaction(self, *, full: bool = False) -> Iterator[None]:
        """Run a block as one transaction; ``full`` rewrites every object (after a reset)."""
        if self._depth:
            self._full = self._full or full
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        self._full = full
        try:
            version = self._version()
            if version is None:
                self._full = True  # a new file: write whatever the state already holds
            elif version != self._seen:
                self._reload()
                self._seen = version
            start = self.state.generation
            try:
                yield
            finally:
                self._write(start)
                self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0

    def _write(self, start: int) -> None:
        state = self.state
        if self._full:
            self._db.execute("DELETE FROM objects")
            rows = [(cls, ref, json.dumps(encode(rec)))
                    for cls in state.dm.classes for ref, rec in state.all(cls).items()]
            self._db.executemany("INSERT INTO objects VALUES (?, ?, ?)", rows)
        elif state.generation != start:
            for change, _ in list(state.changes_since(start)):
                record = state.all(change.cls).get(change.ref)
                if record is None:
                    self._db.execute("DELETE FROM objects WHERE cls = ? AND ref = ?",
                                     (change.cls, change.ref))
                else:
                    self._db.execute("INSERT OR REPLACE INTO objects VALUES (?, ?, ?)",
                                     (change.cls, change.ref, json.dumps(encode(record))))
        elif self._seen is not None:
            return
        self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [
            ("generation", str(state.generation)), ("writer", self._writer)])
        self._seen = (state.generation, self._writer)


__all__ = ["SqliteStore", "decode", "encode"]
