"""``PIF``: plug/unplug, IP configuration, properties, introduce/scan/forget and the deprecated
VLAN calls, with XAPI's checks in order (REFERENCE §3.5). Every per-host call is forwarded to
``PIF.host`` first, so a dead host answers ``HOST_OFFLINE``."""

from __future__ import annotations

from typing import Any

from xapictl.sim.classes import _nics
from xapictl.sim.classes import _pif_kinds as kinds
from xapictl.sim.classes import vlan as vlans
from xapictl.sim.classes._addresses import (
    is_ipv4,
    is_ipv6,
    is_ipv6_cidr,
    is_mac,
    split_dns,
)
from xapictl.sim.classes._pif_kinds import PifKind
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import CallContext, handles
from xapictl.sim.state import NULL_REF, SimState


def _forwarded(ctx: CallContext, pif_ref: str) -> dict[str, Any]:
    pif = ctx.state.get("PIF", pif_ref)
    ctx.require_live(pif["host"])
    return pif


@handles("PIF.plug")
def plug(ctx: CallContext, self: str) -> None:
    _forwarded(ctx, self)
    kinds.plug(ctx.state, self)


@handles("PIF.unplug")
def unplug(ctx: CallContext, self: str) -> None:
    _forwarded(ctx, self)
    kinds.unplug(ctx.state, self)


def _replug(state: SimState, pif_ref: str) -> None:
    """XAPI brings an attached PIF down and up again after reconfiguring it: two ``mod``s."""
    if state.get("PIF", pif_ref)["currently_attached"]:
        state.set_field("PIF", pif_ref, "currently_attached", False)
        kinds.bring_up(state, pif_ref)


def _assert_reconfigurable(state: SimState, pif_ref: str, pif: dict[str, Any]) -> None:
    if pif["currently_attached"]:
        kinds.assert_no_protection(state)
    assert_no_enabled_cluster_host(state, pif_ref)


def assert_no_enabled_cluster_host(state: SimState, pif_ref: str) -> None:
    for ref, cluster_host in state.all("Cluster_host").items():
        if cluster_host.get("PIF") == pif_ref and cluster_host.get("enabled"):
            raise SimFailure("CLUSTERING_ENABLED", ref)


def assert_no_cluster_operation(state: SimState) -> None:
    """A cluster being enabled or joined may be choosing this PIF: wait for it to finish."""
    for ref, cluster in state.all("Cluster").items():
        for task, op in cluster["current_operations"].items():
            if op in ("enable", "add"):
                raise SimFailure("OTHER_OPERATION_IN_PROGRESS", "Cluster", ref, op, task)


@handles("PIF.reconfigure_ip")
def reconfigure_ip(ctx: CallContext, self: str, mode: str, ip: str, netmask: str,
                   gateway: str, dns: str) -> None:
    state, mode = ctx.state, str(mode)
    pif = _forwarded(ctx, self)
    kinds.assert_pif_managed(self, pif)
    dns_only = (mode == "Static" and pif["ip_configuration_mode"] == "Static"
                and (pif["IP"], pif["netmask"], pif["gateway"]) == (ip, netmask, gateway))
    if not dns_only:
        _assert_reconfigurable(state, self, pif)
    if mode == "Static":
        if not is_ipv4(ip):
            raise SimFailure("INVALID_IP_ADDRESS_SPECIFIED", "IP")
        if not is_ipv4(netmask):
            raise SimFailure("INVALID_IP_ADDRESS_SPECIFIED", "netmask")
    for name, value in (("IP", ip), ("netmask", netmask), ("gateway", gateway)):
        if value and not is_ipv4(value):
            raise SimFailure("INVALID_IP_ADDRESS_SPECIFIED", name)
    if pif["management"] and mode == "None" and pif["primary_address_type"] == "IPv4":
        raise SimFailure("PIF_IS_MANAGEMENT_INTERFACE", self)
    new_v4, _ = split_dns(dns)
    _, old_v6 = split_dns(pif["DNS"])
    state.update("PIF", self, {"ip_configuration_mode": mode, "IP": ip, "netmask": netmask,
                               "gateway": gateway, "DNS": ",".join(new_v4 + old_v6)})
    _replug(state, self)


@handles("PIF.reconfigure_ipv6")
def reconfigure_ipv6(ctx: CallContext, self: str, mode: str, ipv6: str, gateway: str,
                     dns: str) -> None:
    state, mode = ctx.state, str(mode)
    pif = _forwarded(ctx, self)
    kinds.assert_pif_managed(self, pif)
    dns_only = (mode == "Static" and pif["ipv6_configuration_mode"] == "Static"
                and pif["IPv6"] == [ipv6] and pif["ipv6_gateway"] == gateway)
    if not dns_only:
        _assert_reconfigurable(state, self, pif)
    if gateway and not is_ipv6(gateway):
        raise SimFailure("INVALID_IP_ADDRESS_SPECIFIED", "gateway")
    if ipv6 and not is_ipv6_cidr(ipv6):
        raise SimFailure("INVALID_CIDR_ADDRESS_SPECIFIED", "IPv6")
    if pif["management"] and mode == "None" and pif["primary_address_type"] == "IPv6":
        raise SimFailure("PIF_IS_MANAGEMENT_INTERFACE", self)
    _, new_v6 = split_dns(dns)
    old_v4, _ = split_dns(pif["DNS"])
    state.update("PIF", self, {"ipv6_configuration_mode": mode, "IPv6": [ipv6],
                               "ipv6_gateway": gateway, "DNS": ",".join(new_v6 + old_v4)})
    _replug(state, self)


@handles("PIF.set_primary_address_type")
def set_primary_address_type(ctx: CallContext, self: str, primary_address_type: str) -> None:
    pif = _forwarded(ctx, self)
    if pif["currently_attached"]:
        kinds.assert_no_protection(ctx.state)
    if pif["management"]:
        raise SimFailure("PIF_IS_MANAGEMENT_INTERFACE", self)
    ctx.state.set_field("PIF", self, "primary_address_type", str(primary_address_type))


@handles("PIF.set_property")
def set_property(ctx: CallContext, self: str, name: str, value: str) -> None:
    state = ctx.state
    pif = _forwarded(ctx, self)
    if name != "gro" or value not in ("on", "off"):
        raise SimFailure("INVALID_VALUE", "properties", f"{name} = {value}")
    pif_kind = kinds.kind(pif)
    if not (pif_kind is PifKind.BOND_MASTER
            or (pif_kind is PifKind.PHYSICAL and not kinds.is_bond_slave(state, pif))):
        raise SimFailure("CANNOT_CHANGE_PIF_PROPERTIES", self)
    properties = {**pif["properties"], name: value}
    state.set_field("PIF", self, "properties", properties)
    for bond in pif["bond_master_of"]:
        for slave in state.get("Bond", bond)["slaves"]:
            state.set_field("PIF", slave, "properties", dict(properties))
    _replug(state, self)
    for vlan in pif["VLAN_slave_of"]:
        untagged = state.get("VLAN", vlan)["untagged_PIF"]
        if state.exists("PIF", untagged):
            _replug(state, untagged)


@handles("PIF.set_disallow_unplug")
def set_disallow_unplug(ctx: CallContext, self: str, value: bool) -> None:
    state = ctx.state
    pif = state.get("PIF", self)
    if bool(pif["disallow_unplug"]) == bool(value):
        return
    if not value:
        assert_no_cluster_operation(state)
        assert_no_enabled_cluster_host(state, self)
    state.set_field("PIF", self, "disallow_unplug", bool(value))


# --- introduce / scan / forget -----------------------------------------------------------


def network_for_nic(state: SimState, nic: _nics.Nic, managed: bool) -> str:
    """Physical networks are pool-wide by bridge name: ``xenbr<pos>`` is shared by every host.
    XAPI names them after the position networkd reports (REFERENCE §3.5 ``PIF.introduce``)."""
    bridge = f"xenbr{nic.position}" if managed else ""
    if bridge:
        existing = state.find_one("network", bridge=bridge)
        if existing is not None:
            return existing
    return state.create("network", {
        "name_label": f"Pool-wide network {nic.position}",
        "name_description": "", "MTU": 1500, "bridge": bridge, "managed": managed,
        "other_config": {}})


def introduce_pif(state: SimState, host: str, nic: _nics.Nic, managed: bool = True) -> str:
    """The PIF (and its metrics and, if new, its network) that XAPI makes for a NIC."""
    network = network_for_nic(state, nic, managed)
    metrics = state.create("PIF_metrics", {
        "carrier": nic.carrier, "speed": nic.speed, "duplex": nic.carrier,
        "vendor_name": nic.vendor_name, "device_name": nic.device_name})
    return state.create("PIF", {
        "device": nic.device, "network": network, "host": host, "MAC": nic.mac.lower(),
        "MTU": nic.mtu, "VLAN": -1, "metrics": metrics, "physical": True,
        "currently_attached": False, "ip_configuration_mode": "None",
        "ipv6_configuration_mode": "None", "IPv6": [], "managed": managed,
        "properties": {"gro": "on"}, "primary_address_type": "IPv4",
        "igmp_snooping_status": "unknown"})


@handles("PIF.introduce")
def introduce(ctx: CallContext, host: str, mac: str, device: str, managed: bool = True) -> str:
    state = ctx.state
    state.get("host", host)
    ctx.require_live(host)
    nics = _nics.of_host(state, host)
    mac = mac.lower()
    if not mac:
        mac = next((n.mac for n in nics if n.device == device), "")
    if not is_mac(mac):
        raise SimFailure("MAC_INVALID", mac)
    if any(p["host"] == host and p["physical"] and p["device"] == device
           for p in state.all("PIF").values()):
        raise SimFailure("DUPLICATE_PIF_DEVICE_NAME", device)
    nic = next((n for n in nics if n.device == device and n.mac.lower() == mac), None)
    if nic is None:
        raise SimFailure(
            "COULD_NOT_FIND_NETWORK_INTERFACE_WITH_SPECIFIED_DEVICE_NAME_AND_MAC_ADDRESS",
            device, mac)
    return introduce_pif(state, host, nic, bool(managed))


@handles("PIF.scan")
def scan(ctx: CallContext, host: str) -> None:
    """Introduces every NIC without a PIF; never deletes PIFs."""
    state = ctx.state
    state.get("host", host)
    ctx.require_live(host)
    have = {p["device"] for p in state.all("PIF").values() if p["host"] == host and p["physical"]}
    for nic in _nics.of_host(state, host):
        if nic.device not in have:
            introduce_pif(state, host, nic)


def forget_pif(state: SimState, pif_ref: str) -> None:
    pif = state.get("PIF", pif_ref)
    if pif["management"]:
        raise SimFailure("PIF_IS_MANAGEMENT_INTERFACE", pif_ref)
    if kinds.is_bond_slave(state, pif) or pif["bond_master_of"]:
        raise SimFailure("PIF_ALREADY_BONDED", pif_ref)
    if pif["VLAN_slave_of"] or pif["VLAN_master_of"] != NULL_REF:
        raise SimFailure("PIF_VLAN_STILL_EXISTS", pif_ref)
    if pif["tunnel_transport_PIF_of"] or pif["tunnel_access_PIF_of"]:
        raise SimFailure("PIF_TUNNEL_STILL_EXISTS", pif_ref)
    if pif["currently_attached"]:
        kinds.assert_no_protection(state)
    if pif["sriov_logical_PIF_of"]:
        raise SimFailure("CANNOT_FORGET_SRIOV_LOGICAL", pif_ref)
    if pif["sriov_physical_PIF_of"]:
        raise SimFailure("PIF_SRIOV_STILL_EXISTS", pif_ref)
    assert_no_enabled_cluster_host(state, pif_ref)
    if pif["physical"]:
        # Remember the NIC: it is still in the host after its PIF is forgotten.
        _nics.add(state, pif["host"], next(
            n for n in _nics.of_host(state, pif["host"]) if n.device == pif["device"]))
    metrics = pif["metrics"]
    state.destroy("PIF", pif_ref)
    shared = any(p["metrics"] == metrics for p in state.all("PIF").values())
    if state.exists("PIF_metrics", metrics) and not shared:
        state.destroy("PIF_metrics", metrics)


@handles("PIF.forget")
def forget(ctx: CallContext, self: str) -> None:
    _forwarded(ctx, self)
    forget_pif(ctx.state, self)


@handles("PIF.db_forget")
def db_forget(ctx: CallContext, self: str) -> None:
    ctx.state.get("PIF", self)
    ctx.state.destroy("PIF", self)


@handles("PIF.db_introduce")
@handles("PIF.pool_introduce")
def db_introduce(ctx: CallContext, device: str, network: str, host: str, mac: str, mtu: int,
                 vlan: int, physical: bool, ip_configuration_mode: str, ip: str, netmask: str,
                 gateway: str, dns: str, bond_slave_of: str, vlan_master_of: str,
                 management: bool, other_config: dict[str, str], disallow_unplug: bool = False,
                 ipv6_configuration_mode: str = "None", ipv6: list[str] | None = None,
                 ipv6_gateway: str = "", primary_address_type: str = "IPv4",
                 managed: bool = True, properties: dict[str, str] | None = None) -> str:
    """A raw record: forced unplugged and unbonded, with fresh metrics."""
    state = ctx.state
    metrics = state.create("PIF_metrics", {})
    return state.create("PIF", {
        "device": device, "network": network, "host": host, "MAC": mac, "MTU": int(mtu),
        "VLAN": int(vlan), "metrics": metrics, "physical": bool(physical),
        "currently_attached": False, "ip_configuration_mode": str(ip_configuration_mode),
        "IP": ip, "netmask": netmask, "gateway": gateway, "DNS": dns,
        "bond_slave_of": NULL_REF, "VLAN_master_of": vlan_master_of,
        "management": bool(management), "other_config": dict(other_config),
        "disallow_unplug": bool(disallow_unplug),
        "ipv6_configuration_mode": str(ipv6_configuration_mode), "IPv6": list(ipv6 or []),
        "ipv6_gateway": ipv6_gateway, "primary_address_type": str(primary_address_type),
        "managed": bool(managed), "properties": dict(properties or {})})


# --- deprecated VLAN calls ------------------------------------------------------------------


def create_vlan_on_device(state: SimState, device: str, network: str, host: str,
                          tag: int) -> str:
    """``PIF.create_VLAN`` after forwarding: the host's non-VLAN PIF with that device."""
    base = next((ref for ref, p in state.all("PIF").items()
                 if p["host"] == host and p["device"] == device and p["VLAN"] == -1), None)
    if base is None:
        raise SimFailure("INVALID_VALUE", "device", device)
    vlan = vlans.create_vlan(state, base, tag, network)
    return str(state.get("VLAN", vlan)["untagged_PIF"])


@handles("PIF.create_VLAN")
def create_vlan(ctx: CallContext, device: str, network: str, host: str, vlan: int) -> str:
    ctx.state.get("host", host)
    ctx.require_live(host)
    return create_vlan_on_device(ctx.state, device, network, host, int(vlan))


def destroy_vlan_pif(state: SimState, pif_ref: str) -> None:
    pif = state.get("PIF", pif_ref)
    if pif["VLAN"] < 0:
        raise SimFailure("PIF_IS_PHYSICAL")
    vlans.destroy_vlan(state, pif["VLAN_master_of"])


@handles("PIF.destroy")
def destroy(ctx: CallContext, self: str) -> None:
    _forwarded(ctx, self)
    destroy_vlan_pif(ctx.state, self)


__all__ = [
    "assert_no_cluster_operation", "assert_no_enabled_cluster_host", "create_vlan",
    "create_vlan_on_device", "db_forget", "db_introduce", "destroy",
    "destroy_vlan_pif", "forget", "forget_pif", "introduce", "introduce_pif",
    "network_for_nic", "plug", "reconfigure_ip", "reconfigure_ipv6", "scan",
    "set_disallow_unplug", "set_primary_address_type", "set_property", "unplug",
]
