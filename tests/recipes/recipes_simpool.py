"""A simulated pool driven through the real client in-process, for recipe, fault and bench
tests: ``SimPool`` holds the simulator, its control plane (faults, latency, request log) and
opens ``xapictl.connect`` sessions through ``InProcessTransport``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xapictl
from xapictl.client.lease import is_lease_call
from xapictl.plan.apply import RunResult, converge
from xapictl.plan.audit import is_write
from xapictl.plan.backend import XapiBackend
from xapictl.plan.desired import DesiredState, load_file
from xapictl.sim.control import Control
from xapictl.sim.engine import Simulator
from xapictl.sim.inprocess import InProcessTransport
from xapictl.sim.scenarios import add_nics  # noqa: F401 - re-exported for bond tests

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
PASSWORD = "xapictl"

# The writes each recipe of recipes/ sends to the 3-host seed pool, in order (the recipe tests
# check them; the fault matrix strikes at each one).
EXPECTED_WRITES = {
    "trunk-vlans.yaml": (
        ["network.create", "pool.create_VLAN_from_PIF"] * 5
        + ["VIF.create", "VIF.plug"] * 3 + ["VIF.create"]),
    "storage-network.yaml": ["network.set_name_label", "network.set_name_description",
                             "network.set_MTU", "PIF.plug", "PIF.plug", "PIF.plug"],
    "bonded-trunk.yaml": (["network.create"] + ["Bond.create"] * 3
                          + ["network.create", "pool.create_VLAN_from_PIF"] * 2),
    "bonded-management.yaml": (["network.create"] + ["Bond.create"] * 3
                               + ["network.create", "pool.create_VLAN_from_PIF"]),
    "vm-attachments.yaml": ["network.create"] + ["VIF.create", "VIF.plug"] * 3
                           + ["VIF.create"],
    "private-network.yaml": (["SDN_controller.introduce", "pool.set_igmp_snooping_enabled"]
                             + (["network.create"] + ["tunnel.create"] * 3) * 2
                             + ["VIF.create"]),
    "sriov-network.yaml": ["network.create"] + ["network_sriov.create"] * 3 + ["VIF.create"],
    "jumbo-vlan.yaml": ["network.set_MTU"] + ["PIF.plug"] * 3
                       + ["network.create", "pool.create_VLAN_from_PIF"],
    "storage-interface.yaml": ["PIF.reconfigure_ip", "PIF.add_to_other_config",
                               "PIF.set_disallow_unplug"] * 3,
    "host-networking.yaml": (["network.create"] + ["Bond.create"] * 3
                             + ["network.set_name_label", "network.set_name_description",
                                "network.set_MTU"] + ["PIF.plug"] * 3
                             + ["network.create", "pool.create_VLAN_from_PIF"] * 2
                             + ["PIF.reconfigure_ip", "PIF.reconfigure_ipv6",
                                "PIF.add_to_other_config", "PIF.set_disallow_unplug"] * 3),
    "management-on-storage.yaml": ["host.management_reconfigure"] * 3
                                  + ["pool.recover_slaves"],
}
SCENARIO_OF = {"sriov-network.yaml": "sriov", "management-on-storage.yaml": "loopback"}
"""The scenario a recipe needs when the seed pool cannot take it (SR-IOV capable NICs)."""


def pool_for(name: str) -> SimPool:
    """A fresh simulated pool for recipe ``name`` (its scenario, else the seed pool)."""
    return SimPool(scenario=SCENARIO_OF.get(name, "seed"))


class ConnProxy:
    """A connection stand-in for ``XapiBackend`` that passes everything to ``conn``;
    subclasses intercept ``call`` (to arm a fault before a given write)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def snapshot(self) -> Any:
        return self.conn.snapshot()

    def permissions(self) -> frozenset[str]:
        result: frozenset[str] = self.conn.permissions()
        return result

    def call(self, method: str, *args: Any) -> Any:
        return self.conn.call(method, *args)


@dataclass
class SimPool:
    scenario: str = "seed"
    params: dict[str, Any] = field(default_factory=dict)
    users: dict[str, str] | None = None
    password: str = PASSWORD

    def __post_init__(self) -> None:
        self.sim = Simulator(password=self.password, users=self.users)
        self.sim.reset(scenario=self.scenario, **self.params)
        self.control = Control(self.sim)

    def connect(self, username: str = "root", **options: Any) -> Any:
        return xapictl.connect("http://127.0.0.1", username=username, password=self.password,
                               transport=InProcessTransport(self.sim, self.control), **options)

    def converge(self, desired: DesiredState, **options: Any) -> RunResult:
        with self.connect(**options) as conn:
            return converge(desired, XapiBackend(conn))

    def snapshot(self) -> Any:
        with self.connect() as conn:
            return conn.snapshot()

    def writes(self) -> list[str]:
        """Write calls that reached the pool and succeeded, in order."""
        return [e["method"] for e in self.control.request_log()
                if is_write(e["method"]) and e["outcome"] == "success"
                and not is_lease_call(e["method"], e["params"])]

    def clear(self) -> None:
        self.control.clear_log()

    def add_nics(self, count: int) -> None:
        """Give every host ``count`` more NICs (eth3, eth4 …) as PIF.introduce would."""
        from xapictl.sim.classes import _nics, _pif_kinds
        from xapictl.sim.classes import pif as pifs
        from xapictl.sim.scenarios import _mac

        state = self.sim.state
        with state.lock:
            for index, host in enumerate(sorted(state.refs("host"),
                                                key=lambda h: state.get("host", h)["address"])):
                have = sum(1 for p in state.get("host", host)["PIFs"]
                           if state.get("PIF", p)["physical"])
                for position in range(have, have + count):
                    nic = _nics.Nic(f"eth{position}", _mac(index, position), position)
                    _nics.add(state, host, nic)
                    _pif_kinds.bring_up(state, pifs.introduce_pif(state, host, nic))


def recipe(name: str) -> DesiredState:
    return load_file(RECIPES / name)
