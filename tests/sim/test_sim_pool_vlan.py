"""pool.create_VLAN_from_PIF and pool.create_VLAN (REFERENCE §3.4, §6, §8.6), and the seed pool
after VLANs 101-105 on eth1 looking exactly like a real pool, events included."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture

TAGS = range(101, 106)


def _vlan_from_pif(api, tag, network=None):
    network = network or api.new_network(f"VLAN {tag}")
    eth1 = api.pif(api.hosts()[0], "eth1")
    return network, api("pool.create_VLAN_from_PIF", eth1, network, tag)


def test_create_vlan_from_pif_returns_one_vlan_pif_per_host(api):
    network, pifs = _vlan_from_pif(api, 101)
    assert len(pifs) == 3
    records = [api.record("PIF", p) for p in pifs]
    assert {r.host for r in records} == set(api.hosts())
    assert all(r.vlan == 101 and r.network == network and r.currently_attached
               for r in records)
    # PIF refs, not VLAN refs: each one is the untagged PIF of its host's VLAN over eth1.
    vlans = api.records("VLAN")
    for ref, pif in zip(pifs, records, strict=True):
        vlan = vlans[pif.vlan_master_of]
        assert (vlan.tag, vlan.untagged_pif, vlan.tagged_pif) \
            == (101, ref, api.pif(pif.host, "eth1"))
        assert api.fails("VLAN.get_record", ref) == ["HANDLE_INVALID", "VLAN", ref]
    assert sorted(api.record("network", network).pifs) == sorted(pifs)


def test_create_vlan_from_pif_matches_hosts_by_network_not_device(api):
    member = api.hosts()[1]
    # Rename the member's trunk NIC: it is still on xenbr1, so it still gets the VLAN.
    eth1 = api.pif(member, "eth1")
    api.sim.state.set_field("PIF", eth1, "device", "eth7")
    _, pifs = _vlan_from_pif(api, 101)
    assert "eth7" in {api.record("PIF", p).device for p in pifs}


def test_create_vlan_from_pif_skips_dead_hosts_silently(api):
    dead = api.hosts()[2]
    api.sim.set_host_live(dead, False)
    _, pifs = _vlan_from_pif(api, 101)
    assert len(pifs) == 2
    assert dead not in {api.record("PIF", p).host for p in pifs}


def test_create_vlan_from_pif_invalid_tag_fails_and_creates_nothing(api):
    before = len(api("VLAN.get_all"))
    network = api.new_network()
    eth1 = api.pif(api.hosts()[0], "eth1")
    assert api.fails("pool.create_VLAN_from_PIF", eth1, network, 4095) \
        == ["VLAN_TAG_INVALID", "4095"]
    assert len(api("VLAN.get_all")) == before


def test_create_vlan_from_pif_rolls_back_best_effort_on_failure(api):
    # The third host already uses the network: the first two VLANs are undone.
    third = api.hosts()[2]
    network = api.new_network()
    existing = api("VLAN.create", api.pif(third, "eth2"), 999, network)
    existing_pif = api.record("VLAN", existing).untagged_pif
    eth1 = api.pif(api.hosts()[0], "eth1")
    assert api.fails("pool.create_VLAN_from_PIF", eth1, network, 101) \
        == ["NETWORK_ALREADY_CONNECTED", third, existing_pif]
    assert api("VLAN.get_all") == [existing]
    assert api.record("network", network).pifs == (existing_pif,)


def test_create_vlan_from_pif_over_bonds_named_differently(api):
    hosts = api.hosts()
    bond_network = api.new_network("bond")
    api("Bond.create", bond_network, [api.pif(hosts[0], "eth1")], "", "balance-slb", {})
    # On the second host bond0 is taken by another bond first, so its eth1 bond is bond1.
    api("Bond.create", api.new_network("other"), [api.pif(hosts[1], "eth2")], "",
        "balance-slb", {})
    api("Bond.create", bond_network, [api.pif(hosts[1], "eth1")], "", "balance-slb", {})
    master0 = api.pif(hosts[0], "bond0")
    pifs = api("pool.create_VLAN_from_PIF", master0, api.new_network("v"), 42)
    assert sorted(api.record("PIF", p).device for p in pifs) == ["bond0", "bond1"]


def test_pool_create_vlan_by_device_on_every_host(api):
    network = api.new_network()
    pifs = api("pool.create_VLAN", "eth1", network, 77)
    assert len(pifs) == 3 and {api.record("PIF", p).vlan for p in pifs} == {77}


def test_pool_create_vlan_does_not_skip_dead_hosts(api):
    dead = api.hosts()[2]
    api.sim.set_host_live(dead, False)
    network = api.new_network()
    assert api.fails("pool.create_VLAN", "eth1", network, 77) == ["HOST_OFFLINE", dead]
    assert api("VLAN.get_all") == []  # the others were rolled back


# --- the seed pool after VLANs 101-105 on eth1 ----------------------------------------------


@pytest.fixture
def tagged_pool(api):
    networks = {}
    for tag in TAGS:
        network, pifs = _vlan_from_pif(api, tag)
        networks[tag] = (network, pifs)
    return networks


def test_seed_vlans_one_network_per_tag_one_pif_per_host_per_tag(api, tagged_pool):
    hosts = api.hosts()
    vlans = api.records("VLAN")
    assert len(vlans) == 15
    for tag, (network, pifs) in tagged_pool.items():
        net = api.record("network", network)
        assert sorted(net.pifs) == sorted(pifs)
        by_host = {api.record("PIF", p).host: p for p in pifs}
        assert set(by_host) == set(hosts)
        for host, pif_ref in by_host.items():
            pif = api.record("PIF", pif_ref)
            vlan = vlans[pif.vlan_master_of]
            eth1 = api.pif(host, "eth1")
            assert (vlan.tag, vlan.tagged_pif, vlan.untagged_pif) == (tag, eth1, pif_ref)
            assert pif.device == "eth1" and pif.mac == "fe:ff:ff:ff:ff:ff"
            assert pif.metrics == api.record("PIF", eth1).metrics
            assert pif_ref in api.record("host", host).pifs


def test_seed_vlans_back_links_on_every_trunk_pif(api, tagged_pool):
    for host in api.hosts():
        eth1 = api.record("PIF", api.pif(host, "eth1"))
        assert len(eth1.vlan_slave_of) == 5
        tags = sorted(api.record("VLAN", v).tag for v in eth1.vlan_slave_of)
        assert tags == list(TAGS)
        assert eth1.currently_attached and eth1.vlan == -1


def test_seed_vlans_events_a_watcher_receives(api):
    token = api("event.from", ["VLAN", "PIF", "network"], "", 0)["token"]
    network, pifs = _vlan_from_pif(api, 101)
    batch = api("event.from", ["VLAN", "PIF", "network"], token, 0)
    seen = {(e["class"].lower(), e["operation"], e["ref"]) for e in batch["events"]}
    vlans = [api.record("PIF", p).vlan_master_of for p in pifs]
    eth1s = [api.pif(h, "eth1") for h in api.hosts()]
    assert {("vlan", "add", v) for v in vlans} <= seen
    assert {("pif", "add", p) for p in pifs} <= seen
    assert {("pif", "mod", p) for p in eth1s} <= seen  # VLAN_slave_of grew
    assert ("network", "add", network) in seen  # created after the token: coalesced add
    snapshot = next(e["snapshot"] for e in batch["events"] if e["ref"] == pifs[0])
    assert snapshot["currently_attached"] is True
    assert snapshot["VLAN_master_of"] == vlans[0]


def test_seed_vlans_101_to_105_exact_event_set_for_a_watcher_of_everything(api):
    """Nothing else moves: per tag one network add, per host one VLAN and one VLAN PIF add
    (their plug coalesced into the add), and one mod of each host (host.PIFs) and of each
    trunk PIF (VLAN_slave_of). The shared PIF_metrics are not touched."""
    token = api("event.from", ["*"], "", 0)["token"]
    created = {tag: _vlan_from_pif(api, tag) for tag in TAGS}
    batch = api("event.from", ["*"], token, 0)
    seen = sorted((e["class"].lower(), e["operation"], e["ref"]) for e in batch["events"])
    hosts = api.hosts()
    expected = [("host", "mod", h) for h in hosts]
    expected += [("pif", "mod", api.pif(h, "eth1")) for h in hosts]
    for network, pifs in created.values():
        expected.append(("network", "add", network))
        for pif in pifs:
            vlan = api.record("PIF", pif).vlan_master_of
            expected += [("pif", "add", pif), ("vlan", "add", vlan)]
    assert seen == sorted(expected)
