"""Which networks a VM can use on a host (REFERENCE §3.10, ``xapi_network_attach_helpers.ml``):
PIF-less networks are host-local unless shared or unmanaged; a bond slave cannot carry one."""

from __future__ import annotations

import pytest
from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


@pytest.fixture
def hosts(api):
    return api.hosts()


def _internal_network_in_use_on(api, host_index, **fields):
    """A PIF-less network with a VIF of web-02, which runs on host 1."""
    network = api.new_network("internal", **fields)
    web02 = api.vm("web-02")
    assert api.record("VM", web02).resident_on == api.hosts()[host_index]
    api.new_vif(web02, network, device="5")
    return network


def test_pif_less_network_used_by_a_running_vm_elsewhere_is_vm_requires_network(api, hosts):
    network = _internal_network_in_use_on(api, 1)
    build = api.vm("build-01")
    api.new_vif(build, network, device="1")
    assert api.fails("VM.start_on", build, hosts[0], False, False) \
        == ["VM_REQUIRES_NETWORK", build, network]
    assert api.record("VM", build).power_state == "Halted"


def test_pif_less_network_is_usable_on_the_host_where_its_user_runs(api, hosts):
    network = _internal_network_in_use_on(api, 1)
    build = api.vm("build-01")
    api.new_vif(build, network, device="1")
    api("VM.start_on", build, hosts[1], False, False)
    assert api.record("VM", build).resident_on == hosts[1]


def test_pif_less_network_with_assume_network_is_shared_is_usable_anywhere(api, hosts):
    network = _internal_network_in_use_on(
        api, 1, other_config={"assume_network_is_shared": "true"})
    build = api.vm("build-01")
    api.new_vif(build, network, device="1")
    api("VM.start_on", build, hosts[0], False, False)
    assert api.record("VM", build).resident_on == hosts[0]


def test_pif_less_unmanaged_network_is_usable_anywhere(api, hosts):
    network = _internal_network_in_use_on(api, 1, managed=False)
    build = api.vm("build-01")
    api.new_vif(build, network, device="1")
    api("VM.start_on", build, hosts[0], False, False)
    assert api.record("VM", build).resident_on == hosts[0]


def test_start_onto_a_network_whose_local_pif_is_a_bond_slave_is_host_cannot_attach(api, hosts):
    master = hosts[0]
    eth1 = api.pif(master, "eth1")
    api("Bond.create", api.new_network("bond"), [eth1], "")
    trunk = api.record("PIF", eth1).network
    build = api.vm("build-01")
    api.new_vif(build, trunk, device="1")
    assert api.fails("VM.start_on", build, master, False, False) \
        == ["HOST_CANNOT_ATTACH_NETWORK", master, trunk]
    assert api.record("VM", build).power_state == "Halted"
    api("VM.start_on", build, hosts[1], False, False)  # eth1 is a plain NIC there
    assert api.record("VM", build).resident_on == hosts[1]
