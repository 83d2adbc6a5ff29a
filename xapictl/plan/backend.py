"""The XAPI backend: reads a pool into a ``PoolSnapshot`` and sends the plan's calls.

It adapts a connection (``xapictl.connect(...)``, contract 4) to the plan engine without
importing the client: anything with ``call``, ``snapshot`` and (optionally) ``permissions``
fits, which is also how tests drive it. Every write goes through the audit log.

A run that writes holds the pool's write lease (``writing()``): the connection's ``lease``
(``xapictl.client.lease``, one writer per pool) is taken before the fresh pre-write read and
kept until verify reads the pool (``release_beside``), and every write asks it first whether
it is still ours.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from xapictl._batch import announce_beside, member
from xapictl._log import logger
from xapictl.errors import OutcomeUnknown, TransportError, XapiFailure
from xapictl.plan.audit import AuditLog, host_of, is_write
from xapictl.plan.desired import DesiredState
from xapictl.plan.scope import Scope, closed
from xapictl.state.events import apply_events
from xapictl.state.snapshot import ON_DEMAND_CLASSES, SNAPSHOT_CLASSES, PoolSnapshot

log = logger("xapictl.plan")

T = TypeVar("T")


class Beside(Generic[T]):
    """``work()`` running on a thread of its own while the caller sends something else, so
    both are one round trip. ``result()`` waits for it: its value, or ``None`` when it
    raised (logged; the caller then does without, e.g. reads again itself). A caller that
    stops early (an error, Ctrl-C) just leaves it to finish."""

    def __init__(self, work: Callable[[], T], *, name: str = "xapictl-beside") -> None:
        self._work = work
        self._value: T | None = None
        # announced as a batch of two: its first request and the caller's next one
        self._slot, self._unannounce = announce_beside()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with member([self._slot]):
                self._value = self._work()
        except Exception as exc:
            log.debug("work sent beside another call failed: %s", exc)

    def result(self) -> T | None:
        self._unannounce()
        self._thread.join()
        return self._value


class Connection(Protocol):
    def call(self, method: str, *args: Any) -> Any: ...

    def snapshot(self) -> PoolSnapshot: ...


class Lease(Protocol):
    """What the plan engine needs of a pool's write lease (``xapictl.client.lease.PoolLease``
    fits): a context manager that takes and releases it, and ``check`` before each write."""

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: Any) -> Any: ...

    def check(self) -> None: ...


LeaseTaker = Callable[..., Lease]


class AuditedCaller:
    """``call`` that records every write in the audit log, written ahead: its intent before it
    is sent, its outcome (``ok``, ``failed``, ``unknown``) after; and checks first that the run
    still holds the pool's write lease (``LeaseLost`` otherwise). ``writes`` counts the writes
    sent; ``snapshot`` (the latest read) names the host each call acts on."""

    def __init__(self, conn: Connection, audit: AuditLog) -> None:
        self.conn = conn
        self.audit = audit
        self.step = ""
        self.writes = 0
        self.lease: Lease | None = None
        self.changed = 0
        """Writes that may have taken effect: answered ok, or whose answer was lost."""
        self.snapshot: PoolSnapshot | None = None

    def _host(self, method: str, args: tuple[Any, ...]) -> str:
        return host_of(self.snapshot, method, args) or str(getattr(self.conn, "url", ""))

    def call(self, method: str, *args: Any) -> Any:
        if not is_write(method):
            return self.conn.call(method, *args)
        if self.lease is not None:
            self.lease.check()
        self.writes += 1
        # From the moment it may leave, a write may take effect: only XAPI's refusal says not.
        self.changed += 1
        host = self._host(method, args)
        number = self.audit.intent(method, args, step=self.step, host=host)
        try:
            result = self.conn.call(method, *args)
        except XapiFailure as exc:
            self.changed -= 1
            self.audit.write(method, args, "failed", error=exc, step=self.step, host=host,
                             write=number)
            raise
        except BaseException as exc:  # lost answer, Ctrl-C mid-call: it may have happened
            self.audit.write(method, args, "unknown", error=exc, step=self.step, host=host,
                             write=number)
            raise
        self.audit.write(method, args, "ok", result=result, step=self.step, host=host,
                         write=number)
        return result


class XapiBackend:
    """The plan engine's view of one pool."""

    name = "xapi"

    def __init__(self, conn: Connection, *, audit: AuditLog | None = None,
                 lock_timeout: float | None = None, command: str | None = None,
                 lease: LeaseTaker | None = None, closing: bool = False) -> None:
        """``lock_timeout``: seconds to wait for another run's write lease (``None``: the
        default, a few seconds); ``command`` names this run to the others; ``lease`` takes
        the lease (default: the connection's ``lease``; a connection without one, a test's
        fake, writes without a lease). ``closing``: the connection is closed right after the
        run, so its last round trip (verify's read and the lease's release) may carry the
        logout too (``release_beside``)."""
        self.closing = closing
        self._finishing: Any = None
        """The lease ``release_beside`` leaves to verify's first read to release."""
        self.conn = conn
        self.audit = audit if audit is not None else AuditLog()
        self.caller = AuditedCaller(conn, self.audit)
        self.lock_timeout = lock_timeout
        self.command = command
        self._permissions: frozenset[str] | None = None
        self._fresh: PoolSnapshot | None = None
        self._token: str | None = None
        self._last_read: tuple[Any, PoolSnapshot] | None = None
        """The raw records of the latest read and its snapshot (``_built``)."""
        self._since: tuple[PoolSnapshot, str, tuple[str, ...]] | None = None
        """The pre-write read, a token older than it, and its classes (``current``)."""
        self.take_lease: LeaseTaker | None = lease if lease is not None else getattr(
            conn, "lease", None)
        self.scope: Scope = {}
        """Per class, the records the reads of ``classes`` select (``plan.scope``; a class it
        does not name is read whole): set by ``converge`` for its recipe."""

    @contextlib.contextmanager
    def writing(self, classes: Sequence[str] | None = None) -> Iterator[None]:
        """Hold the pool's write lease for the block (re-entrant: an inner block under an
        outer one shares its lease). Released however the block ends, Ctrl-C included.

        With ``classes`` (the block's pre-write read), the lease is taken from the pool's
        record in the latest read (a free pool: one round trip), and read back by reading
        those classes, which is the pre-write read: ``fresh()`` hands it over."""
        if self.caller.lease is not None or self.take_lease is None:
            yield
            return
        options: dict[str, Any] = {}
        last = self.caller.snapshot
        if classes is not None and last is not None and last.pools:
            pool = last.pool
            options = {"seen": {"master": str(pool.master),
                                "other_config": dict(pool.other_config)}}
            if self._pipelines:
                options["read_back_after"] = lambda add: self._read_back_after(add, classes)
            else:
                options["read_keys"] = lambda: self._read_back(classes)
                if callable(getattr(self.conn, "event_token", None)) and callable(
                        getattr(self.conn, "events", None)):
                    options["beside_add"] = self._take_token
        with self.take_lease(timeout=self.lock_timeout, command=self.command,
                             **options) as lease:
            self.caller.lease = lease
            try:
                yield
            finally:
                self.caller.lease = None
                self._fresh = None
                self._since = None

    def _take_token(self) -> None:
        """An event token, sent beside the lease's add: older than the read-back (the
        pre-write read), so the changes since it, applied to that read, are the pool now."""
        try:
            self._token = str(self.conn.event_token())  # type: ignore[attr-defined]
        except Exception as exc:  # no token: the reads after the writes are whole
            log.debug("no event token beside the lease's add: %s", exc)
            self._token = None

    def release_beside(self, read: Callable[[], T]) -> T:
        """``read()`` with the write lease's release sent beside it (one round trip for
        both): for the read after the last write (verify). The lease is released however the
        read ends; writes after this raise ``LeaseLost`` (the lease is not ours any more)."""
        lease = self.caller.lease
        if lease is None:
            return read()
        if self.closing and self._since is not None and self._pipelines:
            # verify's first read sends the release and the logout behind it (``_finish``)
            self._finishing = lease
            try:
                return read()
            finally:
                finishing, self._finishing = self._finishing, None
                if finishing is not None:  # verify did not read: release as a block would
                    _released(finishing)
        releasing = Beside(lambda: _released(lease), name="xapictl-release")
        try:
            return read()
        finally:
            releasing.result()

    def _read_back(self, classes: Sequence[str]) -> Any:
        snap = self._fresh = self.collect(classes)
        token, self._token = self._token, None
        self._since = (snap, token, tuple(classes)) if token is not None else None
        return dict(snap.pool.other_config) if snap.pools else {}

    @property
    def _pipelines(self) -> bool:
        """Whether the connection sends calls in order in one round trip
        (``Connection.pipelines``); a connection without the notion does not."""
        return getattr(self.conn, "pipelines", False) is True

    def _read_back_after(self, add: tuple[str, Sequence[Any]], classes: Sequence[str]
                         ) -> tuple[Any, Mapping[str, Any] | XapiFailure]:
        """The lease's ``add`` and the pre-write read of ``classes`` in one round trip: sent
        back to back on one connection (``read_all_after``), with an event token between
        them, so XAPI serves the read after the add (it is the lease's read-back) and the
        token before the read (``current()`` follows on from it). The add's raw outcome
        (its ``XapiFailure`` if refused), and the pool's ``other_config`` as read (or the
        read's failure). The read counts as the pre-write read only when the add went
        through."""
        where = self._where(classes)
        answers, raw = self.conn.read_all_after(  # type: ignore[attr-defined]
            [add, self.conn.token_call()], list(classes), where or None)  # type: ignore[attr-defined]
        added, token = answers
        if isinstance(added, XapiFailure) or isinstance(raw, XapiFailure):
            return added, raw if isinstance(raw, XapiFailure) else {}
        snap = self._snapshot_of(raw, where, classes,
                                 self.conn.read_all)  # type: ignore[attr-defined]
        self._fresh = snap
        self._since = ((snap, str(token), tuple(classes)) if not isinstance(token, XapiFailure)
                       else None)
        return added, dict(snap.pool.other_config) if snap.pools else {}

    def current(self, wanted: Sequence[str] = ()) -> PoolSnapshot | None:
        """The pool now, from the changes since the pre-write read: one small ``event.from``
        (from a token taken before that read) applied to it, instead of reading every record
        of its classes again. ``None`` when there is no such read and token (not under a
        lease taken from a plan's read, a connection without events), when it lacks one of
        the ``wanted`` classes, or when XAPI refuses the token (``EVENTS_LOST`` …): read
        whole then."""
        since = self._since
        if since is None or not set(wanted) <= set(since[2]):
            return None
        base, token, classes = since
        try:
            batch = self.conn.events(  # type: ignore[attr-defined]
                [c.lower() for c in classes], token, 0.0)
        except XapiFailure as exc:
            log.debug("event.from refused the token (%s): reading whole", exc.code)
            return None
        return apply_events(base, batch.events, batch.token)

    def _finish(self, classes: Sequence[str]) -> PoolSnapshot | None:
        """``current()`` as the run's last round trip: the changes since the pre-write read,
        the lease's release and the logout, in that order on one connection
        (``events_then_logout``). The lease is released whatever the answers; a failed
        removal leaves a key that expires by itself, as a failed release always did."""
        lease, self._finishing = self._finishing, None
        since = self._since
        if since is None or not set(classes) <= set(since[2]):
            _released(lease)
            return None
        base, token, read = since
        removal: list[tuple[str, tuple[Any, ...]]] = []
        lease.release(send=lambda method, args: removal.append((method, args)))
        batch: Any = None
        try:
            batch, removed = self.conn.events_then_logout(  # type: ignore[attr-defined]
                [c.lower() for c in read], token, removal)
        except OutcomeUnknown:
            # The read's answer was lost, so the removal behind it may not have run. A lease
            # key removed twice is no harm (XAPI ignores a key that is not there, and a run
            # that took over wrote the next generation): send it again, then read whole.
            removed = [self._outcome(method, args) for method, args in removal]
        for answer in removed:
            if isinstance(answer, (XapiFailure, TransportError)):
                log.warning("could not release the pool's write lease (it expires by itself):"
                            " %s", answer)
        if batch is None:
            return None
        if isinstance(batch, XapiFailure):
            log.debug("event.from refused the token (%s): reading whole", batch.code)
            return None
        return apply_events(base, batch.events, batch.token)

    def _outcome(self, method: str, args: Sequence[Any]) -> Any:
        """A call's result, or the failure it raised."""
        try:
            return self.conn.call(method, *args)
        except (XapiFailure, TransportError) as exc:
            return exc

    def after_writes(self, classes: Sequence[str]) -> Callable[[], PoolSnapshot]:
        """Verify's reads: the first is ``current()`` when it can be, the others (verify
        reads again when the pool does not match yet) whole reads of ``classes``."""
        first = [True]

        def read() -> PoolSnapshot:
            if first[0]:
                first[0] = False
                snap = self._finish(classes) if self._finishing is not None \
                    else self.current(classes)
                if snap is not None:
                    self.caller.snapshot = snap
                    return snap
            return self.collect(classes)

        return read

    def fresh(self, classes: Sequence[str]) -> PoolSnapshot:
        """The read that confirmed the lease just taken (once), else a new read of
        ``classes``: either way made under the lease."""
        snap, self._fresh = self._fresh, None
        return snap if snap is not None else self.collect(classes)

    def collect(self, classes: Sequence[str] | None = None) -> PoolSnapshot:
        """One round of ``get_all_records`` per class (the client sends them at once): every
        class of the snapshot (with an event token), or just ``classes`` (the others' tables
        empty, no token: one round trip; the first such read carries the session's record
        too, so ``permissions`` costs no request of its own), each class the ``scope`` names
        only as far as it selects (``get_all_records_where``). A connection without
        ``read_all`` is read whole."""
        read_all = getattr(self.conn, "read_all", None)
        if classes is None or read_all is None:
            snap = self.conn.snapshot()
        else:
            snap = self._scoped(read_all, classes)
            if self.caller.lease is None and (CAPACITY_TRIGGERS & set(classes)):
                # for the plan's VF checks only, not under the write lease
                from xapictl.state.capacity import with_sriov_capacity

                snap = with_sriov_capacity(self.conn, snap)
        self.caller.snapshot = snap
        return snap

    def _scoped(self, read_all: Callable[..., Any], classes: Sequence[str]) -> PoolSnapshot:
        """``classes`` read as ``scope`` says (the first read with the session's record);
        read again whole when the answer is not ``closed`` (not what the scope promises)."""
        where = self._where(classes)
        options = {"where": where} if where else {}
        with_perms = getattr(self.conn, "read_all_with_permissions", None)
        if self._permissions is None and with_perms is not None:
            raw, perms = with_perms(list(classes), **options)
            self._permissions = frozenset(p.lower() for p in perms)
        else:
            raw = read_all(list(classes), **options)
        return self._snapshot_of(raw, where, classes, read_all)

    def _where(self, classes: Sequence[str]) -> dict[str, str]:
        """What ``scope`` selects of ``classes`` (``get_all_records_where`` expressions)."""
        return {c: e for c, e in self.scope.items() if c in classes}

    def _snapshot_of(self, raw: Any, where: dict[str, str], classes: Sequence[str],
                     read_all: Callable[..., Any]) -> PoolSnapshot:
        """The snapshot of a read scoped by ``where``, read again whole (``read_all``) when
        the answer is not ``closed`` (not what the scope promises)."""
        snap = self._built(raw)
        if where and not closed(snap):
            log.debug("a scoped read misses what its scope promises: reading whole")
            snap = self._built(read_all(list(classes)))
        return snap

    def _built(self, raw: Any) -> PoolSnapshot:
        """The snapshot of a read, the records unchanged since the last read taken from its
        snapshot rather than decoded again (``PoolSnapshot.from_records(like=)``)."""
        snap = PoolSnapshot.from_records(raw, like=self._last_read)
        self._last_read = (raw, snap)
        return snap

    def read(self, classes: tuple[str, ...]) -> PoolSnapshot:
        """Just these classes' records (one round trip, sent at once; as far as ``scope``
        selects them); the other tables are empty (or, after a pre-write read with a token,
        ``current()``: every class of that read, as it is now). A connection without
        ``read_all`` is read whole."""
        now = self.current(classes)
        if now is not None:
            return now
        read_all = getattr(self.conn, "read_all", None)
        if read_all is None:
            return self.collect()
        return self._scoped(read_all, classes)

    @property
    def reach(self) -> Callable[[str], str | None] | None:
        """The connection's ``reaches(address)`` (whether this client gets to an address a
        step will need: a new management address), ``None`` when it cannot say."""
        found = getattr(self.conn, "reaches", None)
        return found if callable(found) else None

    def permissions(self) -> frozenset[str] | None:
        """The session's RBAC permissions, or ``None`` when the connection cannot say."""
        if self._permissions is not None:
            return self._permissions
        get = getattr(self.conn, "permissions", None)
        if get is None:
            return None
        self._permissions = frozenset(p.lower() for p in get())
        return self._permissions


def _released(lease: Any) -> None:
    """Release ``lease`` the way leaving its block does (a failure is logged: the lease then
    expires by itself)."""
    lease.__exit__(None, None, None)


GUEST_CLASSES = ("VIF", "VM", "VM_guest_metrics")
"""What only VIFs need: the largest tables of a pool (every VM and every VIF)."""
UNPLANNED_CLASSES = ("PIF_metrics",)
"""Snapshot classes no plan, step or verify looks at (a NIC's carrier and speed are for
inventories): one record per PIF, never read for a plan."""


CAPACITY_TRIGGERS = frozenset({"PCI", "VIF"})
"""A plan's read of these classes (an SR-IOV network or VIFs stated) also reads each
network_sriov's remaining VFs (``XapiBackend.collect``)."""


def classes_needed(desired: DesiredState) -> tuple[str, ...]:
    """The snapshot classes a recipe's plan, pre-write check and verify look at: all but
    ``UNPLANNED_CLASSES``, and but the guests' (``GUEST_CLASSES``) unless the recipe states
    VIFs, or a network whose MTU or removal concerns the VIFs on it (the MTU step re-plugs
    them; a removal refuses while VMs use the network), or an SR-IOV network (the VFs its
    VMs hold). ``PCI`` (``ON_DEMAND_CLASSES``) only for an SR-IOV network: the NIC models it
    compares. ``raise_trunk_mtu`` re-plugs the VIFs of the trunk's network: it is only valid
    with ``mtu``, so they are read; the VLAN and PIF records the MTU checks of
    ``diff.network`` need (a VLAN above its trunk, a trunk below its VLANs) must stay read
    for every network recipe."""
    sriov = any(n.present and n.kind == "sriov" for n in desired.networks)
    guests = sriov or bool(desired.vifs) or any(
        not n.present or n.mtu is not None for n in desired.networks)
    wanted = (*SNAPSHOT_CLASSES, *ON_DEMAND_CLASSES) if sriov else tuple(SNAPSHOT_CLASSES)
    return tuple(c for c in wanted if c not in UNPLANNED_CLASSES
                 and (guests or c not in GUEST_CLASSES))


__all__ = ["CAPACITY_TRIGGERS", "GUEST_CLASSES", "UNPLANNED_CLASSES", "AuditedCaller", "Beside",
           "Connection", "Lease", "LeaseTaker", "XapiBackend", "classes_needed"]
