"""Announced batches: requests the client sends together say so, for the simulator's gate.

A batch is a set of calls run at the same time (``xapictl.xapi.parallel``, a read sent beside a
write in ``xapictl.plan``). Each member's **first** request carries the header
``X-Xapictl-Batch: <batch-id>;n=<size>``: ``n`` requests of that id are in flight together.
A member running a batch of its own before it sent anything hands its slot to that batch's
first member, so one request can carry several, comma-separated. One-off calls, a member's
later requests (a retry, the next dependent call) and logins (which siblings wait on) carry
nothing. Real XAPI ignores headers it does not know.

The simulator's batch gate (``Control.set_batch_gate``) holds the answer of every request of a
batch until all ``n`` have reached it: siblings then always overlap in its request log, however
late a busy machine schedules one, so round trips counted from the log
(``xapictl.sim.roundtrips``) are exact; and a batch announced but not really sent in parallel
never completes, which the count reports as a failure.

Stdlib only: the client's send path and the simulator both use it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

HEADER = "X-Xapictl-Batch"

_ids = itertools.count(1)
_here = threading.local()


def _slots() -> list[str]:
    slots: list[str] | None = getattr(_here, "slots", None)
    if slots is None:
        slots = _here.slots = []
    return slots


def new_batch(size: int) -> str:
    """A process-unique slot text ``<id>;n=<size>`` for one member of a new batch."""
    return f"{os.getpid():x}.{next(_ids)};n={size}"


def take_header() -> str | None:
    """The value of the header for the request this thread sends now (its pending slots, which
    it uses up), or ``None`` when it announces nothing."""
    slots = getattr(_here, "slots", None)
    if not slots:
        return None
    _here.slots = []
    return ", ".join(slots)


def give_back(header: str | None) -> None:
    """A request that never left (its connection failed): its slots go with the next one."""
    if header:
        _slots()[:0] = header.split(", ")


@contextlib.contextmanager
def unannounced() -> Iterator[None]:
    """Requests sent inside carry no slot (a login: siblings wait on it, so it cannot be the
    request that joins them); the pending slots wait for the next request after it."""
    saved = getattr(_here, "slots", None)
    _here.slots = []
    try:
        yield
    finally:
        _here.slots = saved


@contextlib.contextmanager
def member(slots: Sequence[str]) -> Iterator[None]:
    """This thread's next request carries ``slots`` (dropped, if none was sent, on leaving)."""
    saved = getattr(_here, "slots", None)
    _here.slots = list(slots)
    try:
        yield
    finally:
        _here.slots = saved if saved is not None else []


def announce_beside() -> tuple[str, Callable[[], None]]:
    """A batch of two: the current thread and one other it starts now. Returns the other's
    slot, and a function that drops the current thread's slot if it was not used."""
    slot = new_batch(2)
    _slots().append(slot)

    def done() -> None:
        slots = getattr(_here, "slots", None)
        if slots and slot in slots:
            slots.remove(slot)

    return slot, done


def announced(calls: Sequence[Callable[[], T]], limit: int) -> list[Callable[[], T]]:
    """``calls`` to run in parallel, each wrapped to announce its batch: with at most ``limit``
    running at once, the calls go in waves of ``limit`` (a worker takes the next call only when
    its previous one answered), each wave its own batch. The caller's pending slots go to the
    first call."""
    if len(calls) <= 1 or limit <= 1:
        return list(calls)
    inherited = take_header()
    wrapped: list[Callable[[], T]] = []
    for start in range(0, len(calls), limit):
        wave = calls[start:start + limit]
        slot = new_batch(len(wave))
        for index, call in enumerate(wave):
            slots = [slot, inherited] if inherited and start == 0 and index == 0 else [slot]
            wrapped.append(_wrapped(call, slots if len(wave) > 1 else slots[1:]))
    return wrapped


def _wrapped(call: Callable[[], T], slots: list[str]) -> Callable[[], T]:
    def run() -> T:
        with member(slots):
            return call()
    return run


def parse(value: str | None) -> list[tuple[str, int]]:
    """``[(batch id, size), ...]`` of a header value; malformed parts are ignored."""
    found: list[tuple[str, int]] = []
    for part in (value or "").split(","):
        ident, _, size = part.strip().partition(";n=")
        if ident and size.isdigit() and int(size) > 1:
            found.append((ident, int(size)))
    return found


__all__ = ["HEADER", "announce_beside", "announced", "give_back", "member", "new_batch", "parse",
           "take_header", "unannounced"]
