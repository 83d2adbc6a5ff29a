"""The inventory of many pools at once: each pool read in one snapshot, pools in parallel.

Per pool this is a login, one ``event.from`` token, every class's ``get_all_records`` sent at
once, and a logout, so a fleet export costs about ``ceil(pools / concurrency)`` pool reads of
wall time. A pool that cannot be read is reported, not fatal: the others are exported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from xapictl.fleet.connect import PoolConnector
from xapictl.fleet.fleetfile import FleetPool
from xapictl.inventory.document import Inventory
from xapictl.inventory.drift import Finding, drift
from xapictl.inventory.export import export_snapshot, now_stamp


@dataclass
class FleetInventory:
    inventory: Inventory
    errors: dict[str, str] = field(default_factory=dict)
    """Pool name → why it could not be read."""


def export_pool(pool: FleetPool, connector: PoolConnector) -> Inventory:
    with connector.connect(pool) as conn:
        return export_snapshot(conn.snapshot(), source=pool.name)


def export_fleet(pools: Sequence[FleetPool], connector: PoolConnector, *,
                 concurrency: int = 32,
                 on_pool: Callable[[str, str], None] | None = None) -> FleetInventory:
    """Every pool's inventory merged into one; ``on_pool(name, "ok" | error)`` as each ends."""
    errors: dict[str, str] = {}
    parts: list[Inventory] = []

    def one(pool: FleetPool) -> Inventory | None:
        try:
            inv = export_pool(pool, connector)
        except Exception as exc:  # one unreadable pool must not hide the others
            errors[pool.name] = f"{type(exc).__name__}: {exc}"
            if on_pool is not None:
                on_pool(pool.name, errors[pool.name])
            return None
        if on_pool is not None:
            on_pool(pool.name, "ok")
        return inv

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(pools)))) as ex:
        for inv in ex.map(one, pools):
            if inv is not None:
                parts.append(inv)
    return FleetInventory(Inventory.merge(parts, generated_at=now_stamp()), errors)


def fleet_drift(pools: Sequence[FleetPool], connector: PoolConnector, *,
                concurrency: int = 32) -> tuple[list[Finding], dict[str, str]]:
    """Drift findings of every pool (read like an export), and the pools that failed."""
    found = export_fleet(pools, connector, concurrency=concurrency)
    return drift(found.inventory), found.errors


__all__ = ["FleetInventory", "export_fleet", "export_pool", "fleet_drift"]
