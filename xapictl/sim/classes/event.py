"""Events (REFERENCE §1.13): ``event.from`` and friends, read from the state's change log.

``event.from`` and ``event.next`` block, so the dispatcher calls them WITHOUT the state lock;
they take it through ``state.changed`` and release it while waiting, so other calls go on.
Coalescing per object follows XAPI: created after the token → one ``add`` (current snapshot);
existed before and changed → one ``mod``; deleted → ``del`` without snapshot, only if it
existed before the token; created and deleted within the window → nothing.

Messages (the ``message`` class) are XAPI's alerts, kept outside the database with their own
counter: a token is ``<database generation>,<message generation>``, and ``message`` events
are read against the second part. The simulator keeps messages in its state and numbers
every change from one counter, so the two parts are the highest generation among the
non-message and among the message changes reported; the second stays 0 unless ``message``
is subscribed.
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from xapictl.model._flags import GEN_EVENTS
from xapictl.sim.errors import SimFailure
from xapictl.sim.generic import record_copy
from xapictl.sim.registry import CallContext, handles
from xapictl.sim.state import SimState
from xapictl.sim.values import I4, int64_of_string

BATCH_DELAY = 0.05
"""Seconds XAPI waits after the first matching event to batch more (0 for task-only)."""

POLL_INTERVAL = 0.25
"""Seconds between checks for other processes' writes while waiting on a shared state file."""


# State -> a function that takes in other processes' commits (set by a persisted simulator).
_refreshers: weakref.WeakKeyDictionary[SimState, Callable[[], None]] = \
    weakref.WeakKeyDictionary()


def set_refresher(state: SimState, refresh: Callable[[], None] | None) -> None:
    """Let blocked ``event.from``/``event.next`` calls on ``state`` see other processes'
    writes: they call ``refresh`` every ``POLL_INTERVAL`` while waiting (None: stop)."""
    if refresh is None:
        _refreshers.pop(state, None)
    else:
        _refreshers[state] = refresh


def _wait(state: SimState, seconds: float) -> None:
    """Wait for a change (lock held; released while waiting), polling a shared file."""
    refresh = _refreshers.get(state)
    if refresh is None:
        state.changed.wait(seconds)
        return
    state.changed.wait(min(seconds, POLL_INTERVAL))
    refresh()


MESSAGE_CLASS = "message"

Token = tuple[int, int]
"""(database generation, message generation)."""


def format_token(generation: int, message_generation: int = 0) -> str:
    """``%020d,%020d``: database generation, message generation."""
    return f"{generation:020d},{message_generation:020d}"


def parse_token(token: str) -> Token | None:
    """The generations a token stands for; None for ``""`` (from the beginning).

    xapi_event.ml ``Token.of_string``: split on ``,``; exactly two parts, each read by
    ``Int64.of_string`` (so ``5,0``, ``0x10,0`` and ``-1,0`` are tokens too); ``""`` alone
    is (0, 0). Anything else is ``EVENT_FROM_TOKEN_PARSE_FAILURE [token]``."""
    if token == "":
        return None
    parts = token.split(",")
    try:
        if len(parts) != 2:
            raise ValueError(token)
        return int64_of_string(parts[0]), int64_of_string(parts[1])
    except ValueError:
        raise SimFailure("EVENT_FROM_TOKEN_PARSE_FAILURE", token) from None


@dataclass(frozen=True, slots=True)
class Subscription:
    """Parsed ``classes`` argument: ``*``, lower-cased class names, ``class/ref`` pairs."""

    everything: bool = False
    classes: frozenset[str] = frozenset()
    objects: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Subscription:
        everything = False
        classes: set[str] = set()
        objects: set[tuple[str, str]] = set()
        for entry in entries:
            if entry == "*":
                everything = True
            elif "/" in entry:
                name, ref = entry.split("/", 1)
                objects.add((name.lower(), ref))
            else:
                classes.add(entry.lower())
        return cls(everything, frozenset(classes), frozenset(objects))

    def matches(self, cls: str, ref: str) -> bool:
        low = cls.lower()
        return self.everything or low in self.classes or (low, ref) in self.objects

    def wants_class(self, cls: str) -> bool:
        low = cls.lower()
        return self.everything or low in self.classes or any(c == low for c, _ in self.objects)

    @property
    def task_only(self) -> bool:
        names = self.classes | {c for c, _ in self.objects}
        return not self.everything and names <= {"task"} and bool(names)


def _event(gen: int, cls: str, ref: str, operation: str, snapshot: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"id": str(gen), "timestamp": "0.0", "class": cls.lower(),
                             "operation": operation, "ref": ref}
    if operation != "del":
        event["snapshot"] = snapshot
    return event


def collect(state: SimState, subs: Subscription, since: Token | None
            ) -> tuple[list[Any], Token]:
    """The coalesced events after the token ``since`` (None: every object as ``add``) and the
    token to continue from. Call with the state lock held.

    Only classes whose datamodel says ``gen_events:true`` ever have events (xapi_event.ml
    ``from_inner`` and ``generate_events_for``): ``session``, ``user``, ``secret``,
    ``data_source`` … never appear, whatever the subscription — so no caller, however weak
    its role, learns another session's ref through events."""
    events: list[Any] = []
    messages = subs.wants_class(MESSAGE_CLASS)
    if since is None:
        for cls in state.dm.classes:
            if cls not in GEN_EVENTS or not subs.wants_class(cls):
                continue
            for ref, record in state.all(cls).items():
                if subs.matches(cls, ref):
                    events.append(_event(state.generation, cls, ref, "add",
                                          record_copy(record, cls)))
        return events, (state.generation, state.generation if messages else 0)
    top_db, top_msg = since
    if not messages:
        top_msg = 0
    oldest = min(since) if messages else since[0]
    for change, created_at in state.changes_since(oldest):
        if change.cls not in GEN_EVENTS or not subs.matches(change.cls, change.ref):
            continue
        is_message = change.cls == MESSAGE_CLASS
        after = since[1] if is_message else since[0]
        if change.generation <= after:
            continue
        born_in_window = created_at is not None and created_at > after
        if change.operation == "del":
            if born_in_window:
                continue
            events.append(_event(change.generation, change.cls, change.ref, "del", None))
        else:
            live = state.all(change.cls).get(change.ref)
            if live is None:
                continue
            operation = "add" if born_in_window else "mod"
            events.append(_event(change.generation, change.cls, change.ref, operation,
                                 record_copy(live, change.cls)))
        if is_message:
            top_msg = max(top_msg, change.generation)
        else:
            top_db = max(top_db, change.generation)
    events.reverse()  # oldest first, as XAPI lists them
    return events, (top_db, top_msg)


def valid_ref_counts(state: SimState) -> dict[str, I4]:
    """Row counts of every table, lower-cased, as ``<i4>`` (§1.13)."""
    return {name.lower(): I4(state.count(name)) for name, info in state.dm.classes.items()
            if info.fields}


def _require_session(ctx: CallContext) -> None:
    if not ctx.state.exists("session", ctx.session.ref):
        raise SimFailure("SESSION_INVALID", ctx.session.ref)


@handles("event.from")
def from_(ctx: CallContext, classes: list[str], token: str, timeout: float) -> dict[str, Any]:
    """Block until a subscribed change after ``token`` exists, or ``timeout`` seconds pass."""
    since = parse_token(token)
    subs = Subscription.parse(classes)
    state = ctx.state
    deadline = time.monotonic() + max(0.0, float(timeout))
    batch = 0.0 if subs.task_only else BATCH_DELAY
    with state.changed:
        _require_session(ctx)
        events, top = collect(state, subs, since)
        if since is None and events:
            return _batch(state, events, top)
        since = top if since is None else since
        top = since if subs.wants_class(MESSAGE_CLASS) else (since[0], 0)
        while not events:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return _batch(state, [], top)
            _wait(state, remaining)
            _require_session(ctx)
            events, top = collect(state, subs, since)
        batch_end = min(time.monotonic() + batch, max(deadline, time.monotonic()))
        while (remaining := batch_end - time.monotonic()) > 0:
            state.changed.wait(remaining)
        _require_session(ctx)
        events, top = collect(state, subs, since)
        return _batch(state, events, top)


def _batch(state: SimState, events: list[Any], top: Token) -> dict[str, Any]:
    return {"events": events, "valid_ref_counts": valid_ref_counts(state),
            "token": format_token(*top)}


@handles("event.inject")
def inject(ctx: CallContext, class_: str, ref: str) -> str:
    """xapi_event.ml ``inject``: the ref's table must be ``class_`` exactly (the table name
    is the class's datamodel spelling: ``VM``, not ``vm``), else ``HANDLE_INVALID [class,
    ref]``; the row is touched and the token is (the generation before the touch - 1, 0)."""
    if class_ not in ctx.state.dm.classes or not ctx.state.exists(class_, ref):
        raise SimFailure("HANDLE_INVALID", class_, ref)
    before = ctx.state.generation
    ctx.state.touch(class_, ref)
    return format_token(before - 1)


@handles("event.get_current_id")
def get_current_id(ctx: CallContext) -> int:
    return ctx.state.generation


# --- the legacy register / next / unregister API ------------------------------------------

@dataclass(slots=True)
class _Registration:
    entries: set[str]
    position: int


_registrations: dict[str, _Registration] = {}
_registrations_lock = threading.Lock()


@handles("event.register")
def register(ctx: CallContext, classes: list[str]) -> None:
    with _registrations_lock:
        reg = _registrations.setdefault(ctx.session.ref,
                                        _Registration(set(), ctx.state.generation))
        reg.entries.update(classes)


@handles("event.unregister")
def unregister(ctx: CallContext, classes: list[str]) -> None:
    with _registrations_lock:
        reg = _registrations.get(ctx.session.ref)
        if reg is not None:
            reg.entries.difference_update(classes)


@handles("event.next")
def next_(ctx: CallContext) -> list[Any]:
    """Block until a registered change; the legacy events carry a Unix timestamp."""
    with _registrations_lock:
        reg = _registrations.get(ctx.session.ref)
    if reg is None:
        trackid = hashlib.md5(ctx.session.ref.encode(), usedforsecurity=False).hexdigest()
        raise SimFailure("SESSION_NOT_REGISTERED", f"trackid={trackid}")
    state = ctx.state
    with state.changed:
        while True:
            _require_session(ctx)
            since = (reg.position, reg.position)
            events, top = collect(state, Subscription.parse(reg.entries), since)
            reg.position = max(*top, reg.position)
            if events:
                stamp = f"{time.time():.6f}"
                for event in events:
                    event["timestamp"] = stamp
                return events
            _wait(state, 30.0)


def forget_session(session: str) -> None:
    """Drop a logged-out session's legacy registration."""
    with _registrations_lock:
        _registrations.pop(session, None)


__all__ = ["BATCH_DELAY", "MESSAGE_CLASS", "Subscription", "Token", "collect", "format_token",
           "parse_token", "valid_ref_counts"]
