"""``PIF.reconfigure_ipv6`` and ``PIF.set_primary_address_type`` as ``xapi_pif.ml`` has them
(xen-api e2ee48d6), each rule with its exact code and parameters: the check order (managed,
then HA / redo log / clustering unless only DNS changes, then the gateway, then the CIDR
address, then the management interface), the DNS merge (``restrict_to``), the zone-less
address syntax of ``inet_pton``; and where ``PIF_INCOMPATIBLE_PRIMARY_ADDRESS_TYPE`` is and is
not raised."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


@pytest.fixture
def master(api):
    return api.hosts()[0]


def _pool(api) -> str:
    return api.sim.state.refs("pool")[0]


def _fields(api, pif: str) -> tuple[object, ...]:
    r = api.record("PIF", pif)
    return (r.ipv6_configuration_mode, list(r.ipv6), r.ipv6_gateway, r.dns)


@pytest.mark.parametrize(("protection", "code"), [("ha_enabled", "HA_IS_ENABLED"),
                                                  ("redo_log_enabled", "REDO_LOG_IS_ENABLED")])
def test_protection_refuses_an_address_change_on_an_attached_pif(api, master, protection,
                                                                 code) -> None:
    eth1 = api.pif(master, "eth1")
    api.sim.state.set_field("pool", _pool(api), protection, True)
    before = _fields(api, eth1)
    assert api.fails("PIF.reconfigure_ipv6", eth1, "Autoconf", "", "", "") == [code]
    assert _fields(api, eth1) == before


def test_protection_allows_a_dns_only_change_of_a_static_configuration(api, master) -> None:
    eth1 = api.pif(master, "eth1")
    api("PIF.reconfigure_ipv6", eth1, "Static", "2001:db8::5/64", "2001:db8::1", "")
    api.sim.state.set_field("pool", _pool(api), "ha_enabled", True)
    api("PIF.reconfigure_ipv6", eth1, "Static", "2001:db8::5/64", "2001:db8::1", "2001:db8::53")
    assert api.record("PIF", eth1).dns == "2001:db8::53"
    # Written another way, the address is another value for XAPI: no longer DNS only.
    assert api.fails("PIF.reconfigure_ipv6", eth1, "Static", "2001:DB8::5/64", "2001:db8::1",
                     "") == ["HA_IS_ENABLED"]


def test_protection_does_not_concern_an_unplugged_pif(api, master) -> None:
    eth1 = api.pif(master, "eth1")
    api("PIF.unplug", eth1)
    api.sim.state.set_field("pool", _pool(api), "ha_enabled", True)
    api("PIF.reconfigure_ipv6", eth1, "DHCP", "", "", "")
    assert api.record("PIF", eth1).ipv6_configuration_mode == "DHCP"
    assert api.record("PIF", eth1).currently_attached is False  # not brought up


def test_the_protection_check_comes_before_the_address_checks(api, master) -> None:
    api.sim.state.set_field("pool", _pool(api), "ha_enabled", True)
    assert api.fails("PIF.reconfigure_ipv6", api.pif(master, "eth1"), "Static", "bad", "bad",
                     "") == ["HA_IS_ENABLED"]


def test_the_gateway_is_checked_before_the_address_and_for_any_mode(api, master) -> None:
    eth1 = api.pif(master, "eth1")
    assert api.fails("PIF.reconfigure_ipv6", eth1, "Static", "bad", "bad", "") \
        == ["INVALID_IP_ADDRESS_SPECIFIED", "gateway"]
    assert api.fails("PIF.reconfigure_ipv6", eth1, "DHCP", "", "2001:db8::1/64", "") \
        == ["INVALID_IP_ADDRESS_SPECIFIED", "gateway"]
    assert api.fails("PIF.reconfigure_ipv6", eth1, "Autoconf", "2001:db8::5", "", "") \
        == ["INVALID_CIDR_ADDRESS_SPECIFIED", "IPv6"]


@pytest.mark.parametrize(("ipv6", "gateway", "bad"), [
    ("fe80::5%eth1/64", "", ["INVALID_CIDR_ADDRESS_SPECIFIED", "IPv6"]),
    ("2001:db8::5/64", "fe80::1%eth1", ["INVALID_IP_ADDRESS_SPECIFIED", "gateway"]),
    ("2001:db8::5/129", "", ["INVALID_CIDR_ADDRESS_SPECIFIED", "IPv6"]),
    ("192.0.2.5/24", "", ["INVALID_CIDR_ADDRESS_SPECIFIED", "IPv6"]),
])
def test_addresses_are_parsed_as_inet_pton_and_ipaddr_do(api, master, ipv6, gateway,
                                                         bad) -> None:
    assert api.fails("PIF.reconfigure_ipv6", api.pif(master, "eth1"), "Static", ipv6, gateway,
                     "") == bad


def test_a_static_mode_needs_no_address(api, master) -> None:
    """XAPI checks the address only when one is given: Static with "" is stored as is."""
    eth1 = api.pif(master, "eth1")
    api("PIF.reconfigure_ipv6", eth1, "Static", "", "", "")
    assert _fields(api, eth1)[:2] == ("Static", [""])


def test_ipv6_dns_goes_first_and_the_ipv4_entries_are_kept(api, master) -> None:
    eth1 = api.pif(master, "eth1")
    api("PIF.reconfigure_ip", eth1, "DHCP", "", "", "", "192.0.2.53,192.0.2.54")
    api("PIF.reconfigure_ipv6", eth1, "Autoconf", "", "", "2001:db8::53,192.0.2.99")
    assert api.record("PIF", eth1).dns == "2001:db8::53,192.0.2.53,192.0.2.54"
    api("PIF.reconfigure_ip", eth1, "DHCP", "", "", "", "192.0.2.55")
    assert api.record("PIF", eth1).dns == "192.0.2.55,2001:db8::53"


def test_dns_entries_are_cut_at_commas_and_not_stripped(api, master) -> None:
    """``restrict_to``: an entry with a space is not an address (``inet_pton``): dropped."""
    eth1 = api.pif(master, "eth1")
    api("PIF.reconfigure_ipv6", eth1, "Autoconf", "", "", "2001:db8::53, 2001:db8::54,,x")
    assert api.record("PIF", eth1).dns == "2001:db8::53"


def test_none_on_the_management_interface_depends_on_its_primary_address_type(api,
                                                                              master) -> None:
    eth0 = api.pif(master, "eth0")
    api("PIF.reconfigure_ipv6", eth0, "Autoconf", "", "", "")  # IPv4 primary: any mode
    api.sim.state.set_field("PIF", eth0, "primary_address_type", "IPv6")
    assert api.fails("PIF.reconfigure_ipv6", eth0, "None", "", "", "") \
        == ["PIF_IS_MANAGEMENT_INTERFACE", eth0]
    api("PIF.reconfigure_ipv6", eth0, "DHCP", "", "", "")  # another mode: allowed
    assert api.record("PIF", eth0).ipv6_configuration_mode == "DHCP"


def test_the_address_checks_come_before_the_management_check(api, master) -> None:
    eth0 = api.pif(master, "eth0")
    api.sim.state.set_field("PIF", eth0, "primary_address_type", "IPv6")
    assert api.fails("PIF.reconfigure_ipv6", eth0, "None", "2001:db8::5", "", "") \
        == ["INVALID_CIDR_ADDRESS_SPECIFIED", "IPv6"]


def test_an_attached_pif_is_brought_down_and_up(api, master) -> None:
    eth1 = api.pif(master, "eth1")
    generation = api.sim.state.generation
    api("PIF.reconfigure_ipv6", eth1, "Autoconf", "", "", "")
    assert api.sim.state.generation - generation >= 3  # write, down, up
    assert api.record("PIF", eth1).currently_attached is True


def test_reconfigure_ipv6_on_a_dead_host_is_host_offline(api) -> None:
    member = api.hosts()[1]
    api.sim.set_host_live(member, False)
    assert api.fails("PIF.reconfigure_ipv6", api.pif(member, "eth1"), "DHCP", "", "", "") \
        == ["HOST_OFFLINE", member]
    assert api.fails("PIF.set_primary_address_type", api.pif(member, "eth1"), "IPv6") \
        == ["HOST_OFFLINE", member]


def test_set_primary_address_type_protection_comes_before_the_management_check(
        api, master) -> None:
    eth0, eth1, eth2 = (api.pif(master, d) for d in ("eth0", "eth1", "eth2"))
    api("PIF.unplug", eth1)
    api.sim.state.set_field("pool", _pool(api), "ha_enabled", True)
    assert api.fails("PIF.set_primary_address_type", eth0, "IPv6") == ["HA_IS_ENABLED"]
    assert api.fails("PIF.set_primary_address_type", eth2, "IPv6") == ["HA_IS_ENABLED"]
    api("PIF.set_primary_address_type", eth1, "IPv6")  # only an attached PIF is pinned
    assert api.record("PIF", eth1).primary_address_type == "IPv6"


def test_set_primary_address_type_writes_the_field_only(api, master) -> None:
    """No re-plug and no check of the PIF's configuration: XAPI only records it."""
    eth1 = api.pif(master, "eth1")
    generation = api.sim.state.generation
    api("PIF.set_primary_address_type", eth1, "IPv6")
    assert api.sim.state.generation - generation == 1
    assert api.record("PIF", eth1).ipv6_configuration_mode == "None"


def test_host_management_reconfigure_swallows_an_incompatible_primary_address_type(
        api, master) -> None:
    """``Xapi_host.management_reconfigure`` raises PIF_INCOMPATIBLE_PRIMARY_ADDRESS_TYPE inside
    a ``try … with _ -> ()``: the move goes through (pool.management_reconfigure and
    Bond.create do raise it)."""
    eth1 = api.pif(master, "eth1")
    api("PIF.reconfigure_ipv6", eth1, "Autoconf", "", "", "")
    api("PIF.set_primary_address_type", eth1, "IPv6")
    api("host.management_reconfigure", eth1)
    assert api.record("PIF", eth1).management is True
