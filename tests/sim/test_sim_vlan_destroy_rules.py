"""VLAN.destroy's order (REFERENCE §3.4): orphan clean-up first, the member-only management
check before the HA check, bonded VLAN PIFs refused."""

from __future__ import annotations

from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


def _management_vlan(api, host, address):
    vlan = api("VLAN.create", api.pif(host, "eth1"), 200, api.new_network("mgmt vlan"))
    vlan_pif = api.record("VLAN", vlan).untagged_pif
    api("PIF.reconfigure_ip", vlan_pif, "Static", address, "255.255.255.0", "", "")
    api("host.management_reconfigure", vlan_pif)
    assert api.record("PIF", vlan_pif).management is True
    return vlan, vlan_pif


def test_destroy_of_a_members_management_vlan_is_refused_before_the_ha_check(api):
    vlan, vlan_pif = _management_vlan(api, api.hosts()[1], "203.0.113.12")
    api.sim.state.set_field("pool", api.sim.state.refs("pool")[0], "ha_enabled", True)
    assert api.fails("VLAN.destroy", vlan) == ["PIF_IS_MANAGEMENT_INTERFACE", vlan_pif]


def test_destroy_of_the_masters_management_vlan_meets_the_ha_check_first(api):
    vlan, vlan_pif = _management_vlan(api, api.hosts()[0], "203.0.113.11")
    api.sim.state.set_field("pool", api.sim.state.refs("pool")[0], "ha_enabled", True)
    assert api.fails("VLAN.destroy", vlan) == ["HA_IS_ENABLED"]
    api.sim.state.set_field("pool", api.sim.state.refs("pool")[0], "ha_enabled", False)
    assert api.fails("VLAN.destroy", vlan) == ["PIF_IS_MANAGEMENT_INTERFACE", vlan_pif]


def test_destroy_of_a_vlan_whose_pif_is_gone_deletes_the_vlan_alone(api):
    host = api.hosts()[0]
    network = api.new_network()
    vlan = api("VLAN.create", api.pif(host, "eth1"), 201, network)
    vlan_pif = api.record("VLAN", vlan).untagged_pif
    api("PIF.db_forget", vlan_pif)
    api("VLAN.destroy", vlan)
    assert not api.sim.state.exists("VLAN", vlan)
    assert api.sim.state.exists("network", network)


def test_destroy_of_a_bonded_vlan_pif_is_pif_already_bonded(api):
    host = api.hosts()[0]
    vlan = api("VLAN.create", api.pif(host, "eth1"), 202, api.new_network())
    vlan_pif = api.record("VLAN", vlan).untagged_pif
    bond = api.sim.state.create("Bond", {"master": api.pif(host, "eth2")})
    api.sim.state.set_field("PIF", vlan_pif, "bond_slave_of", bond)  # only a raw DB can do this
    assert api.fails("VLAN.destroy", vlan) == ["PIF_ALREADY_BONDED", vlan_pif]


def _vlan_over_a_physical_pif(api, host):
    """A VLAN whose untagged PIF is a physical NIC: only the hidden pool_introduce makes one."""
    eth2 = api.pif(host, "eth2")
    return api("VLAN.pool_introduce", api.pif(host, "eth1"), eth2, 203, {}), eth2


def test_destroy_of_a_vlan_over_a_physical_pif_is_pif_is_physical_without_params(api):
    vlan, eth2 = _vlan_over_a_physical_pif(api, api.hosts()[0])
    assert api.fails("VLAN.destroy", vlan) == ["PIF_IS_PHYSICAL"]
    assert api.record("VLAN", vlan).untagged_pif == eth2
    assert api.record("PIF", eth2).currently_attached is True


def test_destroy_meets_the_ha_check_before_pif_is_physical(api):
    vlan, _ = _vlan_over_a_physical_pif(api, api.hosts()[0])
    api.sim.state.set_field("pool", api.sim.state.refs("pool")[0], "ha_enabled", True)
    assert api.fails("VLAN.destroy", vlan) == ["HA_IS_ENABLED"]
