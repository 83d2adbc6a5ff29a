"""SR-IOV virtual functions: the PCI records ``update_pcis`` writes, the VFs VMs take at start
(``reserve_sriov_vfs``), ``network_sriov.get_remaining_capacity`` and the start checks with
their exact codes (``xapi_network_sriov_helpers.ml``, ``xapi_pci.ml``,
``xapi_vm_helpers.ml`` ``assert_netsriov_available`` / ``choose_host_for_vm_no_wlb``)."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture

from xapictl.sim.classes import _nics
from xapictl.sim.scenarios import make_sriov_capable


@pytest.fixture
def capable(api):
    """eth1 of every host is an SR-IOV capable 82599 (as in the ``sriov`` scenario)."""
    with api.sim.state.lock:
        return [make_sriov_capable(api.sim.state, h, "eth1") for h in api.hosts()]


def _enable(api, pifs, name="sriov"):
    network = api.new_network(name)
    return network, [api("network_sriov.create", pif, network) for pif in pifs]


def _pcis(api, host):
    return [p for p in api.records("PCI").values() if p.host == host]


def _remaining(api, sriov):
    return int(api("network_sriov.get_remaining_capacity", sriov))


def test_the_nic_has_one_pci_record_and_no_vf_before_sriov_is_enabled(api, capable):
    master = api.hosts()[0]
    pf = api.record("PIF", capable[0]).pci
    record = api.record("PCI", pf)
    assert (record.class_id, record.class_name, record.vendor_id, record.device_id,
            record.driver_name, record.pci_id) == (
        "0200", "Ethernet controller", "8086", "10fb", "ixgbe", "0000:03:00.1")
    assert [p.pci_id for p in _pcis(api, master)] == ["0000:03:00.1"]


def test_enabling_writes_a_pci_record_per_vf_at_the_routing_id_addresses(api, capable):
    master = api.hosts()[0]
    _, (sriov, *_) = _enable(api, capable[:1])
    vfs = sorted(p.pci_id for p in _pcis(api, master) if p.device_id == "10ed")
    assert vfs == ["0000:03:10.1", "0000:03:10.3", "0000:03:10.5", "0000:03:10.7",
                   "0000:03:11.1", "0000:03:11.3", "0000:03:11.5", "0000:03:11.7"]
    vf = next(p for p in _pcis(api, master) if p.device_id == "10ed")
    assert (vf.vendor_id, vf.device_name, vf.driver_name, vf.class_id) == (
        "8086", "82599 Ethernet Controller Virtual Function", "ixgbevf", "0200")
    assert _remaining(api, sriov) == 8
    assert not [p for p in _pcis(api, api.hosts()[1]) if p.device_id == "10ed"]


def test_a_nic_that_must_reboot_has_no_vf_and_no_capacity(api, capable):
    master = api.hosts()[0]
    _nics.set_sriov_enable_result(api.sim.state, master, "eth1", "modprobe_requires_reboot")
    _, (sriov, *_) = _enable(api, capable[:1])
    assert api.record("network_sriov", sriov).requires_reboot is True
    assert _remaining(api, sriov) == 0
    assert [p.pci_id for p in _pcis(api, master)] == ["0000:03:00.1"]


@pytest.mark.parametrize(("answer", "vfs_left"), [("sysfs", 0), ("manual", 8)])
def test_destroy_disables_the_vfs_unless_they_were_enabled_by_hand(api, capable, answer,
                                                                   vfs_left):
    """``sriov_bring_down``: networkd disables sysfs VFs; manual ones stay (and so do their
    records)."""
    master = api.hosts()[0]
    _nics.set_sriov_enable_result(api.sim.state, master, "eth1", answer)
    _, (sriov, *_) = _enable(api, capable[:1])
    api("network_sriov.destroy", sriov)
    assert len([p for p in _pcis(api, master) if p.device_id == "10ed"]) == vfs_left


def test_unplugging_the_logical_pif_clears_requires_reboot(api, capable):
    master = api.hosts()[0]
    _nics.set_sriov_enable_result(api.sim.state, master, "eth1", "modprobe_requires_reboot")
    _, (sriov, *_) = _enable(api, capable[:1])
    api("PIF.unplug", api.record("network_sriov", sriov).logical_pif)
    assert api.record("network_sriov", sriov).requires_reboot is False


def test_a_started_vm_takes_a_vf_per_vif_and_gives_them_back_when_halted(api, capable):
    network, sriovs = _enable(api, capable)
    vm = api.vm("build-01")
    api.new_vif(vm, network, device="1")
    api.new_vif(vm, network, device="2")
    api("VM.start_on", vm, api.hosts()[1], False, False)
    assert [_remaining(api, s) for s in sriovs] == [8, 6, 8]
    api("VM.hard_shutdown", vm)
    assert [_remaining(api, s) for s in sriovs] == [8, 8, 8]


def test_a_vlan_on_the_sriov_network_takes_vfs_of_the_same_nic(api, capable):
    _, sriovs = _enable(api, capable)
    logical = api.record("network_sriov", sriovs[0]).logical_pif
    vlan_network = api.new_network("vlan on sriov")
    api("VLAN.create", logical, 30, vlan_network)
    vm = api.vm("build-01")
    api.new_vif(vm, vlan_network)
    api("VM.start_on", vm, api.hosts()[0], False, False)
    assert _remaining(api, sriovs[0]) == 7


def test_start_on_a_host_without_enough_idle_vfs_is_insufficient_capacity(api, capable):
    master = api.hosts()[0]
    _nics.set_vf_count(api.sim.state, master, "eth1", 1)
    network, _ = _enable(api, capable)
    vm = api.vm("build-01")
    api.new_vif(vm, network, device="1")
    api.new_vif(vm, network, device="2")
    assert api.fails("VM.start_on", vm, master, False, False) \
        == ["NETWORK_SRIOV_INSUFFICIENT_CAPACITY", network]
    assert api.fails("VM.assert_can_boot_here", vm, master) \
        == ["NETWORK_SRIOV_INSUFFICIENT_CAPACITY", network]
    assert api.record("VM", vm).power_state.value == "Halted"


def test_start_picks_the_host_with_the_most_idle_vfs(api, capable):
    hosts = api.hosts()
    for host, count in zip(hosts, (2, 6, 4), strict=True):
        _nics.set_vf_count(api.sim.state, host, "eth1", count)
    network, _ = _enable(api, capable)
    vm = api.vm("build-01")
    api.new_vif(vm, network)
    api("VM.start", vm, False, False)
    assert api.record("VM", vm).resident_on == hosts[1]


def test_start_with_no_host_able_to_give_a_vf_is_insufficient_capacity(api, capable):
    for host in api.hosts():
        _nics.set_sriov_enable_result(api.sim.state, host, "eth1", "modprobe_requires_reboot")
    network, _ = _enable(api, capable)
    vm = api.vm("build-01")
    api.new_vif(vm, network)
    assert api.fails("VM.start", vm, False, False) \
        == ["NETWORK_SRIOV_INSUFFICIENT_CAPACITY", network]


def test_start_of_a_vm_with_sriov_vifs_needs_the_licence(api, capable):
    network, _ = _enable(api, capable)
    vm = api.vm("build-01")
    api.new_vif(vm, network)
    state = api.sim.state
    pool = state.refs("pool")[0]
    state.set_field("pool", pool, "restrictions", {
        **state.get("pool", pool)["restrictions"], "restrict_network_sriov": "true"})
    assert api.fails("VM.start", vm, False, False) == ["LICENCE_RESTRICTION", "Network_sriov"]


def test_an_sriov_vif_is_never_hot_plugged(api, capable):
    network, _ = _enable(api, capable)
    vm = api.vm("web-01")
    vif = api.new_vif(vm, network, device="5")
    assert api.fails("VIF.plug", vif) \
        == ["OPERATION_NOT_ALLOWED", "Network SR-IOV VIF plug/unplug not allowed"]


def test_with_ha_a_host_that_must_reboot_leaves_the_network_not_properly_shared(api, capable):
    """``Agility.is_network_properly_shared``: an SR-IOV PIF counts only if it can come up
    without a reboot."""
    _nics.set_sriov_enable_result(api.sim.state, api.hosts()[2], "eth1",
                                  "modprobe_requires_reboot")
    network, _ = _enable(api, capable)
    state = api.sim.state
    pool = state.refs("pool")[0]
    state.update("pool", pool, {"ha_enabled": True, "ha_allow_overcommit": False})
    vm = api.vm("build-01")
    state.set_field("VM", vm, "ha_restart_priority", "restart")
    assert api.fails("VIF.create", {
        "device": "1", "network": network, "VM": vm, "MAC": "", "MTU": 1500,
        "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {}}) \
        == ["HA_CONSTRAINT_VIOLATION_NETWORK_NOT_SHARED", network]


def test_the_vfs_and_the_ones_in_use_survive_a_restart_from_the_state_file(tmp_path):
    """Nothing of the VF accounting lives outside the records (the VF ``PCI`` records, the
    VMs and VIFs): a simulator reloaded from its file answers the same capacity."""
    from xapictl.sim.engine import Simulator

    path = tmp_path / "pool.sqlite"
    first = Simulator(password="x", state_file=path)
    first.reset(scenario="sriov")
    s = first.call("session.login_with_password", ["root", "x"])
    network = first.call("network.create", [s, {"name_label": "VF", "name_description": "",
                                                "other_config": {}}])
    hosts = first.call("host.get_all", [s])
    state = first.state
    eth1 = [p for p, r in state.all("PIF").items() if r["device"] == "eth1" and r["physical"]]
    sriovs = [first.call("network_sriov.create", [s, pif, network]) for pif in eth1]
    vm = state.find_one("VM", name_label="build-01")
    first.call("VIF.create", [s, {
        "device": "1", "network": network, "VM": vm, "MAC": "", "MTU": 1500,
        "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {}}])
    first.call("VM.start_on", [s, vm, hosts[0], False, False])
    before = [first.call("network_sriov.get_remaining_capacity", [s, r]) for r in sriovs]
    first.close()
    second = Simulator(password="x", state_file=path)
    assert [second.call("network_sriov.get_remaining_capacity", [s, r])
            for r in sriovs] == before
    assert sorted(before) == [7, 8, 8]
    second.close()
