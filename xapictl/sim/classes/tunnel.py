"""``tunnel``: GRE/VXLAN tunnels over a transport PIF (REFERENCE §3.8, ``xapi_tunnel.ml``).

``tunnel.create`` writes its records before plugging the access PIF, so a transport PIF without
an IP configuration fails with ``TRANSPORT_PIF_NOT_CONFIGURED`` and leaves them behind.
"""

from __future__ import annotations

import uuid

from xapictl.sim.classes import _pif_kinds as kinds
from xapictl.sim.classes._addresses import generate_mac
from xapictl.sim.classes._pif_kinds import PifKind
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import CallContext, handles
from xapictl.sim.state import SimState


def random_local_mac() -> str:
    """What XAPI gives a tunnel access PIF: ``gen_mac`` of device 0 over a fresh UUID
    (locally administered, unicast, different every time)."""
    return generate_mac(str(uuid.uuid4()), 0)


def check_create(state: SimState, transport_pif: str, network: str) -> None:
    pif = state.get("PIF", transport_pif)
    state.get("network", network)
    kinds.assert_network_managed(state, network)
    kinds.assert_network_not_connected(state, network, pif["host"])
    kinds.assert_pif_managed(transport_pif, pif)
    pif_kind = kinds.kind(pif)
    if pif_kind is PifKind.PHYSICAL and kinds.is_bond_slave(state, pif):
        raise SimFailure("CANNOT_ADD_TUNNEL_TO_BOND_SLAVE", transport_pif)
    if pif_kind is PifKind.TUNNEL_ACCESS:
        raise SimFailure("IS_TUNNEL_ACCESS_PIF", transport_pif)
    if pif_kind is PifKind.SRIOV_LOGICAL:
        raise SimFailure("CANNOT_ADD_TUNNEL_TO_SRIOV_LOGICAL", transport_pif)
    if kinds.is_vlan_on_sriov(state, pif):
        raise SimFailure("CANNOT_ADD_TUNNEL_TO_VLAN_ON_SRIOV_LOGICAL", transport_pif)
    if kinds.is_sriov_network(state, network):
        raise SimFailure("NETWORK_INCOMPATIBLE_WITH_TUNNEL", network)
    for host in state.all("host").values():
        if host["software_version"].get("network_backend") != "openvswitch":
            raise SimFailure("OPENVSWITCH_NOT_ACTIVE")


def create_records(state: SimState, transport_pif: str, network: str, protocol: str) -> str:
    """The access PIF and the tunnel, unplugged; returns the tunnel ref."""
    pif = state.get("PIF", transport_pif)
    access = state.create("PIF", {
        "device": kinds.next_device(state, pif["host"], "tunnel", "tunnel_access_PIF_of"),
        "network": network, "host": pif["host"],
        "MAC": random_local_mac(), "MTU": -1, "VLAN": -1, "metrics": pif["metrics"],
        "physical": False, "currently_attached": False, "ip_configuration_mode": "None",
        "ipv6_configuration_mode": "None", "IPv6": [""],
        "primary_address_type": pif["primary_address_type"], "properties": {},
        "managed": True, "other_config": {}, "igmp_snooping_status": "unknown"})
    return state.create("tunnel", {"access_PIF": access, "transport_PIF": transport_pif,
                                   "status": {"active": "false"}, "other_config": {},
                                   "protocol": protocol})


def destroy_records(state: SimState, tunnel: str) -> None:
    access = state.get("tunnel", tunnel)["access_PIF"]
    state.destroy("tunnel", tunnel)
    if state.exists("PIF", access):
        state.destroy("PIF", access)


@handles("tunnel.create")
def create(ctx: CallContext, transport_pif: str, network: str, protocol: str = "gre") -> str:
    state = ctx.state
    ctx.require_live(state.get("PIF", transport_pif)["host"])
    check_create(state, transport_pif, network)
    tunnel = create_records(state, transport_pif, network, str(protocol))
    kinds.plug(state, state.get("tunnel", tunnel)["access_PIF"])
    return tunnel


@handles("tunnel.destroy")
def destroy(ctx: CallContext, self: str) -> None:
    state = ctx.state
    access = state.get("tunnel", self)["access_PIF"]
    if state.exists("PIF", access):
        ctx.require_live(state.get("PIF", access)["host"])
        kinds.unplug(state, access)
    destroy_records(state, self)


__all__ = ["check_create", "create", "create_records", "destroy", "destroy_records",
           "random_local_mac"]
