"""``network``: creation with XAPI's bridge naming, destruction rules, locking and purposes
(REFERENCE §3.1-§3.3). Setters such as ``set_MTU`` stay generic: XAPI does not validate them."""

from __future__ import annotations

import itertools
import weakref
from typing import Any

from xapictl.sim.classes import _pif_kinds as kinds
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import CallContext, handles
from xapictl.sim.state import SimState

# Prefixes XAPI reserves for bridges it names itself or for host devices.
REFUSED_BRIDGE_PREFIXES = ("xen", "xapi", "vif", "tap", "eth")
MAX_BRIDGE_LENGTH = 15
HIMN_KEY = "is_host_internal_management_network"

# XAPI's counter starts at 0 when xapi starts and never goes back: one per simulated pool.
_bridge_counters: weakref.WeakKeyDictionary[SimState, itertools.count[int]] = (
    weakref.WeakKeyDictionary())


def restart_counter(state: SimState) -> None:
    """As when xapi restarts: the next picked name starts from ``xapi0`` again."""
    _bridge_counters.pop(state, None)


def used_bridges(state: SimState) -> set[str]:
    return {str(rec["bridge"]) for rec in state.all("network").values()}


def pick_bridge(state: SimState) -> str:
    """The next ``xapi<N>`` not used by any network; a freed name is not reused."""
    counter = _bridge_counters.setdefault(state, itertools.count())
    used = used_bridges(state)
    while True:
        name = f"xapi{next(counter)}"
        if name not in used:
            return name


def is_system_network(record: dict[str, Any]) -> bool:
    return str(record["other_config"].get(HIMN_KEY, "")).lower() == "true"


@handles("network.create")
def create(ctx: CallContext, args: dict[str, Any]) -> str:
    """Honours only name, description, MTU, other_config, bridge, managed and tags."""
    bridge = str(args.get("bridge", ""))
    if bridge:
        if not ctx.session.extra.get("intra_pool", False) and (
                len(bridge) > MAX_BRIDGE_LENGTH or bridge.startswith(REFUSED_BRIDGE_PREFIXES)):
            raise SimFailure("INVALID_VALUE", "bridge", bridge)
        if bridge in used_bridges(ctx.state):
            raise SimFailure("BRIDGE_NAME_EXISTS", bridge)
    else:
        bridge = pick_bridge(ctx.state)
    mtu = int(args.get("MTU", 1500))
    return ctx.state.create("network", {
        "name_label": args.get("name_label", ""),
        "name_description": args.get("name_description", ""),
        "MTU": mtu if mtu > 0 else 1500,
        "other_config": dict(args.get("other_config", {})),
        "bridge": bridge,
        "managed": bool(args.get("managed", True)),
        "tags": list(args.get("tags", [])),
        "purpose": [],
        "default_locking_mode": "unlocked",
    })


@handles("network.destroy")
def destroy(ctx: CallContext, self: str) -> None:
    """Attached VIFs and any PIF block it; detached VIFs go with the network."""
    state = ctx.state
    network = state.get("network", self)
    attached = [v for v in network["VIFs"] if state.get("VIF", v)["currently_attached"]]
    if attached:
        raise SimFailure("NETWORK_CONTAINS_VIF", *attached)
    if network["PIFs"]:
        raise SimFailure("NETWORK_CONTAINS_PIF", *network["PIFs"])
    if is_system_network(network):
        raise SimFailure("CANNOT_DESTROY_SYSTEM_NETWORK", self)
    # XAPI leaves the VIF_metrics of these VIFs behind.
    for vif in list(network["VIFs"]):
        state.destroy("VIF", vif)
    state.destroy("network", self)


@handles("network.set_default_locking_mode")
def set_default_locking_mode(ctx: CallContext, network: str, value: str) -> None:
    record = ctx.state.get("network", network)
    for vif in record["VIFs"]:
        if ctx.state.get("VIF", vif)["currently_attached"]:
            raise SimFailure("VIF_IN_USE", network, vif)
    ctx.state.set_field("network", network, "default_locking_mode", str(value))


_CONFLICTING_PURPOSE = {"nbd": "insecure_nbd", "insecure_nbd": "nbd"}


@handles("network.add_purpose")
def add_purpose(ctx: CallContext, self: str, value: str) -> None:
    record = ctx.state.get("network", self)
    value = str(value)
    if not record["managed"]:
        raise SimFailure("NETWORK_UNMANAGED", self)
    if value in record["purpose"]:
        return
    conflict = _CONFLICTING_PURPOSE.get(value)
    if conflict and any(conflict in rec["purpose"] for rec in ctx.state.all("network").values()):
        raise SimFailure("NETWORK_INCOMPATIBLE_PURPOSES", value, conflict)
    ctx.state.set_field("network", self, "purpose", [value, *record["purpose"]])


@handles("network.remove_purpose")
def remove_purpose(ctx: CallContext, self: str, value: str) -> None:
    record = ctx.state.get("network", self)
    if str(value) in record["purpose"]:
        ctx.state.set_field("network", self, "purpose",
                            [p for p in record["purpose"] if p != str(value)])


@handles("network.pool_introduce")
def pool_introduce(ctx: CallContext, name_label: str, name_description: str, mtu: int,
                   other_config: dict[str, str], bridge: str, managed: bool,
                   purpose: list[str]) -> str:
    """Hidden (pool join): the record verbatim, no checks."""
    return ctx.state.create("network", {
        "name_label": name_label, "name_description": name_description, "MTU": int(mtu),
        "other_config": dict(other_config), "bridge": bridge, "managed": bool(managed),
        "purpose": list(purpose)})


@handles("network.attach")
def attach(ctx: CallContext, network: str, host: str) -> None:
    """Hidden: bring the host's PIF on the network up (an internal bridge needs nothing).
    The simulator has no host bridges of its own: an unmanaged network is available on a
    host only through a PIF there."""
    state = ctx.state
    record = state.get("network", network)
    state.get("host", host)
    ctx.require_live(host)
    local = kinds.pif_of_network_on_host(state, network, host)
    if not record["managed"] and local is None:
        raise SimFailure("BRIDGE_NOT_AVAILABLE", record["bridge"])
    if local is None:
        return
    pif = state.get("PIF", local)
    if kinds.is_bond_slave(state, pif):
        raise SimFailure("CANNOT_PLUG_BOND_SLAVE", local)
    if pif["managed"]:
        kinds.bring_up(state, local)


@handles("network.attach_for_vm")
def attach_for_vm(ctx: CallContext, host: str, vm: str) -> None:
    """Hidden: attach every network of the VM's VIFs on the host (what a VM start does)."""
    state = ctx.state
    state.get("host", host)
    record = state.get("VM", vm)
    ctx.require_live(host)
    for vif in record["VIFs"]:
        network = state.get("VIF", vif)["network"]
        local = kinds.pif_of_network_on_host(state, network, host)
        if local is not None and not state.get("PIF", local)["currently_attached"]:
            kinds.plug(state, local)


@handles("network.detach_for_vm")
def detach_for_vm(ctx: CallContext, host: str, vm: str) -> None:
    """Hidden: XAPI only removes internal bridges nobody uses; PIFs stay as they are."""
    ctx.state.get("host", host)
    ctx.state.get("VM", vm)
    ctx.require_live(host)


__all__ = ["REFUSED_BRIDGE_PREFIXES", "add_purpose", "attach", "attach_for_vm", "create",
           "destroy", "detach_for_vm", "is_system_network", "pick_bridge", "pool_introduce",
           "remove_purpose", "restart_counter", "set_default_locking_mode"]
