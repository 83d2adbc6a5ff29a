"""VM power states as networking sees them (REFERENCE §2.4 VM, §3.10, §7 test_vm_helpers)."""

from __future__ import annotations

from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


def _vifs(api, vm):
    return [api.record("VIF", v) for v in api.record("VM", vm).vifs]


def test_start_plugs_vifs_and_sets_resident_on(api):
    vm = api.vm("build-01")
    api("VM.start", vm, False, False)
    record = api.record("VM", vm)
    assert record.power_state == "Running" and record.resident_on in api.hosts()
    assert record.domid > 0
    assert all(v.currently_attached for v in _vifs(api, vm))
    assert vm in api.record("host", record.resident_on).resident_vms


def test_start_paused(api):
    vm = api.vm("build-01")
    api("VM.start", vm, True, False)
    assert api.record("VM", vm).power_state == "Paused"


def test_start_running_vm_is_vm_bad_power_state(api):
    web = api.vm("web-01")
    assert api.fails("VM.start", web, False, False) \
        == ["VM_BAD_POWER_STATE", web, "halted", "running"]


def test_start_on_host_without_the_network_is_vm_requires_network(api):
    vm = api.vm("build-01")
    member = api.hosts()[1]
    network = api.new_network()
    api("VLAN.create", api.pif(api.hosts()[0], "eth1"), 100, network)  # master only
    api.new_vif(vm, network, device="1")
    assert api.fails("VM.start_on", vm, member, False, False) \
        == ["VM_REQUIRES_NETWORK", vm, network]
    api("VM.start_on", vm, api.hosts()[0], False, False)
    assert api.record("VM", vm).resident_on == api.hosts()[0]


def test_start_chooses_a_host_that_has_every_network(api):
    vm = api.vm("build-01")
    member = api.hosts()[2]
    network = api.new_network()
    api("VLAN.create", api.pif(member, "eth1"), 100, network)
    api.new_vif(vm, network, device="1")
    api("VM.start", vm, False, False)
    assert api.record("VM", vm).resident_on == member


def test_start_attaches_the_network_on_the_host(api):
    vm = api.vm("build-01")
    master = api.hosts()[0]
    eth1 = api.pif(master, "eth1")
    api("PIF.unplug", eth1)
    api.new_vif(vm, api.record("PIF", eth1).network, device="1")
    api("VM.start_on", vm, master, False, False)
    assert api.record("PIF", eth1).currently_attached is True


def test_start_on_dead_host_is_host_offline(api):
    vm = api.vm("build-01")
    dead = api.hosts()[1]
    api.sim.set_host_live(dead, False)
    assert api.fails("VM.start_on", vm, dead, False, False) == ["HOST_OFFLINE", dead]


def test_hard_shutdown_unplugs_vifs_and_clears_residence(api):
    web = api.vm("web-01")
    api("VM.hard_shutdown", web)
    record = api.record("VM", web)
    assert record.power_state == "Halted" and record.domid == -1
    assert record.resident_on == "OpaqueRef:NULL"
    vifs = _vifs(api, web)
    assert all(not v.currently_attached for v in vifs)
    assert all(list(v.allowed_operations) == ["attach"] for v in vifs)


def test_clean_shutdown_of_halted_vm_is_bad_power_state(api):
    vm = api.vm("build-01")
    assert api.fails("VM.clean_shutdown", vm) == ["VM_BAD_POWER_STATE", vm, "running", "halted"]


def test_suspend_keeps_vif_attachment_and_resume_runs_again(api):
    web = api.vm("web-01")
    api("VM.suspend", web)
    record = api.record("VM", web)
    assert record.power_state == "Suspended" and record.resident_on == "OpaqueRef:NULL"
    assert all(v.currently_attached for v in _vifs(api, web))
    api("VM.resume", web, False, False)
    assert api.record("VM", web).power_state == "Running"


def test_reboot_keeps_vifs_plugged_with_a_new_domain(api):
    web = api.vm("web-01")
    domid = api.record("VM", web).domid
    api("VM.clean_reboot", web)
    api("VM.hard_reboot", web)
    record = api.record("VM", web)
    assert record.power_state == "Running" and record.domid != domid
    assert all(v.currently_attached for v in _vifs(api, web))


def test_pause_makes_hotplug_fail_with_paused(api):
    web = api.vm("web-01")
    api("VM.pause", web)
    vif = api.record("VM", web).vifs[0]
    assert api.fails("VIF.unplug", vif) == ["VM_BAD_POWER_STATE", web, "running", "paused"]
    api("VM.unpause", web)
    api("VIF.unplug", vif)


def test_vm_create_adds_mac_seed(api):
    vm = api("VM.create", {
        "name_label": "new", "name_description": "", "user_version": 1, "is_a_template": False,
        "affinity": "OpaqueRef:NULL", "memory_target": 0, "memory_static_max": 1 << 30,
        "memory_dynamic_max": 1 << 30, "memory_dynamic_min": 1 << 30,
        "memory_static_min": 1 << 30, "VCPUs_params": {}, "VCPUs_max": 1,
        "VCPUs_at_startup": 1, "actions_after_shutdown": "destroy",
        "actions_after_reboot": "restart", "actions_after_crash": "restart",
        "PV_bootloader": "", "PV_kernel": "", "PV_ramdisk": "", "PV_args": "",
        "PV_bootloader_args": "", "PV_legacy_args": "", "HVM_boot_policy": "",
        "HVM_boot_params": {}, "platform": {}, "PCI_bus": "", "other_config": {},
        "recommendations": ""})
    record = api.record("VM", vm)
    assert record.power_state == "Halted" and record.other_config.get("mac_seed")
    vif = api.new_vif(vm, api.network_by_bridge("xenbr0"), device="0")
    assert api.record("VIF", vif).mac_autogenerated is True


def test_destroy_removes_the_vm_with_its_vifs(api):
    vm = api.vm("build-01")
    vifs = list(api.record("VM", vm).vifs)
    network = api.record("VIF", vifs[0]).network
    api("VM.destroy", vm)
    assert api.fails("VM.get_record", vm) == ["HANDLE_INVALID", "VM", vm]
    assert all(api.fails("VIF.get_record", v)[0] == "HANDLE_INVALID" for v in vifs)
    assert not set(vifs) & set(api.record("network", network).vifs)


def test_destroy_running_vm_is_bad_power_state(api):
    web = api.vm("web-01")
    assert api.fails("VM.destroy", web) \
        == ["VM_BAD_POWER_STATE", web, "halted, suspended", "running"]


def test_clean_operations_on_hvm_without_pv_drivers_are_vm_missing_pv_drivers(api):
    win = api.vm("win-app-01")
    for method in ("VM.clean_shutdown", "VM.clean_reboot", "VM.suspend"):
        assert api.fails(method, win) == ["VM_MISSING_PV_DRIVERS", win]
    api("VM.hard_shutdown", win)
    assert api.record("VM", win).power_state == "Halted"


def test_bad_power_state_expected_is_one_string_of_xapi_allowed_states_in_order(api):
    """XAPI's report_power_state_error: the allowed states of the operation, lower-case,
    joined with ", " in allowed_power_states order."""
    halted = api.vm("build-01")
    assert api.fails("VM.hard_shutdown", halted) \
        == ["VM_BAD_POWER_STATE", halted, "paused, suspended, running", "halted"]
    assert api.fails("VM.hard_reboot", halted) \
        == ["VM_BAD_POWER_STATE", halted, "paused, running", "halted"]
