"""Several simulated pools for rollout tests: pool ``p0`` behind a real socket server on
loopback, the others behind in-process transports (the same wire encoding, no sockets)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from xapictl.fleet.connect import PoolConnector
from xapictl.fleet.fleetfile import FleetPool
from xapictl.sim.control import Control
from xapictl.sim.engine import Simulator
from xapictl.sim.inprocess import InProcessTransport
from xapictl.sim.server import SimServer
from xapictl.xapi.credentials import PasswordSource
from xapictl.xapi.retry import RetryPolicy

PASSWORD = "s3cret-pw"
VLAN_RECIPE = """\
version: 1
networks:
  - name: VLAN 105
    vlan: 105
    device: eth1
"""


@dataclass
class SimFleet:
    sims: dict[str, Simulator]
    controls: dict[str, Control]
    server: SimServer
    pools: list[FleetPool] = field(default_factory=list)

    def connector(self) -> PoolConnector:
        def transport(pool: FleetPool) -> InProcessTransport | None:
            if pool.name == "p0":
                return None
            return InProcessTransport(self.sims[pool.name], self.controls[pool.name])
        # A dead pool must fail fast in tests: short retry deadline.
        return PoolConnector(transport_for=transport, timeout=5,
                             retry=RetryPolicy(deadline=0.5, initial=0.05, maximum=0.1))

    def master(self, name: str) -> str:
        sim = self.sims[name]
        with sim.state.lock:
            return str(next(iter(sim.state.all("pool").values()))["master"])

    def vlan_networks(self, name: str) -> list[str]:
        sim = self.sims[name]
        with sim.state.lock:
            return [r["name_label"] for r in sim.state.all("network").values()
                    if r["name_label"] == "VLAN 105"]

    def open_sessions(self) -> dict[str, int]:
        return {n: s.open_session_count() for n, s in self.sims.items()}


def make_fleet(n: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimFleet]:
    monkeypatch.setenv("XAPICTL_TEST_PW", PASSWORD)
    sims = {f"p{i}": Simulator(scenario="seed", password=PASSWORD) for i in range(n)}
    controls = {name: Control(sim) for name, sim in sims.items()}
    server = SimServer(sims["p0"], control=controls["p0"]).start()
    try:
        pools = [FleetPool(name, url=server.url if name == "p0" else "http://127.0.0.1",
                           credentials=PasswordSource("env", "XAPICTL_TEST_PW"),
                           tags=("canary",) if name == "p0" else ("prod",),
                           # one pool speaks XML-RPC: rollouts must not care
                           protocol="xmlrpc" if name == "p1" else "auto")
                 for name in sims]
        yield SimFleet(sims, controls, server, pools)
    finally:
        server.stop()
