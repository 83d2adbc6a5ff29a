"""Run one read-only function against every pool of a selection, pools in parallel.

This is how any single-pool command takes a fleet selection: ``for_each_pool(pools, connector,
fn)`` opens a session per pool, calls ``fn(pool, conn)``, logs out, and returns each pool's
result or the error that stopped it. A pool that cannot be reached does not hide the others.
Wall time is about ``ceil(pools / concurrency)`` times one pool's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
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

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(pools)))) as ex:
        list(ex.map(one, pools))
    out.results = {p.name: done[p.name] for p in pools if p.name in done}
    out.errors = {p.name: out.errors[p.name] for p in pools if p.name in out.errors}
    return out


__all__ = ["FleetResults", "for_each_pool"]
