"""``Bond``: create/destroy with the rewrites XAPI does to other objects, and mode/properties
(REFERENCE §3.7, ``xapi_bond.ml``).

Creating a bond moves the primary slave's IP configuration and the management interface to
the new bond PIF, re-creates the members' VLANs and tunnels on it (new refs) and moves local
VIFs to the bond network; destroying it does the reverse onto the primary slave.
"""

from __future__ import annotations

from typing import Any

from xapictl.sim.classes import _pif_kinds as kinds
from xapictl.sim.classes import tunnel as tunnels
from xapictl.sim.classes import vlan as vlans
from xapictl.sim.classes._addresses import is_mac
from xapictl.sim.classes._pif_kinds import PifKind
from xapictl.sim.classes.vm import unusable_network
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import CallContext, handles
from xapictl.sim.state import NULL_REF, SimState

# Properties each mode accepts: key -> (allowed values or None for "any integer", default).
_LACP_PROPERTIES: dict[str, tuple[tuple[str, ...] | None, str | None]] = {
    "hashing_algorithm": (("src_mac", "tcpudp_ports"), "tcpudp_ports"),
    "lacp-time": (("fast", "slow"), "slow"),
    "lacp-aggregation-key": (None, None),
    "lacp-fallback-ab": (("true", "false"), "true"),
}
MODE_PROPERTIES: dict[str, dict[str, tuple[tuple[str, ...] | None, str | None]]] = {
    "balance-slb": {}, "active-backup": {}, "lacp": _LACP_PROPERTIES,
}
IP_FIELDS = ("ip_configuration_mode", "IP", "netmask", "gateway", "DNS")


def _valid_property(mode: str, key: str, value: str) -> bool:
    spec = MODE_PROPERTIES.get(mode, {}).get(key)
    if spec is None:
        return False
    allowed, _ = spec
    if allowed is None:
        try:
            int(value)
        except ValueError:
            return False
        return True
    return value in allowed


def validate_properties(mode: str, properties: dict[str, str]) -> dict[str, str]:
    """The properties with the mode's defaults added; INVALID_VALUE for the first bad key."""
    for key, value in properties.items():
        if not _valid_property(mode, key, value):
            raise SimFailure("INVALID_VALUE", "properties", f"{key} = {value}")
    defaults = {k: d for k, (_, d) in MODE_PROPERTIES.get(mode, {}).items() if d is not None}
    return {**defaults, **properties}


def _has_ip(pif: dict[str, Any]) -> bool:
    if pif["primary_address_type"] == "IPv6":
        return bool(pif["ipv6_configuration_mode"] != "None")
    return bool(pif["ip_configuration_mode"] != "None")


def _primary_slave(state: SimState, members: list[str]) -> str:
    records = [(m, state.get("PIF", m)) for m in members]
    for ref, pif in records:
        if pif["management"]:
            return ref
    for ref, pif in records:
        if _has_ip(pif):
            return ref
    return members[0]


def _check_members(state: SimState, members: list[str], primary: str) -> None:
    primary_type = state.get("PIF", primary)["primary_address_type"]
    for member in members:
        if state.get("PIF", member)["primary_address_type"] != primary_type:
            raise SimFailure("PIF_INCOMPATIBLE_PRIMARY_ADDRESS_TYPE", member)
    for member in members:
        pif = state.get("PIF", member)
        kinds.assert_pif_managed(member, pif)
        if kinds.is_bond_slave(state, pif):
            raise SimFailure("PIF_ALREADY_BONDED", member)
        member_kind = kinds.kind(pif)
        if member_kind is PifKind.VLAN_UNTAGGED:
            raise SimFailure("PIF_VLAN_EXISTS", pif["device"])
        if member_kind is PifKind.TUNNEL_ACCESS:
            raise SimFailure("IS_TUNNEL_ACCESS_PIF", member)
        if member_kind is PifKind.SRIOV_LOGICAL:
            raise SimFailure("PIF_IS_SRIOV_LOGICAL", member)
        if kinds.ha_enabled(state) and pif["management"]:
            raise SimFailure("HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE")
        kinds.assert_fcoe_not_in_use(state, member, pif)
    if len({state.get("PIF", m)["host"] for m in members}) > 1:
        raise SimFailure("PIF_CANNOT_BOND_CROSS_HOST")
    first_properties = state.get("PIF", members[0])["properties"]
    if any(state.get("PIF", m)["properties"] != first_properties for m in members):
        raise SimFailure("INCOMPATIBLE_PIF_PROPERTIES")
    if sum(1 for m in members if _has_ip(state.get("PIF", m))) > 1:
        raise SimFailure("PIF_BOND_MORE_THAN_ONE_IP")


def _vm_is_local(state: SimState, vm_ref: str, host: str) -> bool:
    """Resident here, or not running and unable to start on any other live host."""
    vm = state.get("VM", vm_ref)
    if vm["resident_on"] == host:
        return True
    if vm["power_state"] == "Running" or vm["resident_on"] != NULL_REF:
        return False
    for other in state.refs("host"):
        if other == host or not state.exists("host_metrics", state.get("host", other)["metrics"]):
            continue
        if state.get("host_metrics", state.get("host", other)["metrics"])["live"] \
                and unusable_network(state, vm_ref, other) is None:
            return False
    return True


def move_local_vifs(state: SimState, from_network: str, to_network: str, host: str) -> None:
    if from_network == to_network or not state.exists("network", from_network):
        return
    for vif_ref in list(state.get("network", from_network)["VIFs"]):
        vm = state.get("VIF", vif_ref)["VM"]
        if state.exists("VM", vm) and _vm_is_local(state, vm, host):
            state.set_field("VIF", vif_ref, "network", to_network)


def _copy_ip(state: SimState, source: dict[str, Any]) -> dict[str, Any]:
    return {f: source[f] for f in IP_FIELDS}


def move_vlans(state: SimState, old_base: str, new_base: str) -> None:
    """``move_vlan`` of ``xapi_bond.ml`` for every VLAN on ``old_base``: a tag the new base
    already carries keeps that VLAN (the local VIFs move to its network), else the VLAN is
    re-created over ``new_base`` (new VLAN and PIF refs, empty other_config, as
    ``Xapi_vlan.create_internal`` makes it); either way the old VLAN PIF's IP
    configuration is copied onto the new one (``move_configuration``), the old VLAN and
    its PIF are destroyed, and if it was plugged the new one is plugged, taking the
    management interface along when the old one carried it."""
    host = state.get("PIF", new_base)["host"]
    existing_tags = {state.get("VLAN", v)["tag"]: v
                     for v in state.get("PIF", new_base)["VLAN_slave_of"]}
    for vlan_ref in list(state.get("PIF", old_base)["VLAN_slave_of"]):
        vlan = state.get("VLAN", vlan_ref)
        old_pif_ref = vlan["untagged_PIF"]
        old_pif = dict(state.get("PIF", old_pif_ref)) if state.exists("PIF", old_pif_ref) else None
        tag = vlan["tag"]
        if old_pif is None:
            state.destroy("VLAN", vlan_ref)
            continue
        if tag in existing_tags:
            new_pif = state.get("VLAN", existing_tags[tag])["untagged_PIF"]
            move_local_vifs(state, old_pif["network"], state.get("PIF", new_pif)["network"],
                            host)
        else:
            device = state.get("PIF", new_base)["device"]
            _, new_pif = vlans.create_records(state, new_base, tag, old_pif["network"], device)
        state.update("PIF", new_pif, _copy_ip(state, old_pif))
        state.destroy("VLAN", vlan_ref)
        state.destroy("PIF", old_pif_ref)
        if old_pif["currently_attached"]:
            kinds.bring_up(state, new_pif)
            if old_pif["management"]:
                state.set_field("PIF", new_pif, "management", True)


def _move_tunnels(state: SimState, old_base: str, new_base: str) -> None:
    for tunnel_ref in list(state.get("PIF", old_base)["tunnel_transport_PIF_of"]):
        tunnel = state.get("tunnel", tunnel_ref)
        access = tunnel["access_PIF"]
        old = dict(state.get("PIF", access)) if state.exists("PIF", access) else None
        tunnels.destroy_records(state, tunnel_ref)
        if old is not None:
            moved = tunnels.create_records(state, new_base, old["network"],
                                           str(tunnel["protocol"]))
            if old["currently_attached"]:  # plugged again if it was plugged before the move
                kinds.bring_up(state, state.get("tunnel", moved)["access_PIF"])


@handles("Bond.create")
def create(ctx: CallContext, network: str, members: list[str], mac: str,
           mode: str = "balance-slb", properties: dict[str, str] | None = None) -> str:
    state = ctx.state
    if not members:
        raise SimFailure("PIF_BOND_NEEDS_MORE_MEMBERS")
    host = state.get("PIF", members[0])["host"]
    ctx.require_live(host)
    state.get("network", network)
    kinds.assert_network_managed(state, network)
    kinds.assert_network_not_connected(state, network, host)
    if kinds.is_sriov_network(state, network):
        raise SimFailure("NETWORK_INCOMPATIBLE_WITH_BOND", network)
    if mac and not is_mac(mac):
        raise SimFailure("MAC_INVALID", mac)
    mode = str(mode)
    bond_properties = validate_properties(mode, dict(properties or {}))
    members = list(dict.fromkeys(members))
    for member in members:
        state.get("PIF", member)
    primary = _primary_slave(state, members)
    _check_members(state, members, primary)
    return build_bond(ctx, network, members, primary, mac, mode, bond_properties)


def build_bond(ctx: CallContext, network: str, members: list[str], primary: str, mac: str,
               mode: str, properties: dict[str, str]) -> str:
    """The side effects of ``Bond.create``, in XAPI's order, with its task progress."""
    state = ctx.state
    primary_pif = dict(state.get("PIF", primary))
    host = primary_pif["host"]
    metrics = state.create("PIF_metrics", {})
    master = state.create("PIF", {
        "device": kinds.next_device(state, host, "bond", "bond_master_of"),
        "network": network, "host": host,
        "MAC": mac or primary_pif["MAC"], "MTU": -1, "VLAN": -1, "metrics": metrics,
        "physical": False, "currently_attached": False, "ip_configuration_mode": "None",
        "ipv6_configuration_mode": "None", "IPv6": [""],
        "primary_address_type": primary_pif["primary_address_type"],
        "properties": dict(primary_pif["properties"]), "managed": True, "other_config": {},
        "igmp_snooping_status": "unknown"})
    bond = state.create("Bond", {"master": master, "primary_slave": primary, "mode": mode,
                                 "properties": properties, "links_up": 0,
                                 "auto_update_mac": mac == "", "other_config": {}})
    ctx.set_progress(0.2)
    was_management = any(state.get("PIF", m)["management"] for m in members)
    disallow = any(state.get("PIF", m)["disallow_unplug"] for m in members)
    for member in members:
        state.update("PIF", member, {"bond_slave_of": bond, "disallow_unplug": False})
    state.update("PIF", master, {**_copy_ip(state, primary_pif), "disallow_unplug": disallow})
    state.update("PIF", primary, {"ip_configuration_mode": "None", "IP": "", "netmask": "",
                                  "gateway": "", "DNS": ""})
    ctx.set_progress(0.4)
    kinds.bring_up(state, master)
    if was_management:
        for member in members:
            if state.get("PIF", member)["management"]:
                state.set_field("PIF", member, "management", False)
        state.set_field("PIF", master, "management", True)
    ctx.set_progress(0.6)
    for member in members:
        move_vlans(state, member, master)
        _move_tunnels(state, member, master)
    ctx.set_progress(0.8)
    for member in members:
        move_local_vifs(state, state.get("PIF", member)["network"], network, host)
    ctx.set_progress(0.9)
    for cluster_host in state.find("Cluster_host"):
        if state.get("Cluster_host", cluster_host)["PIF"] in members:
            state.set_field("Cluster_host", cluster_host, "PIF", master)
    ctx.set_progress(1.0)
    return bond


@handles("Bond.destroy")
def destroy(ctx: CallContext, self: str) -> None:
    state = ctx.state
    bond = dict(state.get("Bond", self))
    master_ref = bond["master"]
    master = dict(state.get("PIF", master_ref))
    ctx.require_live(master["host"])
    if kinds.ha_enabled(state) and master["management"]:
        raise SimFailure("HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE")
    slaves = list(bond["slaves"])
    primary = bond["primary_slave"] if state.exists("PIF", bond["primary_slave"]) else (
        slaves[0] if slaves else NULL_REF)
    host = master["host"]
    for slave in slaves:
        state.set_field("PIF", slave, "bond_slave_of", NULL_REF)
    if primary != NULL_REF:
        state.update("PIF", primary, {**_copy_ip(state, master),
                                      "disallow_unplug": master["disallow_unplug"]})
        if master["management"] or master["currently_attached"]:
            for slave in slaves:
                kinds.bring_up(state, slave)
        if master["management"]:
            state.set_field("PIF", master_ref, "management", False)
            state.set_field("PIF", primary, "management", True)
        move_vlans(state, master_ref, primary)
        _move_tunnels(state, master_ref, primary)
        move_local_vifs(state, master["network"], state.get("PIF", primary)["network"], host)
        for cluster_host in state.find("Cluster_host", PIF=master_ref):
            state.set_field("Cluster_host", cluster_host, "PIF", primary)
    state.destroy("Bond", self)
    state.destroy("PIF", master_ref)
    if state.exists("PIF_metrics", master["metrics"]):
        state.destroy("PIF_metrics", master["metrics"])


def _replug_master(ctx: CallContext, bond: dict[str, Any]) -> None:
    """``Nm.bring_pif_up`` on the master, as ``set_mode``/``set_property`` end in
    ``xapi_bond.ml``: it brings the bond up whether or not it was plugged."""
    kinds.bring_up(ctx.state, bond["master"])


@handles("Bond.set_mode")
def set_mode(ctx: CallContext, self: str, value: str) -> None:
    """Keeps the properties valid for the new mode and adds its defaults."""
    state = ctx.state
    bond = state.get("Bond", self)
    ctx.require_live(state.get("PIF", bond["master"])["host"])
    mode = str(value)
    kept = {k: v for k, v in bond["properties"].items() if _valid_property(mode, k, v)}
    state.update("Bond", self, {"mode": mode, "properties": validate_properties(mode, kept)})
    _replug_master(ctx, bond)


@handles("Bond.set_property")
def set_property(ctx: CallContext, self: str, name: str, value: str) -> None:
    state = ctx.state
    bond = state.get("Bond", self)
    ctx.require_live(state.get("PIF", bond["master"])["host"])
    if not _valid_property(str(bond["mode"]), name, value):
        raise SimFailure("INVALID_VALUE", "properties", f"{name} = {value}")
    state.set_field("Bond", self, "properties", {**bond["properties"], name: value})
    _replug_master(ctx, bond)


__all__ = ["MODE_PROPERTIES", "build_bond", "create", "destroy", "move_local_vifs",
           "move_vlans", "set_mode", "set_property", "validate_properties"]
