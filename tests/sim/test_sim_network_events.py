"""More relation side effects as a watcher of ``event.from`` sees them (REFERENCE §1.13, §2.2,
§8.18): every object a call touches shows up once (coalesced), with the right operation."""

from __future__ import annotations

from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


def _events_after(api, action):
    token = api("event.from", ["*"], "", 0)["token"]
    result = action()
    batch = api("event.from", ["*"], token, 0)
    return result, {(e["class"].lower(), e["operation"], e["ref"]) for e in batch["events"]}


def test_network_destroy_deletes_detached_vifs_and_touches_their_vms(api):
    vm = api.vm("build-01")
    network = api.new_network("doomed")
    vif = api.new_vif(vm, network)
    metrics = api.sim.state.get("VIF", vif)["metrics"]
    _, seen = _events_after(api, lambda: api("network.destroy", network))
    assert seen == {("network", "del", network), ("vif", "del", vif), ("vm", "mod", vm)}
    assert api.sim.state.exists("VIF_metrics", metrics)  # XAPI leaves them behind


def test_tunnel_create_adds_tunnel_and_access_pif_and_mods_transport_host_network(api):
    host = api.hosts()[0]
    eth2 = api.pif(host, "eth2")
    network = api.new_network("overlay")
    tunnel, seen = _events_after(api, lambda: api("tunnel.create", eth2, network, "vxlan"))
    access = api.record("tunnel", tunnel).access_pif
    assert seen == {("tunnel", "add", tunnel), ("pif", "add", access), ("pif", "mod", eth2),
                    ("host", "mod", host), ("network", "mod", network)}


def test_reconfigure_ip_of_an_attached_pif_is_one_coalesced_mod(api):
    eth2 = api.pif(api.hosts()[0], "eth2")
    _, seen = _events_after(
        api, lambda: api("PIF.reconfigure_ip", eth2, "Static", "198.51.100.77",
                         "255.255.255.0", "", ""))
    assert seen == {("pif", "mod", eth2)}
    assert api.record("PIF", eth2).currently_attached is True  # down and up again


def test_vif_plug_is_a_mod_of_the_vif_only(api):
    web = api.vm("web-01")
    vif = api.new_vif(web, api.network_by_bridge("xenbr1"))
    _, seen = _events_after(api, lambda: api("VIF.plug", vif))
    assert seen == {("vif", "mod", vif)}


def test_bond_destroy_events(api):
    host = api.hosts()[0]
    eth1, eth2 = api.pif(host, "eth1"), api.pif(host, "eth2")
    api("PIF.reconfigure_ip", eth2, "None", "", "", "", "")
    network = api.new_network("bond")
    bond = api("Bond.create", network, [eth1, eth2], "", "balance-slb", {})
    master = api.record("Bond", bond).master
    metrics = api.record("PIF", master).metrics
    _, seen = _events_after(api, lambda: api("Bond.destroy", bond))
    assert {("bond", "del", bond), ("pif", "del", master), ("pif", "mod", eth1),
            ("pif", "mod", eth2), ("host", "mod", host), ("network", "mod", network),
            ("pif_metrics", "del", metrics)} <= seen


def test_network_sriov_create_events(api):
    host = api.hosts()[0]
    eth1 = api.pif(host, "eth1")
    api.sim.state.set_field("PIF", eth1, "capabilities", ["sriov"])
    network = api.new_network("sriov")
    sriov, seen = _events_after(api, lambda: api("network_sriov.create", eth1, network))
    logical = api.record("network_sriov", sriov).logical_pif
    assert seen == {("network_sriov", "add", sriov), ("pif", "add", logical),
                    ("pif", "mod", eth1), ("host", "mod", host), ("network", "mod", network)}
