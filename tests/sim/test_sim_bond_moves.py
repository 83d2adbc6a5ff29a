"""Tunnels follow a bond (REFERENCE §3.7): re-created on the bond master with new refs, same
network and protocol, plugged again if they were plugged; and back on Bond.destroy."""

from __future__ import annotations

from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


def test_tunnels_on_members_are_recreated_on_the_master_and_back(api):
    host = api.hosts()[0]
    eth1, eth2 = api.pif(host, "eth1"), api.pif(host, "eth2")
    overlay = api.new_network("overlay")
    old = api("tunnel.create", eth2, overlay, "vxlan")
    old_access = api.record("tunnel", old).access_pif
    assert api.record("PIF", old_access).currently_attached is True
    bond = api("Bond.create", api.new_network("bond"), [eth1, eth2], "", "active-backup", {})
    master = api.record("Bond", bond).master
    assert not api.sim.state.exists("tunnel", old)
    assert not api.sim.state.exists("PIF", old_access)
    (moved,) = api.record("PIF", master).tunnel_transport_pif_of
    record = api.record("tunnel", moved)
    access = api.record("PIF", record.access_pif)
    assert (access.network, record.protocol) == (overlay, "vxlan")
    assert access.currently_attached is True and access.device == "tunnel0"
    api("Bond.destroy", bond)
    (back,) = api.record("PIF", eth2).tunnel_transport_pif_of
    assert back != moved
    assert api.record("PIF", api.record("tunnel", back).access_pif).network == overlay
