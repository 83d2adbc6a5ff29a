"""One writer per pool: a lease kept in ``pool.other_config``, so it works across machines.

The lease is a key ``xapictl.lease.<generation>`` of the pool's ``other_config``; the value
names the holder (a JSON record: id, user, host, pid, command, started, renewed, ttl). Every
key is taken with ``pool.add_to_other_config``, which XAPI refuses with ``MAP_DUPLICATE_KEY``
when the key exists, even with the same value (REFERENCE §2 "generated mutators"; the master's
database does the test and the set under one lock): an atomic test-and-set, the only one
XAPI offers. No key is ever rewritten in place, so there is no moment when the lease is gone
while it is held:

* **take** a free pool (no lease key at all): add generation 1; then read back: the lease is
  ours if ``xapictl.lease.1`` holds our record and no other lease key exists. Given the pool's
  record from a read the run just made (``seen``), the add goes out with
  ``host.get_servertime`` beside it and the read-back can be the caller's own read
  (``read_keys``): one round trip to take, the read-back shared with the pre-write read.
  Over a connection that pipelines, the caller's read goes behind the add on the add's own
  connection (``read_back_after``; XAPI serves them in that order): the take and the
  pre-write read are then one round trip together;
* **renew** (a background thread, every ``renew_every`` seconds): add generation G+1 with a
  fresh ``renewed`` time, read back (G+1 must be the highest key and ours), then remove G;
* **take over** an expired lease seen at generation G with record R: add G+1, read back: ours
  only if G still holds exactly R and G+1 is the highest key; then remove G (and older keys
  left by dead runs). Two waiters that both saw R expire both try G+1: one add succeeds, the
  other gets ``MAP_DUPLICATE_KEY`` and waits on;
* **release**: remove our key (only while the lease is still surely ours).

A holder killed with ``kill -9`` cannot release: its lease would live ``TTL`` seconds. When
the waiter runs on the *same machine* as the holder — the same kernel boot and the same PID
namespace (``this_machine``: ``/proc/sys/kernel/random/boot_id`` and ``/proc/self/ns/pid``,
which tell containers and hosts apart where a copied ``/etc/machine-id`` or hostname would
not) — and the holder's pid is no process now, a zombie, or another process (its start time,
recorded with the pid, differs: a reused pid), the holder is surely gone and the waiter takes
the lease over at once, by the same race-safe takeover as for expiry. A holder on another
machine, or recorded by an older xapictl (no machine, no start time), is never judged gone
early: its lease expires.

The current lease is the highest generation. Expiry is judged on the *pool master's* clock,
never by comparing two machines' clocks: a run reads ``host.get_servertime`` once and keeps the
offset to its own monotonic clock; ``renewed`` and every expiry judgement are in that server
time. A holder counts itself lost ``margin`` seconds *before* anyone may take its lease over
(measured from when it sent its last confirmed renewal), and every write asks ``check()``
first, so a holder paused longer than the lease lives stops with ``LeaseLost`` before its
next write.

Waiting (the polls of a second run and the renewals) goes through ``xapictl.xapi.retry.Pacer``;
nothing here sleeps.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import os
import re
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from xapictl._frozen import Frozen, frozen
from xapictl._log import logger
from xapictl.errors import LeaseLost, PoolLocked, TransportError, XapiFailure
from xapictl.model._types import parse_datetime
from xapictl.xapi.parallel import run_beside
from xapictl.xapi.retry import Pacer

log = logger("xapictl.lease")

ReadBackAfter = Callable[[tuple[str, tuple[Any, ...]]],
                         tuple[Any, Mapping[str, Any] | BaseException]]
"""Sends the lease's add (``(method, args)``) and the caller's read behind it in one round
trip: the add's raw outcome (its ``XapiFailure`` if refused) and ``pool.other_config`` as
read after it (or the read's failure)."""

LEASE_PREFIX = "xapictl.lease."
"""Every ``pool.other_config`` key of the lease starts with this; the rest is the generation."""
DEFAULT_LOCK_TIMEOUT = 10.0
"""Seconds a run waits for another run's lease before giving up (``--lock-timeout``)."""
TTL = 60.0
"""Seconds a lease lives after its last renewal, on the master's clock."""
RENEW_EVERY = 10.0
MARGIN = 15.0
"""A holder stops writing this long before its lease could be taken over (clock resolution,
round trips, the offset's error)."""
CLOCK_SLACK = 1.0
"""Seconds a first record's time (this machine's clock, when the master's is read alongside
the take) may be off the master's clock before the lease is renewed at once to correct it."""
POLL_EVERY = 1.0
"""Seconds between two reads of a waiting run."""


_PROCESS = uuid.uuid4().hex[:12]
"""This process's mark in the ids of the leases it takes."""
_LIVE: set[str] = set()
"""Ids of the leases this process holds now. A lease key whose id carries our mark but is not
here was left by a run of this process that could not release it (the pool died under it):
it is taken over at once, without waiting for it to expire."""
_LIVE_LOCK = threading.Lock()


class Caller(Protocol):
    def call(self, method: str, *args: Any) -> Any: ...


def is_lease_key(key: str) -> bool:
    """Whether a ``pool.other_config`` key belongs to the write lease (views hide them)."""
    return key.startswith(LEASE_PREFIX)


def is_lease_call(method: str, args: Sequence[Any]) -> bool:
    """Whether a call is the lease's own bookkeeping (``pool.add_to_other_config`` /
    ``remove_from_other_config`` of a lease key): ``args`` as sent, with or without the
    session first. Write counts that mean "changes to the pool's networking" skip these."""
    if method.removeprefix("Async.") not in ("pool.add_to_other_config",
                                             "pool.remove_from_other_config"):
        return False
    return any(isinstance(a, str) and is_lease_key(a) for a in args[:3])


@frozen
class LeaseHolder(Frozen):
    """The record a lease key holds. ``started``/``renewed`` are seconds since the epoch on the
    pool master's clock; ``ttl`` is how long the lease lives after ``renewed``."""

    id: str
    user: str
    host: str
    pid: int
    command: str
    started: float
    renewed: float
    ttl: float = TTL
    machine: str = ""
    """``this_machine()`` of the holder: where its ``pid`` means its process ("" unknown)."""
    pid_start: int = 0
    """The holder process's start time (clock ticks after boot; 0 unknown): a reused pid
    has another."""

    def to_value(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_value(cls, text: str) -> LeaseHolder:
        """The record in a lease key; a value that is not one (hand-edited, another tool)
        counts as a holder whose lease expired long ago."""
        try:
            data = json.loads(text)
            return cls(id=str(data["id"]), user=str(data["user"]), host=str(data["host"]),
                       pid=int(data["pid"]), command=str(data["command"]),
                       started=float(data["started"]), renewed=float(data["renewed"]),
                       ttl=float(data.get("ttl", TTL)),
                       machine=str(data.get("machine", "")),
                       pid_start=int(data.get("pid_start", 0)))
        except (ValueError, TypeError, KeyError):
            return cls(id=f"unreadable:{text[:40]}", user="?", host="?", pid=0,
                       command="(an unreadable lease record)", started=0.0, renewed=0.0,
                       ttl=0.0)

    def expired(self, server_now: float) -> bool:
        return server_now > self.renewed + self.ttl

    def gone(self) -> bool:
        """Whether the holder's process is surely gone: it ran on this machine (see
        ``this_machine``) and its pid is no process now, a zombie, or another process (a
        different start time: the pid was reused). False when that cannot be told: a holder
        on another machine, or recorded without machine and start time (an older xapictl)."""
        here = this_machine()
        if not here or self.machine != here or self.pid <= 0 or self.pid_start <= 0:
            return False
        return process_start(self.pid) != self.pid_start

    def describe(self, server_now: float | None = None) -> str:
        """``user alice on host ci-3 (pid 4242), running `xapictl apply …`, since …``."""
        since = _dt.datetime.fromtimestamp(self.started, _dt.UTC).strftime(
            "%Y-%m-%d %H:%M:%S UTC")
        text = (f"user {self.user} on host {self.host} (pid {self.pid}), running "
                f"`{self.command}`, since {since}")
        if server_now is not None:
            text += f" (last renewed {max(0, round(server_now - self.renewed))} s ago)"
        return text


def this_command() -> str:
    """How this process was started, for the holder record (argv never holds a password)."""
    words = [os.path.basename(sys.argv[0]) if sys.argv else "python", *sys.argv[1:]]
    if words[0] in ("__main__.py", "-m"):
        words[0] = "xapictl"
    text = re.sub(r"://[^/@\s]+@", "://***@", " ".join(words))  # no userinfo of a URL
    return text if len(text) <= 200 else text[:197] + "..."


_sha256: Callable[[bytes], Any]
try:
    # What the standard library's own random module does: the built-in SHA-256, not hashlib,
    # which loads OpenSSL (~2 ms of every write's start-up, issue 12); the same digest.
    from _sha256 import sha256 as _sha256  # type: ignore[import-not-found, no-redef]
except ImportError:  # pragma: no cover - Python 3.12 renamed it; else hashlib's
    try:
        from _sha2 import sha256 as _sha256  # type: ignore[import-not-found, no-redef]
    except ImportError:
        from hashlib import sha256 as _sha256


def this_machine() -> str:
    """Where a pid names one process: this kernel boot (``boot_id``, new at every boot, its
    own on every host) and this PID namespace (every container has its own; containers on
    one host share the boot id). A short hash; "" where it cannot be read (not Linux)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    if not boot or not namespace:
        return ""
    digest: str = _sha256(f"{boot} {namespace}".encode()).hexdigest()
    return digest[:16]


def process_start(pid: int) -> int | None:
    """When process ``pid`` of this PID namespace started (clock ticks after boot, field 22
    of ``/proc/PID/stat``); None if there is no such process or it is a zombie (killed, not
    yet reaped: it runs nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return str(os.getuid()) if hasattr(os, "getuid") else "?"


class PoolLease:
    """The write lease of one pool, held by this run. Use it as a context manager:

        with PoolLease(conn, conn.pool_ref, command="nightly sync") as lease:
            lease.check()          # before every write (the plan engine does it)
            ...

    ``acquire()`` waits up to ``timeout`` seconds for another run's lease (polling every
    ``poll_every``), then raises ``PoolLocked`` naming the holder. While held, a background
    thread renews it every ``renew_every`` seconds (``background=False``: call ``renew()``
    yourself). Release happens however the block ends.
    """

    def __init__(self, conn: Caller, pool: str, *, timeout: float = DEFAULT_LOCK_TIMEOUT,
                 command: str | None = None, pacer: Pacer | None = None, ttl: float = TTL,
                 renew_every: float = RENEW_EVERY, margin: float = MARGIN,
                 poll_every: float = POLL_EVERY, background: bool = True,
                 user: str | None = None, host: str | None = None,
                 pid: int | None = None, machine: str | None = None,
                 seen: Mapping[str, Any] | None = None,
                 read_keys: Callable[[], Mapping[str, Any]] | None = None,
                 beside_add: Callable[[], Any] | None = None,
                 read_back_after: ReadBackAfter | None = None) -> None:
        """``seen``: the pool's record (``master``, ``other_config``) from a read this run just
        made: a free pool is then taken in one round trip (no ``pool.get_record`` first; the
        master's clock is read alongside the add). ``read_keys``: how a take reads the lease
        keys back (``pool.other_config``), e.g. as part of the run's pre-write read.
        ``beside_add``: a call of the caller's own sent beside the first add (once; it must
        not raise), e.g. an event token older than the read-back. ``read_back_after``: the
        first add and its read-back in one round trip: given the add's call, sends it with
        the caller's read behind it (``ReadBackAfter``)."""
        self.conn = conn
        self._seen = seen
        self._read_keys = read_keys
        self._beside_add = beside_add
        self._read_back_after = read_back_after
        self._clock_pending = False
        self.pool = pool
        self.timeout = timeout
        self.pacer = pacer or Pacer()
        self.ttl = ttl
        self.renew_every = renew_every
        self.margin = margin
        self.poll_every = poll_every
        self.background = background
        self.me = LeaseHolder(id=f"{_PROCESS}-{uuid.uuid4().hex}", user=user or _user(),
                              host=host or socket.gethostname(),
                              pid=os.getpid() if pid is None else pid,
                              command=command or this_command(), started=0.0, renewed=0.0,
                              ttl=ttl,
                              machine=this_machine() if machine is None else machine,
                              pid_start=(process_start(os.getpid()) or 0) if pid is None else 0)
        self.generation = 0
        self.waited_polls = 0
        self.renewals = 0
        self._offset: float | None = None
        self._confirmed_at = 0.0
        self._lost = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- the pool master's clock ------------------------------------------------------------

    def server_now(self) -> float:
        """Now on the master's clock (seconds since the epoch), from our monotonic clock."""
        if self._offset is None:
            raise RuntimeError("server_now() before the first read of the lease")
        return self.pacer.clock() + self._offset

    def _measure_offset(self, master: str) -> None:
        before = self.pacer.clock()
        try:
            answer: Any = self.conn.call("host.get_servertime", master)
        except XapiFailure as exc:
            # A host without get_servertime: our own wall clock, and skew between machines
            # then counts against the margin (docs/unattended.md says so).
            log.warning("host.get_servertime refused (%s): judging the lease on this "
                        "machine's clock", exc.code)
            answer = None
        self._set_offset(answer, before, self.pacer.clock())

    def _set_offset(self, answer: Any, before: float, after: float) -> None:
        """The offset from our monotonic clock to the master's, from its ``get_servertime``
        answer (``None``: this machine's wall clock) received between ``before`` and
        ``after``."""
        if answer is None:
            stamp = _dt.datetime.now(_dt.UTC).timestamp()
        else:
            stamp = parse_datetime(answer).timestamp()
            stamp += 0.5  # XAPI's datetimes have whole seconds: the middle of that second
        self._offset = stamp - (before + after) / 2

    def _first_read(self) -> Any:
        """The pool's record; the first time also the master's clock, in the same round trip
        when the connection sends calls at once (``call_many``): the pool's master is known
        from the login, and ``host.get_servertime`` of any live member answers alike."""
        master = getattr(getattr(self.conn, "session", None), "master_ref", None)
        seen, self._seen = self._seen, None
        if seen is not None and self._offset is None and isinstance(master, str) and master:
            # The master's clock is read alongside the take (``_take``); until then, ours.
            self._clock_pending = True
            self._set_offset(None, self.pacer.clock(), self.pacer.clock())
            return seen
        many = getattr(self.conn, "call_many", None)
        if self._offset is not None or many is None or not isinstance(master, str) or not master:
            record = self.conn.call("pool.get_record", self.pool)
            if self._offset is None:
                self._measure_offset(str(record["master"]))
            return record
        before = self.pacer.clock()
        try:
            record, stamp = many([("pool.get_record", (self.pool,)),
                                  ("host.get_servertime", (master,))])
        except XapiFailure:  # either refused: one at a time, as without call_many
            record = self.conn.call("pool.get_record", self.pool)
            self._measure_offset(str(record["master"]))
            return record
        self._set_offset(stamp, before, self.pacer.clock())
        return record

    def _master(self) -> str:
        master = getattr(getattr(self.conn, "session", None), "master_ref", "")
        if not master:
            master = self.conn.call("pool.get_record", self.pool)["master"]
        return str(master)

    def _servertime(self) -> Any:
        """The master's ``host.get_servertime`` (``None`` if refused: this machine's clock)."""
        try:
            return self.conn.call("host.get_servertime", self._master())
        except XapiFailure as exc:
            log.warning("host.get_servertime refused (%s): judging the lease on this "
                        "machine's clock", exc.code)
            return None

    def _read_back(self) -> dict[int, str]:
        if self._read_keys is None:
            return self._read()
        return _lease_keys(self._read_keys())

    # --- reading the lease keys ---------------------------------------------------------------

    def _read(self) -> dict[int, str]:
        config = self.conn.call("pool.get_other_config", self.pool)
        return _lease_keys(config)

    def _add(self, generation: int, record: LeaseHolder) -> bool:
        try:
            self.conn.call("pool.add_to_other_config", self.pool,
                           f"{LEASE_PREFIX}{generation}", record.to_value())
        except XapiFailure as exc:
            if exc.code == "MAP_DUPLICATE_KEY":
                return False
            raise
        return True

    def _add_then_read(self, generation: int, record: LeaseHolder, read_after: ReadBackAfter
                       ) -> tuple[bool, dict[int, str] | None]:
        """``_add`` with the read-back sent behind it: whether the key was added, and the
        lease keys read after it (``None`` when it was not added)."""
        added, config = read_after(("pool.add_to_other_config", (
            self.pool, f"{LEASE_PREFIX}{generation}", record.to_value())))
        if isinstance(added, XapiFailure):
            if added.code == "MAP_DUPLICATE_KEY":
                return False, None
            raise added
        if isinstance(config, BaseException):
            # The key is ours (the add went through) but the lease is not confirmed: take
            # it back rather than leave it to expire, then fail as the read did.
            try:
                self._remove(generation)
            except (XapiFailure, TransportError) as exc:
                log.warning("could not take back the lease key %s%d: %s", LEASE_PREFIX,
                            generation, exc)
            raise config
        return True, _lease_keys(config)

    def _remove(self, generation: int) -> None:
        self.conn.call("pool.remove_from_other_config", self.pool, f"{LEASE_PREFIX}{generation}")

    # --- acquire ------------------------------------------------------------------------------

    def acquire(self) -> None:
        """Take the lease, waiting up to ``timeout`` for a live holder to let go."""
        self._stop.clear()
        record = self._first_read()
        keys = _lease_keys(record.get("other_config", {}))
        deadline = self.pacer.clock() + self.timeout
        holder: LeaseHolder | None = None
        while True:
            if not keys:
                if self._take(1, None, None):
                    return
            else:
                if self._clock_pending:  # judging another run's lease: the master's clock
                    self._clock_pending = False
                    self._measure_offset(self._master())
                top = max(keys)
                holder = LeaseHolder.from_value(keys[top])
                if holder.expired(self.server_now()) or _orphan(holder) or holder.gone():
                    log.warning("taking over a pool lease whose run is gone: %s",
                                holder.describe(self.server_now()))
                    if self._take(top + 1, top, keys[top]):
                        return
                elif holder.id == self.me.id:
                    raise RuntimeError("acquire() of a lease this run already holds")
            remaining = deadline - self.pacer.clock()
            if remaining <= 0 and holder is not None:
                raise PoolLocked(_locked_message(holder, self.server_now(), self.timeout),
                                 holder=holder)
            self.waited_polls += 1
            self.pacer.wait(self._stop, max(0.0, min(self.poll_every, remaining)))
            keys = self._read()
            if not keys:
                holder = None

    def _take(self, generation: int, before: int | None, seen: str | None) -> bool:
        """Add our key at ``generation`` and read back; True if the lease is now ours."""
        sent = self.pacer.clock()
        now = sent + self._offset_value()
        mine = replace(self.me, started=now, renewed=now)
        read_after, self._read_back_after = self._read_back_after, None
        calls: list[Callable[[], Any]] = [
            (lambda: self._add(generation, mine)) if read_after is None
            else (lambda: self._add_then_read(generation, mine, read_after))]
        clock, self._clock_pending = self._clock_pending, False
        if clock:
            calls.append(self._servertime)
        if self._beside_add is not None:
            calls.append(self._beside_add)
            self._beside_add = None
        answers = run_beside(calls)
        if read_after is None:
            added, keys = bool(answers[0]), None
        else:
            added, keys = answers[0]
        skewed = False
        if clock:
            self._set_offset(answers[1], sent, self.pacer.clock())
            skewed = abs(sent + self._offset_value() - now) > CLOCK_SLACK
        if not added:
            return False
        if keys is None:
            keys = self._read_back()
        ours = (keys.get(generation) == mine.to_value() and max(keys) == generation
                and (before is None or keys.get(before) == seen))
        if not ours:
            if keys.get(generation) == mine.to_value():
                self._remove(generation)
            return False
        for old in sorted(k for k in keys if k < generation):
            self._remove(old)
        self.me = mine
        self.generation = generation
        self._confirmed_at = sent
        with _LIVE_LOCK:
            _LIVE.add(mine.id)
        self._lost = ""
        if skewed:
            # Our record's time was this machine's clock, which is off the master's: renew at
            # once, so the record says the master's time as the others judge it.
            self.renew()
        if self.background:
            self._stop.clear()
            self._thread = threading.Thread(target=self._renew_loop, daemon=True,
                                            name=f"xapictl-lease-{self.pool}")
            self._thread.start()
        return True

    def _offset_value(self) -> float:
        if self._offset is None:
            raise RuntimeError("the lease was not read yet")
        return self._offset

    # --- while held ---------------------------------------------------------------------------

    @property
    def held(self) -> bool:
        return self.generation > 0 and not self._lost and self._fresh()

    def _fresh(self) -> bool:
        return self.pacer.clock() < self._confirmed_at + self.ttl - self.margin

    def check(self) -> None:
        """Raise ``LeaseLost`` unless the lease is surely still ours (no request sent)."""
        if self.generation == 0:
            raise LeaseLost("this run does not hold the pool's write lease")
        if self._lost:
            raise LeaseLost(self._lost)
        if not self._fresh():
            ago = self.pacer.clock() - self._confirmed_at
            self._lost = (f"the pool's write lease was last confirmed {ago:.0f} s ago (it lives "
                          f"{self.ttl:.0f} s): this run was paused or cut off from the pool, "
                          "and another run may hold the lease now")
            raise LeaseLost(self._lost)

    def renew(self) -> None:
        """One renewal: the next generation with a fresh time, read back, the old key
        removed. A renewal that finds the lease gone marks it lost; one that fails to reach
        the pool is tried again at the next tick (the lease is lost once it is too old)."""
        with self._lock:
            self.check()
            sent = self.pacer.clock()
            record = replace(self.me, renewed=sent + self._offset_value())
            nxt = self.generation + 1
            if not self._add(nxt, record):
                self._lost = "another run took over the pool's write lease"
                raise LeaseLost(self._lost)
            keys = self._read()
            if keys.get(self.generation) != self.me.to_value():
                # Our key was removed under us (`xapictl pool unlock`, by hand): not ours now.
                self._remove(nxt)
                self._lost = "the pool's write lease was removed from the pool by someone else"
                raise LeaseLost(self._lost)
            if keys.get(nxt) != record.to_value() or max(keys) != nxt:
                self._lost = "another run took over the pool's write lease"
                raise LeaseLost(self._lost)
            self._remove(self.generation)
            self.generation = nxt
            self.me = record
            self._confirmed_at = sent
            self.renewals += 1

    def _renew_loop(self) -> None:
        while not self.pacer.wait(self._stop, self.renew_every):
            try:
                self.renew()
            except LeaseLost as exc:
                log.error("%s", exc)
                return
            except Exception as exc:  # the pool did not answer: try at the next tick
                log.warning("renewing the pool's write lease failed: %s", exc)

    # --- release ------------------------------------------------------------------------------

    def release(self, send: Callable[[str, tuple[Any, ...]], Any] | None = None) -> None:
        """Stop renewing and remove our key, if the lease is surely still ours (a lost lease
        is left alone: its key may already be another run's, and it expires by itself).
        ``send``: how the removal goes out (default: a call of its own), e.g. queued with the
        caller's last requests; the lease counts as released either way."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self._lock:
            try:
                if self.generation and not self._lost and self._fresh():
                    if send is None:
                        self._remove(self.generation)
                    else:
                        send("pool.remove_from_other_config",
                             (self.pool, f"{LEASE_PREFIX}{self.generation}"))
            finally:
                self.generation = 0
                with _LIVE_LOCK:
                    _LIVE.discard(self.me.id)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # The run's own outcome stands (Ctrl-C included): a pool that cannot be reached to
        # remove the key leaves a lease that expires by itself (or that this process takes
        # over at once, see ``_LIVE``).
        try:
            self.release()
        except Exception as failed:
            log.warning("could not release the pool's write lease (it expires %g s after its "
                        "last renewal): %s", self.ttl, failed)


def lease_holders(conn: Caller, pool: str) -> dict[str, LeaseHolder]:
    """The lease keys in the pool now, oldest first, with the records they hold (empty: the
    lease is free). The last one is the lease; older ones are left by runs that died."""
    keys = _lease_keys(conn.call("pool.get_other_config", pool))
    return {f"{LEASE_PREFIX}{g}": LeaseHolder.from_value(keys[g]) for g in sorted(keys)}


def break_lease(conn: Caller, pool: str, keys: Sequence[str]) -> None:
    """Remove these lease keys (``xapictl pool unlock``): for a lease whose run is surely gone.
    A live holder notices at its next renewal and stops before its next write after that."""
    for key in keys:
        if not is_lease_key(key):
            raise ValueError(f"{key!r} is not a key of the write lease")
        conn.call("pool.remove_from_other_config", pool, key)


def _orphan(holder: LeaseHolder) -> bool:
    """A lease taken by this process that no run of it holds any more."""
    if not holder.id.startswith(f"{_PROCESS}-"):
        return False
    with _LIVE_LOCK:
        return holder.id not in _LIVE


def _lease_keys(config: Any) -> dict[int, str]:
    found: dict[int, str] = {}
    for key, value in dict(config or {}).items():
        if is_lease_key(str(key)):
            tail = str(key)[len(LEASE_PREFIX):]
            if tail.isascii() and tail.isdigit():
                found[int(tail)] = str(value)
    return found


def _locked_message(holder: LeaseHolder, server_now: float, waited: float) -> str:
    return (f"the pool is locked by another run: {holder.describe(server_now)}. Waited "
            f"{waited:g} s (--lock-timeout sets how long). If that run is dead, its lease "
            f"expires {holder.ttl:g} s after its last renewal; nothing was sent")


LeaseTaker = Callable[..., PoolLease]

__all__ = ["DEFAULT_LOCK_TIMEOUT", "LEASE_PREFIX", "LeaseHolder", "LeaseTaker", "PoolLease",
           "break_lease", "is_lease_call", "is_lease_key", "lease_holders", "process_start",
           "this_command", "this_machine"]
