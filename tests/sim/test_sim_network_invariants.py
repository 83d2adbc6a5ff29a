"""Whatever sequence of networking calls a client makes, the pool keeps XAPI's invariants:
at most one PIF per host per network, both sides of every VLAN link, shared VLAN metrics,
bond slaves pointing at live bonds, SR-IOV logical PIFs beside their physical PIF, derived sets
mirroring their ref fields."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xapictl.sim.engine import Simulator
from xapictl.sim.errors import SimFailure
from xapictl.sim.state import NULL_REF

DEVICES = ("eth0", "eth1", "eth2")
OPERATIONS = ("vlan", "vlan_destroy", "bond", "bond_destroy", "tunnel", "tunnel_destroy",
              "unplug", "plug", "vif", "vif_move", "vm_start", "vm_stop", "net_destroy",
              "sriov", "sriov_destroy")

step = st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 2), st.integers(0, 2),
                 st.integers(0, 5))


def _pick(items: list[str], index: int) -> str | None:
    return items[index % len(items)] if items else None


class Driver:
    def __init__(self) -> None:
        self.sim = Simulator()
        self.sim.load_scenario("seed")
        self.session = self.sim.call("session.login_with_password", ["root", "xapictl"])
        self.networks: list[str] = []

    def call(self, method: str, *args: Any) -> Any:
        try:
            return self.sim.call(method, [self.session, *args])
        except SimFailure:
            return None

    def pif(self, host_index: int, device_index: int) -> str:
        state = self.sim.state
        host = state.refs("host")[host_index]
        return next(r for r, p in state.all("PIF").items()
                    if p["host"] == host and p["device"] == DEVICES[device_index]
                    and p["VLAN"] == -1 and p["physical"])

    def network(self, index: int) -> str:
        if len(self.networks) < 3 or index == 5:
            ref = self.call("network.create", {"name_label": "n", "other_config": {}})
            self.networks.append(ref)
            return str(ref)
        return self.networks[index % len(self.networks)]

    def run(self, operation: str, host: int, device: int, extra: int) -> None:
        state = self.sim.state
        if operation == "vlan":
            self.call("VLAN.create", self.pif(host, device), 100 + extra, self.network(extra))
        elif operation == "vlan_destroy":
            vlan = _pick(state.refs("VLAN"), extra)
            if vlan:
                self.call("VLAN.destroy", vlan)
        elif operation == "bond":
            members = [self.pif(host, device), self.pif(host, (device + 1) % 3)][: 1 + extra % 2]
            self.call("Bond.create", self.network(extra), members, "", "active-backup", {})
        elif operation == "bond_destroy":
            bond = _pick(state.refs("Bond"), extra)
            if bond:
                self.call("Bond.destroy", bond)
        elif operation == "tunnel":
            self.call("tunnel.create", self.pif(host, device), self.network(extra), "gre")
        elif operation == "tunnel_destroy":
            tunnel = _pick(state.refs("tunnel"), extra)
            if tunnel:
                self.call("tunnel.destroy", tunnel)
        elif operation in ("plug", "unplug"):
            pif = _pick(state.refs("PIF"), host * 7 + device * 3 + extra)
            if pif:
                self.call(f"PIF.{operation}", pif)
        elif operation == "vif":
            vm = _pick([r for r, v in state.all("VM").items() if not v["is_control_domain"]],
                       extra)
            if vm:
                self.call("VIF.create", {"device": str(1 + device), "network": self.network(extra),
                                         "VM": vm, "MAC": "", "MTU": 1500, "other_config": {},
                                         "qos_algorithm_type": "", "qos_algorithm_params": {}})
        elif operation == "vif_move":
            vif = _pick(state.refs("VIF"), extra + host)
            if vif:
                self.call("VIF.move", vif, self.network(device))
        elif operation in ("vm_start", "vm_stop"):
            vm = _pick([r for r, v in state.all("VM").items() if not v["is_control_domain"]],
                       extra)
            if vm and operation == "vm_start":
                self.call("VM.start", vm, False, False)
            elif vm:
                self.call("VM.hard_shutdown", vm)
        elif operation == "sriov":
            pif = self.pif(host, device)
            state.set_field("PIF", pif, "capabilities", ["sriov"])  # the NIC can do it
            self.call("network_sriov.create", pif, self.network(extra))
        elif operation == "sriov_destroy":
            sriov = _pick(state.refs("network_sriov"), extra)
            if sriov:
                self.call("network_sriov.destroy", sriov)
        elif operation == "net_destroy" and self.networks:
            network = self.networks[extra % len(self.networks)]
            if self.call("network.destroy", network) is not None or \
                    not state.exists("network", network):
                self.networks.remove(network)


def check_invariants(sim: Simulator) -> None:
    state = sim.state
    pifs = state.all("PIF")
    for ref, network in state.all("network").items():
        hosts = [pifs[p]["host"] for p in network["PIFs"]]
        assert len(hosts) == len(set(hosts)), f"two PIFs of {ref} on one host"
        assert sorted(network["PIFs"]) == sorted(r for r, p in pifs.items()
                                                 if p["network"] == ref)
        assert sorted(network["VIFs"]) == sorted(r for r, v in state.all("VIF").items()
                                                 if v["network"] == ref)
    for ref, vlan in state.all("VLAN").items():
        untagged = pifs[vlan["untagged_PIF"]]
        tagged = pifs[vlan["tagged_PIF"]]
        assert untagged["VLAN_master_of"] == ref and untagged["VLAN"] == vlan["tag"]
        assert untagged["metrics"] == tagged["metrics"]
        assert untagged["host"] == tagged["host"] and ref in tagged["VLAN_slave_of"]
    for ref, pif in pifs.items():
        master_of = pif["VLAN_master_of"]
        assert master_of == NULL_REF or state.get("VLAN", master_of)["untagged_PIF"] == ref
        if pif["bond_slave_of"] != NULL_REF:
            assert ref in state.get("Bond", pif["bond_slave_of"])["slaves"]
        assert state.exists("network", pif["network"])
        assert ref in state.get("host", pif["host"])["PIFs"]
    for ref, bond in state.all("Bond").items():
        assert pifs[bond["master"]]["bond_master_of"] == [ref]
        assert bond["slaves"] and all(pifs[s]["bond_slave_of"] == ref for s in bond["slaves"])
    for ref, sriov in state.all("network_sriov").items():
        logical, physical = pifs[sriov["logical_PIF"]], pifs[sriov["physical_PIF"]]
        assert logical["sriov_logical_PIF_of"] == [ref] and ref in physical["sriov_physical_PIF_of"]
        assert logical["host"] == physical["host"] and logical["metrics"] == physical["metrics"]
    for host in state.refs("host"):
        management = [r for r, p in pifs.items() if p["host"] == host and p["management"]]
        assert len(management) == 1, f"host {host} has {len(management)} management PIFs"
    for ref, vif in state.all("VIF").items():
        vm = state.get("VM", vif["VM"])
        assert ref in vm["VIFs"]
        if vm["power_state"] == "Halted":
            assert not vif["currently_attached"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=25))
def test_any_call_sequence_keeps_the_pool_consistent(steps):
    driver = Driver()
    for operation, host, device, extra in steps:
        driver.run(operation, host, device, extra)
        check_invariants(driver.sim)
