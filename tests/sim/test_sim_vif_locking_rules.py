"""VIF locking and guest IP rules with a vswitch controller or a restricted licence, IPv6
guest configuration without the guest feature, and the constructor's required fields
(REFERENCE §1.7, §3.6 "Locking and guest IP configuration")."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


@pytest.fixture
def vif(api):
    """web-01's VIF 0: a running PV guest on the master that advertises static IP setting."""
    return api.record("VM", api.vm("web-01")).vifs[0]


def _restrict(api, feature):
    state = api.sim.state
    pool = state.refs("pool")[0]
    restrictions = dict(state.get("pool", pool)["restrictions"])
    state.set_field("pool", pool, "restrictions", {**restrictions, f"restrict_{feature}": "true"})


def _vswitch_controller(api, address="192.0.2.250"):
    """An SDN_controller record, as pool.set_vswitch_controller makes one: what
    Helpers.assert_vswitch_controller_not_active looks for (not pool.vswitch_controller)."""
    api("pool.set_vswitch_controller", address)


def test_set_locking_mode_locked_with_a_vswitch_controller_is_operation_not_allowed(api, vif):
    _vswitch_controller(api)
    assert api.fails("VIF.set_locking_mode", vif, "locked") \
        == ["OPERATION_NOT_ALLOWED", "A vswitch controller is active"]
    assert api.record("VIF", vif).locking_mode == "network_default"
    api("VIF.set_locking_mode", vif, "disabled")  # only "locked" needs the switch
    assert api.record("VIF", vif).locking_mode == "disabled"


def test_vswitch_controller_only_counts_on_an_openvswitch_host(api, vif):
    _vswitch_controller(api)
    state = api.sim.state
    host = api.hosts()[0]
    version = dict(state.get("host", host)["software_version"])
    state.set_field("host", host, "software_version", {**version, "network_backend": "bridge"})
    api("VIF.set_locking_mode", vif, "locked")
    assert api.record("VIF", vif).locking_mode == "locked"


def test_set_locking_mode_locked_under_restricted_licence_is_licence_restriction(api, vif):
    _restrict(api, "vif_locking")
    assert api.fails("VIF.set_locking_mode", vif, "locked") \
        == ["LICENCE_RESTRICTION", "VIF_locking"]
    api("VIF.set_locking_mode", vif, "unlocked")
    assert api.record("VIF", vif).locking_mode == "unlocked"


def test_set_locking_mode_checks_the_controller_before_the_licence(api, vif):
    _restrict(api, "vif_locking")
    _vswitch_controller(api)
    assert api.fails("VIF.set_locking_mode", vif, "locked") \
        == ["OPERATION_NOT_ALLOWED", "A vswitch controller is active"]


def test_set_ipv4_allowed_checks_the_licence_only_when_non_empty(api, vif):
    _restrict(api, "vif_locking")
    assert api.fails("VIF.set_ipv4_allowed", vif, ["192.0.2.101"]) \
        == ["LICENCE_RESTRICTION", "VIF_locking"]
    assert api.fails("VIF.set_ipv6_allowed", vif, ["2001:db8::1"]) \
        == ["LICENCE_RESTRICTION", "VIF_locking"]
    api("VIF.set_ipv4_allowed", vif, [])
    assert list(api.record("VIF", vif).ipv4_allowed) == []


def test_add_ipv4_allowed_always_checks_the_licence_and_remove_never(api, vif):
    api("VIF.set_ipv4_allowed", vif, ["192.0.2.101"])
    _restrict(api, "vif_locking")
    assert api.fails("VIF.add_ipv4_allowed", vif, "192.0.2.102") \
        == ["LICENCE_RESTRICTION", "VIF_locking"]
    assert api.fails("VIF.add_ipv6_allowed", vif, "2001:db8::1") \
        == ["LICENCE_RESTRICTION", "VIF_locking"]
    api("VIF.remove_ipv4_allowed", vif, "192.0.2.101")
    assert list(api.record("VIF", vif).ipv4_allowed) == []


def test_licence_check_comes_before_address_validation(api, vif):
    _restrict(api, "vif_locking")
    assert api.fails("VIF.add_ipv4_allowed", vif, "not-an-address") \
        == ["LICENCE_RESTRICTION", "VIF_locking"]


def test_configure_static_under_restricted_licence_is_licence_restriction_guest_ip_setting(
        api, vif):
    _restrict(api, "guest_ip_setting")
    assert api.fails("VIF.configure_ipv4", vif, "Static", "192.0.2.101/24", "") \
        == ["LICENCE_RESTRICTION", "Guest_ip_setting"]
    assert api.fails("VIF.configure_ipv6", vif, "Static", "2001:db8::5/64", "") \
        == ["LICENCE_RESTRICTION", "Guest_ip_setting"]
    api("VIF.configure_ipv4", vif, "None")  # only Static needs the feature
    assert api.record("VIF", vif).ipv4_configuration_mode == "None"


def test_configure_ipv6_without_guest_feature_is_vm_lacks_feature(api):
    win = api.vm("win-app-01")
    vif = api.record("VM", win).vifs[0]
    assert api.fails("VIF.configure_ipv6", vif, "Static", "2001:db8::5/64", "") \
        == ["VM_LACKS_FEATURE", win]


def test_create_without_mtu_is_internal_error_field_not_found(api):
    record = {"device": "1", "network": api.network_by_bridge("xenbr1"),
              "VM": api.vm("build-01"), "MAC": "", "other_config": {},
              "qos_algorithm_type": "", "qos_algorithm_params": {}}
    vifs_before = set(api.records("VIF"))
    assert api.fails("VIF.create", record) \
        == ["INTERNAL_ERROR", 'Server_helpers.Dispatcher_FieldNotFound("MTU")']
    assert set(api.records("VIF")) == vifs_before
