"""The pool's networking switches that XAPI implements by hand: ``set_igmp_snooping_enabled``
(every bridge that is up re-reads it) and the deprecated ``set_vswitch_controller`` (a front of
``SDN_controller``, xapi_pool.ml)."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


def snooping_of_plugged(api):
    """igmp_snooping_status of every plugged PIF, split into VLAN PIFs and the others."""
    vlans, others = set(), set()
    for rec in api.sim.state.all("PIF").values():
        if rec["currently_attached"]:
            (vlans if rec["VLAN"] >= 0 else others).add(rec["igmp_snooping_status"])
    return vlans, others


def test_igmp_snooping_reaches_every_plugged_pif_but_vlan_ones(api):
    eth1 = api.pif(api.hosts()[0], "eth1")
    api("pool.create_VLAN_from_PIF", eth1, api.new_network("v"), 101)
    pool = api("pool.get_all")[0]
    api("pool.set_igmp_snooping_enabled", pool, True)
    assert api("pool.get_igmp_snooping_enabled", pool) is True
    assert snooping_of_plugged(api) == ({"unknown"}, {"enabled"})
    api("pool.set_igmp_snooping_enabled", pool, False)
    assert snooping_of_plugged(api) == ({"unknown"}, {"disabled"})


def test_igmp_snooping_leaves_unplugged_pifs_to_their_next_plug(api):
    eth1 = api.pif(api.hosts()[1], "eth1")
    api("PIF.unplug", eth1)
    before = api("PIF.get_igmp_snooping_status", eth1)
    api("pool.set_igmp_snooping_enabled", api("pool.get_all")[0], True)
    assert api("PIF.get_igmp_snooping_status", eth1) == before
    api("PIF.plug", eth1)
    assert api("PIF.get_igmp_snooping_status", eth1) == "enabled"


def test_set_vswitch_controller_replaces_the_sdn_controller(api):
    pool = api("pool.get_all")[0]
    api("pool.set_vswitch_controller", "192.0.2.200")
    assert api("pool.get_vswitch_controller", pool) == "192.0.2.200"
    [first] = api("SDN_controller.get_all")
    record = api("SDN_controller.get_record", first)
    assert (record["protocol"], record["address"], int(record["port"])) == (
        "ssl", "192.0.2.200", 6632)
    api("pool.set_vswitch_controller", "192.0.2.201")
    [second] = api("SDN_controller.get_all")
    assert second != first
    api("pool.set_vswitch_controller", "")
    assert api("SDN_controller.get_all") == []
    assert api("pool.get_vswitch_controller", pool) == ""


def test_set_vswitch_controller_refuses_a_bad_address_and_the_bridge_backend(api):
    assert api.fails("pool.set_vswitch_controller", "not-an-ip") == [
        "INVALID_IP_ADDRESS_SPECIFIED", "address"]
    assert api("SDN_controller.get_all") == []
    master = api.hosts()[0]
    version = dict(api.sim.state.get("host", master)["software_version"],
                   network_backend="bridge")
    api.sim.state.set_field("host", master, "software_version", version)
    assert api.fails("pool.set_vswitch_controller", "192.0.2.200") == [
        "OPERATION_NOT_ALLOWED", "host not configured for vswitch operation"]


def test_an_active_controller_then_blocks_vif_locking(api):
    api("pool.set_vswitch_controller", "192.0.2.200")
    vif = api("VM.get_VIFs", api.vm("web-01"))[0]
    assert api.fails("VIF.set_locking_mode", vif, "locked") == [
        "OPERATION_NOT_ALLOWED", "A vswitch controller is active"]


def test_igmp_snooping_needs_the_feature_to_enable_but_not_to_disable(api):
    """``Pool_features.assert_enabled IGMP_snooping`` guards ``value = true`` only."""
    pool = api("pool.get_all")[0]
    restrictions = dict(api.sim.state.get("pool", pool)["restrictions"])
    api.sim.state.set_field("pool", pool, "restrictions",
                            {**restrictions, "restrict_igmp_snooping": "true"})
    assert api.fails("pool.set_igmp_snooping_enabled", pool, True) == [
        "LICENCE_RESTRICTION", "IGMP_snooping"]
    api("pool.set_igmp_snooping_enabled", pool, False)
    assert api("pool.get_igmp_snooping_enabled", pool) is False


def test_igmp_snooping_needs_openvswitch_on_the_master(api):
    """``Helpers.assert_using_vswitch``: the master's backend, checked after the feature."""
    pool = api("pool.get_all")[0]
    master = api.hosts()[0]
    version = dict(api.sim.state.get("host", master)["software_version"])
    api.sim.state.set_field("host", master, "software_version",
                            {**version, "network_backend": "bridge"})
    assert api.fails("pool.set_igmp_snooping_enabled", pool, True) == ["OPENVSWITCH_NOT_ACTIVE"]
    assert api.fails("pool.set_igmp_snooping_enabled", pool, False) == [
        "OPENVSWITCH_NOT_ACTIVE"]
    assert api("pool.get_igmp_snooping_enabled", pool) is False


def test_sdn_controller_introduce_stores_ssl_on_6632_and_forget_removes_it(api):
    ref = api("SDN_controller.introduce", "ssl", "192.0.2.200", 0)
    record = api("SDN_controller.get_record", ref)
    assert (record["protocol"], record["address"], int(record["port"])) == (
        "ssl", "192.0.2.200", 6632)
    assert api.fails("SDN_controller.introduce", "pssl", "", 0) == [
        "OPERATION_NOT_ALLOWED", "SDN controller has been configured. Please forget it first."]
    api("SDN_controller.forget", ref)
    assert api("SDN_controller.get_all") == []
    passive = api("SDN_controller.introduce", "pssl", "", 0)
    assert int(api("SDN_controller.get_record", passive)["port"]) == 0


@pytest.mark.parametrize(("args", "error"), [
    (("pssl", "192.0.2.9", 0), ["INVALID_VALUE", "address", "192.0.2.9"]),
    (("pssl", "", 6640), ["INVALID_VALUE", "port", "6640"]),
    (("ssl", "", 0), ["INVALID_VALUE", "address", ""]),
    (("ssl", "not-an-ip", 0), ["INVALID_IP_ADDRESS_SPECIFIED", "address"]),
    (("ssl", "192.0.2.9", 70000), ["VALUE_NOT_SUPPORTED", "port", "70000", "Port out of range"]),
])
def test_sdn_controller_introduce_checks_in_db_introduce_order(api, args, error):
    assert api.fails("SDN_controller.introduce", *args) == error
    assert api("SDN_controller.get_all") == []


def test_sdn_controller_introduce_needs_openvswitch_before_anything_else(api):
    master = api.hosts()[0]
    version = dict(api.sim.state.get("host", master)["software_version"],
                   network_backend="bridge")
    api.sim.state.set_field("host", master, "software_version", version)
    assert api.fails("SDN_controller.introduce", "pssl", "192.0.2.9", 0) == [
        "OPERATION_NOT_ALLOWED", "host not configured for vswitch operation"]


def test_an_introduced_controller_blocks_vif_locking_as_the_deprecated_setter_does(api):
    """``assert_vswitch_controller_not_active`` looks at the SDN_controller records."""
    api("SDN_controller.introduce", "pssl", "", 0)
    vif = api("VM.get_VIFs", api.vm("web-01"))[0]
    assert api.fails("VIF.set_locking_mode", vif, "locked") == [
        "OPERATION_NOT_ALLOWED", "A vswitch controller is active"]
