"""The remaining protection rules of the PIF and management calls (REFERENCE §3.5): the redo
log pins attached PIFs like HA does, SR-IOV PIFs cannot be forgotten, and the member-local
management calls."""

from __future__ import annotations

import contextlib

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture

SIM_PASSWORD = "xapictl"


@pytest.fixture
def master(api):
    return api.hosts()[0]


def _pool_flags(api, **flags):
    api.sim.state.update("pool", api.sim.state.refs("pool")[0], flags)


def test_unplug_of_an_attached_pif_with_redo_log_is_redo_log_is_enabled(api, master):
    eth2 = api.pif(master, "eth2")
    _pool_flags(api, redo_log_enabled=True)
    assert api.fails("PIF.unplug", eth2) == ["REDO_LOG_IS_ENABLED"]
    _pool_flags(api, ha_enabled=True)  # HA is checked first
    assert api.fails("PIF.unplug", eth2) == ["HA_IS_ENABLED"]


def test_redo_log_spares_detached_pifs_and_pure_dns_changes(api, master):
    eth2 = api.pif(master, "eth2")
    record = api.record("PIF", eth2)
    _pool_flags(api, redo_log_enabled=True)
    api("PIF.reconfigure_ip", eth2, "Static", record.ip, record.netmask, record.gateway,
        "192.0.2.99")  # the same address: only DNS changes, no protection check
    assert api.record("PIF", eth2).dns == "192.0.2.99"
    assert api.fails("PIF.reconfigure_ip", eth2, "Static", "198.51.100.200",
                     record.netmask, "", "") == ["REDO_LOG_IS_ENABLED"]
    _pool_flags(api, redo_log_enabled=False)
    api("PIF.unplug", eth2)
    _pool_flags(api, redo_log_enabled=True)
    api("PIF.reconfigure_ip", eth2, "None", "", "", "", "")  # detached: no protection


def _sriov(api, host):
    state = api.sim.state
    physical = api.pif(host, "eth1")
    state.set_field("PIF", physical, "capabilities", ["sriov"])
    sriov = api("network_sriov.create", physical, api.new_network("sriov"))
    return physical, api.record("network_sriov", sriov).logical_pif


def test_forget_of_an_sriov_logical_pif_is_cannot_forget_sriov_logical(api, master):
    _, logical = _sriov(api, master)
    assert api.fails("PIF.forget", logical) == ["CANNOT_FORGET_SRIOV_LOGICAL", logical]


def test_forget_of_an_sriov_enabled_physical_pif_is_pif_sriov_still_exists(api, master):
    physical, _ = _sriov(api, master)
    assert api.fails("PIF.forget", physical) == ["PIF_SRIOV_STILL_EXISTS", physical]


def test_forget_checks_vlans_before_sriov(api, master):
    _, logical = _sriov(api, master)
    api("VLAN.create", logical, 30, api.new_network("v"))
    assert api.fails("PIF.forget", logical) == ["PIF_VLAN_STILL_EXISTS", logical]


def test_local_management_reconfigure_outside_emergency_mode_is_not_in_emergency_mode(api):
    assert api.fails("host.local_management_reconfigure", "eth0") == ["NOT_IN_EMERGENCY_MODE"]


@contextlib.contextmanager
def _member_session(url):
    """A member's local session (the emergency login members serve themselves)."""
    import XenAPI

    session = XenAPI.Session(url)
    session.slave_local_login_with_password("root", SIM_PASSWORD)
    try:
        yield session
    finally:
        session.xenapi.session.local_logout()
        session("close")()


def test_management_disable_on_a_member_is_slave_requires_management_interface(sim_server):
    import XenAPI

    member_url = next(url for url in sim_server.urls.values() if "127.0.0.1" not in url)
    with _member_session(member_url) as session, pytest.raises(XenAPI.Failure) as caught:
        session.xenapi.host.management_disable()
    assert caught.value.details == ["SLAVE_REQUIRES_MANAGEMENT_INTERFACE"]


def test_management_disable_with_ha_is_ha_is_enabled_even_on_a_member(sim_server):
    import XenAPI

    state = sim_server.sim.state
    state.set_field("pool", state.refs("pool")[0], "ha_enabled", True)
    member_url = next(url for url in sim_server.urls.values() if "127.0.0.1" not in url)
    with _member_session(member_url) as session, pytest.raises(XenAPI.Failure) as caught:
        session.xenapi.host.management_disable()
    assert caught.value.details == ["HA_IS_ENABLED"]


def test_get_management_interface_after_management_disable_is_internal_error_not_found(api):
    master = api.hosts()[0]
    assert api("host.get_management_interface", master) == api.pif(master, "eth0")
    api("host.management_disable")
    assert api.fails("host.get_management_interface", master) == ["INTERNAL_ERROR", "Not_found"]
