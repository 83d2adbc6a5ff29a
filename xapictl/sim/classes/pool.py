"""``pool``: the fan-out networking calls that run on the master and call each host in turn
(REFERENCE §3.4 ``pool.create_VLAN*``, §3.5 ``pool.management_reconfigure``, §6), and the
pool-wide networking switches XAPI implements by hand (IGMP snooping, vswitch controller)."""

from __future__ import annotations

import contextlib

from xapictl.sim.classes import _pif_kinds as kinds
from xapictl.sim.classes import host as hosts
from xapictl.sim.classes import pif as pifs
from xapictl.sim.classes import sdn_controller as sdn
from xapictl.sim.classes import vlan as vlans
from xapictl.sim.classes._addresses import is_ipv4
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import CallContext, handles
from xapictl.sim.state import SimState


@handles("pool.create_VLAN_from_PIF")
def create_vlan_from_pif(ctx: CallContext, pif: str, network: str, vlan: int) -> list[str]:
    """One VLAN per live host that has a PIF on ``pif``'s network; returns the VLAN PIFs.

    Hosts are matched by network, not by device name, so bonds named differently per host
    work; PIFs on dead hosts are skipped silently; the first failure rolls back best-effort.
    """
    state = ctx.state
    base_network = state.get("PIF", pif)["network"]
    candidates = [p for p in state.get("network", base_network)["PIFs"]
                  if ctx.host_is_live(state.get("PIF", p)["host"])]
    created: list[str] = []
    try:
        for candidate in candidates:
            created.append(vlans.create_vlan(state, candidate, int(vlan), network))
    except SimFailure:
        for made in created:
            with contextlib.suppress(SimFailure):
                vlans.destroy_vlan(state, made)
        raise
    untagged = [str(state.get("VLAN", v)["untagged_PIF"]) for v in created]
    for new_pif in untagged:
        with contextlib.suppress(SimFailure):
            kinds.plug(state, new_pif)
    return untagged


@handles("pool.create_VLAN")
def create_vlan(ctx: CallContext, device: str, network: str, vlan: int) -> list[str]:
    """Every host in DB order, dead ones included (they answer HOST_OFFLINE)."""
    state = ctx.state
    created: list[str] = []
    try:
        for host in state.refs("host"):
            ctx.require_live(host)
            created.append(pifs.create_vlan_on_device(state, device, network, host, int(vlan)))
    except SimFailure:
        for made in created:
            if not ctx.host_is_live(state.get("PIF", made)["host"]):
                state.destroy("PIF", made)
                continue
            with contextlib.suppress(SimFailure):
                pifs.destroy_vlan_pif(state, made)
        raise
    for new_pif in created:
        with contextlib.suppress(SimFailure):
            kinds.plug(state, new_pif)
    return created


@handles("pool.management_reconfigure")
def management_reconfigure(ctx: CallContext, network: str) -> None:
    """``xapi_pool.ml``: HA, a PIF on the network on every host, every PIF of the network
    usable (one primary address type), then ``host.management_reconfigure`` on each member
    and on the master last (``call_fn_on_slaves_then_master``: every host is tried, a failure
    does not stop the others, and the first one is raised at the end), then
    ``pool.recover_slaves`` (only when every host moved)."""
    state = ctx.state
    state.get("network", network)
    if kinds.ha_enabled(state):
        raise SimFailure("HA_IS_ENABLED")
    per_host = {}
    for host in state.refs("host"):
        found = kinds.pif_of_network_on_host(state, network, host)
        if found is None:
            raise SimFailure("PIF_NOT_PRESENT", host, network)
        per_host[host] = found
    network_pifs = list(state.get("network", network)["PIFs"])
    first_type = state.get("PIF", network_pifs[0])["primary_address_type"] if network_pifs else ""
    for pif_ref in network_pifs:
        if state.get("PIF", pif_ref)["primary_address_type"] != first_type:
            raise SimFailure("PIF_INCOMPATIBLE_PRIMARY_ADDRESS_TYPE", pif_ref)
        hosts.assert_usable_for_management(state, pif_ref)
    master = ctx.master()
    failures: list[SimFailure] = []
    for host in [h for h in per_host if h != master] + [h for h in per_host if h == master]:
        try:
            ctx.require_live(host)
            hosts.reconfigure_management(state, per_host[host])
        except SimFailure as failure:
            failures.append(failure)
    if failures:
        raise failures[0]
    recover_slaves(ctx)


@handles("pool.recover_slaves")
def recover_slaves(ctx: CallContext) -> list[str]:
    """``xapi_pool.ml``: every member is told the master's address
    (``pool.emergency_reset_master``); one that cannot be reached is skipped silently.
    Returns the members told, the last one first (the list is built by prepending)."""
    state = ctx.state
    master = ctx.master()
    address = str(state.get("host", master)["address"])
    told: list[str] = []
    for host in state.refs("host"):
        if host == master or not ctx.host_is_live(host):
            continue
        reset_master(state, host, address)
        told.insert(0, host)
    return told


def reset_master(state: SimState, member: str, address: str) -> None:
    """A member now looks for its master at ``address``."""
    master = kinds.pool_record(state)
    current = "" if master is None else str(state.get("host", master["master"])["address"])
    if address == current:
        state.master_seen_by.pop(member, None)
    else:
        state.master_seen_by[member] = address


@handles("pool.emergency_reset_master")
def emergency_reset_master(ctx: CallContext, master_address: str) -> None:
    """Served by the member that receives it (an emergency call): it becomes a member of the
    master at ``master_address``. HA armed -> ``HA_IS_ENABLED``. On the master itself XAPI
    would turn it into another master's member (a pool transition the simulator does not
    model): ``NOT_IMPLEMENTED`` there."""
    if kinds.ha_enabled(ctx.state):
        raise SimFailure("HA_IS_ENABLED")
    if ctx.host == ctx.master():
        raise SimFailure("NOT_IMPLEMENTED", "pool.emergency_reset_master on the master")
    reset_master(ctx.state, ctx.host, master_address)


@handles("pool.set_igmp_snooping_enabled")
def set_igmp_snooping_enabled(ctx: CallContext, self: str, value: bool) -> None:
    """``xapi_pool.ml``: enabling needs the IGMP_snooping feature (``restrict_igmp_snooping``),
    then the master must run openvswitch (``Helpers.assert_using_vswitch``); the flag, then
    every bridge that is up re-reads it: plugged PIFs that snoop (not VLAN PIFs) get
    ``igmp_snooping_status`` enabled/disabled as ``PIF.plug`` would set it."""
    state = ctx.state
    state.get("pool", self)
    if value and str(state.get("pool", self)["restrictions"].get(
            "restrict_igmp_snooping", "false")).lower() == "true":
        raise SimFailure("LICENCE_RESTRICTION", "IGMP_snooping")
    if state.get("host", ctx.master())["software_version"].get(
            "network_backend") != "openvswitch":
        raise SimFailure("OPENVSWITCH_NOT_ACTIVE")
    state.set_field("pool", self, "igmp_snooping_enabled", value)
    status = kinds.igmp_status(state)
    for ref, pif in state.all("PIF").items():
        if pif["currently_attached"] and kinds.snoops(pif) \
                and pif["igmp_snooping_status"] != status:
            state.set_field("PIF", ref, "igmp_snooping_status", status)


@handles("pool.set_vswitch_controller")
def set_vswitch_controller(ctx: CallContext, address: str) -> None:
    """Deprecated front of ``SDN_controller`` (xapi_pool.ml): openvswitch only; a new address
    replaces the pool's SDN controller by an ``ssl`` one on port 6632, ``""`` removes it."""
    state = ctx.state
    sdn.assert_vswitch(ctx)
    pool = ctx.pool_ref()
    if state.get("pool", pool)["vswitch_controller"] == address:
        return
    if address and not is_ipv4(address):
        raise SimFailure("INVALID_IP_ADDRESS_SPECIFIED", "address")
    state.set_field("pool", pool, "vswitch_controller", address)
    controllers = state.refs("SDN_controller")
    if controllers:
        state.destroy("SDN_controller", controllers[0])
    if address:
        sdn.db_introduce(state, "ssl", address, sdn.SSL_DEFAULT_PORT)


__all__ = ["create_vlan", "create_vlan_from_pif", "emergency_reset_master",
           "management_reconfigure", "recover_slaves", "reset_master",
           "set_igmp_snooping_enabled", "set_vswitch_controller"]
