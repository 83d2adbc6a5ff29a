"""The scenarios (contract 2; REFERENCE §7A): seed, single and big."""

from __future__ import annotations

import pytest

from xapictl.sim import scenarios
from xapictl.sim.state import NULL_REF, SimState


def _built(name: str, **params) -> SimState:
    state = SimState()
    scenarios.build(state, name, **params)
    return state


@pytest.fixture(scope="module")
def seed() -> SimState:
    return _built("seed")


def _pif(state, host, device):
    return next(r for r in state.all("PIF").values()
                if r["host"] == host and r["device"] == device and r["VLAN"] == -1)


def test_seed_has_three_hosts_on_loopback_master_first(seed):
    pool = seed.get("pool", seed.refs("pool")[0])
    hosts = seed.refs("host")
    assert len(hosts) == 3 and pool["master"] == hosts[0]
    assert [seed.get("host", h)["address"] for h in hosts] == \
        ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert pool["ha_enabled"] is False and pool["redo_log_enabled"] is False


def test_seed_hosts_are_live_openvswitch_and_api_2_21(seed):
    for host in seed.all("host").values():
        assert seed.get("host_metrics", host["metrics"])["live"] is True
        assert host["software_version"]["network_backend"] == "openvswitch"
        assert (host["API_version_major"], host["API_version_minor"]) == (2, 21)
        assert host["enabled"] is True


def test_seed_control_domains_are_running_and_resident(seed):
    for ref, host in seed.all("host").items():
        dom0 = seed.get("VM", host["control_domain"])
        assert dom0["is_control_domain"] and dom0["power_state"] == "Running"
        assert dom0["resident_on"] == ref and dom0["domid"] == 0
        assert host["control_domain"] in host["resident_VMs"]


def test_seed_host_internal_management_network(seed):
    himn = seed.get("network", seed.find_one("network", bridge="xenapi"))
    assert himn["name_label"] == "Host internal management network"
    assert himn["other_config"] == scenarios.HIMN_OTHER_CONFIG
    assert himn["PIFs"] == [] and himn["MTU"] == 1500


def test_seed_one_pool_wide_network_per_nic_position(seed):
    for position in range(3):
        ref = seed.find_one("network", bridge=f"xenbr{position}")
        network = seed.get("network", ref)
        assert network["name_label"] == f"Pool-wide network {position}"
        assert len(network["PIFs"]) == 3
        assert {seed.get("PIF", p)["device"] for p in network["PIFs"]} == {f"eth{position}"}


def test_seed_physical_pifs_as_introduce_makes_them(seed):
    for pif in seed.all("PIF").values():
        assert pif["physical"] is True and pif["VLAN"] == -1
        assert pif["properties"] == {"gro": "on"} and pif["currently_attached"] is True
        metrics = seed.get("PIF_metrics", pif["metrics"])
        assert metrics["carrier"] is True and metrics["speed"] > 0
    assert len({p["metrics"] for p in seed.all("PIF").values()}) == 9
    assert len({p["MAC"] for p in seed.all("PIF").values()}) == 9


def test_seed_eth0_static_management_eth1_bare_trunk_eth2_storage(seed):
    for index, host in enumerate(seed.refs("host")):
        eth0, eth1, eth2 = (_pif(seed, host, f"eth{n}") for n in range(3))
        assert eth0["management"] is True and eth0["ip_configuration_mode"] == "Static"
        assert eth0["IP"] == f"192.0.2.{11 + index}" and eth0["netmask"] == "255.255.255.0"
        assert eth0["gateway"] == "192.0.2.1" and eth0["DNS"]
        assert eth1["ip_configuration_mode"] == "None" and eth1["VLAN_slave_of"] == []
        assert eth1["management"] is False
        assert eth2["ip_configuration_mode"] == "Static" and eth2["management"] is False
    assert seed.count("VLAN") == 0 and seed.count("Bond") == 0


def test_seed_vms_running_halted_and_hvm_without_drivers(seed):
    guests = {r["name_label"]: r for r in seed.all("VM").values() if not r["is_control_domain"]}
    states = {r["power_state"] for r in guests.values()}
    assert states == {"Running", "Halted"}
    management = seed.find_one("network", bridge="xenbr0")
    for vm in seed.all("VM").values():
        assert seed.exists("VM_metrics", vm["metrics"])
    for vm in guests.values():
        assert vm["other_config"]["mac_seed"]
        assert vm["VIFs"] and all(seed.get("VIF", v)["network"] == management
                                  for v in vm["VIFs"])
        running = vm["power_state"] == "Running"
        assert (vm["resident_on"] != NULL_REF) is running
        assert all(seed.get("VIF", v)["currently_attached"] is running for v in vm["VIFs"])
    win = guests["win-app-01"]
    assert win["domain_type"] == "hvm" and win["power_state"] == "Running"
    assert seed.get("VM_guest_metrics", win["guest_metrics"])["PV_drivers_detected"] is False
    web = guests["web-01"]
    metrics = seed.get("VM_guest_metrics", web["guest_metrics"])
    assert metrics["PV_drivers_detected"] is True and metrics["PV_drivers_version"]


def test_single_is_one_host_master_of_its_pool(seed):
    state = _built("single")
    (host,) = state.refs("host")
    assert state.get("pool", state.refs("pool")[0])["master"] == host
    assert state.get("host", host)["address"] == "127.0.0.1"
    assert len(state.get("host", host)["PIFs"]) == 3


def test_seed_hosts_parameter(seed):
    assert len(_built("seed", hosts=5).refs("host")) == 5


def test_big_builds_the_requested_sizes():
    # how long it takes is a figure of tests/bench/bench_sim_engine.py, not a check here
    state = _built("big", hosts=64, nics=8, vms=500, vlans=500, vifs=2000)
    assert state.count("host") == 64
    assert sum(1 for p in state.all("PIF").values() if p["physical"]) == 64 * 8
    assert state.count("VLAN") == 500 and state.count("VIF") == 2000
    guests = [v for v in state.all("VM").values() if not v["is_control_domain"]]
    assert len(guests) == 500
    for network in state.all("network").values():  # at most one PIF per host per network
        hosts = [state.get("PIF", p)["host"] for p in network["PIFs"]]
        assert len(hosts) == len(set(hosts))


def test_unknown_scenario_is_a_key_error():
    with pytest.raises(KeyError, match="unknown scenario"):
        scenarios.build(SimState(), "nope")
