"""Rules that depend on host state XAPI asks the host about rather than its database
(REFERENCE §3.4 step 8 ``VLAN_IN_USE``, §3.5 ``PIF.unplug`` step 6 FCoE and step 7 cascades,
§3.7 step 9 FCoE, ``PIF.set_disallow_unplug`` during a cluster operation)."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture

from xapictl.sim.classes import _nics


@pytest.fixture
def master(api):
    return api.hosts()[0]


def test_vlan_create_over_a_kernel_vlan_is_vlan_in_use_with_device_and_tag(api, master):
    eth1 = api.pif(master, "eth1")
    _nics.add_kernel_vlan(api.sim.state, master, "eth1", 300)
    assert api.fails("VLAN.create", eth1, 300, api.new_network()) \
        == ["VLAN_IN_USE", "eth1", "300"]
    # Other tags, and the same tag on another host's eth1, are free.
    api("VLAN.create", eth1, 301, api.new_network("other tag"))
    api("VLAN.create", api.pif(api.hosts()[1], "eth1"), 300, api.new_network("other host"))


def test_vlan_in_use_comes_after_pif_vlan_exists(api, master):
    eth1 = api.pif(master, "eth1")
    api("VLAN.create", eth1, 300, api.new_network())
    _nics.add_kernel_vlan(api.sim.state, master, "eth1", 300)
    assert api.fails("VLAN.create", eth1, 300, api.new_network("again")) \
        == ["PIF_VLAN_EXISTS", "eth1"]


def _fcoe_sr(api, host, device="eth2", lun="360a98000534b4f50476f707a63743279"):
    """An FCoE SR whose LUN the FCoE driver reports on ``device``, its PBD on ``host``."""
    state = api.sim.state
    pif = api.pif(host, device)
    state.set_field("PIF", pif, "capabilities", ["fcoe"])
    _nics.set_fcoe_luns(state, host, device, (lun,))
    sr = state.create("SR", {"type": "lvmofcoe", "name_label": "fcoe"})
    state.create("PBD", {"SR": sr, "host": host, "device_config": {"SCSIid": lun},
                         "currently_attached": True})
    return pif, sr


def test_unplug_of_a_pif_carrying_an_fcoe_sr_is_pif_has_fcoe_sr_in_use(api, master):
    pif, sr = _fcoe_sr(api, master)
    assert api.fails("PIF.unplug", pif) == ["PIF_HAS_FCOE_SR_IN_USE", pif, sr]
    assert api.record("PIF", pif).currently_attached is True


def test_fcoe_check_needs_the_capability_and_the_lun_on_that_device(api, master):
    pif, _ = _fcoe_sr(api, master)
    api.sim.state.set_field("PIF", pif, "capabilities", [])
    api("PIF.unplug", pif)  # without the capability XAPI does not ask the FCoE driver
    other, _ = _fcoe_sr(api, api.hosts()[1], lun="36001405aaaa")
    _nics.set_fcoe_luns(api.sim.state, api.hosts()[1], "eth2", ("36001405bbbb",))
    api("PIF.unplug", other)  # a LUN no SR of this host uses


def test_fcoe_check_comes_after_disallow_unplug(api, master):
    pif, _ = _fcoe_sr(api, master)
    api("PIF.set_disallow_unplug", pif, True)
    assert api.fails("PIF.unplug", pif) == ["PIF_DOES_NOT_ALLOW_UNPLUG", pif]


def test_bond_member_carrying_an_fcoe_sr_is_pif_has_fcoe_sr_in_use(api, master):
    pif, sr = _fcoe_sr(api, master, device="eth1")
    eth2 = api.pif(master, "eth2")
    api.sim.state.set_field("PIF", eth2, "ip_configuration_mode", "None")
    assert api.fails("Bond.create", api.new_network("bond"), [pif, eth2], "") \
        == ["PIF_HAS_FCOE_SR_IN_USE", pif, sr]


def _sriov(api, host, device="eth1"):
    state = api.sim.state
    physical = api.pif(host, device)
    network = state.create("network", {"name_label": "sriov", "bridge": "", "other_config": {}})
    logical = state.create("PIF", {"device": device, "network": network, "host": host,
                                   "MAC": "", "MTU": 1500, "VLAN": -1, "physical": False,
                                   "managed": True, "currently_attached": True})
    state.create("network_sriov", {"physical_PIF": physical, "logical_PIF": logical,
                                   "configuration_mode": "sysfs"})
    return physical, logical


def test_unplug_of_an_sriov_physical_pif_unplugs_its_logical_pif_first(api, master):
    physical, logical = _sriov(api, master)
    api("PIF.unplug", physical)
    assert api.record("PIF", logical).currently_attached is False
    assert api.record("PIF", physical).currently_attached is False


def test_unplug_of_an_sriov_logical_pif_unplugs_the_vlans_on_it(api, master):
    _, logical = _sriov(api, master)
    vlan = api("VLAN.create", logical, 77, api.new_network())
    vlan_pif = api.record("VLAN", vlan).untagged_pif
    assert api.record("PIF", vlan_pif).currently_attached is True
    api("PIF.unplug", logical)
    assert api.record("PIF", vlan_pif).currently_attached is False


def test_unplug_cascade_runs_the_checks_of_the_pifs_it_brings_down(api, master):
    physical, logical = _sriov(api, master)
    api("PIF.set_disallow_unplug", logical, True)
    assert api.fails("PIF.unplug", physical) == ["PIF_DOES_NOT_ALLOW_UNPLUG", logical]
    assert api.record("PIF", physical).currently_attached is True


def test_unplug_of_a_physical_pif_leaves_its_vlans_up(api, master):
    eth1 = api.pif(master, "eth1")
    vlan_pif = api.record("VLAN", api("VLAN.create", eth1, 5, api.new_network())).untagged_pif
    api("PIF.unplug", eth1)
    assert api.record("PIF", vlan_pif).currently_attached is True


def test_disallow_unplug_false_during_cluster_enable_is_other_operation_in_progress(
        api, master):
    eth2 = api.pif(master, "eth2")
    api("PIF.set_disallow_unplug", eth2, True)
    task = "OpaqueRef:5d1a0a4e-0000-4000-8000-00000000c1e5"
    cluster = api.sim.state.create("Cluster", {"current_operations": {task: "enable"}})
    assert api.fails("PIF.set_disallow_unplug", eth2, False) \
        == ["OTHER_OPERATION_IN_PROGRESS", "Cluster", cluster, "enable", task]
    api("PIF.set_disallow_unplug", eth2, True)  # setting true is always allowed (a no-op here)
    api.sim.state.set_field("Cluster", cluster, "current_operations", {})
    api("PIF.set_disallow_unplug", eth2, False)
    assert api.record("PIF", eth2).disallow_unplug is False
