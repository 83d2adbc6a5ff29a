"""tunnel.create / destroy (REFERENCE §3.8, §7 test_tunnel, §8.13)."""

from __future__ import annotations

import re

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


@pytest.fixture
def master(api):
    return api.hosts()[0]


@pytest.mark.parametrize("protocol", ["gre", "vxlan"])
def test_create_links_access_pif_tunnel_and_transport(api, master, protocol):
    eth2 = api.pif(master, "eth2")
    network = api.new_network("overlay")
    ref = api("tunnel.create", eth2, network, protocol)
    tunnel = api.record("tunnel", ref)
    access = api.record("PIF", tunnel.access_pif)
    assert tunnel.transport_pif == eth2 and tunnel.protocol == protocol
    assert tunnel.status == {"active": "false"} and tunnel.other_config == {}
    assert access.device == "tunnel0" and access.network == network and access.host == master
    assert access.vlan == -1 and list(access.ipv6) == [""] and access.properties == {}
    assert access.metrics == api.record("PIF", eth2).metrics
    assert access.currently_attached is True
    first = int(access.mac[:2], 16)
    assert re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", access.mac) and first & 2
    assert list(access.tunnel_access_pif_of) == [ref]
    assert list(api.record("PIF", eth2).tunnel_transport_pif_of) == [ref]


def test_create_protocol_defaults_to_gre(api, master):
    ref = api("tunnel.create", api.pif(master, "eth2"), api.new_network())
    assert api.record("tunnel", ref).protocol == "gre"


def test_create_on_unconfigured_transport_leaves_records_behind(api, master):
    eth1 = api.pif(master, "eth1")  # the trunk has no IP configuration
    network = api.new_network()
    assert api.fails("tunnel.create", eth1, network, "gre") \
        == ["TRANSPORT_PIF_NOT_CONFIGURED", eth1]
    (tunnel,) = api("tunnel.get_all")
    access = api.record("tunnel", tunnel).access_pif
    assert api.record("PIF", access).currently_attached is False
    assert api.record("network", network).pifs == (access,)


def test_create_network_check_precedes_managed_check(api, master):
    eth2 = api.pif(master, "eth2")
    api.sim.state.set_field("PIF", eth2, "managed", False)
    own = api.record("PIF", eth2).network
    assert api.fails("tunnel.create", eth2, own, "gre") \
        == ["NETWORK_ALREADY_CONNECTED", master, eth2]
    assert api.fails("tunnel.create", eth2, api.new_network(), "gre") \
        == ["PIF_UNMANAGED", eth2]


def test_create_on_unmanaged_network_is_network_unmanaged(api, master):
    network = api.new_network(managed=False)
    assert api.fails("tunnel.create", api.pif(master, "eth2"), network, "gre") \
        == ["NETWORK_UNMANAGED", network]


def test_create_on_bond_slave_is_refused(api, master):
    eth2 = api.pif(master, "eth2")
    api("Bond.create", api.new_network("bond"), [eth2], "", "balance-slb", {})
    assert api.fails("tunnel.create", eth2, api.new_network(), "gre") \
        == ["CANNOT_ADD_TUNNEL_TO_BOND_SLAVE", eth2]


def test_create_on_tunnel_access_is_refused(api, master):
    ref = api("tunnel.create", api.pif(master, "eth2"), api.new_network(), "gre")
    access = api.record("tunnel", ref).access_pif
    assert api.fails("tunnel.create", access, api.new_network(), "gre") \
        == ["IS_TUNNEL_ACCESS_PIF", access]


def test_create_on_vlan_pif_is_allowed(api, master):
    vlan = api("VLAN.create", api.pif(master, "eth1"), 100, api.new_network())
    untagged = api.record("VLAN", vlan).untagged_pif
    api("PIF.reconfigure_ip", untagged, "Static", "203.0.113.9", "255.255.255.0", "", "")
    ref = api("tunnel.create", untagged, api.new_network(), "vxlan")
    assert api.record("tunnel", ref).transport_pif == untagged


def test_create_with_bridge_backend_is_openvswitch_not_active(api, master):
    member = api.hosts()[2]
    version = dict(api.sim.state.get("host", member)["software_version"])
    api.sim.state.set_field("host", member, "software_version",
                            {**version, "network_backend": "bridge"})
    assert api.fails("tunnel.create", api.pif(master, "eth2"), api.new_network(), "gre") \
        == ["OPENVSWITCH_NOT_ACTIVE"]


def test_plug_access_pif_of_unconfigured_transport_is_refused(api, master):
    eth1 = api.pif(master, "eth1")
    api.fails("tunnel.create", eth1, api.new_network(), "gre")
    (tunnel,) = api("tunnel.get_all")
    access = api.record("tunnel", tunnel).access_pif
    assert api.fails("PIF.plug", access) == ["TRANSPORT_PIF_NOT_CONFIGURED", eth1]
    api("PIF.reconfigure_ip", eth1, "DHCP", "", "", "", "")
    api("PIF.plug", access)
    assert api.record("PIF", access).currently_attached is True


def test_destroy_removes_access_pif_and_tunnel(api, master):
    eth2 = api.pif(master, "eth2")
    network = api.new_network()
    ref = api("tunnel.create", eth2, network, "gre")
    access = api.record("tunnel", ref).access_pif
    api("tunnel.destroy", ref)
    assert api.fails("tunnel.get_record", ref)[0] == "HANDLE_INVALID"
    assert api.fails("PIF.get_record", access)[0] == "HANDLE_INVALID"
    assert not api.record("PIF", eth2).tunnel_transport_pif_of
    assert api.record("network", network).uuid


def test_destroy_with_running_vif_is_vif_in_use(api, master):
    network = api.new_network()
    ref = api("tunnel.create", api.pif(master, "eth2"), network, "gre")
    vif = api.new_vif(api.vm("web-01"), network)
    api("VIF.plug", vif)
    assert api.fails("tunnel.destroy", ref) == ["VIF_IN_USE", network, vif]


def test_unplug_transport_unplugs_access_pifs_first(api, master):
    eth2 = api.pif(master, "eth2")
    ref = api("tunnel.create", eth2, api.new_network(), "gre")
    api("PIF.unplug", eth2)
    access = api.record("tunnel", ref).access_pif
    assert api.record("PIF", access).currently_attached is False
    assert api.record("PIF", eth2).currently_attached is False


def test_a_second_tunnel_of_one_network_on_a_host_is_network_already_connected(api, master):
    """``assert_no_other_local_pifs``: one PIF per host and network, the access PIF too."""
    network = api.new_network()
    ref = api("tunnel.create", api.pif(master, "eth2"), network, "gre")
    access = api.record("tunnel", ref).access_pif
    assert api.fails("tunnel.create", api.pif(master, "eth0"), network, "vxlan") \
        == ["NETWORK_ALREADY_CONNECTED", master, access]
