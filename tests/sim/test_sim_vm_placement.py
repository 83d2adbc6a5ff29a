"""VM placement when no host can take the VM (REFERENCE §3.10)."""

from __future__ import annotations

from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


def test_start_with_every_host_disabled_is_no_hosts_available(api):
    for host in api.hosts():
        api.sim.state.set_field("host", host, "enabled", False)
    assert api.fails("VM.start", api.vm("build-01"), False, False) == ["NO_HOSTS_AVAILABLE"]


def test_start_reports_the_first_hosts_error_when_none_fits(api):
    vm = api.vm("build-01")
    network = api.new_network("one host")
    api("VLAN.create", api.pif(api.hosts()[1], "eth1"), 40, network)
    api.new_vif(vm, network)
    api.sim.state.set_field("host", api.hosts()[1], "enabled", False)
    assert api.fails("VM.start", vm, False, False) == ["VM_REQUIRES_NETWORK", vm, network]
