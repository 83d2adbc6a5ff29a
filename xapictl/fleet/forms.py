"""Fleet forms of the single-pool commands: the same read, or the same desired state, on every
selected pool. Reads fan out with ``for_each_pool``; writes become rollouts, whose journal
names a recipe file, so the desired state a command built from its options is saved as one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from xapictl.errors import UsageError
from xapictl.fleet.connect import PoolConnector
from xapictl.fleet.each import FleetResults, for_each_pool
from xapictl.fleet.fleetfile import FleetPool
from xapictl.plan.desired import DesiredState
from xapictl.plan.recipe_text import recipe_text
from xapictl.state.collect import collect_once_for_show

T = TypeVar("T")


def read_each(pools: Sequence[FleetPool], connector: PoolConnector,
              fn: Callable[[Any], T], concurrency: int = 32, *,
              sriov_vfs: bool = False) -> FleetResults[T]:
    """``fn(snapshot)`` for every pool, pools read in parallel; failures by pool. One read per
    connection: ``collect_once`` skips the token a next snapshot would use. ``sriov_vfs``: each
    SR-IOV NIC's remaining VFs too (``with_sriov_capacity``: one more round trip, in pools
    with SR-IOV only)."""
    return for_each_pool(
        pools, connector,
        lambda pool, conn: fn(collect_once_for_show(conn, sriov_vfs=sriov_vfs)),
        concurrency=concurrency)


def save_recipe(desired: DesiredState, directory: Path) -> Path:
    """The desired state as a recipe file under ``directory`` (named by its content, so the
    same command run twice names the same file); ``rollout resume`` reads it again."""
    text = recipe_text(desired)
    what = re.sub(r"[^A-Za-z0-9]+", "-", desired.source).strip("-")[:48]
    path = directory / f"{what}-{hashlib.sha256(text.encode()).hexdigest()[:12]}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(f"# {desired.source}\n{text}")
    return path


def common_identity(name: str, found: FleetResults[dict[str, Any] | None]
                    ) -> tuple[dict[str, Any], list[str]]:
    """How network ``name`` is identified (VLAN + trunk, NIC, or name) on the pools that have
    it (``None``: it is not there): one identity across the fleet, or a usage error naming
    the pools that differ. Also the pools to act on: those that have it, and those that could
    not be read (the rollout then reports them instead of passing them over)."""
    have = {pool: ident for pool, ident in found.results.items() if ident is not None}
    if not have:
        why = "".join(f"; {pool}: {err}" for pool, err in found.errors.items())
        raise UsageError(f"no selected pool has a network {name!r}{why}")
    kinds: dict[str, list[str]] = {}
    for pool, ident in have.items():
        kinds.setdefault(_describe(ident), []).append(pool)
    if len(kinds) > 1:
        raise UsageError(f"network {name!r} is not the same on every selected pool ("
                         + "; ".join(f"{k} on {', '.join(p)}" for k, p in kinds.items())
                         + "): narrow --select to pools where it is the same")
    return next(iter(have.values())), [*have, *found.errors]


def _describe(ident: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(ident.items()))


__all__ = ["common_identity", "read_each", "save_recipe"]
