"""Who may call the networking messages (REFERENCE §5): the roles come from the datamodel and
are enforced before the implementation runs."""

from __future__ import annotations

import pytest

from xapictl.sim.engine import Simulator
from xapictl.sim.errors import SimFailure


@pytest.fixture(scope="module")
def sim():
    simulator = Simulator(users={"vmadmin": "vm-admin", "operator": "pool-operator",
                                 "reader": "read-only"})
    simulator.load_scenario("seed")
    return simulator


def _login(sim, user):
    return sim.call("session.login_with_password", [user, "xapictl"])


def _trunk(sim):
    master = sim.state.get("pool", sim.state.refs("pool")[0])["master"]
    return next(r for r, p in sim.state.all("PIF").items()
                if p["host"] == master and p["device"] == "eth1")


def _denied(sim, session, method, *args):
    with pytest.raises(SimFailure) as caught:
        sim.call(method, [session, *args])
    assert caught.value.code == "RBAC_PERMISSION_DENIED"
    return caught.value.params[0]


def test_vm_admin_creates_networks_but_not_vlans(sim):
    session = _login(sim, "vmadmin")
    network = sim.call("network.create", [session, {"name_label": "n", "other_config": {}}])
    assert _denied(sim, session, "VLAN.create", _trunk(sim), 100, network) == "vlan.create"


def test_pool_operator_creates_vlans_but_cannot_add_purposes(sim):
    session = _login(sim, "operator")
    network = sim.call("network.create", [session, {"name_label": "n", "other_config": {}}])
    sim.call("VLAN.create", [session, _trunk(sim), 300, network])
    assert _denied(sim, session, "network.add_purpose", network, "nbd") \
        == "network.add_purpose"


def test_read_only_cannot_plug_or_create(sim):
    session = _login(sim, "reader")
    assert _denied(sim, session, "PIF.plug", _trunk(sim)) == "pif.plug"
    assert _denied(sim, session, "network.create", {"name_label": "n", "other_config": {}}) \
        == "network.create"
