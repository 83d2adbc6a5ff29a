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
from recipes_simpool import EXPECTED_WRITES, ConnProxy, SimPool, pool_for, recipe

from xapictl.errors import XapictlError
from xapictl.plan.apply import converge
from xapictl.plan.audit import is_write
from xapictl.plan.backend import XapiBackend
from xapictl.plan.diff import diff

RECIPES = {name: len(writes) for name, writes in EXPECTED_WRITES.items()}
FAULTS = ("drop_before", "drop_after", "transient", "master_moves", "session_expires")


class FaultAt(ConnProxy):
    """A connection proxy that arms the fault just before the ``nth`` write goes out."""

    def __init__(self, conn: Any, pool: SimPool, nth: int, fault: str) -> None:
        super().__init__(conn)
        self.pool, self.nth, self.fault = pool, nth, fault
        self.count = 0
        self.fired = False

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


def converge_despite(pool: SimPool, desired: Any, nth: int, fault: str,
                     arming: type[FaultAt] = FaultAt) -> None:
    """Converge with the fault armed before the ``nth`` write (by ``arming``, a ``FaultAt``);
    re-run once if it stopped."""
    with pool.connect() as conn:
        proxy = arming(conn, pool, nth, fault)
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
    tunnels = [(snap.pifs[t.access_pif].host, snap.pifs[t.access_pif].network)
               for t in snap.tunnels.values() if t.access_pif in snap.pifs]
    sriovs = [s.physical_pif for s in snap.sriovs.values()]
    out: dict[str, int] = {}
    for kind, items in (("network", names), ("vif", vifs), ("vlan", vlans), ("bond", bonds),
                        ("tunnel", tunnels), ("sriov", sriovs)):
        for item in set(items):
            out[f"{kind}:{item}"] = items.count(item)
    return out


CASES = [(name, nth, fault) for name, count in RECIPES.items() for nth in range(count)
         for fault in FAULTS]


@pytest.mark.parametrize(("name", "nth", "fault"), CASES,
                         ids=[f"{n.split('.')[0]}-w{i}-{f}" for n, i, f in CASES])
def test_fault_at_each_write_still_converges_without_duplicates_or_losses(
        name: str, nth: int, fault: str) -> None:
    pool = pool_for(name)
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
# replug_management: without it, re-plugging the VIFs above the management PIFs' MTU is
# refused (issue 13); the management PIFs are re-plugged first (PIF.plug, never unplugged).
REPLUG_WRITES = ["network.set_MTU"] + ["PIF.plug"] * 3 + ["VIF.unplug", "VIF.plug"] * 3
REPLUG_CASES = [(nth, fault) for nth in range(len(REPLUG_WRITES)) for fault in FAULTS]


@pytest.mark.parametrize(("nth", "fault"), REPLUG_CASES,
                         ids=[f"replug-w{i}-{f}" for i, f in REPLUG_CASES])
def test_fault_during_vif_replug_leaves_every_vif_plugged_with_the_new_mtu(
        nth: int, fault: str) -> None:
    """A re-plug is two calls: an answer lost after the unplug is resolved by reading (the
    VIF is down: only the plug is sent), never by a blind unplug of a detached VIF."""
    from xapictl.recipes import ensure_mtu

    pool = SimPool()
    desired = ensure_mtu(ETH0, 9000, device="eth0", replug=True, replug_management=True)
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


# --- the bond lifecycle's writes ----------------------------------------------------------

BOND = "Bond eth1+eth2"


def _half_bonded(pool: SimPool) -> None:
    """bonded-trunk.yaml applied, then Bond.destroy on xcp-host-02 (XAPI moves VLANs 201/202
    and the storage address onto eth2)."""
    pool.converge(recipe("bonded-trunk.yaml"))
    snap = pool.snapshot()
    host = next(h for h, r in snap.hosts.items() if r.name_label == "xcp-host-02")
    bond = next(b for b, r in snap.bonds.items() if snap.pifs[r.master].host == host)
    with pool.connect() as conn:
        conn.call("Bond.destroy", bond)


def _bonded(pool: SimPool) -> None:
    from xapictl.recipes import ensure_bond

    pool.converge(ensure_bond(BOND, ["eth1", "eth2"], mode="lacp"))


def _bond_desired(kind: str) -> Any:
    from xapictl.recipes import ensure_bond

    if kind == "repair":
        return recipe("bonded-trunk.yaml")
    if kind == "set-mode":
        return ensure_bond(BOND, ["eth1", "eth2"], mode="active-backup")
    if kind == "set-property":
        return ensure_bond(BOND, ["eth1", "eth2"], mode="lacp", lacp_time="fast")
    return ensure_bond(BOND, ["eth1", "eth2"], present=False)


BOND_WRITES = {"repair": ["Bond.create"], "set-mode": ["Bond.set_mode"] * 3,
               "set-property": ["Bond.set_property"] * 3,
               "delete": ["Bond.destroy"] * 3 + ["network.destroy"]}
BOND_CASES = [(kind, nth, fault) for kind, writes in BOND_WRITES.items()
              for nth in range(len(writes)) for fault in FAULTS]


@pytest.mark.parametrize(("kind", "nth", "fault"), BOND_CASES,
                         ids=[f"bond-{k}-w{i}-{f}" for k, i, f in BOND_CASES])
def test_fault_at_each_bond_write_converges_once_each(kind: str, nth: int, fault: str
                                                      ) -> None:
    """Repair of a half-bonded pool, set-mode, set-property, delete: converged after the
    fault (and one re-run), each write's effect made once (no bond twice, no destroy of a
    bond that was already gone), the VLANs and the storage address on the bond."""
    pool = SimPool()
    (_half_bonded if kind == "repair" else _bonded)(pool)
    desired = _bond_desired(kind)
    pool.clear()
    assert pool.writes() == []
    assert len(diff(desired, pool.snapshot()).steps) == len(BOND_WRITES[kind])
    converge_despite(pool, desired, nth, fault)
    after = pool.snapshot()
    assert diff(desired, after).is_empty
    assert {k: n for k, n in _identity_counts(after).items() if n > 1} == {}
    outcomes = [e["outcome"] for e in pool.control.request_log()
                if e["method"] == BOND_WRITES[kind][0]]
    assert outcomes.count("success") + outcomes.count("dropped after success") == \
        BOND_WRITES[kind].count(BOND_WRITES[kind][0]), outcomes
    if kind == "repair":
        masters = {b.master for b in after.bonds.values()}
        assert {v.tagged_pif for v in after.vlans.values() if v.tag in (201, 202)} == masters
        assert sorted(after.pifs[m].ip for m in masters) == [
            "198.51.100.11", "198.51.100.12", "198.51.100.13"]


ROLLBACK_FAULTS = FAULTS


@pytest.mark.parametrize("fault", ROLLBACK_FAULTS)
@pytest.mark.parametrize("nth", [0, 1])
def test_fault_during_a_rollback_leaves_no_bond_behind_or_twice(nth: int, fault: str) -> None:
    """The master's Bond.create is refused, so the two bonds made are undone; the fault
    strikes the ``nth`` undo (Bond.destroy). The undo is resolved by reading like any step:
    afterwards no bond is left (or the re-run made all three), never one twice."""
    from xapictl.recipes import ensure_bond

    pool = SimPool()
    desired = ensure_bond(BOND, ["eth1", "eth2"])

    class Refuse(FaultAt):
        creates = 0

        def call(self, method: str, *args: Any) -> Any:
            if method == "Bond.create":
                self.creates += 1
                if self.creates == 3:
                    self.pool.control.inject_fault(method, "error",
                                                   error=("INTERNAL_ERROR", "x"), times=1)
            if method == "Bond.destroy":
                if self.count == self.nth and not self.fired:
                    self.fired = True
                    self._arm(method)
                self.count += 1
                return self.conn.call(method, *args)
            return self.conn.call(method, *args)

    with pool.connect() as conn:
        proxy = Refuse(conn, pool, nth, fault)
        with pytest.raises(XapictlError):
            converge(desired, XapiBackend(proxy))  # type: ignore[arg-type]
        assert proxy.fired
    snap = pool.snapshot()
    assert {k: n for k, n in _identity_counts(snap).items() if n > 1} == {}
    destroys = [e["outcome"] for e in pool.control.request_log()
                if e["method"] == "Bond.destroy"]
    assert destroys.count("success") + destroys.count("dropped after success") <= 2, destroys
    pool.converge(desired)
    after = pool.snapshot()
    assert diff(desired, after).is_empty and len(after.bonds) == 3


QOS_WRITES = ["VIF.set_qos_algorithm_type", "VIF.set_qos_algorithm_params", "VIF.unplug",
              "VIF.plug"]
QOS_CASES = [(nth, fault) for nth in range(len(QOS_WRITES)) for fault in FAULTS]


@pytest.mark.parametrize(("nth", "fault"), QOS_CASES,
                         ids=[f"qos-replug-w{i}-{f}" for i, f in QOS_CASES])
def test_fault_during_a_qos_replug_leaves_the_vif_plugged_with_the_new_rate(
        nth: int, fault: str) -> None:
    from xapictl.recipes import ensure_vm_attached

    pool = SimPool()
    desired = ensure_vm_attached("web-01", "Pool-wide network 0", device=0, qos_kbps=10240,
                                 replug=True)
    converge_despite(pool, desired, nth, fault)
    after = pool.snapshot()
    [vif] = [v for v in after.vifs.values()
             if after.vms[v.vm].name_label == "web-01" and v.device == "0"]
    assert (vif.currently_attached, vif.qos_algorithm_type, dict(vif.qos_algorithm_params)) == (
        True, "ratelimit", {"kbps": "10240"})
    assert {k: n for k, n in _identity_counts(after).items() if n > 1} == {}


PRIVATE_REMOVALS = {"tunnel": ("private-network.yaml", "Lab private", 4),
                    "sriov": ("sriov-network.yaml", "SR-IOV eth1", 4)}
PRIVATE_REMOVAL_CASES = [(kind, nth, fault) for kind, (_, _, writes) in PRIVATE_REMOVALS.items()
                         for nth in range(writes) for fault in FAULTS]


@pytest.mark.parametrize(("kind", "nth", "fault"), PRIVATE_REMOVAL_CASES,
                         ids=[f"remove-{k}-w{i}-{f}" for k, i, f in PRIVATE_REMOVAL_CASES])
def test_fault_while_removing_a_private_or_sriov_network_leaves_nothing_half_made(
        kind: str, nth: int, fault: str) -> None:
    """tunnel.destroy / network_sriov.destroy on each host, then network.destroy: whatever
    the fault, the run and its re-run leave no tunnel, SR-IOV object or network behind."""
    from dataclasses import replace

    from xapictl.plan.desired import DesiredState
    from xapictl.plan.identity import network_identity
    from xapictl.recipes import ensure_deleted

    name, network, _ = PRIVATE_REMOVALS[kind]
    pool = pool_for(name)
    whole = recipe(name)
    pool.converge(whole)
    detach = DesiredState(vifs=tuple(replace(v, present=False) for v in whole.vifs
                                     if v.network == network))
    pool.converge(detach)  # the network's VIFs go first (a removal refuses plugged ones)
    desired = ensure_deleted(network_identity(pool.snapshot(), network))
    converge_despite(pool, desired, nth, fault)
    after = pool.snapshot()
    assert diff(desired, after).is_empty
    assert after.networks_named(network) == []
    pifs = ([t.access_pif for t in after.tunnels.values()] if kind == "tunnel"
            else [r.logical_pif for r in after.sriovs.values()])
    orphans = [p for p in pifs if p not in after.pifs or after.pifs[p].network not in
               after.networks]
    assert orphans == [], "no tunnel or SR-IOV object is left without its network"


IPV6_WRITES = ["PIF.reconfigure_ipv6", "PIF.set_primary_address_type"] * 3
IPV6_CASES = [(nth, fault) for nth in range(len(IPV6_WRITES)) for fault in FAULTS]


@pytest.mark.parametrize(("nth", "fault"), IPV6_CASES,
                         ids=[f"ipv6-w{i}-{f}" for i, f in IPV6_CASES])
def test_fault_at_each_ipv6_write_converges_once_each(nth: int, fault: str) -> None:
    """Static IPv6 and the primary address type on eth1 of every host: whatever the fault,
    the run and its re-run leave every PIF configured, and no write was done twice (a lost
    answer is resolved by reading the PIF back, not by sending the call again)."""
    from xapictl.recipes import ensure_interface

    pool = SimPool()
    desired = ensure_interface(device="eth1", ipv6="static",
                               address6_range="2001:db8:6::11-2001:db8:6::13/64",
                               gateway6="2001:db8:6::1", primary_address_type="ipv6")
    converge_despite(pool, desired, nth, fault)
    after = pool.snapshot()
    assert diff(desired, after).is_empty
    eth1 = sorted((after.hosts[p.host].name_label, tuple(p.ipv6), p.primary_address_type.value)
                  for p in after.pifs.values() if p.device == "eth1" and p.vlan == -1)
    assert eth1 == [(f"xcp-host-0{n}", (f"2001:db8:6::1{n}/64",), "IPv6") for n in (1, 2, 3)]
    done = [e["method"] for e in pool.control.request_log()
            if e["method"] in IPV6_WRITES[:2] and e["outcome"] in ("success",
                                                                    "dropped after success")]
    assert sorted(done) == sorted(IPV6_WRITES)


# The MTU ordering of a trunk and its VLAN (issue 13 item 4). "raise": web-01 has a VIF on
# eth1's network and recipes/jumbo-vlan.yaml raises that trunk (its PIFs, then the VIF) before
# it makes the VLAN at 9000. "lower": VLAN 110 at 9000 with web-01 on it, then one recipe
# lowers trunk and VLAN to 1500: the VLAN first (its VIF, then its PIFs), then the trunk.
LOWER_BOTH = """
version: 1
networks:
  - {name: Pool-wide network 1, device: eth1, mtu: 1500, replug: true}
  - {name: VLAN 110 jumbo, vlan: 110, device: eth1, mtu: 1500, replug: true}
"""
LOWER_BOND = """
version: 1
networks:
  - {name: Bond eth1+eth2, mtu: 1500, replug: true}
  - {name: VLAN 203, vlan: 203, bond: Bond eth1+eth2, mtu: 1500, replug: true}
"""
MTU_ORDER_WRITES = {
    "raise": ["network.set_MTU"] + ["PIF.plug"] * 3 + ["VIF.unplug", "VIF.plug"]
             + ["network.create", "pool.create_VLAN_from_PIF"],
    "lower": ["network.set_MTU", "VIF.unplug", "VIF.plug"] + ["PIF.plug"] * 3
             + ["network.set_MTU"] + ["PIF.plug"] * 3,
    # the same with a bond for trunk: VLAN 203 at 9000 on the bond (raised with it), web-01
    # on it; the bond's network is a named entry listed first, lowered after its VLAN
    # a VLAN on the bond at 9000 with raise_trunk_mtu: the bond's network (web-01 on it)
    # raised first, its masters then the VIF re-plugged, then the VLAN made
    "raise-bond": ["network.set_MTU"] + ["PIF.plug"] * 3 + ["VIF.unplug", "VIF.plug"]
                  + ["network.create", "pool.create_VLAN_from_PIF"],
    "lower-bond": ["network.set_MTU", "VIF.unplug", "VIF.plug"] + ["PIF.plug"] * 3
                  + ["network.set_MTU"] + ["PIF.plug"] * 3,
}
MTU_ORDER_NETWORKS = {"raise": ("Pool-wide network 1", "VLAN 110 jumbo"),
                      "lower": ("Pool-wide network 1", "VLAN 110 jumbo"),
                      "raise-bond": ("Bond eth1+eth2", "VLAN 203"),
                      "lower-bond": ("Bond eth1+eth2", "VLAN 203")}
MTU_ORDER_CASES = [(kind, nth, fault) for kind, writes in MTU_ORDER_WRITES.items()
                   for nth in range(len(writes)) for fault in FAULTS]


def _mtu_order_breaches(pool: SimPool) -> list[str]:
    """What is above what it rides on, from the simulator's records: a plugged VLAN PIF above
    its trunk PIF, a plugged VIF above its network's PIF on the VM's host."""
    state = pool.sim.state
    with state.lock:
        pifs, vlans = state.all("PIF"), state.all("VLAN")
        vifs, vms = state.all("VIF"), state.all("VM")
        found = [f"VLAN {v['tag']}: {pifs[v['untagged_PIF']]['MTU']} over "
                 f"{pifs[v['tagged_PIF']]['MTU']}" for v in vlans.values()
                 if v["untagged_PIF"] in pifs and v["tagged_PIF"] in pifs
                 and pifs[v["untagged_PIF"]]["currently_attached"]
                 and pifs[v["untagged_PIF"]]["MTU"] > pifs[v["tagged_PIF"]]["MTU"]]
        for vif in vifs.values():
            host = vms[vif["VM"]]["resident_on"] if vif["VM"] in vms else None
            under = [p for p in pifs.values() if p["network"] == vif["network"]
                     and p["host"] == host]
            if vif["currently_attached"] and under and vif["MTU"] > under[0]["MTU"]:
                found.append(f"VIF {vif['device']}: {vif['MTU']} over {under[0]['MTU']}")
    return found


class WatchedFaultAt(FaultAt):
    """``FaultAt`` that also records any MTU ordering breach after each write."""

    breaches: list[str]

    def call(self, method: str, *args: Any) -> Any:
        try:
            return super().call(method, *args)
        finally:
            if is_write(method):
                self.breaches = [*getattr(self, "breaches", []), *_mtu_order_breaches(self.pool)]


def _mtu_order_situation(kind: str) -> tuple[SimPool, Any]:
    from xapictl.plan.desired import load_text
    from xapictl.recipes import ensure_vm_attached

    pool = SimPool()
    if kind == "raise":
        pool.converge(ensure_vm_attached("web-01", "Pool-wide network 1"))
        desired = recipe("jumbo-vlan.yaml")
    elif kind == "lower":
        pool.converge(recipe("jumbo-vlan.yaml"))
        pool.converge(ensure_vm_attached("web-01", "VLAN 110 jumbo"))
        desired = load_text(LOWER_BOTH)
    elif kind == "raise-bond":
        from xapictl.recipes import ensure_vlan_network

        pool.converge(recipe("bonded-trunk.yaml"))
        pool.converge(ensure_vm_attached("web-01", BOND))
        desired = ensure_vlan_network("VLAN 203", 203, bond=BOND, mtu=9000,
                                      raise_trunk_mtu=True)
    else:
        from xapictl.recipes import ensure_vlan_network

        pool.converge(recipe("bonded-trunk.yaml"))
        pool.converge(ensure_vlan_network("VLAN 203", 203, bond=BOND, mtu=9000,
                                          raise_trunk_mtu=True))
        pool.converge(ensure_vm_attached("web-01", "VLAN 203"))
        desired = load_text(LOWER_BOND)
    pool.clear()
    return pool, desired


@pytest.mark.parametrize("kind", list(MTU_ORDER_WRITES))
def test_the_mtu_order_cases_strike_at_every_write(kind: str) -> None:
    pool, desired = _mtu_order_situation(kind)
    pool.converge(desired)
    assert pool.writes() == MTU_ORDER_WRITES[kind]


@pytest.mark.parametrize(("kind", "nth", "fault"), MTU_ORDER_CASES,
                         ids=[f"mtu-{k}-w{i}-{f}" for k, i, f in MTU_ORDER_CASES])
def test_fault_during_a_trunk_and_vlan_mtu_change_never_puts_anything_above_what_carries_it(
        kind: str, nth: int, fault: str) -> None:
    pool, desired = _mtu_order_situation(kind)
    with pool.connect() as conn:
        proxy = WatchedFaultAt(conn, pool, nth, fault)
        try:
            converge(desired, XapiBackend(proxy))  # type: ignore[arg-type]
        except XapictlError:
            pool.converge(desired)
        assert proxy.fired, "the fault was armed"
    assert getattr(proxy, "breaches", []) == []
    after = pool.snapshot()
    assert diff(desired, after).is_empty
    assert _mtu_order_breaches(pool) == []
    assert {k: n for k, n in _identity_counts(after).items() if n > 1} == {}
    wanted = 9000 if kind.startswith("raise") else 1500
    assert sorted({after.networks[r].mtu for r in after.networks
                   if after.networks[r].name_label in MTU_ORDER_NETWORKS[kind]}) == [wanted]


# Management off a bond the same recipe removes (issue 13/14 follow-up): the moves first (the
# members, the master, recover_slaves), then each host's Bond.destroy and the bond's network.
# tests/e2e/test_e2e_management_bond_faults.py strikes the same writes through the CLI on
# sockets (exit codes, the hosts answering at their addresses).
MANAGEMENT_BOND = "Management bond"
MANAGEMENT_OFF_THE_BOND = f"""
version: 1
management: {{network: Pool-wide network 2}}
bonds:
  - {{network: {MANAGEMENT_BOND}, members: [eth0, eth1], present: false}}
"""
MANAGEMENT_OFF_WRITES = ["host.management_reconfigure"] * 3 + ["pool.recover_slaves"] \
    + ["Bond.destroy"] * 3 + ["network.destroy"]
MANAGEMENT_OFF_CASES = [(nth, fault) for nth in range(len(MANAGEMENT_OFF_WRITES))
                        for fault in FAULTS]


@pytest.mark.parametrize(("nth", "fault"), MANAGEMENT_OFF_CASES,
                         ids=[f"management-off-bond-w{i}-{f}" for i, f in MANAGEMENT_OFF_CASES])
def test_fault_while_taking_management_off_a_bond_and_destroying_it(nth: int, fault: str
                                                                    ) -> None:
    """Whatever the fault, the run and its re-run leave every host's management on eth2, no
    bond and no bond network, each bond destroyed once, and no Bond.destroy ever sent while
    its bond carried the management interface (XAPI would move it back onto eth0)."""
    from xapictl.plan.desired import load_text
    from xapictl.recipes import ensure_bond

    pool = SimPool(scenario="loopback")
    pool.converge(ensure_bond(MANAGEMENT_BOND, ["eth0", "eth1"], mode="active-backup"))
    desired = load_text(MANAGEMENT_OFF_THE_BOND)
    pool.clear()
    state = pool.sim.state
    carried: list[str] = []

    class Watched(FaultAt):
        def call(self, method: str, *args: Any) -> Any:
            if method == "Bond.destroy":
                with state.lock:
                    bond = state.get("Bond", args[0]) if state.exists("Bond", args[0]) else None
                    if bond is not None and state.get("PIF", bond["master"])["management"]:
                        carried.append(args[0])
            return super().call(method, *args)

    converge_despite(pool, desired, nth, fault, Watched)
    after = pool.snapshot()
    assert diff(desired, after).is_empty
    assert carried == [], "a bond was destroyed while it carried the management interface"
    assert sorted(after.pifs[r].device for r, p in after.pifs.items() if p.management) == \
        ["eth2"] * 3
    assert after.bonds == {} and after.networks_named(MANAGEMENT_BOND) == []
    destroys = [e["outcome"] for e in pool.control.request_log()
                if e["method"] == "Bond.destroy"]
    assert destroys.count("success") + destroys.count("dropped after success") == 3, destroys
    members = set(state.refs("host")) - {pool.sim.master()}
    assert {h: a for h, a in state.master_seen_by.items() if h in members} == {}, \
        "every member knows where the master is"


# The whole pool's management onto IPv6: the storage PIFs on static IPv4-mapped loopback
# addresses (distinct IPv6 addresses the simulator answers on), primary type IPv6, then the
# three moves and recover_slaves (tests/e2e/test_e2e_management_ipv6_faults.py: over sockets).
IPV6_MANAGEMENT_WRITES = ["host.management_reconfigure"] * 3 + ["pool.recover_slaves"]
IPV6_MANAGEMENT_CASES = [(nth, fault) for nth in range(len(IPV6_MANAGEMENT_WRITES))
                         for fault in FAULTS]


@pytest.mark.parametrize(("nth", "fault"), IPV6_MANAGEMENT_CASES,
                         ids=[f"management-ipv6-w{i}-{f}" for i, f in IPV6_MANAGEMENT_CASES])
def test_fault_while_moving_the_whole_pools_management_onto_ipv6(nth: int, fault: str) -> None:
    """Whatever the fault, the run and its re-run leave every host's management on its IPv6
    address, each moved once (a master designated mid-run: the moves undone, then redone),
    every member knowing where the master is."""
    import ipaddress

    from xapictl.recipes import ensure_interface, ensure_management

    pool = SimPool(scenario="loopback")
    given = [f"::ffff:127.0.2.1{n}" for n in (1, 2, 3)]
    pool.converge(ensure_interface(
        network="Pool-wide network 2", ipv4="none", ipv6="static", primary_address_type="ipv6",
        addresses6={f"xcp-host-0{n}": f"{given[n - 1]}/128" for n in (1, 2, 3)}))
    pool.clear()
    desired = ensure_management("Pool-wide network 2")
    converge_despite(pool, desired, nth, fault)
    state = pool.sim.state
    with state.lock:
        addresses = sorted(state.get("host", h)["address"] for h in state.refs("host"))
    assert addresses == sorted(str(ipaddress.IPv6Address(a)) for a in given)
    moved = [e["outcome"] for e in pool.control.request_log()
             if e["method"] == "host.management_reconfigure"]
    if fault != "master_moves":  # there the run stops and undoes its moves; the re-run redoes
        assert moved.count("success") + moved.count("dropped after success") == 3, moved
    members = set(state.refs("host")) - {pool.sim.master()}
    assert {h: a for h, a in state.master_seen_by.items() if h in members} == {}
