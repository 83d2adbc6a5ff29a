"""Run one read-only function against every pool of a selection, pools in parallel.

This is how any single-pool command takes a fleet selection: ``for_each_pool(pools, connector,
fn)`` opens a session per pool, calls ``fn(pool, conn)``, logs out, and returns each pool's
result or the error that stopped it. A pool that cannot be reached does not hide the others.
Wall time is about ``ceil(pools / concurrency)`` times one pool's.

While pools are read, full garbage collections wait (``full_collections_postponed``): a
fleet read keeps every pool's result, and each full collection walks all of them again (a
third of the client's CPU per pool of a 100-pool export, ``tests/bench/bench_fleet.py``).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from xapictl.fleet.connect import PoolConnector
from xapictl.fleet.fleetfile import FleetPool

T = TypeVar("T")


@dataclass
class FleetResults(Generic[T]):
    """Results by pool name, in fleet-file order, and the pools that failed (name → why)."""

    results: dict[str, T] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def for_each_pool(pools: Sequence[FleetPool], connector: PoolConnector,
                  fn: Callable[[FleetPool, Any], T], *, concurrency: int = 32,
                  on_pool: Callable[[str, str], None] | None = None) -> FleetResults[T]:
    """``fn(pool, conn)`` on every pool; ``on_pool(name, "ok" | error)`` as each one ends."""
    out: FleetResults[T] = FleetResults()
    done: dict[str, T] = {}

    def one(pool: FleetPool) -> None:
        try:
            with connector.connect(pool) as conn:
                done[pool.name] = fn(pool, conn)
        except Exception as exc:  # one unreachable pool must not hide the others
            out.errors[pool.name] = f"{type(exc).__name__}: {exc}"
            if on_pool is not None:
                on_pool(pool.name, out.errors[pool.name])
            return
        if on_pool is not None:
            on_pool(pool.name, "ok")

    with (full_collections_postponed(),
          ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(pools)))) as ex):
        list(ex.map(one, pools))
    out.results = {p.name: done[p.name] for p in pools if p.name in done}
    out.errors = {p.name: out.errors[p.name] for p in pools if p.name in out.errors}
    return out


POSTPONED_THRESHOLD = 1_000_000
"""The oldest generation's threshold while full collections wait (CPython's default is 10:
a full collection after ten collections of the middle one)."""

YOUNG_THRESHOLD = 20_000
"""The youngest generation's threshold meanwhile (CPython's default is 700 allocations): a
pool's answer alone is ~15,000 objects, most of them gone once its records are built."""


def postponed_thresholds(saved: tuple[int, ...]) -> tuple[int, int, int]:
    """The thresholds while full collections wait, from the process's own."""
    return max(saved[0], YOUNG_THRESHOLD), saved[1], POSTPONED_THRESHOLD


_postponed = 0
_saved: tuple[int, ...] = ()
_postpone_lock = threading.Lock()


@contextmanager
def full_collections_postponed() -> Iterator[None]:
    """No full (oldest-generation) garbage collection in this process while inside, unless
    asked for (``gc.collect()``), and young ones less often (``postponed_thresholds``).

    A fleet read allocates the records of every pool it reads and keeps each pool's result:
    every full collection walks all of them again, several times per run (with CPython's
    default thresholds, four full collections of a 100-pool export cost ~1.5 ms of CPU per
    pool, against ~5 ms for the rest of its read). The results are trees of dicts and lists,
    not cycles, so a full collection frees next to nothing there. Young collections every
    20,000 allocations instead of 700 also mean fewer collections of the middle generation,
    so no full collection falls due the moment the read ends either
    (``tests/bench/bench_fleet.py`` shows the CPU by phase). The thresholds are set back when
    the last of any overlapping uses ends (they are the process's own: code changing them
    meanwhile sees its change undone then)."""
    global _postponed, _saved
    with _postpone_lock:
        if _postponed == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(*postponed_thresholds(_saved))
        _postponed += 1
    try:
        yield
    finally:
        with _postpone_lock:
            _postponed -= 1
            if _postponed == 0:
                gc.set_threshold(*_saved)


__all__ = ["FleetResults", "for_each_pool", "full_collections_postponed", "postponed_thresholds"]
