"""network_sriov.create / destroy with XAPI's checks in the order of ``xapi_network_sriov.ml``
(REFERENCE §3.9, §7 test_network_sriov)."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


@pytest.fixture
def master(api):
    return api.hosts()[0]


def _capable(api, host, device="eth1", vendor_id="8086", device_id="10ed"):
    state = api.sim.state
    pif = api.pif(host, device)
    state.set_field("PIF", pif, "capabilities", ["sriov"])
    pci = state.create("PCI", {"vendor_id": vendor_id, "device_id": device_id, "host": host})
    state.set_field("PIF", pif, "PCI", pci)
    return pif


def test_create_makes_a_plugged_logical_pif_sharing_device_and_metrics(api, master):
    pif = _capable(api, master)
    network = api.new_network("sriov")
    sriov = api("network_sriov.create", pif, network)
    record = api.record("network_sriov", sriov)
    assert record.physical_pif == pif and record.requires_reboot is False
    logical = api.record("PIF", record.logical_pif)
    physical = api.record("PIF", pif)
    assert (logical.device, logical.network, logical.host) == ("eth1", network, master)
    assert logical.mac == "fe:ff:ff:ff:ff:ff" and logical.vlan == -1
    assert logical.metrics == physical.metrics and logical.physical is False
    assert logical.currently_attached is True
    assert list(physical.sriov_physical_pif_of) == [sriov]
    assert list(logical.sriov_logical_pif_of) == [sriov]


def test_create_with_the_feature_restricted_is_licence_restriction(api, master):
    pool = api.sim.state.refs("pool")[0]
    restrictions = dict(api.sim.state.get("pool", pool)["restrictions"])
    api.sim.state.set_field("pool", pool, "restrictions",
                            {**restrictions, "restrict_network_sriov": "true"})
    assert api.fails("network_sriov.create", _capable(api, master), api.new_network()) \
        == ["LICENCE_RESTRICTION", "Network_sriov"]


def test_create_on_unmanaged_network_then_pif(api, master):
    pif = _capable(api, master)
    unmanaged = api.new_network("u", managed=False)
    api.sim.state.set_field("PIF", pif, "managed", False)
    assert api.fails("network_sriov.create", pif, unmanaged) == ["NETWORK_UNMANAGED", unmanaged]
    assert api.fails("network_sriov.create", pif, api.new_network()) == ["PIF_UNMANAGED", pif]


def test_create_on_a_vlan_pif_is_pif_is_not_physical(api, master):
    vlan = api("VLAN.create", _capable(api, master), 10, api.new_network("v"))
    vlan_pif = api.record("VLAN", vlan).untagged_pif
    assert api.fails("network_sriov.create", vlan_pif, api.new_network()) \
        == ["PIF_IS_NOT_PHYSICAL", vlan_pif]


def test_create_twice_is_already_enabled(api, master):
    pif = _capable(api, master)
    api("network_sriov.create", pif, api.new_network("a"))
    assert api.fails("network_sriov.create", pif, api.new_network("b")) \
        == ["NETWORK_SRIOV_ALREADY_ENABLED", pif]


def test_create_without_the_capability_is_not_sriov_capable(api, master):
    pif = api.pif(master, "eth1")
    assert api.fails("network_sriov.create", pif, api.new_network()) \
        == ["PIF_IS_NOT_SRIOV_CAPABLE", pif]


def test_create_into_own_network_is_network_already_connected_after_capability(api, master):
    pif = _capable(api, master)
    own = api.record("PIF", pif).network
    assert api.fails("network_sriov.create", pif, own) == ["NETWORK_ALREADY_CONNECTED", master, pif]


def test_create_into_a_bridged_network_is_incompatible_with_sriov(api, master):
    network = api.new_network()
    api("VLAN.create", api.pif(api.hosts()[1], "eth1"), 10, network)
    assert api.fails("network_sriov.create", _capable(api, master), network) \
        == ["NETWORK_INCOMPATIBLE_WITH_SRIOV", network]


def test_create_with_another_nic_model_is_network_has_incompatible_sriov_pifs(api, master):
    network = api.new_network()
    api("network_sriov.create", _capable(api, master), network)
    other = _capable(api, api.hosts()[1], device_id="1572")
    assert api.fails("network_sriov.create", other, network) \
        == ["NETWORK_HAS_INCOMPATIBLE_SRIOV_PIFS", other, network]
    same = _capable(api, api.hosts()[2])
    api("network_sriov.create", same, network)  # same vendor and device ids: one network


def test_destroy_with_vlans_on_the_logical_pif_is_vlan_still_exists(api, master):
    sriov = api("network_sriov.create", _capable(api, master), api.new_network("s"))
    logical = api.record("network_sriov", sriov).logical_pif
    vlan = api("VLAN.create", logical, 20, api.new_network("v"))
    assert api.fails("network_sriov.destroy", sriov) == ["PIF_VLAN_STILL_EXISTS", logical]
    api("VLAN.destroy", vlan)
    api("network_sriov.destroy", sriov)
    assert not api.sim.state.exists("PIF", logical)
    assert not api.sim.state.exists("network_sriov", sriov)


def test_destroy_keeps_the_network_and_the_physical_pif(api, master):
    pif = _capable(api, master)
    network = api.new_network("s")
    sriov = api("network_sriov.create", pif, network)
    api("network_sriov.destroy", sriov)
    assert api.sim.state.exists("network", network)
    assert list(api.record("PIF", pif).sriov_physical_pif_of) == []


def test_the_plug_records_what_networkd_answers_sysfs_by_default(api, master):
    """``sriov_bring_up``: created with mode ``unknown``, the plug sets the answer's mode."""
    sriov = api("network_sriov.create", _capable(api, master), api.new_network("sriov"))
    record = api.record("network_sriov", sriov)
    assert (record.configuration_mode.value, record.requires_reboot) == ("sysfs", False)
    assert api.record("PIF", record.logical_pif).currently_attached is True


@pytest.mark.parametrize(("answer", "mode", "reboot"), [
    ("modprobe", "modprobe", False), ("manual", "manual", False),
    ("modprobe_requires_reboot", "modprobe", True)])
def test_a_modprobe_or_manual_nic_sets_its_mode_and_a_reboot_leaves_the_pif_down(
        api, master, answer, mode, reboot):
    from xapictl.sim.classes import _nics

    pif = _capable(api, master)
    _nics.set_sriov_enable_result(api.sim.state, master, "eth1", answer)
    record = api.record("network_sriov", api("network_sriov.create", pif, api.new_network()))
    assert (record.configuration_mode.value, record.requires_reboot) == (mode, reboot)
    assert api.record("PIF", record.logical_pif).currently_attached is (not reboot)


def test_the_sriov_scenario_has_capable_eth1_of_one_nic_model_on_every_host():
    from xapictl.sim.engine import Simulator

    sim = Simulator(password="x")
    sim.reset(scenario="sriov")
    state = sim.state
    capable = [p for p in state.all("PIF").values() if "sriov" in p["capabilities"]]
    assert sorted(p["device"] for p in capable) == ["eth1"] * 3
    models = {(state.get("PCI", p["PCI"])["vendor_id"], state.get("PCI", p["PCI"])["device_id"])
              for p in capable}
    assert models == {("8086", "10fb")}
    assert len(state.refs("VM")) == len(_seed_vms())


def _seed_vms():
    from xapictl.sim.engine import Simulator

    sim = Simulator(password="x")
    sim.reset(scenario="seed")
    return sim.state.refs("VM")
