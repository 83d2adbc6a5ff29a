"""``is_sriov_network`` (XAPI's: a PIF on the network is an SR-IOV logical PIF, or a VLAN on
one) is answered from an index built once per snapshot: the diff asks it for every stated
VIF, and walking the network's PIFs each time made it grow with VIFs times hosts."""

from __future__ import annotations

from typing import Any

from xapictl.model.refs import NetworkRef
from xapictl.plan import identity as ident
from xapictl.sim.engine import Simulator
from xapictl.state.snapshot import SNAPSHOT_CLASSES, PoolSnapshot


def _pool_with_sriov() -> tuple[PoolSnapshot, dict[str, Any]]:
    sim = Simulator(scenario="seed")
    state = sim.state
    session = sim.call("session.login_with_password", ["root", "xapictl"])
    host = state.refs("host")[0]
    physical = next(r for r, p in state.all("PIF").items()
                    if p["host"] == host and p["device"] == "eth1" and p["VLAN"] == -1)
    sriov = state.create("network", {"name_label": "sriov", "bridge": "", "other_config": {}})
    logical = state.create("PIF", {"device": "eth1", "network": sriov, "host": host,
                                   "MAC": "", "MTU": 1500, "VLAN": -1, "physical": False,
                                   "managed": True})
    state.create("network_sriov", {"physical_PIF": physical, "logical_PIF": logical,
                                   "configuration_mode": "sysfs"})
    on_sriov = state.create("network", {"name_label": "vlan on sriov", "bridge": "",
                                        "other_config": {}})
    sim.call("VLAN.create", [session, logical, 100, on_sriov])
    plain = state.create("network", {"name_label": "plain vlan", "bridge": "",
                                     "other_config": {}})
    sim.call("VLAN.create", [session, physical, 101, plain])
    snap = PoolSnapshot.from_records({c: dict(state.all(c)) for c in SNAPSHOT_CLASSES})
    return snap, {"sriov": sriov, "on_sriov": on_sriov, "plain": plain,
                  "management": state.get("PIF", physical)["network"]}


def test_sriov_networks_and_vlans_on_them_are_sriov_and_others_are_not() -> None:
    snap, nets = _pool_with_sriov()
    answers = {name: ident.is_sriov_network(snap, NetworkRef(ref)) for name, ref in nets.items()}
    assert answers == {"sriov": True, "on_sriov": True, "plain": False, "management": False}
    assert not snap.is_sriov_network(NetworkRef("OpaqueRef:nowhere"))


def test_every_network_is_answered_from_one_index_built_once() -> None:
    snap, nets = _pool_with_sriov()
    snap.is_sriov_network(NetworkRef(nets["plain"]))
    index = snap.__dict__["_sriov_networks"]
    for ref in list(nets.values()) * 3:
        ident.is_sriov_network(snap, NetworkRef(ref))
    assert snap.__dict__["_sriov_networks"] is index
    assert index == {NetworkRef(nets["sriov"]), NetworkRef(nets["on_sriov"])}
