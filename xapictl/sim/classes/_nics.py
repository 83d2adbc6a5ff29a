"""The physical NICs each simulated host has, which ``PIF.introduce`` and ``PIF.scan`` look up,
and the virtual functions an SR-IOV NIC shows once enabled (a ``PCI`` record each).

XAPI asks networkd; the simulator keeps an inventory per state, filled by the scenarios. After a
state is reloaded from a file the inventory is rebuilt from the physical PIFs that exist.
"""

from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass

from xapictl.sim.state import SimState


@dataclass(frozen=True, slots=True)
class Nic:
    device: str
    mac: str
    position: int
    """The NIC's position as networkd reports it: bridge ``xenbr<position>``."""
    speed: int = 1000
    mtu: int = 1500
    """The MTU the device reports; ``PIF.introduce`` copies it."""
    carrier: bool = True
    vendor_name: str = "Intel Corporation"
    device_name: str = "82599ES 10-Gigabit SFI/SFP+ Network Connection"
    sriov_enable: str = "sysfs"
    """What networkd's ``Sriov.enable`` answers for this NIC: ``sysfs``, ``modprobe``,
    ``modprobe_requires_reboot`` or ``manual`` (``xapi_network_sriov_helpers.ml``)."""
    vfs: int = 8  # DEFAULT_VFS
    """The virtual functions networkd enables on this NIC (sysfs ``sriov_numvfs``)."""


_inventory: weakref.WeakKeyDictionary[SimState, dict[str, list[Nic]]] = (
    weakref.WeakKeyDictionary())


def add(state: SimState, host: str, nic: Nic) -> None:
    nics = _inventory.setdefault(state, {}).setdefault(host, [])
    if all(n.device != nic.device for n in nics):
        nics.append(nic)


def forget_all(state: SimState) -> None:
    """Drop the inventory (the state is about to be rebuilt)."""
    _inventory.pop(state, None)
    _kernel_vlans.pop(state, None)
    _fcoe_luns.pop(state, None)


# Host state XAPI asks networkd / the FCoE driver about and never stores in its database.
_kernel_vlans: weakref.WeakKeyDictionary[SimState, dict[tuple[str, str], set[int]]] = (
    weakref.WeakKeyDictionary())
_fcoe_luns: weakref.WeakKeyDictionary[SimState, dict[tuple[str, str], tuple[str, ...]]] = (
    weakref.WeakKeyDictionary())


def add_kernel_vlan(state: SimState, host: str, device: str, tag: int) -> None:
    """A VLAN the host kernel has on ``device`` outside XAPI (``VLAN.create`` answers
    ``VLAN_IN_USE`` for it)."""
    _kernel_vlans.setdefault(state, {}).setdefault((host, device), set()).add(int(tag))


def has_kernel_vlan(state: SimState, host: str, device: str, tag: int) -> bool:
    return int(tag) in _kernel_vlans.get(state, {}).get((host, device), set())


def set_fcoe_luns(state: SimState, host: str, device: str, scsi_ids: tuple[str, ...]) -> None:
    """The SCSI ids the FCoE driver reports on ``device`` (``fcoe_driver -t <device>``)."""
    _fcoe_luns.setdefault(state, {})[(host, device)] = tuple(scsi_ids)


def fcoe_luns(state: SimState, host: str, device: str) -> tuple[str, ...]:
    return _fcoe_luns.get(state, {}).get((host, device), ())


def of_host(state: SimState, host: str) -> list[Nic]:
    """The host's NICs: the inventory, plus any physical PIF it does not know (reloaded state)."""
    nics = list(_inventory.get(state, {}).get(host, []))
    known = {n.device for n in nics}
    for pif in state.all("PIF").values():
        if pif["host"] == host and pif["physical"] and pif["device"] not in known:
            position = _position_from_bridge(state, pif["network"], len(nics))
            mtu = int(pif["MTU"]) if int(pif["MTU"]) > 0 else 1500
            nics.append(Nic(pif["device"], str(pif["MAC"]).lower(), position, mtu=mtu))
            known.add(pif["device"])
    return nics


def sriov_enable_result(state: SimState, host: str, device: str) -> str:
    """``Net.Sriov.enable``'s answer for ``device`` of ``host`` (``sysfs`` if unknown)."""
    return next((n.sriov_enable for n in _inventory.get(state, {}).get(host, [])
                 if n.device == device), "sysfs")


DEFAULT_VFS = 8
MAX_VFS = 64
"""At most this many VFs per NIC (the 82599's ``sriov_totalvfs`` is 63)."""


def vf_count(state: SimState, host: str, device: str) -> int:
    """How many VFs enabling SR-IOV on ``device`` of ``host`` makes (8 if unknown)."""
    return next((min(n.vfs, MAX_VFS) for n in _inventory.get(state, {}).get(host, [])
                 if n.device == device), DEFAULT_VFS)


def set_vf_count(state: SimState, host: str, device: str, count: int) -> None:
    """Make ``device`` of ``host`` enable ``count`` VFs (from the next enable on)."""
    _replace(state, host, device, vfs=count)


# --- virtual functions: what sysfs shows once the driver enabled them ------------------------

VF_OFFSET = 0x80
"""First VF's routing ID minus the PF's (``sriov_offset`` in sysfs)."""
VF_STRIDE = 2
"""Routing-ID step between VFs (``sriov_stride``): the two ports of a NIC interleave."""
VF_DEVICE = {"device_id": "10ed", "device_name": "82599 Ethernet Controller Virtual Function",
             "driver_name": "ixgbevf"}
"""What the VFs of the scenarios' Intel 82599 NICs report (``PCI`` fields)."""


def vf_addresses(pf_pci_id: str, count: int) -> list[str]:
    """The ``count`` VF addresses of the PF at ``pf_pci_id`` (``dddd:bb:dd.f``); an
    unreadable PF address counts as ``0000:00:00.0``."""
    try:
        domain, bus, slot_fn = pf_pci_id.split(":")
        slot, fn = slot_fn.split(".")
        base = (int(bus, 16) << 8) | (int(slot, 16) << 3) | int(fn)
    except ValueError:
        domain, base = "0000", 0
    found = []
    for index in range(count):
        rid = base + VF_OFFSET + index * VF_STRIDE
        found.append(f"{domain}:{(rid >> 8) & 0xff:02x}:{(rid >> 3) & 0x1f:02x}.{rid & 7}")
    return found


def virtual_functions(state: SimState, pf: str) -> list[str]:
    """The VF ``PCI`` records of the PF ``pf`` (XAPI's internal ``virtual_functions``)."""
    if not state.exists("PCI", pf):
        return []
    record = state.get("PCI", pf)
    addresses = set(vf_addresses(record["pci_id"], MAX_VFS))
    return [ref for ref, pci in state.all("PCI").items()
            if ref != pf and pci["host"] == record["host"] and pci["pci_id"] in addresses]


def enable_vfs(state: SimState, physical_pif: str) -> None:
    """``update_pcis`` after networkd enabled the NIC's VFs: one ``PCI`` record per VF."""
    pif = state.get("PIF", physical_pif)
    pf = pif["PCI"]
    if not state.exists("PCI", pf) or virtual_functions(state, pf):
        return
    record = state.get("PCI", pf)
    count = vf_count(state, pif["host"], pif["device"])
    for address in vf_addresses(record["pci_id"], count):
        state.create("PCI", {
            "class_id": record["class_id"], "class_name": record["class_name"],
            "vendor_id": record["vendor_id"], "vendor_name": record["vendor_name"],
            **VF_DEVICE, "host": record["host"], "pci_id": address})


def disable_vfs(state: SimState, physical_pif: str) -> None:
    """``update_pcis`` after networkd disabled the NIC's VFs: their records go."""
    for vf in virtual_functions(state, state.get("PIF", physical_pif)["PCI"]):
        state.destroy("PCI", vf)


def set_sriov_enable_result(state: SimState, host: str, device: str, result: str) -> None:
    """Make ``device`` of ``host`` answer ``result`` when SR-IOV is enabled on it."""
    _replace(state, host, device, sriov_enable=result)


def _replace(state: SimState, host: str, device: str, **fields: str | int) -> None:
    nics = _inventory.setdefault(state, {}).setdefault(host, [])
    if all(n.device != device for n in nics):
        nics.extend(n for n in of_host(state, host) if n.device == device)
    for index, nic in enumerate(nics):
        if nic.device == device:
            nics[index] = dataclasses.replace(nic, **fields)  # type: ignore[arg-type]
            return
    raise KeyError(f"no NIC {device} on {host}")


def _position_from_bridge(state: SimState, network: str, fallback: int) -> int:
    if state.exists("network", network):
        bridge = str(state.get("network", network)["bridge"])
        if bridge.startswith("xenbr") and bridge[5:].isdigit():
            return int(bridge[5:])
    return fallback


__all__ = ["DEFAULT_VFS", "MAX_VFS", "VF_DEVICE", "VF_OFFSET", "VF_STRIDE", "Nic", "add",
           "add_kernel_vlan", "disable_vfs", "enable_vfs", "fcoe_luns", "forget_all",
           "has_kernel_vlan", "of_host", "set_fcoe_luns", "set_sriov_enable_result",
           "set_vf_count", "sriov_enable_result", "vf_addresses", "vf_count",
           "virtual_functions"]
