"""Bond.create member checks in XAPI's order, and the VLAN move onto a bond master that
already carries the tag (REFERENCE §2.3 kinds, §3.7 step 9 and side effects)."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


@pytest.fixture
def master(api):
    return api.hosts()[0]


def _vlan_pif(api, base, tag=100):
    vlan = api("VLAN.create", base, tag, api.new_network(f"v{tag}"))
    return api.record("VLAN", vlan).untagged_pif


def _create(api, members):
    return api.fails("Bond.create", api.new_network("bond"), members, "", "active-backup", {})


def test_unmanaged_is_checked_before_already_bonded(api, master):
    eth1 = api.pif(master, "eth1")
    api("Bond.create", api.new_network("first"), [eth1], "", "active-backup", {})
    api.sim.state.set_field("PIF", eth1, "managed", False)
    assert _create(api, [eth1]) == ["PIF_UNMANAGED", eth1]


def test_already_bonded_is_checked_before_the_vlan_rule(api, master):
    untagged = _vlan_pif(api, api.pif(master, "eth1"))
    bond = api("Bond.create", api.new_network("first"), [api.pif(master, "eth2")], "",
               "active-backup", {})
    api.sim.state.set_field("PIF", untagged, "bond_slave_of", bond)
    assert _create(api, [untagged]) == ["PIF_ALREADY_BONDED", untagged]


def test_tunnel_access_wins_over_the_vlan_rule(api, master):
    """Kinds are exclusive and tunnel access is tested first (§2.3), so a PIF that is both
    a VLAN PIF and a tunnel access PIF is refused as a tunnel access PIF."""
    untagged = _vlan_pif(api, api.pif(master, "eth1"))
    vlan = api.record("PIF", untagged).vlan_master_of
    tunnel = api("tunnel.create", api.pif(master, "eth2"), api.new_network("gre"), "gre")
    access = api.record("tunnel", tunnel).access_pif
    api.sim.state.set_field("PIF", access, "VLAN_master_of", vlan)
    assert _create(api, [access]) == ["IS_TUNNEL_ACCESS_PIF", access]


def test_members_are_checked_one_by_one_so_the_first_members_error_wins(api, master):
    eth2 = api.pif(master, "eth2")
    untagged = _vlan_pif(api, api.pif(master, "eth1"))
    api.sim.state.set_field("PIF", eth2, "managed", False)
    assert _create(api, [untagged, eth2]) == ["PIF_VLAN_EXISTS", "eth1"]
    assert _create(api, [eth2, untagged]) == ["PIF_UNMANAGED", eth2]
    assert api.records("Bond") == {}


def test_a_tag_already_on_the_master_keeps_that_vlan_and_moves_local_vifs_to_it(api, master):
    eth1, eth2 = api.pif(master, "eth1"), api.pif(master, "eth2")
    kept_network, dropped_network = api.new_network("kept"), api.new_network("dropped")
    api("VLAN.create", eth1, 100, kept_network)
    dropped_vlan = api("VLAN.create", eth2, 100, dropped_network)
    dropped_pif = api.record("VLAN", dropped_vlan).untagged_pif
    local = api.new_vif(api.vm("web-01"), dropped_network, device="5")  # runs on the master
    remote = api.new_vif(api.vm("web-02"), dropped_network, device="5")  # runs on host 2
    bond = api.record("Bond", api("Bond.create", api.new_network("bond"), [eth1, eth2], "",
                                  "active-backup", {}))
    (only_vlan,) = api.record("PIF", bond.master).vlan_slave_of
    vlan = api.record("VLAN", only_vlan)
    assert vlan.tag == 100
    assert api.record("PIF", vlan.untagged_pif).network == kept_network
    assert api.fails("VLAN.get_record", dropped_vlan) == ["HANDLE_INVALID", "VLAN", dropped_vlan]
    assert api.fails("PIF.get_record", dropped_pif) == ["HANDLE_INVALID", "PIF", dropped_pif]
    assert api.record("network", dropped_network).pifs == ()
    assert api.record("VIF", local).network == kept_network
    assert api.record("VIF", remote).network == dropped_network
