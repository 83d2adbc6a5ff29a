"""``inventory diff`` and drift: pure functions over exports."""

from __future__ import annotations

import dataclasses

from inventory_pool_builder import PoolBuilder, seed_pool

from xapictl.inventory import DriftKind, Inventory, Op, apply, diff, drift, export_snapshot


def _export(b: PoolBuilder) -> Inventory:
    return export_snapshot(b.snapshot(), generated_at="t")


def test_diff_of_an_export_with_itself_is_empty(pool_builder: PoolBuilder) -> None:
    inv = _export(pool_builder)
    assert diff(inv, inv) == []


def test_diff_reports_add_mod_del_and_apply_replays_them() -> None:
    b = seed_pool()
    old = _export(b)
    vm = next(r for r, v in b.raw["VM"].items() if v["name_label"] == "db01")
    vif = next(r for r, v in b.raw["VIF"].items() if v["VM"] == vm)
    del b.raw["VIF"][vif]
    b.rec("VM", vm)["power_state"] = "Halted"
    net = b.network("VLAN 200", "xapi9")
    new = _export(b)
    changes = diff(old, new)
    ops = {(c.op, c.object) for c in changes}
    assert ops == {(Op.DEL, "vif"), (Op.MOD, "vm"), (Op.ADD, "network")}
    mod = next(c for c in changes if c.op is Op.MOD)
    assert mod.fields == {"power_state": ("Running", "Halted")}
    assert next(c for c in changes if c.op is Op.ADD).uuid == b.rec("network", net)["uuid"]
    assert diff(apply(old, changes), new) == []


def test_changes_survive_json_round_trip() -> None:
    b = seed_pool()
    old = _export(b)
    b.rec("network", next(iter(b.raw["network"])))["MTU"] = "9000"
    changes = diff(old, _export(b))
    from xapictl.inventory.diff import Change
    assert [Change.from_json(c.to_json()) for c in changes] == changes


def test_adds_come_parents_first_and_deletes_children_first() -> None:
    empty = Inventory()
    full = _export(seed_pool())
    adds = [c.object for c in diff(empty, full)]
    assert adds.index("pool") < adds.index("host") < adds.index("pif") < adds.index("vif")
    dels = [c.object for c in diff(full, empty)]
    assert dels.index("vif") < dels.index("pif") < dels.index("host") < dels.index("pool")


def test_drift_finds_each_inconsistency_of_the_seed_pool(pool_builder: PoolBuilder) -> None:
    found = drift(_export(pool_builder))
    assert sorted(f.kind for f in found) == sorted([
        DriftKind.MTU_MISMATCH, DriftKind.PIF_UNPLUGGED, DriftKind.VLAN_MISSING,
        DriftKind.BOND_MODE_MISMATCH])
    host3 = next(h["uuid"] for h in _export(pool_builder).of("hosts")
                 if h["name_label"] == "host3")
    assert all(f.hosts == (host3,) for f in found)


def test_a_consistent_pool_has_no_drift() -> None:
    b = PoolBuilder()
    hosts = [b.host("host1", master=True), b.host("host2")]
    data = b.network("data", "xenbr1")
    v = b.network("VLAN 5", "xapi1")
    for h in hosts:
        trunk = b.pif(h, "eth1", data)
        b.vlan(h, trunk, 5, v)
    assert drift(_export(b)) == []


def test_vlan_with_different_tags_on_different_hosts_is_drift() -> None:
    b = PoolBuilder()
    hosts = [b.host("host1", master=True), b.host("host2"), b.host("host3")]
    data = b.network("data", "xenbr1")
    v = b.network("VLAN 5", "xapi1")
    for i, h in enumerate(hosts):
        b.vlan(h, b.pif(h, "eth1", data), 6 if i == 2 else 5, v)
    kinds = [f.kind for f in drift(_export(b))]
    assert kinds == [DriftKind.VLAN_TAG_MISMATCH]


def test_drift_is_per_pool_in_a_merged_fleet_inventory() -> None:
    a = _export(seed_pool("a"))
    b = PoolBuilder("b")
    b.host("host1", master=True)
    merged = Inventory.merge([a, _export(b)])
    assert {f.pool for f in drift(merged)} == {a.pool_uuids[0]}
    assert dataclasses.replace(merged).pool_part(a.pool_uuids[0]).of("hosts") == a.of("hosts")


def test_a_vlan_network_above_its_trunks_mtu_is_drift_naming_both_mtus() -> None:
    b = PoolBuilder()
    hosts = [b.host("host1", master=True), b.host("host2")]
    data = b.network("data", "xenbr1", mtu=1500)
    jumbo = b.network("data jumbo", "xenbr2", mtu=9000)
    v = b.network("VLAN 5", "xapi1", mtu=9000)
    # host1's trunk is on the 1500 network, host2's on a network raised to 9000
    b.vlan(hosts[0], b.pif(hosts[0], "eth1", data), 5, v)
    b.vlan(hosts[1], b.pif(hosts[1], "eth1", jumbo, mtu=9000), 5, v)
    inv = _export(b)
    found = drift(inv)
    assert [f.kind for f in found] == [DriftKind.VLAN_MTU_ABOVE_TRUNK]
    host1 = next(h["uuid"] for h in inv.of("hosts") if h["name_label"] == "host1")
    assert found[0].hosts == (host1,)
    assert found[0].subject == "network 'VLAN 5' (xapi1)"
    assert found[0].detail == (
        "MTU 9000 above its trunk's (eth1, network 'data' (xenbr1), MTU 1500) on host1: frames "
        "above 1500 are dropped; raise the trunk (xapictl network set-mtu 'VLAN 5' 9000 "
        "--raise-trunk-mtu) or lower the VLAN's MTU")
    assert found[0].to_json()["kind"] == "vlan-mtu-above-trunk"


def test_a_vlan_network_at_its_trunks_mtu_is_not_drift() -> None:
    b = PoolBuilder()
    host = b.host("host1", master=True)
    data = b.network("data", "xenbr1", mtu=9000)
    v = b.network("VLAN 5", "xapi1", mtu=9000)
    b.vlan(host, b.pif(host, "eth1", data, mtu=9000), 5, v)
    assert drift(_export(b)) == []
