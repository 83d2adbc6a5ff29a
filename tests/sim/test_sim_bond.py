"""Bond.create / destroy / set_mode / set_property and the objects they rewrite (REFERENCE
§3.7, §7 test_bond, §8.12)."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


@pytest.fixture
def master(api):
    return api.hosts()[0]


def _bond(api, members, mode="active-backup", properties=None, mac="", network=None):
    network = network or api.new_network("bond")
    return api("Bond.create", network, members, mac, mode, properties or {})


def test_create_with_no_members_is_pif_bond_needs_more_members(api):
    assert api.fails("Bond.create", api.new_network(), [], "", "balance-slb", {}) \
        == ["PIF_BOND_NEEDS_MORE_MEMBERS"]


def test_create_one_member_bond_is_accepted(api, master):
    eth1 = api.pif(master, "eth1")
    bond = api.record("Bond", _bond(api, [eth1]))
    assert list(bond.slaves) == [eth1] and bond.primary_slave == eth1


def test_create_master_pif_and_bond_fields(api, master):
    eth1 = api.pif(master, "eth1")
    network = api.new_network("bond")
    ref = _bond(api, [eth1], mode="balance-slb", network=network)
    bond = api.record("Bond", ref)
    pif = api.record("PIF", bond.master)
    eth1_rec = api.record("PIF", eth1)
    assert pif.device == "bond0" and pif.network == network and pif.host == master
    assert pif.mac == eth1_rec.mac and pif.vlan == -1 and pif.physical is False
    assert pif.currently_attached is True and list(pif.ipv6) == [""]
    assert pif.properties == eth1_rec.properties
    assert list(pif.bond_master_of) == [ref]
    assert bond.mode == "balance-slb" and bond.properties == {} and bond.links_up == 0
    assert bond.auto_update_mac is True and eth1_rec.bond_slave_of == ref


def test_create_with_mac_given_does_not_auto_update(api, master):
    bond = api.record("Bond", _bond(api, [api.pif(master, "eth1")], mac="02:aa:bb:cc:dd:ee"))
    assert bond.auto_update_mac is False
    assert api.record("PIF", bond.master).mac == "02:aa:bb:cc:dd:ee"


def test_create_malformed_mac_is_mac_invalid(api, master):
    assert api.fails("Bond.create", api.new_network(), [api.pif(master, "eth1")], "zz", "lacp",
                     {}) == ["MAC_INVALID", "zz"]


def test_create_lacp_adds_default_properties(api, master):
    bond = api.record("Bond", _bond(api, [api.pif(master, "eth1")], mode="lacp",
                                    properties={"hashing_algorithm": "src_mac"}))
    assert bond.properties == {"hashing_algorithm": "src_mac", "lacp-time": "slow",
                               "lacp-fallback-ab": "true"}


@pytest.mark.parametrize(("mode", "key", "value"), [
    ("lacp", "hashing_algorithm", "round_robin"),
    ("lacp", "lacp-aggregation-key", "abc"),
    ("balance-slb", "hashing_algorithm", "src_mac"),
    ("active-backup", "lacp-time", "fast"),
])
def test_create_invalid_property_is_invalid_value(api, master, mode, key, value):
    assert api.fails("Bond.create", api.new_network(), [api.pif(master, "eth1")], "", mode,
                     {key: value}) == ["INVALID_VALUE", "properties", f"{key} = {value}"]


def test_create_mode_is_exact_case(api, master):
    # bond_mode has a hand-written decoder: exact spelling only, refused while unmarshalling.
    assert api.fails("Bond.create", api.new_network(), [api.pif(master, "eth1")], "",
                     "LACP", {}) == ["INTERNAL_ERROR", "Unknown value LACP for enum bond_mode"]
    assert api.records("Bond") == {}


def test_create_on_unmanaged_network_is_network_unmanaged(api, master):
    network = api.new_network(managed=False)
    assert api.fails("Bond.create", network, [api.pif(master, "eth1")], "", "lacp", {}) \
        == ["NETWORK_UNMANAGED", network]


def test_create_network_already_connected_names_host_and_pif(api, master):
    eth1 = api.pif(master, "eth1")
    own = api.record("PIF", eth1).network
    assert api.fails("Bond.create", own, [eth1], "", "lacp", {}) \
        == ["NETWORK_ALREADY_CONNECTED", master, eth1]


def test_create_member_unmanaged_is_pif_unmanaged(api, master):
    eth1 = api.pif(master, "eth1")
    api.sim.state.set_field("PIF", eth1, "managed", False)
    assert api.fails("Bond.create", api.new_network(), [eth1], "", "lacp", {}) \
        == ["PIF_UNMANAGED", eth1]


def test_create_member_already_bonded_is_pif_already_bonded(api, master):
    eth1 = api.pif(master, "eth1")
    _bond(api, [eth1])
    assert api.fails("Bond.create", api.new_network(), [eth1], "", "lacp", {}) \
        == ["PIF_ALREADY_BONDED", eth1]


def test_create_member_is_vlan_pif_is_pif_vlan_exists_with_device(api, master):
    vlan = api("VLAN.create", api.pif(master, "eth1"), 100, api.new_network())
    untagged = api.record("VLAN", vlan).untagged_pif
    assert api.fails("Bond.create", api.new_network(), [untagged], "", "lacp", {}) \
        == ["PIF_VLAN_EXISTS", "eth1"]


def test_create_member_is_tunnel_access_is_is_tunnel_access_pif(api, master):
    tunnel = api("tunnel.create", api.pif(master, "eth2"), api.new_network("gre"), "gre")
    access = api.record("tunnel", tunnel).access_pif
    assert api.fails("Bond.create", api.new_network(), [access], "", "lacp", {}) \
        == ["IS_TUNNEL_ACCESS_PIF", access]


def test_create_cross_host_is_pif_cannot_bond_cross_host(api):
    hosts = api.hosts()
    assert api.fails("Bond.create", api.new_network(),
                     [api.pif(hosts[0], "eth1"), api.pif(hosts[1], "eth1")], "", "lacp", {}) \
        == ["PIF_CANNOT_BOND_CROSS_HOST"]


def test_create_members_with_different_properties_is_incompatible(api, master):
    eth1, eth2 = api.pif(master, "eth1"), api.pif(master, "eth2")
    api("PIF.set_property", eth1, "gro", "off")
    api("PIF.reconfigure_ip", eth2, "None", "", "", "", "")
    assert api.fails("Bond.create", api.new_network(), [eth1, eth2], "", "lacp", {}) \
        == ["INCOMPATIBLE_PIF_PROPERTIES"]


def test_create_two_members_with_ip_is_pif_bond_more_than_one_ip(api, master):
    eth1, eth2 = api.pif(master, "eth1"), api.pif(master, "eth2")
    api("PIF.reconfigure_ip", eth1, "DHCP", "", "", "", "")
    assert api.fails("Bond.create", api.new_network(), [eth1, eth2], "", "lacp", {}) \
        == ["PIF_BOND_MORE_THAN_ONE_IP"]


def test_create_member_address_type_mismatch(api, master):
    eth1, eth2 = api.pif(master, "eth1"), api.pif(master, "eth2")
    api("PIF.set_primary_address_type", eth1, "IPv6")
    assert api.fails("Bond.create", api.new_network(), [eth2, eth1], "", "lacp", {}) \
        == ["PIF_INCOMPATIBLE_PRIMARY_ADDRESS_TYPE", eth1]


def test_create_moves_ip_configuration_to_the_master(api, master):
    eth1, eth2 = api.pif(master, "eth1"), api.pif(master, "eth2")
    before = api.record("PIF", eth2)
    bond = api.record("Bond", _bond(api, [eth1, eth2]))
    assert bond.primary_slave == eth2
    pif = api.record("PIF", bond.master)
    assert (pif.ip_configuration_mode, pif.ip, pif.netmask) == \
        ("Static", before.ip, before.netmask)
    slave = api.record("PIF", eth2)
    assert (slave.ip_configuration_mode, slave.ip) == ("None", "")


def test_create_moves_management_and_local_vifs_to_the_bond(api, master):
    eth0, eth1 = api.pif(master, "eth0"), api.pif(master, "eth1")
    old_network = api.record("PIF", eth0).network
    network = api.new_network("bond")
    api("PIF.reconfigure_ip", eth1, "None", "", "", "", "")
    bond = api.record("Bond", _bond(api, [eth1, eth0], network=network))
    assert bond.primary_slave == eth0
    assert api.record("PIF", bond.master).management is True
    assert api.record("PIF", eth0).management is False
    assert api("host.get_management_interface", master) == bond.master
    web = api.vm("web-01")  # resident on the master: its VIF moves
    assert api.record("VIF", api.record("VM", web).vifs[0]).network == network
    other = api.vm("web-02")  # on another host: stays on the pool-wide network
    assert api.record("VIF", api.record("VM", other).vifs[0]).network == old_network


def test_create_recreates_member_vlans_with_new_refs(api, master):
    eth1 = api.pif(master, "eth1")
    network = api.new_network("v100")
    old_vlan = api("VLAN.create", eth1, 100, network)
    old_pif = api.record("VLAN", old_vlan).untagged_pif
    bond = api.record("Bond", _bond(api, [eth1]))
    assert api.fails("VLAN.get_record", old_vlan)[0] == "HANDLE_INVALID"
    assert api.fails("PIF.get_record", old_pif)[0] == "HANDLE_INVALID"
    (new_vlan,) = api.record("PIF", bond.master).vlan_slave_of
    vlan = api.record("VLAN", new_vlan)
    assert vlan.tag == 100 and new_vlan != old_vlan
    pif = api.record("PIF", vlan.untagged_pif)
    assert pif.device == "bond0" and pif.network == network and pif.currently_attached
    assert api.record("network", network).pifs == (vlan.untagged_pif,)


def test_create_disallow_unplug_moves_to_master(api, master):
    eth1 = api.pif(master, "eth1")
    api("PIF.set_disallow_unplug", eth1, True)
    bond = api.record("Bond", _bond(api, [eth1]))
    assert api.record("PIF", bond.master).disallow_unplug is True
    assert api.record("PIF", eth1).disallow_unplug is False


def test_create_progress_reaches_one_as_async_task(api, master):
    eth1 = api.pif(master, "eth1")
    task = api("Async.Bond.create", api.new_network(), [eth1], "", "lacp", {})
    token = ""
    for _ in range(50):  # wait on the task's events, as clients do
        if api("task.get_status", task) != "pending":
            break
        token = api("event.from", [f"task/{task}"], token, 1.0)["token"]
    assert api("task.get_status", task) == "success"
    assert float(api("task.get_progress", task)) == 1.0


def test_destroy_reverses_ip_management_vlans_and_vifs(api, master):
    eth0, eth1 = api.pif(master, "eth0"), api.pif(master, "eth1")
    original_network = api.record("PIF", eth0).network
    original_ip = api.record("PIF", eth0).ip
    api("PIF.reconfigure_ip", eth1, "None", "", "", "", "")
    ref = _bond(api, [eth0, eth1])
    bond = api.record("Bond", ref)
    vlan_network = api.new_network("v7")
    api("VLAN.create", bond.master, 7, vlan_network)
    api("Bond.destroy", ref)
    assert api.fails("Bond.get_record", ref)[0] == "HANDLE_INVALID"
    assert api.fails("PIF.get_record", bond.master)[0] == "HANDLE_INVALID"
    primary = api.record("PIF", eth0)
    assert primary.management is True and primary.ip == original_ip
    assert primary.bond_slave_of == "OpaqueRef:NULL"
    assert api.record("PIF", eth1).bond_slave_of == "OpaqueRef:NULL"
    assert primary.currently_attached and api.record("PIF", eth1).currently_attached
    (vlan,) = primary.vlan_slave_of
    assert api.record("VLAN", vlan).tag == 7
    web = api.vm("web-01")
    assert api.record("VIF", api.record("VM", web).vifs[0]).network == original_network


def test_set_mode_keeps_valid_properties_and_adds_defaults(api, master):
    ref = _bond(api, [api.pif(master, "eth1")], mode="lacp",
                properties={"lacp-time": "fast"})
    api("Bond.set_mode", ref, "balance-slb")
    bond = api.record("Bond", ref)
    assert bond.mode == "balance-slb" and bond.properties == {}
    api("Bond.set_mode", ref, "lacp")
    assert api.record("Bond", ref).properties == {
        "hashing_algorithm": "tcpudp_ports", "lacp-time": "slow", "lacp-fallback-ab": "true"}


def test_set_property_validated_against_current_mode(api, master):
    ref = _bond(api, [api.pif(master, "eth1")], mode="lacp")
    api("Bond.set_property", ref, "lacp-aggregation-key", "42")
    assert api.record("Bond", ref).properties["lacp-aggregation-key"] == "42"
    assert api.fails("Bond.set_property", ref, "hashing_algorithm", "xor") \
        == ["INVALID_VALUE", "properties", "hashing_algorithm = xor"]
    api("Bond.set_mode", ref, "active-backup")
    assert api.fails("Bond.set_property", ref, "lacp-time", "fast") \
        == ["INVALID_VALUE", "properties", "lacp-time = fast"]


def test_create_leaves_members_unplugged_under_the_plugged_master(api, master):
    eth1, eth2 = api.pif(master, "eth1"), api.pif(master, "eth2")
    api("PIF.reconfigure_ip", eth2, "None", "", "", "", "")
    bond = api.record("Bond", _bond(api, [eth1, eth2]))
    assert api.record("PIF", bond.master).currently_attached is True
    assert api.record("PIF", eth1).currently_attached is False
    assert api.record("PIF", eth2).currently_attached is False


def test_master_mac_follows_primary_slave_only_with_auto_update_mac(api, master):
    eth1 = api.pif(master, "eth1")
    auto = api.record("Bond", _bond(api, [eth1]))
    api.sim.state.set_field("PIF", eth1, "MAC", "02:00:00:00:00:77")
    api("PIF.plug", auto.master)
    assert api.record("PIF", auto.master).mac == "02:00:00:00:00:77"
    eth2 = api.pif(master, "eth2")
    api("PIF.reconfigure_ip", eth2, "None", "", "", "", "")
    fixed = api.record("Bond", _bond(api, [eth2], mac="02:00:00:00:00:99"))
    api.sim.state.set_field("PIF", eth2, "MAC", "02:00:00:00:00:78")
    api("PIF.plug", fixed.master)
    assert api.record("PIF", fixed.master).mac == "02:00:00:00:00:99"


def test_create_gives_the_members_networks_the_bond_networks_mtu(api, master):
    """nm.ml bring_pif_up on the bond master: every slave is unplugged, and each slave's
    network whose MTU differs from the bond network's is set to it (pool-wide)."""
    eth1, eth2 = api.pif(master, "eth1"), api.pif(master, "eth2")
    net1 = api.record("PIF", eth1).network
    net2 = api.record("PIF", eth2).network
    api("network.set_MTU", net1, 1500)
    api("network.set_MTU", net2, 1600)
    bond_net = api.new_network("bond", MTU=9000)
    _bond(api, [eth1, eth2], network=bond_net)
    assert api.record("network", net1).mtu == 9000 and api.record("network", net2).mtu == 9000
    assert not api.record("PIF", eth1).currently_attached
    assert not api.record("PIF", eth2).currently_attached


@pytest.mark.parametrize(("method", "args"), [("Bond.set_mode", ("lacp",)),
                                              ("Bond.set_property", ("lacp-time", "fast"))])
def test_set_mode_and_set_property_bring_an_unplugged_master_up(api, master, method, args):
    """Both end in Nm.bring_pif_up on the master (xapi_bond.ml), which plugs it even when it
    was unplugged."""
    eth1, eth2 = api.pif(master, "eth1"), api.pif(master, "eth2")
    bond = api("Bond.create", api.new_network("bond"), [eth1, eth2], "", "lacp", {})
    pif = api.record("Bond", bond).master
    api("PIF.unplug", pif)
    assert api.record("PIF", pif).currently_attached is False
    api(method, bond, *args)
    assert api.record("PIF", pif).currently_attached is True
