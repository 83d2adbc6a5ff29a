"""Calls XAPI forwards to another host answer ``HOST_OFFLINE [<host>]`` when that host is not
live, before any check of their own and without changing anything (REFERENCE §3.0)."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


@pytest.fixture
def member(api):
    """The second host: web-02 runs there."""
    return api.hosts()[1]


def _kill(api, host):
    api.sim.set_host_live(host, False)


def test_bond_create_on_a_dead_members_pifs_is_host_offline_before_any_check(api, member):
    eth1 = api.pif(member, "eth1")
    unmanaged = api.new_network("unmanaged", managed=False)  # would be NETWORK_UNMANAGED
    _kill(api, member)
    assert api.fails("Bond.create", unmanaged, [eth1], "", "active-backup", {}) \
        == ["HOST_OFFLINE", member]
    assert api.records("Bond") == {}
    assert api.record("PIF", eth1).bond_slave_of == "OpaqueRef:NULL"


def test_bond_create_without_members_is_refused_on_the_master_first(api, member):
    _kill(api, member)
    assert api.fails("Bond.create", api.new_network(), [], "", "active-backup", {}) \
        == ["PIF_BOND_NEEDS_MORE_MEMBERS"]


def test_bond_destroy_on_a_dead_host_is_host_offline_and_keeps_the_bond(api, member):
    eth1 = api.pif(member, "eth1")
    bond = api("Bond.create", api.new_network("bond"), [eth1], "", "active-backup", {})
    _kill(api, member)
    assert api.fails("Bond.destroy", bond) == ["HOST_OFFLINE", member]
    assert api.record("Bond", bond).slaves == (eth1,)


def test_tunnel_create_on_a_dead_hosts_transport_is_host_offline_before_any_check(
        api, member):
    eth2 = api.pif(member, "eth2")
    unmanaged = api.new_network("unmanaged", managed=False)
    _kill(api, member)
    assert api.fails("tunnel.create", eth2, unmanaged, "gre") == ["HOST_OFFLINE", member]
    assert api.records("tunnel") == {}
    assert api.record("network", unmanaged).pifs == ()


def test_vif_plug_of_a_vm_on_a_dead_host_is_host_offline_before_the_hotplug_checks(
        api, member):
    web02 = api.vm("web-02")
    vif = api.record("VM", web02).vifs[0]  # attached: plug would be DEVICE_ALREADY_ATTACHED
    _kill(api, member)
    assert api.fails("VIF.plug", vif) == ["HOST_OFFLINE", member]


def test_vif_move_of_a_vm_on_a_dead_host_is_host_offline_and_keeps_the_network(api, member):
    web02 = api.vm("web-02")
    vif = api.record("VM", web02).vifs[0]
    network = api.record("VIF", vif).network
    _kill(api, member)
    assert api.fails("VIF.move", vif, api.network_by_bridge("xenbr1")) \
        == ["HOST_OFFLINE", member]
    assert api.record("VIF", vif).network == network


def test_vif_move_of_a_halted_vm_runs_on_the_master_whatever_is_dead(api, member):
    build = api.vm("build-01")
    vif = api.record("VM", build).vifs[0]
    _kill(api, member)
    target = api.network_by_bridge("xenbr1")
    api("VIF.move", vif, target)
    assert api.record("VIF", vif).network == target
