"""Tunnels follow a bond (REFERENCE §3.7): re-created on the bond master with new refs, same
network and protocol, plugged again if they were plugged; and back on Bond.destroy."""

from __future__ import annotations

from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


def test_tunnels_on_members_are_recreated_on_the_master_and_back(api):
    host = api.hosts()[0]
    eth1, eth2 = api.pif(host, "eth1"), api.pif(host, "eth2")
    overlay = api.new_network("overlay")
    old = api("tunnel.create", eth2, overlay, "vxlan")
    old_access = api.record("tunnel", old).access_pif
    assert api.record("PIF", old_access).currently_attached is True
    bond = api("Bond.create", api.new_network("bond"), [eth1, eth2], "", "active-backup", {})
    master = api.record("Bond", bond).master
    assert not api.sim.state.exists("tunnel", old)
    assert not api.sim.state.exists("PIF", old_access)
    (moved,) = api.record("PIF", master).tunnel_transport_pif_of
    record = api.record("tunnel", moved)
    access = api.record("PIF", record.access_pif)
    assert (access.network, record.protocol) == (overlay, "vxlan")
    assert access.currently_attached is True and access.device == "tunnel0"
    api("Bond.destroy", bond)
    (back,) = api.record("PIF", eth2).tunnel_transport_pif_of
    assert back != moved
    assert api.record("PIF", api.record("tunnel", back).access_pif).network == overlay


def _member_vlan(api, host, base, tag, network):
    vlan = api("VLAN.create", base, tag, network)
    return vlan, api.record("VLAN", vlan).untagged_pif


def test_a_moved_vlan_keeps_its_ip_configuration_and_starts_with_an_empty_other_config(api):
    """xapi_bond.ml move_vlan: Xapi_vlan.create_internal (other_config []), then
    move_configuration from the old VLAN PIF; plugged again because it was plugged."""
    host = api.hosts()[0]
    eth1, eth2 = api.pif(host, "eth1"), api.pif(host, "eth2")
    api("PIF.reconfigure_ip", eth2, "None", "", "", "", "")
    storage = api.new_network("storage vlan")
    _, old = _member_vlan(api, host, eth1, 300, storage)
    api("PIF.reconfigure_ip", old, "Static", "203.0.113.5", "255.255.255.0", "203.0.113.1",
        "203.0.113.2")
    api("PIF.add_to_other_config", old, "note", "by hand")
    bond = api("Bond.create", api.new_network("bond"), [eth1, eth2], "", "active-backup", {})
    (moved,) = api.record("PIF", api.record("Bond", bond).master).vlan_slave_of
    pif = api.record("PIF", api.record("VLAN", moved).untagged_pif)
    assert (pif.network, pif.ip_configuration_mode, pif.ip, pif.netmask, pif.gateway,
            pif.dns) == (storage, "Static", "203.0.113.5", "255.255.255.0", "203.0.113.1",
                         "203.0.113.2")
    assert pif.other_config == {} and pif.currently_attached is True


def test_a_tag_already_on_the_new_base_takes_the_old_vlans_ip_configuration(api):
    """move_vlan with the tag present: that VLAN is kept, and move_configuration still copies
    the old VLAN PIF's addressing onto it."""
    host = api.hosts()[0]
    eth1, eth2 = api.pif(host, "eth1"), api.pif(host, "eth2")
    api("PIF.reconfigure_ip", eth2, "None", "", "", "", "")
    _member_vlan(api, host, eth1, 100, api.new_network("kept"))
    _, on_eth2 = _member_vlan(api, host, eth2, 100, api.new_network("dropped"))
    api("PIF.reconfigure_ip", on_eth2, "Static", "203.0.113.9", "255.255.255.0", "", "")
    bond = api("Bond.create", api.new_network("bond"), [eth1, eth2], "", "active-backup", {})
    (kept,) = api.record("PIF", api.record("Bond", bond).master).vlan_slave_of
    pif = api.record("PIF", api.record("VLAN", kept).untagged_pif)
    assert (pif.ip_configuration_mode, pif.ip) == ("Static", "203.0.113.9")


def test_management_on_a_members_vlan_moves_with_the_vlan_onto_the_bond_and_back(api):
    """move_vlan of a plugged management VLAN PIF: move_management to the new VLAN PIF."""
    host = api.hosts()[0]
    eth0 = api.pif(host, "eth0")
    eth1, eth2 = api.pif(host, "eth1"), api.pif(host, "eth2")
    api("PIF.reconfigure_ip", eth2, "None", "", "", "", "")
    _, old = _member_vlan(api, host, eth1, 50, api.new_network("mgmt vlan"))
    api("PIF.reconfigure_ip", old, "Static", "203.0.113.50", "255.255.255.0", "", "")
    state = api.sim.state
    with state.lock:
        state.set_field("PIF", eth0, "management", False)
        state.set_field("PIF", old, "management", True)
    bond = api("Bond.create", api.new_network("bond"), [eth1, eth2], "", "active-backup", {})
    (moved,) = api.record("PIF", api.record("Bond", bond).master).vlan_slave_of
    pif = api.record("PIF", api.record("VLAN", moved).untagged_pif)
    assert (pif.management, pif.currently_attached, pif.ip) == (True, True, "203.0.113.50")
    api("Bond.destroy", bond)
    (back,) = api.record("PIF", eth1).vlan_slave_of
    pif = api.record("PIF", api.record("VLAN", back).untagged_pif)
    assert (pif.management, pif.ip) == (True, "203.0.113.50")
    assert [p for p, r in api.records("PIF").items()
            if r.management and r.host == host] == [api.record("VLAN", back).untagged_pif]
