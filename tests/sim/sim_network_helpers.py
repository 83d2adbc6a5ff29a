"""Driving the seed pool over the wire for the networking conformance tests.

``api`` is parametrised over the official ``XenAPI`` client (XML-RPC) and raw JSON-RPC: each
test runs once per protocol. Failures arrive as ``SimFailure`` (code and parameters exactly as
sent), records come back typed through the generated model, so assertions read the same for
both protocols. ``api.sim`` is the served simulator, for setting up what no API call can
(a dead host, HA on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from xapictl.model import record_type
from xapictl.sim.errors import SimFailure

SIM_PASSWORD = "xapictl"


@dataclass
class Api:
    call: Callable[..., Any]
    sim: Any
    protocol: str

    def __call__(self, method: str, *args: Any) -> Any:
        return self.call(method, *args)

    def record(self, cls: str, ref: str) -> Any:
        """The typed record of ``ref`` as a client sees it."""
        return record_type(cls).from_xapi(self.call(f"{cls}.get_record", ref))

    def records(self, cls: str) -> dict[str, Any]:
        raw = self.call(f"{cls}.get_all_records")
        return {ref: record_type(cls).from_xapi(rec) for ref, rec in raw.items()}

    def fails(self, method: str, *args: Any) -> list[str]:
        """``[code, params…]`` of the failure ``method`` must raise."""
        with pytest.raises(SimFailure) as caught:
            self.call(method, *args)
        return caught.value.description

    # --- seed pool navigation -------------------------------------------------------------

    def hosts(self) -> list[str]:
        """Host refs, master first."""
        master = self.sim.state.get("pool", self.sim.state.refs("pool")[0])["master"]
        others = [h for h in self.sim.state.refs("host") if h != master]
        return [master, *others]

    def pif(self, host: str, device: str, vlan: int = -1) -> str:
        for ref, rec in self.sim.state.all("PIF").items():
            if rec["host"] == host and rec["device"] == device and rec["VLAN"] == vlan:
                return str(ref)
        raise LookupError(f"no {device} (VLAN {vlan}) on {host}")

    def network_by_bridge(self, bridge: str) -> str:
        found = self.sim.state.find_one("network", bridge=bridge)
        assert found is not None, bridge
        return str(found)

    def vm(self, name: str) -> str:
        found = self.sim.state.find_one("VM", name_label=name)
        assert found is not None, name
        return str(found)

    def new_network(self, name: str = "test", **fields: Any) -> str:
        return str(self.call("network.create", {"name_label": name, "name_description": "",
                                                "other_config": {}, **fields}))

    def new_vif(self, vm: str, network: str, device: str = "1", mac: str = "",
                **fields: Any) -> str:
        record = {"device": device, "network": network, "VM": vm, "MAC": mac, "MTU": 1500,
                  "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {},
                  **fields}
        return str(self.call("VIF.create", record))


@pytest.fixture(name="api", params=["xmlrpc", "jsonrpc"])
def api_fixture(request: pytest.FixtureRequest, sim: Any) -> Api:
    """The seed pool through the official XenAPI client, and through JSON-RPC v2."""
    if request.param == "xmlrpc":
        import XenAPI

        session = request.getfixturevalue("xenapi_session")

        def xmlrpc(method: str, *args: Any) -> Any:
            try:
                return session.xenapi_request(method, args)
            except XenAPI.Failure as failure:
                raise SimFailure(*failure.details) from None

        return Api(xmlrpc, sim, "xmlrpc")
    rpc = request.getfixturevalue("jsonrpc")
    token = rpc("session.login_with_password", "root", SIM_PASSWORD, "2.21", "tests")

    def jsonrpc(method: str, *args: Any) -> Any:
        return rpc(method, token, *args)

    return Api(jsonrpc, sim, "jsonrpc")


__all__ = ["SIM_PASSWORD", "Api", "api_fixture"]
