"""Real 802.1Q, VLAN-aware bridges and bonds, inside the UML kernel (harness.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from local_netns_helpers import add_addr, ipr_in, snapshot_of, veth

from xapictl.local import probe
from xapictl.local.apply import LocalApplyFailed, apply
from xapictl.local.check import capabilities
from xapictl.local.desired import HostNetwork, VifSpec, load_recipe, parse_recipe
from xapictl.local.observe import BridgeVlan
from xapictl.local.planner import plan
from xapictl.local.xl_vif import parse_vlan_spec

pytestmark = [pytest.mark.uml, pytest.mark.requires_root]


def vlan_dev(ns: str, parent: str, vid: int, cidr: str) -> None:
    """A kernel VLAN device on the far side of the trunk, holding ``cidr``."""
    ipr = ipr_in(ns)
    try:
        idx = ipr.link_lookup(ifname=parent)[0]
        name = f"{parent}.{vid}"
        ipr.link("add", ifname=name, kind="vlan", link=idx, vlan_id=vid)
        ipr.link("set", index=ipr.link_lookup(ifname=name)[0], state="up")
    finally:
        ipr.close()
    add_addr(ns, name, cidr)


def trunk(namespaces):
    """dom0 with trunk NIC eth1 to a switch namespace whose lan1.105 holds 10.105.0.1."""
    switch, dom0 = namespaces("sw"), namespaces("dom0")
    veth(dom0, "eth1", switch, "lan1", mac="00:16:3e:00:00:11")
    vlan_dev(switch, "lan1", 105, "10.105.0.1/24")
    return dom0, switch


def guest(namespaces, dom0: str, role: str, vif: str, cidr: str) -> str:
    g = namespaces(role)
    veth(dom0, vif, g, "eth0")
    add_addr(g, "eth0", cidr)
    return g


def test_this_kernel_has_every_capability():
    assert {k: ok for k, (ok, _) in capabilities().items()} == {
        "veth": True, "bridge": True, "vlan": True, "bond": True, "vlan_filtering": True}


BRIDGE_PER_VLAN = """
local:
  bridges:
    xenbr105: {uplink: eth1, vlan: 105}
    xenbr106: {uplink: eth1, vlan: 106}
  vifs:
    vif1.0: {bridge: xenbr105}
    vif2.0: {bridge: xenbr106}
"""


def test_bridge_per_vlan_pings_across_the_tagged_trunk_and_not_across_tags(namespaces):
    dom0, _ = trunk(namespaces)
    g105 = guest(namespaces, dom0, "g105", "vif1.0", "10.105.0.50/24")
    g106 = guest(namespaces, dom0, "g106", "vif2.0", "10.105.0.51/24")
    desired = parse_recipe(BRIDGE_PER_VLAN)
    outcome = apply(desired, netns=dom0, run_probe=False)
    assert outcome.report.ok
    snap = snapshot_of(dom0)
    dev = snap.links["eth1.105"]
    assert (dev.kind, dev.vlan_id, dev.vlan_parent, dev.master, dev.owned) == (
        "vlan", 105, "eth1", "xenbr105", True)
    assert plan(desired, snap).is_empty
    assert probe.reachable("10.105.0.1", netns=g105)
    # same subnet, other tag: the peer's VLAN 105 device never sees it
    assert probe.ping("10.105.0.1", netns=g106, count=3, interval=0.1, timeout=0.5).received == 0


VLAN_AWARE = """
local:
  bridges:
    xenbr1:
      uplink: eth1
      vlan_filtering: true
      trunk_vids: [105, 106]
      addresses: none
  vifs:
    vif3.0: {bridge: xenbr1, vlan: "105"}
    vif4.0: {bridge: xenbr1, vlan: "106p/107"}
"""


def test_vlan_aware_bridge_tags_per_vif_and_isolates_vlans(namespaces):
    dom0, _ = trunk(namespaces)
    g105 = guest(namespaces, dom0, "g3", "vif3.0", "10.105.0.50/24")
    g106 = guest(namespaces, dom0, "g4", "vif4.0", "10.105.0.51/24")
    desired = parse_recipe(VLAN_AWARE)
    apply(desired, netns=dom0, run_probe=False)
    snap = snapshot_of(dom0)
    assert snap.links["xenbr1"].vlan_filtering
    assert sorted(snap.bridge_vlans["eth1"], key=lambda v: v.vid) == [
        BridgeVlan(105), BridgeVlan(106)]
    assert sorted(snap.bridge_vlans["vif3.0"], key=lambda v: v.vid) == [
        BridgeVlan(105, pvid=True, untagged=True)]
    assert sorted(snap.bridge_vlans["vif4.0"], key=lambda v: v.vid) == [
        BridgeVlan(106, pvid=True, untagged=True), BridgeVlan(107)]
    assert plan(desired, snap).is_empty
    assert probe.reachable("10.105.0.1", netns=g105)
    assert probe.ping("10.105.0.1", netns=g106, count=3, interval=0.1, timeout=0.5).received == 0


@pytest.mark.parametrize("index", [0, 2, 5, 8])
def test_vlan_aware_apply_failure_rolls_back_exactly(namespaces, index):
    dom0, _ = trunk(namespaces)
    guest(namespaces, dom0, "g3", "vif3.0", "10.105.0.50/24")
    guest(namespaces, dom0, "g4", "vif4.0", "10.105.0.51/24")
    before = snapshot_of(dom0)
    with pytest.raises(LocalApplyFailed) as info:
        apply(parse_recipe(VLAN_AWARE), netns=dom0, fail_at=index, run_probe=False)
    assert info.value.rollback_errors == []
    after = snapshot_of(dom0)
    assert after.fingerprint() == before.fingerprint()
    assert after.bridge_vlans == before.bridge_vlans


BOND = """
local:
  bonds:
    bond0: {slaves: [eth1, eth2], mode: active-backup}
  bridges:
    xenbr0:
      uplink: bond0
      addresses: [10.9.0.10/24]
  probes: [10.9.0.1]
"""


def test_bond_as_bridge_uplink_carries_host_traffic_and_tears_down(namespaces):
    switch, dom0 = namespaces("sw"), namespaces("dom0")
    veth(dom0, "eth1", switch, "lan1", mac="00:16:3e:00:00:11")
    veth(dom0, "eth2", switch, "lan2", mac="00:16:3e:00:00:12")
    ipr = ipr_in(switch)
    try:
        ipr.link("add", ifname="sw0", kind="bridge", br_stp_state=0, br_forward_delay=0)
        sw0 = ipr.link_lookup(ifname="sw0")[0]
        for port in ("lan1", "lan2"):
            ipr.link("set", index=ipr.link_lookup(ifname=port)[0], master=sw0)
        ipr.link("set", index=sw0, state="up")
    finally:
        ipr.close()
    add_addr(switch, "sw0", "10.9.0.1/24")
    before = snapshot_of(dom0)
    desired = parse_recipe(BOND)
    outcome = apply(desired, netns=dom0)
    assert [(p.target, p.received > 0) for p in outcome.probes] == [("10.9.0.1", True)]
    snap = snapshot_of(dom0)
    assert (snap.links["eth1"].master, snap.links["eth2"].master) == ("bond0", "bond0")
    assert snap.links["bond0"].master == "xenbr0" and snap.links["bond0"].kind == "bond"
    assert plan(desired, snap).is_empty
    teardown = parse_recipe("""
local:
  bridges:
    xenbr0: {uplink: bond0, state: absent}
  bonds:
    bond0: {state: absent}
""")
    apply(teardown, netns=dom0, run_probe=False)
    after = snapshot_of(dom0)
    assert "bond0" not in after.links and "xenbr0" not in after.links
    assert {n: (lk.master, lk.up) for n, lk in after.links.items()} == {
        n: (lk.master, lk.up) for n, lk in before.links.items()}


TWO_HOSTS_A = """
local:
  bridges:
    xenbr1:
      uplink: eth1
      vlan_filtering: true
      trunk_vids: [105, 106]
      addresses: none
  vifs:
    vif1.0: {bridge: xenbr1, vlan: "105"}
    vif2.0: {bridge: xenbr1, vlan: "106"}
"""

TWO_HOSTS_B = """
local:
  bridges:
    xenbr105: {uplink: eth1, vlan: 105}
  vifs:
    vif1.0: {bridge: xenbr105}
"""


def test_guests_on_two_hosts_ping_across_a_tagged_trunk_and_not_across_mismatched_tags(
        namespaces):
    """Host A tags with a VLAN-aware bridge (xl vlan=), host B untags with eth1.105 under
    its own bridge: the two kernels agree on the 802.1Q frames between them."""
    host_a, host_b = namespaces("hosta"), namespaces("hostb")
    veth(host_a, "eth1", host_b, "eth1", mac="00:16:3e:00:0a:01")
    a105 = guest(namespaces, host_a, "a105", "vif1.0", "10.105.0.50/24")
    a106 = guest(namespaces, host_a, "a106", "vif2.0", "10.105.0.51/24")
    guest(namespaces, host_b, "b105", "vif1.0", "10.105.0.60/24")
    for ns, recipe in ((host_a, TWO_HOSTS_A), (host_b, TWO_HOSTS_B)):
        desired = parse_recipe(recipe)
        assert apply(desired, netns=ns, run_probe=False).report.ok
        assert plan(desired, snapshot_of(ns)).is_empty
    assert probe.reachable("10.105.0.60", netns=a105)
    assert probe.ping("10.105.0.60", netns=a106, count=3, interval=0.1,
                      timeout=0.5).received == 0


RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def torn_down(desired: HostNetwork) -> HostNetwork:
    return HostNetwork(bridges=tuple(replace(b, present=False) for b in desired.bridges),
                       probes=())


def lasting(snap):
    """What teardown must give back: everything but the guest's vif (vif offline leaves it
    down with the dummy MAC, for netback to remove) and link-local addresses (teardown
    re-adds those itself, with the kernel's timing)."""
    fp = snap.fingerprint()
    fp["links"] = {n: lk for n, lk in fp["links"].items() if n != "vif1.0"}
    fp["addresses"] = [a for a in fp["addresses"]
                       if a[0] != "vif1.0" and not a[1].startswith("fe80:")]
    fp["routes"] = [r for r in fp["routes"] if r[1] != "vif1.0"]
    return fp


def converge_carry_105_and_tear_down(namespaces, recipe: str, vif: VifSpec, check) -> None:
    """Apply a shipped recipe in a namespace dom0 on a trunk, check it (``check(snap)``),
    re-plan (nothing), ping VLAN 105 from a guest on ``vif``, then tear it all down."""
    dom0, _ = trunk(namespaces)
    g105 = guest(namespaces, dom0, "g105", "vif1.0", "10.105.0.50/24")
    before = snapshot_of(dom0)
    desired = load_recipe(RECIPES / recipe)
    assert apply(desired, netns=dom0, run_probe=False).report.ok
    snap = snapshot_of(dom0)
    check(snap)
    assert plan(desired, snap).is_empty
    apply(HostNetwork(vifs=(vif,), probes=()), netns=dom0, run_probe=False)
    assert probe.reachable("10.105.0.1", netns=g105)
    apply(HostNetwork(vifs=(VifSpec("vif1.0", present=False),), probes=()), netns=dom0,
          run_probe=False)
    apply(torn_down(desired), netns=dom0, run_probe=False)
    after = snapshot_of(dom0)
    assert not [n for n in after.links if n.startswith(("xenbr", "eth1."))]
    assert lasting(after) == lasting(before)


def test_shipped_trunk_recipe_applies_converges_carries_vlan_105_and_tears_down(namespaces):
    def check(snap):
        for vid in range(101, 106):
            dev = snap.links[f"eth1.{vid}"]
            assert (dev.kind, dev.vlan_id, dev.master, dev.owned) == (
                "vlan", vid, f"xenbr{vid}", True)
            assert snap.links[f"xenbr{vid}"].up

    converge_carry_105_and_tear_down(namespaces, "local-trunk-vlans.yaml",
                                     VifSpec("vif1.0", "xenbr105"), check)


def test_shipped_vlan_aware_recipe_applies_converges_tags_the_trunk_and_tears_down(namespaces):
    def check(snap):
        assert snap.links["xenbr1"].vlan_filtering and snap.links["eth1"].master == "xenbr1"
        assert sorted(snap.bridge_vlans["eth1"], key=lambda v: v.vid) == [
            BridgeVlan(vid) for vid in range(101, 106)]

    # the vif joins the recipe's bridge with xl's vlan=105 (PVID 105, untagged)
    converge_carry_105_and_tear_down(namespaces, "local-vlan-aware.yaml",
                                     VifSpec("vif1.0", "xenbr1", parse_vlan_spec("105")), check)


def bonded_dom0(namespaces) -> str:
    switch, dom0 = namespaces("sw"), namespaces("dom0")
    veth(dom0, "eth1", switch, "lan1", mac="00:16:3e:00:00:11")
    veth(dom0, "eth2", switch, "lan2", mac="00:16:3e:00:00:12")
    return dom0


def bond_recipe(slaves: str, mode: str) -> HostNetwork:
    return parse_recipe(f"local:\n  bonds:\n    bond0: {{slaves: [{slaves}], mode: {mode}}}\n"
                        "  probes: []\n")


def test_bond_mode_change_slave_release_and_rollback_keep_the_mode(namespaces):
    dom0 = bonded_dom0(namespaces)
    apply(bond_recipe("eth1, eth2", "active-backup"), netns=dom0, run_probe=False)
    assert snapshot_of(dom0).links["bond0"].bond_mode == "active-backup"
    xor = bond_recipe("eth1, eth2", "balance-xor")
    assert not plan(xor, snapshot_of(dom0)).is_empty
    apply(xor, netns=dom0, run_probe=False)
    snap = snapshot_of(dom0)
    assert snap.links["bond0"].bond_mode == "balance-xor"
    assert snap.ports_of("bond0") == ("eth1", "eth2") and plan(xor, snap).is_empty
    one = bond_recipe("eth1", "balance-xor")
    apply(one, netns=dom0, run_probe=False)
    snap = snapshot_of(dom0)
    assert snap.ports_of("bond0") == ("eth1",)
    assert (snap.links["eth2"].master, snap.links["eth2"].up) == (None, True)
    assert plan(one, snap).is_empty
    gone = parse_recipe("local:\n  bonds:\n    bond0: {state: absent}\n  probes: []\n")
    steps = len(plan(gone, snap).steps)
    with pytest.raises(LocalApplyFailed) as info:
        apply(gone, netns=dom0, run_probe=False, fail_at=steps - 1)  # after the delete
    assert info.value.rollback_errors == []
    back = snapshot_of(dom0)
    assert back.links["bond0"].bond_mode == "balance-xor"  # was recreated as active-backup
    assert back.ports_of("bond0") == ("eth1",)
