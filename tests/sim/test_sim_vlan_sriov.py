"""SR-IOV interactions of VLAN, Bond and tunnel creation (REFERENCE §3.4 step 5, §3.7, §3.8,
§7 test_vlan / test_bond / test_tunnel SR-IOV cases). The SR-IOV objects are written into the
state directly, so each rule is tested apart from network_sriov.create (tested on its own)."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture

# XAPI compares NIC models by PCI vendor and device ids, not by names.
VF_DEVICE_IDS = {"82599 Virtual Function": "10ed", "X710 Virtual Function": "154c"}


def _sriov(api, host, device="eth1", nic_model="82599 Virtual Function"):
    """A network_sriov over ``device``: a logical PIF on a new SR-IOV network."""
    state = api.sim.state
    physical = api.pif(host, device)
    pci = state.create("PCI", {"vendor_name": "Intel", "device_name": nic_model, "host": host,
                               "vendor_id": "8086", "device_id": VF_DEVICE_IDS[nic_model]})
    state.set_field("PIF", physical, "PCI", pci)
    network = state.create("network", {"name_label": "sriov", "bridge": "", "other_config": {}})
    logical = state.create("PIF", {"device": device, "network": network, "host": host,
                                   "MAC": "", "MTU": 1500, "VLAN": -1, "physical": False,
                                   "managed": True, "PCI": pci})
    state.create("network_sriov", {"physical_PIF": physical, "logical_PIF": logical,
                                   "configuration_mode": "sysfs"})
    return network, logical


@pytest.fixture
def hosts(api):
    return api.hosts()


def test_vlan_on_sriov_into_network_with_plain_vlan_is_incompatible_with_vlan_on_sriov(
        api, hosts):
    network = api.new_network()
    api("VLAN.create", api.pif(hosts[1], "eth1"), 100, network)
    _, logical = _sriov(api, hosts[0])
    assert api.fails("VLAN.create", logical, 100, network) \
        == ["NETWORK_INCOMPATIBLE_WITH_VLAN_ON_SRIOV", network]


def test_plain_vlan_into_sriov_vlan_network_is_incompatible_with_vlan_on_bridge(api, hosts):
    network = api.new_network()
    _, logical = _sriov(api, hosts[0])
    api("VLAN.create", logical, 100, network)
    assert api.fails("VLAN.create", api.pif(hosts[1], "eth1"), 100, network) \
        == ["NETWORK_INCOMPATIBLE_WITH_VLAN_ON_BRIDGE", network]


def test_sriov_vlans_over_different_nic_models_are_incompatible(api, hosts):
    network = api.new_network()
    _, first = _sriov(api, hosts[0], nic_model="82599 Virtual Function")
    api("VLAN.create", first, 100, network)
    _, second = _sriov(api, hosts[1], nic_model="X710 Virtual Function")
    assert api.fails("VLAN.create", second, 100, network) \
        == ["NETWORK_HAS_INCOMPATIBLE_VLAN_ON_SRIOV_PIFS", second, network]


def test_vlan_on_vlan_on_sriov_is_pif_is_vlan(api, hosts):
    _, logical = _sriov(api, hosts[0])
    vlan = api("VLAN.create", logical, 100, api.new_network())
    untagged = api.record("VLAN", vlan).untagged_pif
    assert api.fails("VLAN.create", untagged, 200, api.new_network()) \
        == ["PIF_IS_VLAN", untagged]


def test_bond_member_sriov_logical_is_pif_is_sriov_logical(api, hosts):
    _, logical = _sriov(api, hosts[0])
    assert api.fails("Bond.create", api.new_network(), [logical], "", "lacp", {}) \
        == ["PIF_IS_SRIOV_LOGICAL", logical]


def test_bond_into_sriov_network_and_sriov_vlan_network_is_refused(api, hosts):
    network, logical = _sriov(api, hosts[0])
    eth2 = api.pif(hosts[1], "eth2")
    assert api.fails("Bond.create", network, [eth2], "", "lacp", {}) \
        == ["NETWORK_INCOMPATIBLE_WITH_BOND", network]
    vlan_network = api.new_network()
    api("VLAN.create", logical, 100, vlan_network)
    assert api.fails("Bond.create", vlan_network, [eth2], "", "lacp", {}) \
        == ["NETWORK_INCOMPATIBLE_WITH_BOND", vlan_network]


def test_tunnel_on_sriov_logical_and_on_its_vlan_is_refused(api, hosts):
    _, logical = _sriov(api, hosts[0])
    assert api.fails("tunnel.create", logical, api.new_network(), "gre") \
        == ["CANNOT_ADD_TUNNEL_TO_SRIOV_LOGICAL", logical]
    vlan = api("VLAN.create", logical, 100, api.new_network())
    untagged = api.record("VLAN", vlan).untagged_pif
    assert api.fails("tunnel.create", untagged, api.new_network(), "gre") \
        == ["CANNOT_ADD_TUNNEL_TO_VLAN_ON_SRIOV_LOGICAL", untagged]


def test_tunnel_into_sriov_network_is_incompatible_with_tunnel(api, hosts):
    network, _ = _sriov(api, hosts[0])
    assert api.fails("tunnel.create", api.pif(hosts[1], "eth2"), network, "gre") \
        == ["NETWORK_INCOMPATIBLE_WITH_TUNNEL", network]


def test_vif_plug_on_sriov_network_is_operation_not_allowed(api, hosts):
    network, _ = _sriov(api, hosts[0])
    vif = api.new_vif(api.vm("web-01"), network)
    assert api.fails("VIF.plug", vif) \
        == ["OPERATION_NOT_ALLOWED", "Network SR-IOV VIF plug/unplug not allowed"]


def test_vif_plug_on_a_vlan_on_sriov_network_is_operation_not_allowed(api, hosts):
    """XAPI's is_sriov_network follows VLANs down to the SR-IOV logical PIF."""
    _, logical = _sriov(api, hosts[0])
    vlan_network = api.new_network("vlan on sriov")
    api("VLAN.create", logical, 100, vlan_network)
    vif = api.new_vif(api.vm("web-01"), vlan_network)
    assert api.fails("VIF.plug", vif) \
        == ["OPERATION_NOT_ALLOWED", "Network SR-IOV VIF plug/unplug not allowed"]


def test_vif_create_on_a_vlan_on_sriov_network_with_the_feature_restricted(api, hosts):
    _, logical = _sriov(api, hosts[0])
    vlan_network = api.new_network("vlan on sriov")
    api("VLAN.create", logical, 100, vlan_network)
    pool = api.sim.state.refs("pool")[0]
    restrictions = dict(api.sim.state.get("pool", pool)["restrictions"])
    api.sim.state.set_field("pool", pool, "restrictions",
                            {**restrictions, "restrict_network_sriov": "true"})
    assert api.fails("VIF.create", {
        "device": "1", "network": vlan_network, "VM": api.vm("web-01"), "MAC": "", "MTU": 1500,
        "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {}}) \
        == ["LICENCE_RESTRICTION", "Network_sriov"]


def test_sriov_vlan_nic_model_is_compared_by_pci_ids_not_names(api, hosts):
    network = api.new_network()
    _, first = _sriov(api, hosts[0])
    api("VLAN.create", first, 100, network)
    _, second = _sriov(api, hosts[1])
    physical = api.pif(hosts[1], "eth1")
    pci = api.sim.state.get("PIF", physical)["PCI"]
    api.sim.state.set_field("PCI", pci, "device_id", "1515")  # same name, another device id
    assert api.fails("VLAN.create", second, 100, network) \
        == ["NETWORK_HAS_INCOMPATIBLE_VLAN_ON_SRIOV_PIFS", second, network]


def test_create_member_is_vlan_master_on_sriov(api, hosts):
    """§7 test_bond: a VLAN over an SR-IOV logical PIF is refused as a bond member with its
    device name, like a VLAN over a physical PIF."""
    _, logical = _sriov(api, hosts[0])
    vlan = api("VLAN.create", logical, 100, api.new_network())
    untagged = api.record("VLAN", vlan).untagged_pif
    assert api.fails("Bond.create", api.new_network(), [untagged], "ff:ff:ff:ff:ff:ff",
                     "active-backup", {}) == ["PIF_VLAN_EXISTS", "eth1"]
