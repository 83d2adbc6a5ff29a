"""network.create / destroy / locking / purposes (REFERENCE §3.1-§3.3, §7 test_network, §8.7-8)."""

from __future__ import annotations

from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture

from xapictl.sim.classes.network import REFUSED_BRIDGE_PREFIXES


def test_create_picks_xapi_bridge_from_a_counter_that_never_goes_back(api):
    first = api.record("network", api.new_network("a"))
    second_ref = api.new_network("b")
    second = api.record("network", second_ref)
    assert first.bridge.startswith("xapi") and second.bridge.startswith("xapi")
    n1, n2 = int(first.bridge[4:]), int(second.bridge[4:])
    assert n2 > n1
    api("network.destroy", second_ref)
    third = api.record("network", api.new_network("c"))
    assert int(third.bridge[4:]) > n2  # a freed name is not reused


def test_create_himn_consumed_one_counter_value_on_first_boot(api):
    # The seed's internal management network took xapi0, so the first user network is xapi1.
    assert api.record("network", api.new_network()).bridge == "xapi1"


def test_create_refuses_reserved_bridge_prefixes(api):
    for prefix in REFUSED_BRIDGE_PREFIXES:
        bridge = f"{prefix}7"
        assert api.fails("network.create", {"name_label": "x", "name_description": "",
                                            "other_config": {}, "bridge": bridge}) \
            == ["INVALID_VALUE", "bridge", bridge]


def test_create_refuses_bridge_longer_than_15(api):
    bridge = "b" * 16
    assert api.fails("network.create", {"name_label": "x", "name_description": "",
                                        "other_config": {}, "bridge": bridge}) \
        == ["INVALID_VALUE", "bridge", bridge]
    ok = api.new_network("ok", bridge="b" * 15)
    assert api.record("network", ok).bridge == "b" * 15


def test_create_duplicate_bridge_is_bridge_name_exists(api):
    api.new_network("a", bridge="br-user")
    assert api.fails("network.create", {"name_label": "b", "name_description": "",
                                        "other_config": {}, "bridge": "br-user"}) \
        == ["BRIDGE_NAME_EXISTS", "br-user"]


def test_create_mtu_default_and_non_positive_become_1500(api):
    assert api.record("network", api.new_network("d")).mtu == 1500
    assert api.record("network", api.new_network("z", MTU=0)).mtu == 1500
    assert api.record("network", api.new_network("n", MTU=-5)).mtu == 1500
    assert api.record("network", api.new_network("j", MTU=9000)).mtu == 9000


def test_create_record_fields_and_managed_flag(api):
    ref = api.new_network("unmanaged", managed=False, other_config={"k": "v"}, tags=["t"])
    rec = api.record("network", ref)
    assert rec.managed is False and rec.bridge.startswith("xapi")
    assert rec.other_config == {"k": "v"} and list(rec.tags) == ["t"]
    assert list(rec.purpose) == [] and rec.default_locking_mode == "unlocked"
    assert not rec.pifs and not rec.vifs


def test_create_requires_other_config(api):
    networks_before = set(api.records("network"))
    assert api.fails("network.create", {"name_label": "x"}) \
        == ["INTERNAL_ERROR", 'Server_helpers.Dispatcher_FieldNotFound("other_config")']
    assert set(api.records("network")) == networks_before


def test_set_mtu_is_not_validated(api):
    ref = api.new_network()
    api("network.set_MTU", ref, 1)
    assert api.record("network", ref).mtu == 1
    api("network.set_MTU", ref, 65000)
    assert api.record("network", ref).mtu == 65000


def test_destroy_blocked_by_attached_vifs_with_every_ref(api):
    management = api.network_by_bridge("xenbr0")
    attached = [v for v in api.sim.state.get("network", management)["VIFs"]
                if api.sim.state.get("VIF", v)["currently_attached"]]
    failure = api.fails("network.destroy", management)
    assert failure[0] == "NETWORK_CONTAINS_VIF"
    assert sorted(failure[1:]) == sorted(attached) and len(attached) >= 3


def test_destroy_blocked_by_pifs_with_every_ref(api):
    trunk = api.network_by_bridge("xenbr1")
    failure = api.fails("network.destroy", trunk)
    assert failure[0] == "NETWORK_CONTAINS_PIF"
    assert sorted(failure[1:]) == sorted(api.sim.state.get("network", trunk)["PIFs"])


def test_destroy_deletes_detached_vifs(api):
    ref = api.new_network()
    halted = api.vm("build-01")
    vif = api.new_vif(halted, ref)
    api("network.destroy", ref)
    assert api.fails("VIF.get_record", vif) == ["HANDLE_INVALID", "VIF", vif]
    assert vif not in api.record("VM", halted).vifs
    assert api.fails("network.get_record", ref) == ["HANDLE_INVALID", "network", ref]


def test_destroy_system_network_is_refused(api):
    himn = api.network_by_bridge("xenapi")
    assert api.fails("network.destroy", himn) == ["CANNOT_DESTROY_SYSTEM_NETWORK", himn]


def test_destroy_system_network_attached_vifs_and_pifs_are_reported_first(api):
    himn = api.network_by_bridge("xenapi")
    vif = api.new_vif(api.vm("web-01"), himn, device="7")
    api("VIF.plug", vif)
    assert api.fails("network.destroy", himn) == ["NETWORK_CONTAINS_VIF", vif]
    api("VIF.unplug", vif)
    vlan = api("VLAN.create", api.pif(api.hosts()[0], "eth1"), 300, himn)
    vlan_pif = api.record("VLAN", vlan).untagged_pif
    assert api.fails("network.destroy", himn) == ["NETWORK_CONTAINS_PIF", vlan_pif]
    api("VLAN.destroy", vlan)
    assert api.fails("network.destroy", himn) == ["CANNOT_DESTROY_SYSTEM_NETWORK", himn]
    # Refused before the detached VIFs are deleted: nothing changed.
    assert api.record("VIF", vif).network == himn


def test_set_default_locking_mode_refused_while_a_vif_is_attached(api):
    management = api.network_by_bridge("xenbr0")
    failure = api.fails("network.set_default_locking_mode", management, "disabled")
    assert failure[:2] == ["VIF_IN_USE", management]
    assert api.sim.state.get("VIF", failure[2])["currently_attached"]


def test_set_default_locking_mode_sets_it_when_nothing_attached(api):
    ref = api.new_network()
    api("network.set_default_locking_mode", ref, "disabled")
    assert api.record("network", ref).default_locking_mode == "disabled"


def test_add_purpose_is_idempotent_and_prepends(api):
    ref = api.new_network()
    api("network.add_purpose", ref, "nbd")
    api("network.add_purpose", ref, "nbd")
    assert api.record("network", ref).purpose == ("nbd",)


def test_add_purpose_conflict_on_same_network_names_new_first(api):
    ref = api.new_network()
    api("network.add_purpose", ref, "nbd")
    assert api.fails("network.add_purpose", ref, "insecure_nbd") \
        == ["NETWORK_INCOMPATIBLE_PURPOSES", "insecure_nbd", "nbd"]


def test_add_purpose_conflict_on_another_network(api):
    one, other = api.new_network("one"), api.new_network("other")
    api("network.add_purpose", one, "insecure_nbd")
    assert api.fails("network.add_purpose", other, "nbd") \
        == ["NETWORK_INCOMPATIBLE_PURPOSES", "nbd", "insecure_nbd"]


def test_add_purpose_on_unmanaged_network_is_network_unmanaged(api):
    ref = api.new_network(managed=False)
    assert api.fails("network.add_purpose", ref, "nbd") == ["NETWORK_UNMANAGED", ref]


def test_remove_purpose_is_idempotent(api):
    ref = api.new_network()
    api("network.add_purpose", ref, "nbd")
    api("network.remove_purpose", ref, "nbd")
    api("network.remove_purpose", ref, "nbd")
    assert api.record("network", ref).purpose == ()


def test_add_to_other_config_duplicate_key_is_map_duplicate_key_with_ref(api):
    ref = api.new_network(other_config={"k": "v"})
    assert api.fails("network.add_to_other_config", ref, "k", "v") \
        == ["MAP_DUPLICATE_KEY", "network", "other_config", ref, "k"]


def test_hidden_pool_introduce_creates_the_record_verbatim(api):
    ref = api("network.pool_introduce", "joined", "d", 9000, {"k": "v"}, "xenbr9", True, [])
    rec = api.record("network", ref)
    assert (rec.name_label, rec.mtu, rec.bridge) == ("joined", 9000, "xenbr9")


def test_hidden_attach_brings_up_the_hosts_pif(api):
    host = api.hosts()[0]
    eth2 = api.pif(host, "eth2")
    api("PIF.unplug", eth2)
    api("network.attach", api.record("PIF", eth2).network, host)
    assert api.record("PIF", eth2).currently_attached is True


def test_hidden_attach_unmanaged_network_without_bridge_is_bridge_not_available(api):
    ref = api.new_network(managed=False, bridge="ext0")
    assert api.fails("network.attach", ref, api.hosts()[0]) == ["BRIDGE_NOT_AVAILABLE", "ext0"]


def test_hidden_attach_for_vm_brings_up_the_vms_networks_on_the_host(api):
    host = api.hosts()[1]
    eth1 = api.pif(host, "eth1")
    api("PIF.unplug", eth1)
    vm = api.vm("build-01")
    api.new_vif(vm, api.record("PIF", eth1).network, device="1")
    api("network.attach_for_vm", host, vm)
    assert api.record("PIF", eth1).currently_attached is True
    api("network.detach_for_vm", host, vm)
    assert api.record("PIF", eth1).currently_attached is True
