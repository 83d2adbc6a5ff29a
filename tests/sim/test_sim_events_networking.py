"""Relation side effects of networking calls as a watcher sees them in event.from (REFERENCE
§1.13, §2.2, §8.18)."""

from __future__ import annotations

from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


def _events_after(api, classes, action):
    token = api("event.from", classes, "", 0)["token"]
    result = action()
    batch = api("event.from", classes, token, 0)
    return result, {(e["class"].lower(), e["operation"], e["ref"]) for e in batch["events"]}


def test_vif_create_is_add_of_vif_and_mod_of_vm_and_network(api):
    vm, network = api.vm("build-01"), api.network_by_bridge("xenbr1")
    vif, seen = _events_after(api, ["VIF", "VM", "network"],
                              lambda: api.new_vif(vm, network))
    assert {("vif", "add", vif), ("vm", "mod", vm), ("network", "mod", network)} <= seen


def test_vif_destroy_is_del_of_vif_and_mod_of_vm_and_network(api):
    vm, network = api.vm("build-01"), api.network_by_bridge("xenbr1")
    vif = api.new_vif(vm, network)
    _, seen = _events_after(api, ["VIF", "VM", "network"], lambda: api("VIF.destroy", vif))
    assert {("vif", "del", vif), ("vm", "mod", vm), ("network", "mod", network)} <= seen


def test_vif_move_is_mod_of_both_networks(api):
    vm = api.vm("build-01")
    vif = api.record("VM", vm).vifs[0]
    old = api.record("VIF", vif).network
    new = api.new_network()
    _, seen = _events_after(api, ["VIF", "network"], lambda: api("VIF.move", vif, new))
    assert {("vif", "mod", vif), ("network", "mod", old), ("network", "mod", new)} <= seen


def test_vlan_destroy_is_del_of_vlan_and_pif_and_mod_of_tagged_pif_host_network(api):
    host = api.hosts()[0]
    eth1, network = api.pif(host, "eth1"), api.new_network()
    vlan = api("VLAN.create", eth1, 100, network)
    untagged = api.record("VLAN", vlan).untagged_pif
    _, seen = _events_after(api, ["VLAN", "PIF", "network", "host"],
                            lambda: api("VLAN.destroy", vlan))
    assert {("vlan", "del", vlan), ("pif", "del", untagged), ("pif", "mod", eth1),
            ("network", "mod", network), ("host", "mod", host)} <= seen


def test_vm_start_is_mod_of_vm_host_and_vifs(api):
    vm = api.vm("build-01")
    vif = api.record("VM", vm).vifs[0]
    _, seen = _events_after(api, ["VM", "VIF", "host"],
                            lambda: api("VM.start_on", vm, api.hosts()[1], False, False))
    assert {("vm", "mod", vm), ("vif", "mod", vif), ("host", "mod", api.hosts()[1])} <= seen


def test_bond_create_events_cover_every_rewritten_object(api):
    host = api.hosts()[0]
    eth0, eth1 = api.pif(host, "eth0"), api.pif(host, "eth1")
    api("PIF.reconfigure_ip", eth1, "None", "", "", "", "")
    network = api.new_network("bond")
    web_vif = api.record("VM", api.vm("web-01")).vifs[0]
    bond, seen = _events_after(
        api, ["Bond", "PIF", "VIF", "network"],
        lambda: api("Bond.create", network, [eth0, eth1], "", "active-backup", {}))
    master = api.record("Bond", bond).master
    assert {("bond", "add", bond), ("pif", "add", master), ("pif", "mod", eth0),
            ("pif", "mod", eth1), ("vif", "mod", web_vif), ("network", "mod", network)} <= seen
