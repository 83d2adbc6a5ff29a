"""What VM and VIF code both need: guest capabilities, network availability on a host
(REFERENCE §3.10) and the VIF ``allowed_operations`` XAPI recomputes after every change."""

from __future__ import annotations

from typing import Any

from xapictl.sim.classes import _pif_kinds as kinds
from xapictl.sim.errors import SimFailure
from xapictl.sim.state import NULL_REF, SimState


def is_hvm(vm: dict[str, Any]) -> bool:
    if vm["domain_type"] == "unspecified":  # older records: the boot policy tells
        return bool(vm["HVM_boot_policy"])
    return bool(vm["domain_type"] == "hvm")


def guest_metrics(state: SimState, vm: dict[str, Any]) -> dict[str, Any] | None:
    ref = vm["guest_metrics"]
    return state.get("VM_guest_metrics", ref) if state.exists("VM_guest_metrics", ref) else None


def assert_vif_hotplug(state: SimState, vm_ref: str, vm: dict[str, Any]) -> None:
    """A running HVM guest needs PV drivers (or an explicit yes) to hot-plug VIFs."""
    if not is_hvm(vm):
        return
    metrics = guest_metrics(state, vm)
    hotplug = metrics["can_use_hotplug_vif"] if metrics else "unspecified"
    if hotplug == "no":
        raise SimFailure("OPERATION_NOT_ALLOWED", "VM states it does not support VIF hotplug.")
    if hotplug == "unspecified" and not (metrics and metrics["PV_drivers_detected"]):
        raise SimFailure("VM_MISSING_PV_DRIVERS", vm_ref)


def _can_hotplug(state: SimState, vm_ref: str, vm: dict[str, Any]) -> bool:
    try:
        assert_vif_hotplug(state, vm_ref, vm)
    except SimFailure:
        return False
    return True


def vif_allowed_operations(state: SimState, vif: dict[str, Any]) -> list[str]:
    if vif["current_operations"]:
        return []
    allowed = ["attach"]
    vm_ref = vif["VM"]
    if not state.exists("VM", vm_ref):
        return allowed
    vm = state.get("VM", vm_ref)
    if vm["power_state"] != "Running" or not _can_hotplug(state, vm_ref, vm):
        return allowed
    if vif["currently_attached"]:
        allowed.append("unplug")
    elif not vm["is_control_domain"]:
        allowed.append("plug")
    return allowed


def refresh_vif(state: SimState, vif_ref: str, **fields: Any) -> None:
    """Write ``fields`` and the recomputed ``allowed_operations`` as one ``mod``."""
    vif = dict(state.get("VIF", vif_ref))
    vif.update(fields)
    fields["allowed_operations"] = vif_allowed_operations(state, vif)
    state.update("VIF", vif_ref, fields)


def network_usable(state: SimState, network: str, host: str, vm: str = NULL_REF) -> bool:
    """PIF-backed networks need a PIF on the host; PIF-less ones are host-local unless shared."""
    record = state.get("network", network)
    if record["PIFs"]:
        return kinds.pif_of_network_on_host(state, network, host) is not None
    if str(record["other_config"].get("assume_network_is_shared", "")).lower() == "true":
        return True
    if not record["managed"]:
        return True
    for vif_ref in record["VIFs"]:
        other = state.get("VIF", vif_ref)["VM"]
        if other == vm or not state.exists("VM", other):
            continue
        rec = state.get("VM", other)
        if rec["power_state"] == "Running" and rec["resident_on"] not in (host, NULL_REF) \
                and not rec["is_control_domain"]:
            return False
    return True


def assert_network_attachable(state: SimState, network: str, host: str) -> None:
    """A usable network whose PIF on the host is a bond slave cannot be attached there."""
    local = kinds.pif_of_network_on_host(state, network, host)
    if local is not None and kinds.is_bond_slave(state, state.get("PIF", local)):
        raise SimFailure("HOST_CANNOT_ATTACH_NETWORK", host, network)


def attach_network(state: SimState, network: str, host: str) -> None:
    """Bring up the host's PIF on the network if it is down (VM start, VIF plug)."""
    local = kinds.pif_of_network_on_host(state, network, host)
    if local is None:
        return
    pif = state.get("PIF", local)
    if not pif["currently_attached"] and pif["managed"] and not kinds.is_bond_slave(state, pif):
        kinds.plug(state, local)


def vif_mtu(state: SimState, vif: dict[str, Any]) -> int:
    override = vif["other_config"].get("mtu")
    if override is not None and str(override).isascii() and str(override).isdigit():
        return int(override)
    network = vif["network"]
    return int(state.get("network", network)["MTU"]) if state.exists("network", network) else 1500


__all__ = ["assert_network_attachable", "assert_vif_hotplug", "attach_network", "guest_metrics",
           "is_hvm", "network_usable", "refresh_vif", "vif_allowed_operations", "vif_mtu"]
