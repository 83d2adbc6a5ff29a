"""PIF plug/unplug, IP configuration, properties, introduce/scan/forget and the management
interface (REFERENCE §3.5, §7 test_clustering networking part, §8.14-15)."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


@pytest.fixture
def master(api):
    return api.hosts()[0]


def test_unplug_management_pif_is_pif_is_management_interface(api, master):
    eth0 = api.pif(master, "eth0")
    assert api.fails("PIF.unplug", eth0) == ["PIF_IS_MANAGEMENT_INTERFACE", eth0]


def test_unplug_then_plug_physical_pif(api, master):
    eth2 = api.pif(master, "eth2")
    api("PIF.unplug", eth2)
    assert api.record("PIF", eth2).currently_attached is False
    api("PIF.plug", eth2)
    assert api.record("PIF", eth2).currently_attached is True


def test_plug_an_attached_pif_is_allowed(api, master):
    eth1 = api.pif(master, "eth1")
    api("PIF.plug", eth1)
    assert api.record("PIF", eth1).currently_attached is True


def test_plug_applies_network_mtu_or_other_config_mtu(api, master):
    eth2 = api.pif(master, "eth2")
    network = api.record("PIF", eth2).network
    api("network.set_MTU", network, 9000)
    api("PIF.plug", eth2)
    assert api.record("PIF", eth2).mtu == 9000
    api("PIF.add_to_other_config", eth2, "mtu", "4000")
    api("PIF.plug", eth2)
    assert api.record("PIF", eth2).mtu == 4000


def test_unplug_physical_pif_leaves_vlans_on_top_plugged(api, master):
    eth1 = api.pif(master, "eth1")
    vlan = api("VLAN.create", eth1, 100, api.new_network())
    untagged = api.record("VLAN", vlan).untagged_pif
    api("PIF.unplug", eth1)
    assert api.record("PIF", untagged).currently_attached is True


def test_unplug_with_running_vif_is_vif_in_use(api, master):
    eth0 = api.pif(master, "eth0")
    network = api.record("PIF", eth0).network
    api("PIF.set_disallow_unplug", eth0, False)
    api.sim.state.set_field("PIF", eth0, "management", False)
    failure = api.fails("PIF.unplug", eth0)
    assert failure[:2] == ["VIF_IN_USE", network]
    vif = api.record("VIF", failure[2])
    assert api.record("VM", vif.vm).resident_on == master


def test_unplug_disallowed_is_pif_does_not_allow_unplug(api, master):
    eth2 = api.pif(master, "eth2")
    api("PIF.set_disallow_unplug", eth2, True)
    assert api.fails("PIF.unplug", eth2) == ["PIF_DOES_NOT_ALLOW_UNPLUG", eth2]


def test_unmanaged_pif_cannot_plug_or_unplug(api, master):
    eth2 = api.pif(master, "eth2")
    api.sim.state.set_field("PIF", eth2, "managed", False)
    assert api.fails("PIF.plug", eth2) == ["PIF_UNMANAGED", eth2]
    assert api.fails("PIF.unplug", eth2) == ["PIF_UNMANAGED", eth2]


def test_plug_bond_slave_is_cannot_plug_bond_slave_and_unplug_is_silent(api, master):
    eth1 = api.pif(master, "eth1")
    api("Bond.create", api.new_network("bond"), [eth1], "", "balance-slb", {})
    assert api.fails("PIF.plug", eth1) == ["CANNOT_PLUG_BOND_SLAVE", eth1]
    api("PIF.unplug", eth1)  # succeeds without doing anything


def test_plug_on_dead_host_is_host_offline(api):
    member = api.hosts()[1]
    api.sim.set_host_live(member, False)
    assert api.fails("PIF.plug", api.pif(member, "eth1")) == ["HOST_OFFLINE", member]


def test_reconfigure_ip_static_stores_fields_and_keeps_ipv4_dns_only(api, master):
    eth1 = api.pif(master, "eth1")
    api("PIF.reconfigure_ip", eth1, "Static", "203.0.113.5", "255.255.255.0", "203.0.113.1",
        "203.0.113.53,2001:db8::53,not-an-ip")
    pif = api.record("PIF", eth1)
    assert (pif.ip_configuration_mode, pif.ip, pif.netmask, pif.gateway, pif.dns) == \
        ("Static", "203.0.113.5", "255.255.255.0", "203.0.113.1", "203.0.113.53")
    assert pif.currently_attached is True


def test_reconfigure_ip_merges_existing_ipv6_dns(api, master):
    eth1 = api.pif(master, "eth1")
    api.sim.state.set_field("PIF", eth1, "DNS", "2001:db8::53")
    api("PIF.reconfigure_ip", eth1, "DHCP", "", "", "", "203.0.113.53")
    assert api.record("PIF", eth1).dns == "203.0.113.53,2001:db8::53"


@pytest.mark.parametrize(("ip", "netmask", "gateway", "bad"), [
    ("300.1.1.1", "255.255.255.0", "", "IP"),
    ("", "255.255.255.0", "", "IP"),
    ("203.0.113.5", "", "", "netmask"),
    ("203.0.113.5", "255.255.255.0", "gw", "gateway"),
])
def test_reconfigure_ip_static_validates_in_order(api, master, ip, netmask, gateway, bad):
    eth1 = api.pif(master, "eth1")
    assert api.fails("PIF.reconfigure_ip", eth1, "Static", ip, netmask, gateway, "") \
        == ["INVALID_IP_ADDRESS_SPECIFIED", bad]


def test_reconfigure_ip_validates_non_empty_fields_even_for_dhcp(api, master):
    eth1 = api.pif(master, "eth1")
    assert api.fails("PIF.reconfigure_ip", eth1, "DHCP", "", "", "nope", "") \
        == ["INVALID_IP_ADDRESS_SPECIFIED", "gateway"]


def test_reconfigure_ip_none_on_management_is_refused(api, master):
    eth0 = api.pif(master, "eth0")
    assert api.fails("PIF.reconfigure_ip", eth0, "None", "", "", "", "") \
        == ["PIF_IS_MANAGEMENT_INTERFACE", eth0]


def test_reconfigure_ip_replugs_attached_pif_two_mod_events(api, master):
    eth1 = api.pif(master, "eth1")
    generation = api.sim.state.generation
    api("PIF.reconfigure_ip", eth1, "DHCP", "", "", "", "")
    changes = [c for c, _ in api.sim.state.changes_since(generation)]
    assert any(c.ref == eth1 and c.operation == "mod" for c in changes)
    assert api.sim.state.generation - generation >= 3  # write, down, up


def test_reconfigure_ip_with_ha_is_ha_is_enabled(api, master):
    api.sim.state.set_field("pool", api.sim.state.refs("pool")[0], "ha_enabled", True)
    assert api.fails("PIF.reconfigure_ip", api.pif(master, "eth1"), "DHCP", "", "", "", "") \
        == ["HA_IS_ENABLED"]


def test_reconfigure_ipv6_empty_address_stores_set_with_empty_string(api, master):
    eth1 = api.pif(master, "eth1")
    api("PIF.reconfigure_ipv6", eth1, "DHCP", "", "", "")
    pif = api.record("PIF", eth1)
    assert list(pif.ipv6) == [""] and pif.ipv6_configuration_mode == "DHCP"


def test_reconfigure_ipv6_validation(api, master):
    eth1 = api.pif(master, "eth1")
    assert api.fails("PIF.reconfigure_ipv6", eth1, "Static", "2001:db8::5/64", "10.0.0.1", "") \
        == ["INVALID_IP_ADDRESS_SPECIFIED", "gateway"]
    assert api.fails("PIF.reconfigure_ipv6", eth1, "Static", "2001:db8::5", "", "") \
        == ["INVALID_CIDR_ADDRESS_SPECIFIED", "IPv6"]
    api("PIF.reconfigure_ipv6", eth1, "Static", "2001:db8::5/64", "2001:db8::1",
        "2001:db8::53,192.0.2.53")
    pif = api.record("PIF", eth1)
    assert list(pif.ipv6) == ["2001:db8::5/64"] and pif.ipv6_gateway == "2001:db8::1"
    assert pif.dns == "2001:db8::53"


def test_set_primary_address_type_on_management_is_refused(api, master):
    eth0 = api.pif(master, "eth0")
    assert api.fails("PIF.set_primary_address_type", eth0, "IPv6") \
        == ["PIF_IS_MANAGEMENT_INTERFACE", eth0]
    eth1 = api.pif(master, "eth1")
    api("PIF.set_primary_address_type", eth1, "ipv6")  # enum input is case-insensitive
    assert api.record("PIF", eth1).primary_address_type == "IPv6"


def test_set_property_only_gro_on_off(api, master):
    eth1 = api.pif(master, "eth1")
    assert api.fails("PIF.set_property", eth1, "gro", "maybe") \
        == ["INVALID_VALUE", "properties", "gro = maybe"]
    assert api.fails("PIF.set_property", eth1, "tso", "on") \
        == ["INVALID_VALUE", "properties", "tso = on"]
    api("PIF.set_property", eth1, "gro", "off")
    assert api.record("PIF", eth1).properties == {"gro": "off"}


def test_set_property_on_vlan_pif_is_cannot_change_pif_properties(api, master):
    vlan = api("VLAN.create", api.pif(master, "eth1"), 100, api.new_network())
    untagged = api.record("VLAN", vlan).untagged_pif
    assert api.fails("PIF.set_property", untagged, "gro", "off") \
        == ["CANNOT_CHANGE_PIF_PROPERTIES", untagged]


def test_set_property_on_bond_master_copies_to_slaves(api, master):
    eth1, eth2 = api.pif(master, "eth1"), api.pif(master, "eth2")
    api("PIF.reconfigure_ip", eth2, "None", "", "", "", "")
    bond = api("Bond.create", api.new_network("bond"), [eth1, eth2], "", "balance-slb", {})
    bond_pif = api.record("Bond", bond).master
    api("PIF.set_property", bond_pif, "gro", "off")
    assert api.record("PIF", eth1).properties == {"gro": "off"}
    assert api.record("PIF", eth2).properties == {"gro": "off"}
    assert api.fails("PIF.set_property", eth1, "gro", "on") \
        == ["CANNOT_CHANGE_PIF_PROPERTIES", eth1]


def test_set_disallow_unplug_toggles_and_is_idempotent(api, master):
    eth2 = api.pif(master, "eth2")
    api("PIF.set_disallow_unplug", eth2, True)
    api("PIF.set_disallow_unplug", eth2, True)
    assert api.record("PIF", eth2).disallow_unplug is True
    api("PIF.set_disallow_unplug", eth2, False)
    assert api.record("PIF", eth2).disallow_unplug is False


def test_set_disallow_unplug_false_with_enabled_cluster_host_is_clustering_enabled(api, master):
    eth2 = api.pif(master, "eth2")
    api("PIF.set_disallow_unplug", eth2, True)
    cluster_host = api.sim.state.create("Cluster_host", {"PIF": eth2, "enabled": True,
                                                          "host": master})
    assert api.fails("PIF.set_disallow_unplug", eth2, False) \
        == ["CLUSTERING_ENABLED", cluster_host]


def test_forget_management_pif_is_refused(api, master):
    eth0 = api.pif(master, "eth0")
    assert api.fails("PIF.forget", eth0) == ["PIF_IS_MANAGEMENT_INTERFACE", eth0]


def test_forget_pif_with_vlans_is_pif_vlan_still_exists(api, master):
    eth1 = api.pif(master, "eth1")
    vlan = api("VLAN.create", eth1, 100, api.new_network())
    assert api.fails("PIF.forget", eth1) == ["PIF_VLAN_STILL_EXISTS", eth1]
    untagged = api.record("VLAN", vlan).untagged_pif
    assert api.fails("PIF.forget", untagged) == ["PIF_VLAN_STILL_EXISTS", untagged]


def test_forget_bonded_pif_is_pif_already_bonded(api, master):
    eth1 = api.pif(master, "eth1")
    api("Bond.create", api.new_network("bond"), [eth1], "", "balance-slb", {})
    assert api.fails("PIF.forget", eth1) == ["PIF_ALREADY_BONDED", eth1]


def test_forget_tunnel_transport_is_pif_tunnel_still_exists(api, master):
    eth2 = api.pif(master, "eth2")
    api("tunnel.create", eth2, api.new_network("gre"), "gre")
    assert api.fails("PIF.forget", eth2) == ["PIF_TUNNEL_STILL_EXISTS", eth2]


def test_forget_then_introduce_restores_the_nic_on_its_pool_wide_network(api, master):
    eth1 = api.pif(master, "eth1")
    before = api.record("PIF", eth1)
    api("PIF.forget", eth1)
    assert api.fails("PIF.get_record", eth1)[0] == "HANDLE_INVALID"
    assert api.fails("PIF_metrics.get_record", before.metrics)[0] == "HANDLE_INVALID"
    assert api.record("network", before.network).uuid  # the network is kept
    new = api("PIF.introduce", master, before.mac.upper(), "eth1")
    pif = api.record("PIF", new)
    assert pif.network == before.network and pif.mac == before.mac
    assert pif.physical is True and pif.vlan == -1 and pif.properties == {"gro": "on"}
    assert pif.currently_attached is False


def test_introduce_new_nic_takes_its_mtu_and_a_pool_wide_network_named_by_position(api, master):
    from xapictl.sim.classes import _nics

    _nics.add(api.sim.state, master, _nics.Nic("eth3", "02:00:00:00:03:01", 3, mtu=9000))
    pif = api.record("PIF", api("PIF.introduce", master, "02:00:00:00:03:01", "eth3"))
    assert pif.mtu == 9000  # from the device, not the network
    network = api.record("network", pif.network)
    assert (network.bridge, network.name_label, network.mtu) \
        == ("xenbr3", "Pool-wide network 3", 1500)


def test_introduce_duplicate_device_is_duplicate_pif_device_name(api, master):
    eth1 = api.record("PIF", api.pif(master, "eth1"))
    assert api.fails("PIF.introduce", master, eth1.mac, "eth1") \
        == ["DUPLICATE_PIF_DEVICE_NAME", "eth1"]


def test_introduce_bad_mac_is_mac_invalid(api, master):
    assert api.fails("PIF.introduce", master, "zz:zz", "eth1") == ["MAC_INVALID", "zz:zz"]


def test_introduce_unknown_nic_is_could_not_find(api, master):
    assert api.fails("PIF.introduce", master, "02:00:00:00:00:01", "eth9") == [
        "COULD_NOT_FIND_NETWORK_INTERFACE_WITH_SPECIFIED_DEVICE_NAME_AND_MAC_ADDRESS",
        "eth9", "02:00:00:00:00:01"]


def test_scan_reintroduces_forgotten_nics_and_never_deletes(api, master):
    eth1 = api.pif(master, "eth1")
    api("PIF.forget", eth1)
    count = len(api.record("host", master).pifs)
    api("PIF.scan", master)
    pifs = api.record("host", master).pifs
    assert len(pifs) == count + 1
    assert "eth1" in {api.record("PIF", p).device for p in pifs}


def test_host_management_reconfigure_moves_the_flag(api, master):
    eth0, eth2 = api.pif(master, "eth0"), api.pif(master, "eth2")
    api("host.management_reconfigure", eth2)
    assert api.record("PIF", eth2).management is True
    old = api.record("PIF", eth0)
    assert old.management is False and old.currently_attached is True
    assert api("host.get_management_interface", master) == eth2


def test_host_management_reconfigure_needs_ip_configuration(api, master):
    eth1 = api.pif(master, "eth1")
    assert api.fails("host.management_reconfigure", eth1) \
        == ["PIF_HAS_NO_NETWORK_CONFIGURATION", eth1]


def test_pool_management_reconfigure_needs_a_pif_on_every_host(api, master):
    network = api.new_network()
    api("VLAN.create", api.pif(master, "eth1"), 100, network)
    first_without = api.hosts()[1]  # hosts in DB order: the master has the VLAN PIF
    assert api.fails("pool.management_reconfigure", network) \
        == ["PIF_NOT_PRESENT", first_without, network]
    assert api("host.get_management_interface", master) == api.pif(master, "eth0")


def test_pool_management_reconfigure_moves_every_host(api):
    storage = api.network_by_bridge("xenbr2")
    api("pool.management_reconfigure", storage)
    for host in api.hosts():
        assert api("host.get_management_interface", host) == api.pif(host, "eth2")
