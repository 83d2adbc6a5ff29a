"""VLAN.create / VLAN.destroy and the deprecated PIF VLAN calls (REFERENCE §3.4, §7 test_vlan,
§8.2-5, §8.13)."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


@pytest.fixture
def trunk(api):
    """eth1 of the master: the seed's trunk port."""
    return api.pif(api.hosts()[0], "eth1")


def test_create_vlan_pif_fields(api, trunk):
    network = api.new_network("v100")
    vlan = api("VLAN.create", trunk, 100, network)
    record = api.record("VLAN", vlan)
    tagged = api.record("PIF", trunk)
    assert record.tagged_pif == trunk and record.tag == 100 and record.other_config == {}
    pif = api.record("PIF", record.untagged_pif)
    assert pif.device == "eth1" == tagged.device
    assert pif.mac == "fe:ff:ff:ff:ff:ff"
    assert pif.vlan == 100 and pif.network == network and pif.host == tagged.host
    assert pif.metrics == tagged.metrics
    assert pif.physical is False and pif.management is False and pif.managed is True
    assert list(pif.ipv6) == [""]
    assert pif.ip_configuration_mode == "None" and pif.ip == ""
    assert pif.primary_address_type == tagged.primary_address_type
    assert pif.properties == {} and list(pif.capabilities) == []
    assert pif.vlan_master_of == vlan
    assert vlan in api.record("PIF", trunk).vlan_slave_of
    assert record.untagged_pif in api.record("network", network).pifs
    assert record.untagged_pif in api.record("host", tagged.host).pifs


def test_create_plugs_the_vlan_pif_with_the_network_mtu(api, trunk):
    network = api.new_network("jumbo", MTU=9000)
    vlan = api("VLAN.create", trunk, 200, network)
    pif = api.record("PIF", api.record("VLAN", vlan).untagged_pif)
    assert pif.currently_attached is True and pif.mtu == 9000


def test_a_vlan_above_its_trunks_mtu_is_neither_refused_nor_clamped(api, trunk):
    """XAPI checks no MTU (xen-api ``xapi_vlan.ml`` create, ``nm.ml`` create_bridges): the
    VLAN device and bridge are given the VLAN network's MTU, the trunk NIC its own network's,
    networkd only logs a VLAN device the kernel refuses above its parent, and ``PIF.MTU`` is
    synced from the VLAN bridge. So the VLAN PIF says 9000 on a trunk left at 1500: no error
    code, no clamp (the plan is what refuses it)."""
    network = api.new_network("jumbo", MTU=9000)
    trunk_net = api.record("PIF", trunk).network
    pif = api.record("VLAN", api("VLAN.create", trunk, 300, network)).untagged_pif
    assert api.record("PIF", pif).mtu == 9000
    assert (api.record("PIF", trunk).mtu, api.record("network", trunk_net).mtu) == (1500, 1500)
    api("network.set_MTU", network, 16000)  # set_MTU is unchecked; the re-plug applies it
    api("PIF.plug", pif)
    assert api.record("PIF", pif).mtu == 16000 and api.record("PIF", trunk).mtu == 1500
    pifs = api("pool.create_VLAN_from_PIF", trunk, api.new_network("big", MTU=9000), 301)
    assert [api.record("PIF", p).mtu for p in pifs] == [9000] * len(pifs)


def test_create_tag_zero_is_valid(api, trunk):
    vlan = api("VLAN.create", trunk, 0, api.new_network())
    assert api.record("VLAN", vlan).tag == 0


@pytest.mark.parametrize("tag", [-1, 4095, 9999])
def test_create_invalid_tag_is_vlan_tag_invalid_with_decimal_tag(api, trunk, tag):
    assert api.fails("VLAN.create", trunk, tag, api.new_network()) \
        == ["VLAN_TAG_INVALID", str(tag)]


def test_create_tag_4094_is_valid(api, trunk):
    assert api.record("VLAN", api("VLAN.create", trunk, 4094, api.new_network())).tag == 4094


def test_create_duplicate_tag_is_pif_vlan_exists_with_device(api, trunk):
    api("VLAN.create", trunk, 100, api.new_network("a"))
    assert api.fails("VLAN.create", trunk, 100, api.new_network("b")) \
        == ["PIF_VLAN_EXISTS", "eth1"]


def test_create_into_tagged_pifs_own_network_is_already_connected_host_first(api, trunk):
    host = api.hosts()[0]
    own = api.record("PIF", trunk).network
    assert api.fails("VLAN.create", trunk, 100, own) \
        == ["NETWORK_ALREADY_CONNECTED", host, trunk]


def test_create_network_used_by_another_vlan_on_host_is_already_connected(api, trunk):
    network = api.new_network()
    vlan = api("VLAN.create", trunk, 100, network)
    untagged = api.record("VLAN", vlan).untagged_pif
    storage = api.pif(api.hosts()[0], "eth2")
    assert api.fails("VLAN.create", storage, 101, network) \
        == ["NETWORK_ALREADY_CONNECTED", api.hosts()[0], untagged]


def test_create_same_network_on_another_host_is_allowed_with_any_tag(api, trunk):
    network = api.new_network()
    api("VLAN.create", trunk, 100, network)
    other = api.pif(api.hosts()[1], "eth1")
    api("VLAN.create", other, 300, network)  # nothing checks pool-wide tag consistency
    assert len(api.record("network", network).pifs) == 2


def test_create_on_unmanaged_network_is_network_unmanaged(api, trunk):
    network = api.new_network(managed=False)
    assert api.fails("VLAN.create", trunk, 100, network) == ["NETWORK_UNMANAGED", network]


def test_create_on_unmanaged_pif_is_pif_unmanaged(api, trunk):
    api.sim.state.set_field("PIF", trunk, "managed", False)
    assert api.fails("VLAN.create", trunk, 100, api.new_network()) == ["PIF_UNMANAGED", trunk]


def test_create_network_check_precedes_managed_check(api, trunk):
    api.sim.state.set_field("PIF", trunk, "managed", False)
    own = api.record("PIF", trunk).network
    assert api.fails("VLAN.create", trunk, 100, own)[0] == "NETWORK_ALREADY_CONNECTED"


def test_create_on_vlan_pif_is_pif_is_vlan(api, trunk):
    vlan = api("VLAN.create", trunk, 100, api.new_network())
    untagged = api.record("VLAN", vlan).untagged_pif
    assert api.fails("VLAN.create", untagged, 200, api.new_network()) \
        == ["PIF_IS_VLAN", untagged]


def test_create_on_bond_slave_is_cannot_add_vlan_to_bond_slave(api, trunk):
    host = api.hosts()[0]
    api("Bond.create", api.new_network("bond"), [trunk], "", "active-backup", {})
    assert api.fails("VLAN.create", trunk, 100, api.new_network()) \
        == ["CANNOT_ADD_VLAN_TO_BOND_SLAVE", trunk]
    assert api.pif(host, "bond0")


def test_create_on_tunnel_access_pif_is_is_tunnel_access_pif(api):
    storage = api.pif(api.hosts()[0], "eth2")  # has a static IP: the tunnel plugs
    tunnel = api("tunnel.create", storage, api.new_network("gre"), "gre")
    access = api.record("tunnel", tunnel).access_pif
    assert api.fails("VLAN.create", access, 100, api.new_network()) \
        == ["IS_TUNNEL_ACCESS_PIF", access]


def test_create_on_bond_master_is_allowed(api, trunk):
    bond = api("Bond.create", api.new_network("bond"), [trunk], "", "balance-slb", {})
    master = api.record("Bond", bond).master
    vlan = api("VLAN.create", master, 100, api.new_network())
    assert api.record("PIF", api.record("VLAN", vlan).untagged_pif).device == "bond0"


def test_create_on_dead_host_is_host_offline(api):
    member = api.hosts()[1]
    api.sim.set_host_live(member, False)
    pif = api.pif(member, "eth1")
    assert api.fails("VLAN.create", pif, 100, api.new_network()) == ["HOST_OFFLINE", member]


def test_destroy_removes_vlan_and_pif_keeps_network_and_metrics(api, trunk):
    network = api.new_network()
    vlan = api("VLAN.create", trunk, 100, network)
    untagged = api.record("VLAN", vlan).untagged_pif
    metrics = api.record("PIF", trunk).metrics
    api("VLAN.destroy", vlan)
    assert api.fails("VLAN.get_record", vlan) == ["HANDLE_INVALID", "VLAN", vlan]
    assert api.fails("PIF.get_record", untagged) == ["HANDLE_INVALID", "PIF", untagged]
    assert not api.record("network", network).pifs
    assert not api.record("PIF", trunk).vlan_slave_of
    assert api.record("PIF_metrics", metrics).uuid


def test_destroy_with_running_vif_on_host_is_vif_in_use(api, trunk):
    network = api.new_network()
    vlan = api("VLAN.create", trunk, 100, network)
    web = api.vm("web-01")  # running on the master
    vif = api.new_vif(web, network)
    api("VIF.plug", vif)
    assert api.fails("VLAN.destroy", vlan) == ["VIF_IN_USE", network, vif]


def test_destroy_with_disallow_unplug_is_pif_does_not_allow_unplug(api, trunk):
    vlan = api("VLAN.create", trunk, 100, api.new_network())
    untagged = api.record("VLAN", vlan).untagged_pif
    api("PIF.set_disallow_unplug", untagged, True)
    assert api.fails("VLAN.destroy", vlan) == ["PIF_DOES_NOT_ALLOW_UNPLUG", untagged]


def test_destroy_with_ha_enabled_is_ha_is_enabled(api, trunk):
    vlan = api("VLAN.create", trunk, 100, api.new_network())
    api.sim.state.set_field("pool", api.sim.state.refs("pool")[0], "ha_enabled", True)
    assert api.fails("VLAN.destroy", vlan) == ["HA_IS_ENABLED"]


def test_deprecated_pif_create_vlan_returns_the_vlan_pif(api):
    host = api.hosts()[0]
    pif = api("PIF.create_VLAN", "eth1", api.new_network(), host, 55)
    record = api.record("PIF", pif)
    assert record.vlan == 55 and record.device == "eth1"


def test_deprecated_pif_create_vlan_unknown_device_is_invalid_value(api):
    host = api.hosts()[0]
    assert api.fails("PIF.create_VLAN", "eth9", api.new_network(), host, 55) \
        == ["INVALID_VALUE", "device", "eth9"]


def test_deprecated_pif_destroy_of_physical_pif_is_pif_is_physical_without_params(api, trunk):
    assert api.fails("PIF.destroy", trunk) == ["PIF_IS_PHYSICAL"]


def test_deprecated_pif_destroy_of_vlan_pif_destroys_the_vlan(api, trunk):
    vlan = api("VLAN.create", trunk, 100, api.new_network())
    untagged = api.record("VLAN", vlan).untagged_pif
    api("PIF.destroy", untagged)
    assert api.fails("VLAN.get_record", vlan)[0] == "HANDLE_INVALID"


def test_hidden_pool_introduce_links_both_sides_and_shares_metrics(api, trunk):
    network = api.new_network()
    host = api.hosts()[0]
    untagged = api("PIF.db_introduce", "eth1", network, host, "fe:ff:ff:ff:ff:ff", 1500, 300,
                   False, "None", "", "", "", "", "OpaqueRef:NULL", "OpaqueRef:NULL", False, {})
    own_metrics = api.record("PIF", untagged).metrics
    vlan = api("VLAN.pool_introduce", trunk, untagged, 300, {"k": "v"})
    record = api.record("VLAN", vlan)
    assert (record.tagged_pif, record.untagged_pif, record.tag) == (trunk, untagged, 300)
    pif = api.record("PIF", untagged)
    assert pif.vlan_master_of == vlan and pif.metrics == api.record("PIF", trunk).metrics
    assert not api.sim.state.exists("PIF_metrics", own_metrics)
