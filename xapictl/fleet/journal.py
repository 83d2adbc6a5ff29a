"""The rollout journal: every rollout, every pool's state in it, every step, every write.

SQLite (stdlib), one file (default ``~/.local/state/xapictl/journal.sqlite``, or
``$XAPICTL_JOURNAL``). Each change is committed at once, so a rollout killed at any point leaves
a journal that ``rollout status`` reads and ``rollout resume`` continues. Worker threads share
one connection behind a lock: writes are tiny and rare next to network round trips.

The journal is written ahead: a step is recorded ``running`` before it starts and each write's
intent is in the audit table (committed, fsynced) before the write is sent; the outcome is
filled in after. The rollout names the process running it (``runner``: host and pid), so a
reader can tell a running rollout from one whose process died: there a ``running`` pool or step
is shown ``in doubt`` (a write may or may not have taken effect) until ``resume`` reads the pool.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from xapictl._files import private_file
from xapictl._frozen import Frozen, frozen

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rollouts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created TEXT NOT NULL, updated TEXT NOT NULL,
  recipe TEXT NOT NULL, fleet TEXT NOT NULL, selection TEXT,
  options TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
  runner TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS pool_runs (
  rollout INTEGER NOT NULL REFERENCES rollouts(id), pool TEXT NOT NULL,
  position INTEGER NOT NULL, wave INTEGER NOT NULL DEFAULT -1,
  state TEXT NOT NULL, planned INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '', started TEXT, finished TEXT,
  PRIMARY KEY (rollout, pool)
);
CREATE TABLE IF NOT EXISTS steps (
  rollout INTEGER NOT NULL, pool TEXT NOT NULL, attempt INTEGER NOT NULL, idx INTEGER NOT NULL,
  description TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
  at TEXT NOT NULL,
  PRIMARY KEY (rollout, pool, attempt, idx)
);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, rollout INTEGER, pool TEXT NOT NULL,
  host TEXT NOT NULL, call TEXT NOT NULL, args TEXT NOT NULL, result TEXT NOT NULL,
  ok INTEGER NOT NULL, at TEXT NOT NULL, outcome TEXT NOT NULL DEFAULT '',
  user TEXT NOT NULL DEFAULT '', step TEXT NOT NULL DEFAULT '', sent TEXT NOT NULL DEFAULT '',
  url TEXT NOT NULL DEFAULT ''
);
"""
# Columns added since the first journals: (table, column, declaration) for ALTER TABLE.
_ADDED = (("rollouts", "runner", "TEXT NOT NULL DEFAULT ''"),
          ("audit", "outcome", "TEXT NOT NULL DEFAULT ''"),
          ("audit", "user", "TEXT NOT NULL DEFAULT ''"),
          ("audit", "step", "TEXT NOT NULL DEFAULT ''"),
          ("audit", "sent", "TEXT NOT NULL DEFAULT ''"),
          ("audit", "url", "TEXT NOT NULL DEFAULT ''"))

IN_DOUBT = "in doubt"
"""A write whose intent was recorded by a process now gone, with no outcome; and a step that
was running then with such a write of its pool."""
CUT = "interrupted"
"""A step that was running when its process went, with no write of its pool in flight."""


class RolloutState(enum.StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    """The failure budget was spent (or a canary failed): the remaining pools were not started."""
    STOPPED = "stopped"
    """Interrupted (Ctrl-C) at a step boundary; resumable."""
    DECLINED = "declined"
    """The plan summary was shown and the operator said no: nothing was applied."""
    REFUSED = "refused"
    """Refused before any write (no ``--yes`` off a terminal): nothing was applied."""


class PoolState(enum.StrEnum):
    PENDING = "pending"
    PLANNED = "planned"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Not started because the rollout stopped (budget, canary, Ctrl-C); untouched."""
    STOPPED = "stopped"
    """Interrupted between two steps; some steps may be done."""
    REFUSED = "refused"
    """Not started: a pre-flight check refused its plan, or the run was refused (no
    ``--yes``). Untouched."""
    IN_DOUBT = "in doubt"
    """Never stored: how a ``running`` pool reads once the process running it is gone (killed).
    A write may or may not have taken effect; ``resume`` reads the pool and finishes."""

    @property
    def finished_ok(self) -> bool:
        return self is PoolState.DONE


_SQLITE_INT_MIN, _SQLITE_INT_MAX = -(2**63), 2**63 - 1
"""The range of SQLite's INTEGER (a rollout ID outside it cannot be bound)."""


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def default_path() -> Path:
    env = os.environ.get("XAPICTL_JOURNAL")
    if env:
        return Path(env)
    import platformdirs

    return platformdirs.user_state_path("xapictl") / "journal.sqlite"


@frozen
class RolloutRow(Frozen):
    id: int
    created: str
    updated: str
    recipe: str
    fleet: str
    selection: str | None
    options: Mapping[str, Any]
    state: RolloutState
    reason: str
    runner: str = ""
    """``host:pid`` of the process that ran it last."""


@frozen
class PoolRunRow(Frozen):
    pool: str
    position: int
    wave: int
    state: PoolState
    planned: int
    done: int
    error: str
    started: str | None
    finished: str | None


@frozen
class AuditRow(Frozen):
    """One write. Recorded with ``outcome`` ``intent`` before it is sent (``sent`` is then),
    completed after with ``ok``, ``failed`` (XAPI refused it) or ``unknown`` (answer lost).
    A row still ``intent`` after its rollout's process is gone is a write in doubt."""

    rollout: int | None
    pool: str
    host: str
    call: str
    args: Any
    result: Any
    ok: bool
    at: str
    outcome: str = ""
    user: str = ""
    step: str = ""
    sent: str = ""
    url: str = ""
    """The URL of the pool (its master) the write went to."""

    def to_json(self) -> dict[str, Any]:
        return {"rollout": self.rollout, "pool": self.pool, "host": self.host,
                "call": self.call, "args": self.args, "result": self.result, "ok": self.ok,
                "at": self.at, "outcome": self.outcome, "user": self.user, "step": self.step,
                "sent": self.sent, "url": self.url}


class Journal:
    """The journal file. Thread-safe; use as a context manager or call ``close``."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        if str(self.path) != ":memory:":
            private_file(self.path)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False,
                                   isolation_level=None)
        self._lock = threading.Lock()
        try:
            with self._lock:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.executescript(_SCHEMA)
                self._migrate()
        except BaseException:  # not a journal (a text file, say): nothing left open
            self._db.close()
            raise

    def _migrate(self) -> None:
        """Every commit durable (synced) before the call after it is sent, and the columns a
        journal made by an older xapictl lacks added (the caller holds the lock)."""
        self._db.execute("PRAGMA synchronous=FULL")
        for table, column, decl in _ADDED:
            have = {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                # Names come from the literals of _ADDED, never from input.
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    # --- rollouts -----------------------------------------------------------------------

    def new_rollout(self, *, recipe: str, fleet: str, selection: str | None,
                    options: Mapping[str, Any], pools: Sequence[str]) -> int:
        stamp = now()
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO rollouts (created, updated, recipe, fleet, selection, options, "
                "state, runner) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (stamp, stamp, recipe, fleet, selection, json.dumps(dict(options)),
                 RolloutState.PLANNED.value, runner_id()))
            rid = int(cur.lastrowid or 0)
            db.executemany("INSERT INTO pool_runs (rollout, pool, position, state) "
                           "VALUES (?, ?, ?, ?)",
                           [(rid, p, i, PoolState.PENDING.value) for i, p in enumerate(pools)])
        return rid

    def set_rollout_state(self, rid: int, state: RolloutState, reason: str = "") -> None:
        with self._tx() as db:
            db.execute("UPDATE rollouts SET state = ?, reason = ?, updated = ? WHERE id = ?",
                       (state.value, reason, now(), rid))

    def set_reason(self, rid: int, reason: str) -> None:
        """The rollout's reason, its state unchanged."""
        with self._tx() as db:
            db.execute("UPDATE rollouts SET reason = ?, updated = ? WHERE id = ?",
                       (reason, now(), rid))

    def rollout(self, rid: int) -> RolloutRow:
        from xapictl.errors import UsageError

        if not _SQLITE_INT_MIN <= rid <= _SQLITE_INT_MAX:  # SQLite cannot even look it up
            raise UsageError(f"no rollout {rid} in the journal {self.path}: rollout IDs "
                             "are the numbers 'xapictl rollout list' shows")
        rows = self._query("SELECT id, created, updated, recipe, fleet, selection, options, "
                           "state, reason, runner FROM rollouts WHERE id = ?", (rid,))
        if not rows:
            raise UsageError(f"no rollout {rid} in the journal {self.path}")
        r = rows[0]
        return RolloutRow(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]),
                          RolloutState(r[7]), r[8], r[9])

    def set_runner(self, rid: int) -> None:
        """Name this process (``host:pid``) as the one running the rollout now."""
        with self._tx() as db:
            db.execute("UPDATE rollouts SET runner = ? WHERE id = ?", (runner_id(), rid))

    def gone(self, rid: int) -> bool:
        """Whether the rollout was left ``planned`` or ``running`` by a process that no longer
        exists (killed): then its running pools and steps are in doubt. Only a process on
        this machine can be checked; one on another machine is taken as alive."""
        rows = self._query("SELECT state, runner FROM rollouts WHERE id = ?", (rid,))
        if not rows or rows[0][0] not in (RolloutState.PLANNED, RolloutState.RUNNING):
            return False
        return not _alive(rows[0][1])

    def rollouts(self, limit: int = 50) -> list[RolloutRow]:
        ids = self._query("SELECT id FROM rollouts ORDER BY id DESC LIMIT ?", (limit,))
        return [self.rollout(int(i[0])) for i in ids]

    # --- pools --------------------------------------------------------------------------

    def pool_runs(self, rid: int) -> list[PoolRunRow]:
        rows = self._query("SELECT pool, position, wave, state, planned, done, error, started, "
                           "finished FROM pool_runs WHERE rollout = ? ORDER BY position", (rid,))
        return [PoolRunRow(r[0], r[1], r[2], PoolState(r[3]), r[4], r[5], r[6], r[7], r[8])
                for r in rows]

    def pool_runs_now(self, rid: int) -> list[PoolRunRow]:
        """``pool_runs`` as a reader should see them: a ``running`` pool of a rollout whose
        process is gone is ``in doubt``."""
        runs = self.pool_runs(rid)
        if not self.gone(rid):
            return runs
        return [dataclasses.replace(r, state=PoolState.IN_DOUBT)
                if r.state is PoolState.RUNNING else r for r in runs]

    def set_done(self, rid: int, pool: str, done: int) -> None:
        """The number of steps of ``pool`` done so far (kept current step by step)."""
        with self._tx() as db:
            db.execute("UPDATE pool_runs SET done = ? WHERE rollout = ? AND pool = ?",
                       (done, rid, pool))

    def set_pool(self, rid: int, pool: str, state: PoolState, *, wave: int | None = None,
                 planned: int | None = None, done: int | None = None,
                 error: str | None = None) -> None:
        sets = ["state = ?"]
        args: list[Any] = [state.value]
        for col, val in (("wave", wave), ("planned", planned), ("done", done),
                         ("error", error)):
            if val is not None:
                sets.append(f"{col} = ?")
                args.append(val)
        if state is PoolState.RUNNING:
            sets.append("started = COALESCE(started, ?)")
            args.append(now())
        if state in (PoolState.DONE, PoolState.FAILED, PoolState.STOPPED, PoolState.REFUSED):
            sets.append("finished = ?")
            args.append(now())
        # The column names come from the literals above, never from input.
        sql = f"UPDATE pool_runs SET {', '.join(sets)} WHERE rollout = ? AND pool = ?"  # noqa: S608
        with self._tx() as db:
            db.execute(sql, (*args, rid, pool))

    # --- steps --------------------------------------------------------------------------

    def record_step(self, rid: int, pool: str, attempt: int, idx: int, description: str,
                    status: str, detail: str = "") -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO steps (rollout, pool, attempt, idx, description, "
                       "status, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (rid, pool, attempt, idx, description, status, detail, now()))

    def steps(self, rid: int, pool: str | None = None) -> list[dict[str, Any]]:
        sql = ("SELECT pool, attempt, idx, description, status, detail, at FROM steps "
               "WHERE rollout = ?")
        args: list[Any] = [rid]
        if pool is not None:
            sql += " AND pool = ?"
            args.append(pool)
        rows = self._query(sql + " ORDER BY pool, attempt, idx", args)
        keys = ("pool", "attempt", "idx", "description", "status", "detail", "at")
        steps = [dict(zip(keys, r, strict=True)) for r in rows]
        if self.gone(rid):
            doubt = self._pools_in_doubt(rid)
            for step in steps:
                if step["status"] == "running":
                    step["status"] = IN_DOUBT if step["pool"] in doubt else CUT
        return steps

    def _pools_in_doubt(self, rid: int) -> set[str]:
        """Pools with a write whose intent is recorded and its outcome not."""
        return {r[0] for r in self._query("SELECT DISTINCT pool FROM audit WHERE rollout = ? "
                                          "AND outcome = 'intent'", (rid,))}

    def settle(self, rid: int) -> None:
        """Before a resume: what the gone process left ``running`` (steps) or sent without an
        outcome (writes) is recorded for good as ``in doubt`` (or ``interrupted``: a step with
        no write in flight). The resume's fresh read then decides what is left to do."""
        doubt = self._pools_in_doubt(rid)
        with self._tx() as db:
            for pool in doubt:
                db.execute("UPDATE steps SET status = ? WHERE rollout = ? AND pool = ? AND "
                           "status = 'running'", (IN_DOUBT, rid, pool))
            db.execute("UPDATE steps SET status = ? WHERE rollout = ? AND status = 'running'",
                       (CUT, rid))
            db.execute("UPDATE audit SET outcome = ? WHERE rollout = ? AND outcome = 'intent'",
                       (IN_DOUBT, rid))

    def next_attempt(self, rid: int, pool: str) -> int:
        rows = self._query("SELECT COALESCE(MAX(attempt), 0) FROM steps WHERE rollout = ? "
                           "AND pool = ?", (rid, pool))
        return int(rows[0][0]) + 1

    # --- audit --------------------------------------------------------------------------

    def record_write(self, row: AuditRow) -> int:
        """Insert a write's row (its intent, or intent and outcome at once); returns its id."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO audit (rollout, pool, host, call, args, result, ok, at, outcome, "
                "user, step, sent, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row.rollout, row.pool, row.host, row.call, json.dumps(row.args),
                 json.dumps(row.result), int(row.ok), row.at, row.outcome, row.user, row.step,
                 row.sent or row.at, row.url))
            rowid = int(cur.lastrowid or 0)
        return rowid

    def record_outcome(self, write: int, *, outcome: str, result: Any, ok: bool) -> None:
        """Complete the row ``record_write`` made for a write's intent."""
        with self._tx() as db:
            db.execute("UPDATE audit SET outcome = ?, result = ?, ok = ?, at = ? WHERE id = ?",
                       (outcome, json.dumps(result), int(ok), now(), write))

    def audit(self, rid: int | None = None) -> list[AuditRow]:
        sql = ("SELECT rollout, pool, host, call, args, result, ok, at, outcome, user, step, "
               "sent, url FROM audit")
        args: tuple[Any, ...] = ()
        if rid is not None:
            sql += " WHERE rollout = ?"
            args = (rid,)
        rows = [AuditRow(r[0], r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]),
                         bool(r[6]), r[7], r[8], r[9], r[10], r[11], r[12])
                for r in self._query(sql + " ORDER BY id", args)]
        if rid is not None and self.gone(rid):
            rows = [dataclasses.replace(r, outcome=IN_DOUBT) if r.outcome == "intent" else r
                    for r in rows]
        return rows


def runner_id() -> str:
    """``host:pid`` of this process."""
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(runner: str) -> bool:
    """Whether the process ``runner`` names still exists (True when it cannot be told)."""
    import socket

    host, _, pid = runner.rpartition(":")
    if not pid.isdigit():
        return False  # a journal from before runners were named: nobody runs it now
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return _not_a_zombie(int(pid))


def _not_a_zombie(pid: int) -> bool:
    """A killed child not yet reaped by its parent still has a pid: it runs nothing."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


__all__ = ["CUT", "IN_DOUBT", "AuditRow", "Journal", "PoolRunRow", "PoolState", "RolloutRow",
           "RolloutState", "default_path", "now", "runner_id"]
