"""Drift of IP configuration (issue 13 item 2): ``interface_drift`` names, field by field,
where PIFs differ from a recipe's ``interfaces:``; it is the planner's judgement, so a pool
drifts clean exactly when the entries re-plan empty; verify after apply uses it too. And
the combined layout (``recipes/host-networking.yaml``) drifts clean both ways."""

from __future__ import annotations

import pytest
from recipes_simpool import SimPool, recipe

from xapictl.errors import PreflightError
from xapictl.inventory.drift import drift
from xapictl.inventory.export import export_snapshot
from xapictl.plan.diff import diff
from xapictl.plan.interface_drift import interface_drift
from xapictl.plan.verify import mismatches
from xapictl.recipes import ensure_interface

LAYOUT = "host-networking.yaml"


def _eth2(pool: SimPool, host: str) -> str:
    snap = pool.snapshot()
    ref = next(r for r, h in snap.hosts.items() if h.name_label == host)
    pif = snap.pif_on(ref, "eth2")
    assert pif is not None
    return pif


def test_the_combined_layout_drifts_clean_between_hosts_and_against_the_recipe() -> None:
    pool = SimPool()
    result = pool.converge(recipe(LAYOUT))
    assert result.replan is not None and result.replan.is_empty
    snap = pool.snapshot()
    assert interface_drift(recipe(LAYOUT), snap) == []
    assert drift(export_snapshot(snap)) == []
    management = {snap.pifs[p].host: snap.pifs[p] for p in snap.pifs if snap.pifs[p].management}
    assert {p.device for p in management.values()} == {"bond0"}  # management on the bond
    assert len(management) == 3


def test_a_pif_changed_by_hand_is_named_with_each_field_that_differs() -> None:
    pool = SimPool()
    pool.converge(recipe(LAYOUT))
    eth2 = _eth2(pool, "xcp-host-02")
    state = pool.sim.state
    with state.lock:
        state.set_field("PIF", eth2, "disallow_unplug", False)
        state.set_field("PIF", eth2, "other_config", {})
        state.set_field("PIF", eth2, "ipv6_configuration_mode", "DHCP")
        state.set_field("PIF", eth2, "DNS", "198.51.100.9")
    snap = pool.snapshot()
    [found] = interface_drift(recipe(LAYOUT), snap)
    assert found.subject == "interface on 'Storage' on xcp-host-02 (xenbr2)"
    assert found.host_uuid == snap.hosts[snap.pifs[eth2].host].uuid
    assert found.fields == (
        ("dns", "198.51.100.9", "198.51.100.2"),
        ("ipv6", "DHCP", "Static 2001:db8:5::12/64"),
        ("purpose", "", "management_purpose=Storage"),
        ("disallow_unplug", "false", "true"))
    assert found.detail.startswith("dns is 198.51.100.9, the recipe says 198.51.100.2; ipv6 is "
                                   "DHCP, the recipe says Static 2001:db8:5::12/64; ")
    # The planner agrees: the same PIF, one write per field group.
    plan = diff(recipe(LAYOUT), snap)
    assert [s.action for s in plan.steps] == ["reconfigure IP", "reconfigure IPv6",
                                              "set other_config", "set disallow unplug"]
    assert {s.subject for s in plan.steps} == {"interface on 'Storage' on xcp-host-02"}


def test_an_unplugged_storage_interface_and_a_primary_type_are_drift() -> None:
    pool = SimPool()
    desired = ensure_interface(device="eth1", ipv6="autoconf", purpose="storage",
                               primary_address_type="ipv6")
    pool.converge(desired)
    assert interface_drift(desired, pool.snapshot()) == []
    snap = pool.snapshot()
    eth1 = snap.pif_on(snap.master, "eth1")
    with pool.sim.state.lock:
        pool.sim.state.set_field("PIF", eth1, "currently_attached", False)
        pool.sim.state.set_field("PIF", eth1, "primary_address_type", "IPv4")
    [found] = interface_drift(desired, pool.snapshot())
    assert found.fields == (("primary_address_type", "IPv4", "IPv6"),
                            ("plugged", "false", "true"))


def test_verify_compares_the_interfaces_too() -> None:
    pool = SimPool()
    desired = ensure_interface(device="eth1", hosts=["xcp-host-03"], ipv4="dhcp")
    found = mismatches(desired, pool.snapshot())
    assert [(m.path, m.desired, m.current) for m in found] == [
        ("interfaces (interface eth1 on xcp-host-03 (xenbr1)).ipv4", "DHCP", "None")]
    pool.converge(desired)
    assert mismatches(desired, pool.snapshot()) == []


def test_a_recipe_that_cannot_apply_is_refused_not_reported_as_drift() -> None:
    with pytest.raises(PreflightError, match="network 'Nowhere' does not exist"):
        interface_drift(ensure_interface("Nowhere", ipv4="dhcp"), SimPool().snapshot())
