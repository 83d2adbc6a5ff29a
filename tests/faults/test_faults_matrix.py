"""The fault matrix: for each write of each recipe, the pool (1) loses the connection before
the request, (2) loses it after the change was committed, (3) answers a transient error,
(4) moves the master, or (5) expires the session. After the run — and one re-run when the
first could not finish — the pool matches the recipe, no object exists twice, and nothing
that existed before is gone (none of these recipes removes anything)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "recipes"))
from recipes_simpool import EXPECTED_WRITES, SimPool, recipe

from xapictl.errors import XapictlError
from xapictl.plan.apply import converge
from xapictl.plan.audit import is_write
from xapictl.plan.backend import XapiBackend
from xapictl.plan.diff import diff

RECIPES = {name: len(writes) for name, writes in EXPECTED_WRITES.items()}
FAULTS = ("drop_before", "drop_after", "transient", "master_moves", "session_expires")


class FaultAt:
    """A connection proxy that arms the fault just before the ``nth`` write goes out."""

    def __init__(self, conn: Any, pool: SimPool, nth: int, fault: str) -> None:
        self.conn, self.pool, self.nth, self.fault = conn, pool, nth, fault
        self.count = 0
        self.fired = False

    def snapshot(self) -> Any:
        return self.conn.snapshot()

    def permissions(self) -> frozenset[str]:
        result: frozenset[str] = self.conn.permissions()
        return result

    def call(self, method: str, *args: Any) -> Any:
        if is_write(method):
            if self.count == self.nth and not self.fired:
                self.fired = True
                self._arm(method)
            self.count += 1
        return self.conn.call(method, *args)

    def _arm(self, method: str) -> None:
        control, sim = self.pool.control, self.pool.sim
        if self.fault in ("drop_before", "drop_after"):
            control.inject_fault(method, self.fault, times=1)  # type: ignore[arg-type]
        elif self.fault == "transient":
            control.inject_fault(method, "error", error=("TOO_BUSY",), times=1)
        elif self.fault == "master_moves":
            members = [h for h in sim.state.refs("host") if h != sim.master()]
            sim.designate_master(sorted(members)[0])
        else:
            sim.expire_sessions()


def converge_despite(pool: SimPool, desired: Any, nth: int, fault: str) -> None:
    """Converge with the fault armed before the ``nth`` write; re-run once if it stopped."""
    with pool.connect() as conn:
        proxy = FaultAt(conn, pool, nth, fault)
        try:
            converge(desired, XapiBackend(proxy))  # type: ignore[arg-type]
            finished = True
        except XapictlError:
            finished = False
        assert proxy.fired, "the fault was armed"
    if not finished:
        pool.converge(desired)


def _identity_counts(snap: Any) -> dict[str, int]:
    names = [n.name_label for n in snap.networks.values()]
    vifs = [(v.vm, v.device) for v in snap.vifs.values()]
    vlans = [(v.tagged_pif, v.tag) for v in snap.vlans.values()]
    bonds = [tuple(sorted(b.slaves)) for b in snap.bonds.values()]
    out: dict[str, int] = {}
    for kind, items in (("network", names), ("vif", vifs), ("vlan", vlans), ("bond", bonds)):
        for item in set(items):
            out[f"{kind}:{item}"] = items.count(item)
    return out


CASES = [(name, nth, fault) for name, count in RECIPES.items() for nth in range(count)
         for fault in FAULTS]


@pytest.mark.parametrize(("name", "nth", "fault"), CASES,
                         ids=[f"{n.split('.')[0]}-w{i}-{f}" for n, i, f in CASES])
def test_fault_at_each_write_still_converges_without_duplicates_or_losses(
        name: str, nth: int, fault: str) -> None:
    pool = SimPool()
    desired = recipe(name)
    before = pool.snapshot()
    converge_despite(pool, desired, nth, fault)
    after = pool.snapshot()
    assert diff(desired, after).is_empty
    duplicates = {k: n for k, n in _identity_counts(after).items() if n > 1}
    assert duplicates == {}
    for table in ("networks", "vifs", "vms", "hosts"):
        lost = set(getattr(before, table)) - set(getattr(after, table))
        assert lost == set(), f"{table} lost: {lost}"
    physical = {r for r, p in before.pifs.items() if p.physical}
    assert physical <= set(after.pifs)


REMOVAL = """
version: 1
networks:
  - {name: VLAN 104, vlan: 104, device: eth1, present: false}
vifs:
  - {vm: build-01, network: VLAN 103, device: 1, present: false}
"""
REMOVAL_CASES = [(nth, fault) for nth in range(5) for fault in FAULTS]


@pytest.mark.parametrize(("nth", "fault"), REMOVAL_CASES,
                         ids=[f"removal-w{i}-{f}" for i, f in REMOVAL_CASES])
def test_fault_during_removal_deletes_exactly_what_the_plan_names(nth: int, fault: str
                                                                  ) -> None:
    from xapictl.plan.desired import load_text
    from xapictl.plan.steps import DestroyNetwork, DestroyVIF, DestroyVLAN

    pool = SimPool()
    pool.converge(recipe("trunk-vlans.yaml"))
    desired = load_text(REMOVAL)
    before = pool.snapshot()
    plan = diff(desired, before)
    named = {getattr(s, "network", None) for s in plan.steps if isinstance(s, DestroyNetwork)}
    named |= {getattr(s, "vif", None) for s in plan.steps if isinstance(s, DestroyVIF)}
    named |= {getattr(s, "vlan", None) for s in plan.steps if isinstance(s, DestroyVLAN)}
    assert len(plan.steps) == 5
    converge_despite(pool, desired, nth, fault)
    after = pool.snapshot()
    assert diff(desired, after).is_empty
    for table in ("networks", "vifs", "vlans"):
        lost = set(getattr(before, table)) - set(getattr(after, table))
        assert lost <= named, f"{table}: deleted without being named: {lost - named}"


ETH0 = "Pool-wide network 0"
REPLUG_WRITES = ["network.set_MTU"] + ["VIF.unplug", "VIF.plug"] * 3
REPLUG_CASES = [(nth, fault) for nth in range(len(REPLUG_WRITES)) for fault in FAULTS]


@pytest.mark.parametrize(("nth", "fault"), REPLUG_CASES,
                         ids=[f"replug-w{i}-{f}" for i, f in REPLUG_CASES])
def test_fault_during_vif_replug_leaves_every_vif_plugged_with_the_new_mtu(
        nth: int, fault: str) -> None:
    """A re-plug is two calls: an answer lost after the unplug is resolved by reading (the
    VIF is down: only the plug is sent), never by a blind unplug of a detached VIF."""
    from xapictl.recipes import ensure_mtu

    pool = SimPool()
    desired = ensure_mtu(ETH0, 9000, device="eth0", replug=True)
    before = pool.snapshot()
    replugged = [v for v in before.networks[before.networks_named(ETH0)[0]].vifs
                 if before.vifs[v].currently_attached
                 and before.vms[before.vifs[v].vm].name_label != "win-app-01"]
    converge_despite(pool, desired, nth, fault)
    after = pool.snapshot()
    assert diff(desired, after).is_empty
    assert [(after.vifs[v].currently_attached, after.vifs[v].mtu) for v in replugged] == [
        (True, 9000)] * 3
    unplugs = [e["outcome"] for e in pool.control.request_log() if e["method"] == "VIF.unplug"]
    assert unplugs.count("success") + unplugs.count("dropped after success") == 3, (
        f"each VIF unplugged once: {unplugs}")
