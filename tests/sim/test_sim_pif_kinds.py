"""The derived PIF kinds every check uses (REFERENCE §2.3), tested in XAPI's order."""

from __future__ import annotations

from xapictl.sim.classes._pif_kinds import PifKind, is_bond_slave, kind
from xapictl.sim.engine import Simulator
from xapictl.sim.state import NULL_REF


def _pif(**fields):
    base = {"tunnel_access_PIF_of": [], "VLAN_master_of": NULL_REF, "sriov_logical_PIF_of": [],
            "bond_master_of": [], "physical": True, "bond_slave_of": NULL_REF}
    return {**base, **fields}


def test_tunnel_access_wins_over_everything():
    pif = _pif(tunnel_access_PIF_of=["t"], VLAN_master_of="v", bond_master_of=["b"])
    assert kind(pif) is PifKind.TUNNEL_ACCESS


def test_vlan_untagged_before_sriov_and_bond_master():
    assert kind(_pif(VLAN_master_of="v", sriov_logical_PIF_of=["s"])) is PifKind.VLAN_UNTAGGED


def test_sriov_logical_before_bond_master():
    assert kind(_pif(sriov_logical_PIF_of=["s"], bond_master_of=["b"])) is PifKind.SRIOV_LOGICAL


def test_bond_master_then_physical():
    assert kind(_pif(bond_master_of=["b"])) is PifKind.BOND_MASTER
    assert kind(_pif()) is PifKind.PHYSICAL


def test_bond_slave_is_physical_with_an_existing_bond():
    sim = Simulator()
    sim.load_scenario("single")
    state = sim.state
    bond = state.create("Bond", {})
    slave = _pif(bond_slave_of=bond)
    assert kind(slave) is PifKind.PHYSICAL and is_bond_slave(state, slave)
    assert not is_bond_slave(state, _pif(bond_slave_of="OpaqueRef:gone"))


def test_reset_restarts_the_bridge_counter():
    sim = Simulator()
    for _ in range(2):
        sim.load_scenario("single")
        session = sim.call("session.login_with_password", ["root", "xapictl"])
        ref = sim.call("network.create", [session, {"name_label": "n", "other_config": {}}])
        assert sim.state.get("network", ref)["bridge"] == "xapi1"
