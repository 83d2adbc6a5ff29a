"""The ensure_* recipes against the simulator: each converges, the second run is a no-op,
and the behaviours the issue promises hold (repair per host, moves not rebuilds …)."""

from __future__ import annotations

import pytest
from recipes_simpool import SimPool

from xapictl.errors import DesiredStateError, PreflightError
from xapictl.plan.diff import diff
from xapictl.recipes import (
    ensure_bond,
    ensure_mtu,
    ensure_network,
    ensure_vlan_network,
    ensure_vm_attached,
)


def converged_twice(pool: SimPool, desired) -> list[str]:
    result = pool.converge(desired)
    assert result.replan is not None and result.replan.is_empty
    writes = pool.writes()
    pool.clear()
    assert pool.converge(desired).plan.is_empty and pool.writes() == []
    return writes


def test_ensure_network_with_every_field() -> None:
    pool = SimPool()
    desired = ensure_network("App", description="app tier", mtu=9000, automatic=False,
                             default_locking_mode="disabled", purpose=["nbd"],
                             other_config={"folder": "/apps"}, tags=["prod", "app"])
    writes = converged_twice(pool, desired)
    assert writes == ["network.create", "network.set_default_locking_mode",
                      "network.add_purpose"]
    net = pool.snapshot().networks[pool.snapshot().networks_named("App")[0]]
    assert (net.mtu, net.other_config["automatic"], net.other_config["folder"]) == (
        9000, "false", "/apps")
    assert sorted(net.tags) == ["app", "prod"] and [p.value for p in net.purpose] == ["nbd"]


def test_changing_a_field_changes_only_that_field() -> None:
    pool = SimPool()
    pool.converge(ensure_network("App", description="one", tags=["a"]))
    pool.clear()
    pool.converge(ensure_network("App", description="two"))
    assert pool.writes() == ["network.set_name_description"]


def test_vlan_missing_on_a_host_that_was_down_is_repaired_on_that_host_only() -> None:
    pool = SimPool()
    snap = pool.snapshot()
    down = sorted(h for h in snap.hosts if h != snap.master)[0]
    pool.sim.set_host_live(down, False)
    first = pool.converge(ensure_vlan_network("VLAN 105", 105, device="eth1"))
    name = snap.hosts[down].name_label
    assert [d.subject for d in first.plan.deferred] == [f"network 'VLAN 105' on {name}"]
    assert first.plan.pending and first.replan is not None and first.replan.pending, (
        "deferred work keeps the pool pending after the apply")
    pool.sim.set_host_live(down, True)
    pool.clear()
    second = pool.converge(ensure_vlan_network("VLAN 105", 105, device="eth1"))
    assert pool.writes() == ["VLAN.create"]
    assert [s.host for s in second.plan.steps] == [down]  # type: ignore[attr-defined]


def test_vlan_destroyed_by_hand_on_one_host_is_repaired() -> None:
    pool = SimPool()
    pool.converge(ensure_vlan_network("VLAN 105", 105, device="eth1"))
    snap = pool.snapshot()
    vlan = next(v for v, r in snap.vlans.items() if r.tag == 105)
    with pool.connect() as conn:
        conn.call("VLAN.destroy", vlan)
    pool.clear()
    pool.converge(ensure_vlan_network("VLAN 105", 105, device="eth1"))
    assert pool.writes() == ["VLAN.create"]


def test_vlan_absent_removes_every_host_then_the_network() -> None:
    pool = SimPool()
    pool.converge(ensure_vlan_network("VLAN 105", 105, device="eth1"))
    pool.clear()
    writes = converged_twice(pool, ensure_vlan_network("VLAN 105", 105, device="eth1",
                                                       present=False))
    assert writes == ["VLAN.destroy"] * 3 + ["network.destroy"]
    assert pool.snapshot().networks_named("VLAN 105") == []


def test_vm_by_uuid_generated_mac_then_move_in_place_then_absent() -> None:
    pool = SimPool()
    pool.converge(ensure_network("A").merged(ensure_network("B")))
    snap = pool.snapshot()
    uuid = snap.vms[snap.vms_named("web-01")[0]].uuid
    pool.clear()
    converged_twice(pool, ensure_vm_attached(uuid, "A", device=2))
    vif_before = pool.snapshot().vif_on(snap.vms_named("web-01")[0], "2")
    pool.clear()
    moved = converged_twice(pool, ensure_vm_attached("web-01", "B", device=2))
    after = pool.snapshot()
    assert after.vif_on(snap.vms_named("web-01")[0], "2") == vif_before, "moved, not rebuilt"
    assert moved == ["VIF.move"]
    pool.clear()
    removed = converged_twice(pool, ensure_vm_attached("web-01", "B", device=2,
                                                       present=False))
    assert removed == ["VIF.unplug", "VIF.destroy"]


def test_vif_settings_locking_allowed_ips_qos_and_mtu() -> None:
    pool = SimPool()
    pool.converge(ensure_network("A"))
    pool.clear()
    converged_twice(pool, ensure_vm_attached("db-01", "A", device=5, mac="02:00:00:00:05:05",
                                             locking_mode="locked",
                                             ipv4_allowed=["10.1.2.3"], qos_kbps=2048,
                                             mtu=9000))
    snap = pool.snapshot()
    vif = snap.vifs[snap.vif_on(snap.vms_named("db-01")[0], "5")]
    assert (vif.mac, vif.locking_mode.value, list(vif.ipv4_allowed)) == (
        "02:00:00:00:05:05", "locked", ["10.1.2.3"])
    assert (vif.qos_algorithm_type, dict(vif.qos_algorithm_params)) == (
        "ratelimit", {"kbps": "2048"})
    assert vif.other_config["mtu"] == "9000"


def test_ensure_mtu_replugs_but_never_the_management_interface_without_asking() -> None:
    pool = SimPool()
    snap = pool.snapshot()
    mgmt = snap.pifs[next(p for p, r in snap.pifs.items() if r.management)].network
    name = snap.networks[mgmt].name_label
    # replug without replug_management used to re-plug the guests' VIFs at 9000 while the
    # management PIFs stayed at 1500 (issue 13): now refused before any write.
    with pytest.raises(PreflightError, match="would leave VIFs above their PIF's MTU"):
        pool.converge(ensure_mtu(name, 9000, device="eth0", replug=True))
    assert pool.writes() == []
    pool.converge(ensure_mtu(name, 9000, device="eth0", replug=True, replug_management=True))
    writes = pool.writes()
    assert writes[:4] == ["network.set_MTU"] + ["PIF.plug"] * 3
    assert set(writes[4:]) == {"VIF.unplug", "VIF.plug"}


@pytest.mark.parametrize("mode", ["balance-slb", "active-backup", "lacp"])
def test_ensure_bond_in_each_mode_on_extra_nics(mode: str) -> None:
    pool = SimPool()
    pool.add_nics(2)
    desired = ensure_bond("Bond eth3+eth4", ["eth3", "eth4"], mode=mode, mtu=9000,
                          hashing_algorithm="src_mac" if mode == "lacp" else None)
    writes = converged_twice(pool, desired.merged(
        ensure_vlan_network("VLAN 400", 400, bond="Bond eth3+eth4")))
    assert writes.count("Bond.create") == 3
    snap = pool.snapshot()
    assert {b.mode.value for b in snap.bonds.values()} == {mode}
    if mode == "lacp":
        assert {b.properties["hashing_algorithm"] for b in snap.bonds.values()} == {"src_mac"}


def test_existing_bond_takes_the_recipes_mode_and_hashing_in_place() -> None:
    """An LACP bond hashing on src_mac, a recipe saying tcpudp_ports: set_property on each
    host (no rebuild), verified; then active-backup back to LACP: set_mode, then the hashing."""
    pool = SimPool()
    pool.add_nics(2)
    lacp = {"network": "Bond eth3+eth4", "members": ["eth3", "eth4"], "mode": "lacp"}
    pool.converge(ensure_bond(**lacp, hashing_algorithm="src_mac"))
    pool.clear()
    assert converged_twice(pool, ensure_bond(**lacp, hashing_algorithm="tcpudp_ports")) == [
        "Bond.set_property"] * 3
    hashing = {b.properties["hashing_algorithm"] for b in pool.snapshot().bonds.values()}
    assert hashing == {"tcpudp_ports"}
    pool.converge(ensure_bond("Bond eth3+eth4", ["eth3", "eth4"], mode="active-backup"))
    pool.clear()
    assert converged_twice(pool, ensure_bond(**lacp, hashing_algorithm="src_mac")) == [
        "Bond.set_mode", "Bond.set_property"] * 3
    assert {(b.mode.value, b.properties["hashing_algorithm"])
            for b in pool.snapshot().bonds.values()} == {("lacp", "src_mac")}


def test_verify_names_a_bond_hashing_algorithm_that_differs() -> None:
    from xapictl.plan.verify import mismatches

    pool = SimPool()
    pool.add_nics(2)
    lacp = {"network": "Bond eth3+eth4", "members": ["eth3", "eth4"], "mode": "lacp"}
    pool.converge(ensure_bond(**lacp, hashing_algorithm="src_mac"))
    found = mismatches(ensure_bond(**lacp, hashing_algorithm="tcpudp_ports"), pool.snapshot())
    assert [str(m) for m in found][:1] == [
        "bonds[0] (Bond eth3+eth4) on xcp-host-01.hashing_algorithm: wanted 'tcpudp_ports', "
        "found 'src_mac'"]
    assert len(found) == 3


def test_bond_with_a_member_already_in_another_bond_is_refused() -> None:
    pool = SimPool()
    pool.converge(ensure_bond("A", ["eth1"]))
    pool.clear()
    with pytest.raises(PreflightError, match=r"PIF eth1 on xcp-host-02 is already a member "
                                             r"of another bond \(PIF_ALREADY_BONDED\)"):
        pool.converge(ensure_bond("B", ["eth1", "eth2"]))
    assert pool.writes() == []


def test_bad_arguments_are_desired_state_errors_naming_the_field() -> None:
    with pytest.raises(DesiredStateError, match="hashing_algorithm: only for `mode: lacp`"):
        ensure_bond("B", ["eth1"], mode="active-backup", hashing_algorithm="src_mac")
    with pytest.raises(DesiredStateError, match="mac: 'nope' is not a MAC"):
        ensure_vm_attached("v", "n", mac="nope")


def test_problems_of_arguments_name_the_argument_and_the_call() -> None:
    with pytest.raises(DesiredStateError) as info:
        ensure_vlan_network("V", 5000, device="eth1")
    [p] = info.value.details
    assert (p.where, p.field) == ("ensure_vlan_network('V')", "vlan")
    assert p.message() == "5000 is out of range 0-4094; e.g. `vlan: 105`"


def test_one_list_passed_twice_is_two_plain_values() -> None:
    """The builders construct the recipe model directly: the same list object given for two
    arguments was a YAML alias in the old text round trip, refused as one."""
    addresses = ["172.21.0.10"]
    state = ensure_vm_attached("v", "n", device=1, locking_mode="locked",
                               ipv4_allowed=addresses, ipv6_allowed=[])
    assert state.vifs[0].ipv4_allowed == ("172.21.0.10",)
    shared: list[str] = []
    state = ensure_vm_attached("v", "n", device=1, ipv4_allowed=shared, ipv6_allowed=shared)
    assert (state.vifs[0].ipv4_allowed, state.vifs[0].ipv6_allowed) == ((), ())


def test_undecodable_bytes_in_a_name_are_refused_naming_the_argument() -> None:
    """A command-line argument with bytes that are not UTF-8 reaches Python as lone
    surrogates: refused before any call, not sent to the pool."""
    with pytest.raises(DesiredStateError) as info:
        ensure_network("lab\udcff")
    [p] = info.value.details
    assert (p.where, p.field) == ("ensure_network('lab\\udcff')", "name")
    assert p.message().startswith("holds U+DCFF at position 4, which is not text")


def test_arguments_that_are_not_plain_values_are_refused() -> None:
    with pytest.raises(DesiredStateError, match="arguments must be plain strings, numbers"):
        ensure_network("N", other_config={"k": object()})  # type: ignore[dict-item]


def test_diff_of_ensure_results_is_pure() -> None:
    snap = SimPool().snapshot()
    desired = ensure_vlan_network("VLAN 9", 9, device="eth1")
    assert diff(desired, snap) == diff(desired, snap)
