"""The management interface and PIF IP reconfiguration checks an audit found untested:
``host.management_reconfigure`` (HA, bond slave, IPv6 configuration, no-op),
``pool.management_reconfigure`` (address types), ``PIF.reconfigure_ip(v6)`` (unmanaged,
clustering, management) — REFERENCE §3.5."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


@pytest.fixture
def master(api):
    return api.hosts()[0]


def _ha_on(api):
    api.sim.state.set_field("pool", api.sim.state.refs("pool")[0], "ha_enabled", True)


def _management_pifs(api):
    return [api("host.get_management_interface", host) for host in api.hosts()]


def test_host_management_reconfigure_with_ha_is_ha_is_enabled(api, master):
    _ha_on(api)
    eth2 = api.pif(master, "eth2")
    assert api.fails("host.management_reconfigure", eth2) == ["HA_IS_ENABLED"]
    assert api.record("PIF", eth2).management is False


def test_host_management_reconfigure_ha_check_comes_before_the_pif_checks(api, master):
    _ha_on(api)
    assert api.fails("host.management_reconfigure", api.pif(master, "eth1")) == ["HA_IS_ENABLED"]


def test_host_management_reconfigure_onto_a_bond_slave_is_cannot_plug_bond_slave(api, master):
    eth2 = api.pif(master, "eth2")
    api("Bond.create", api.new_network("bond"), [eth2], "")
    # The bond took eth2's addresses: the slave check must come before the configuration one.
    assert api.record("PIF", eth2).ip_configuration_mode == "None"
    assert api.fails("host.management_reconfigure", eth2) == ["CANNOT_PLUG_BOND_SLAVE", eth2]


def test_host_management_reconfigure_ipv6_primary_without_v6_config_is_refused(api, master):
    eth1 = api.pif(master, "eth1")
    api("PIF.set_primary_address_type", eth1, "IPv6")
    api("PIF.reconfigure_ip", eth1, "DHCP", "", "", "", "")  # IPv4 does not count now
    assert api.fails("host.management_reconfigure", eth1) \
        == ["PIF_HAS_NO_V6_NETWORK_CONFIGURATION", eth1]
    api("PIF.reconfigure_ipv6", eth1, "Autoconf", "", "", "")
    api("host.management_reconfigure", eth1)
    assert api.record("PIF", eth1).management is True


def test_host_management_reconfigure_onto_the_management_pif_is_a_no_op(api, master):
    eth0 = api.pif(master, "eth0")
    generation = api.sim.state.generation
    api("host.management_reconfigure", eth0)
    assert api.sim.state.generation == generation  # nothing written, not even a re-plug
    assert api.record("PIF", eth0).management is True


def test_pool_management_reconfigure_mixed_address_types_is_incompatible(api):
    storage = api.network_by_bridge("xenbr2")
    odd = api.record("network", storage).pifs[-1]  # compared with the first in network.PIFs
    api("PIF.set_primary_address_type", odd, "IPv6")
    before = _management_pifs(api)
    assert api.fails("pool.management_reconfigure", storage) \
        == ["PIF_INCOMPATIBLE_PRIMARY_ADDRESS_TYPE", odd]
    assert _management_pifs(api) == before  # checked on every PIF before any host moves


def test_pool_management_reconfigure_checks_every_pif_before_moving_any(api):
    storage = api.network_by_bridge("xenbr2")
    on_master = api.pif(api.hosts()[0], "eth2")  # the master moves last
    api("PIF.reconfigure_ip", on_master, "None", "", "", "", "")
    before = _management_pifs(api)
    assert api.fails("pool.management_reconfigure", storage) \
        == ["PIF_HAS_NO_NETWORK_CONFIGURATION", on_master]
    assert _management_pifs(api) == before


def test_reconfigure_ip_on_an_unmanaged_pif_is_pif_unmanaged(api, master):
    eth2 = api.pif(master, "eth2")
    api.sim.state.set_field("PIF", eth2, "managed", False)
    assert api.fails("PIF.reconfigure_ip", eth2, "DHCP", "", "", "", "") \
        == ["PIF_UNMANAGED", eth2]
    assert api.fails("PIF.reconfigure_ipv6", eth2, "DHCP", "", "", "") \
        == ["PIF_UNMANAGED", eth2]
    assert api.record("PIF", eth2).ip_configuration_mode == "Static"


def test_unmanaged_check_comes_before_address_validation(api, master):
    eth2 = api.pif(master, "eth2")
    api.sim.state.set_field("PIF", eth2, "managed", False)
    assert api.fails("PIF.reconfigure_ip", eth2, "Static", "bad", "bad", "", "") \
        == ["PIF_UNMANAGED", eth2]


def test_reconfigure_ip_with_an_enabled_cluster_host_is_clustering_enabled(api, master):
    eth2 = api.pif(master, "eth2")
    cluster_host = api.sim.state.create("Cluster_host", {"PIF": eth2, "enabled": True,
                                                          "host": master})
    assert api.fails("PIF.reconfigure_ip", eth2, "DHCP", "", "", "", "") \
        == ["CLUSTERING_ENABLED", cluster_host]
    assert api.fails("PIF.reconfigure_ipv6", eth2, "DHCP", "", "", "") \
        == ["CLUSTERING_ENABLED", cluster_host]
    # A pure DNS change skips the protection checks.
    pif = api.record("PIF", eth2)
    api("PIF.reconfigure_ip", eth2, "Static", pif.ip, pif.netmask, pif.gateway, "192.0.2.53")
    assert api.record("PIF", eth2).dns == "192.0.2.53"


def test_reconfigure_ip_ignores_a_disabled_cluster_host(api, master):
    eth2 = api.pif(master, "eth2")
    api.sim.state.create("Cluster_host", {"PIF": eth2, "enabled": False, "host": master})
    api("PIF.reconfigure_ip", eth2, "DHCP", "", "", "", "")
    assert api.record("PIF", eth2).ip_configuration_mode == "DHCP"


def test_reconfigure_ipv6_none_on_an_ipv6_management_pif_is_pif_is_management_interface(
        api, master):
    eth0 = api.pif(master, "eth0")
    api("PIF.reconfigure_ipv6", eth0, "None", "", "", "")  # IPv4 primary: allowed
    api.sim.state.set_field("PIF", eth0, "primary_address_type", "IPv6")
    assert api.fails("PIF.reconfigure_ipv6", eth0, "None", "", "", "") \
        == ["PIF_IS_MANAGEMENT_INTERFACE", eth0]
    api("PIF.reconfigure_ip", eth0, "None", "", "", "", "")  # IPv6 primary: IPv4 may go
    assert api.record("PIF", eth0).ip_configuration_mode == "None"
