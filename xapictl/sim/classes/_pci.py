"""PCI records of SR-IOV NICs: the virtual functions (VFs) and who uses them
(``xapi_pci.ml``, ``xapi_network_sriov_helpers.ml``, ``pciops.ml``).

After networkd enables SR-IOV on a NIC, ``Xapi_pci.update_pcis`` finds its VFs in sysfs and
writes a ``PCI`` record for each; after it disables them the records go. XAPI links a VF to
its physical function (PF) through ``PCI.physical_function`` / ``virtual_functions`` and marks
the VF a VM uses in ``attached_VMs`` / ``scheduled_to_be_attached_to``: all four are
``internal_only`` in the datamodel, never on the wire. The simulator keeps none of them:

* a VF belongs to the PF whose routing-ID rule gives its address (``_nics.vf_addresses``:
  first VF at the PF's devfn + 0x80, stride 2, as an Intel 82599 reports it), which is what
  the ``physfn`` link in sysfs says;
* a VF is in use by each VIF of a VM running (or paused) on the host whose network's PIF there
  sits on the PF's NIC (``reserve_sriov_vfs`` at start, released when the VM halts).

So ``network_sriov.get_remaining_capacity`` (``get_idle_vf_nums``) is the PF's VFs less the
VIFs using them, which is all a client can observe of the internal fields.
"""

from __future__ import annotations

from xapictl.sim.classes import _pif_kinds as kinds
from xapictl.sim.classes._nics import disable_vfs, enable_vfs, vf_addresses, virtual_functions
from xapictl.sim.classes._pif_kinds import PifKind
from xapictl.sim.state import NULL_REF, SimState


def underlying_pif(state: SimState, pif_ref: str) -> str | None:
    """``get_underlying_pif``: the physical PIF under an SR-IOV logical PIF or a VLAN on one;
    ``None`` for any other PIF."""
    pif = state.get("PIF", pif_ref)
    if kinds.is_vlan_on_sriov(state, pif):
        tagged = kinds.tagged_pif_of(state, pif)
        pif = tagged if tagged is not None else pif
    if kinds.kind(pif) is not PifKind.SRIOV_LOGICAL:
        return None
    sriov = pif["sriov_logical_PIF_of"][0]
    return str(state.get("network_sriov", sriov)["physical_PIF"]) \
        if state.exists("network_sriov", sriov) else None


def local_underlying_pif(state: SimState, network: str, host: str) -> str | None:
    """``get_local_underlying_pif``: the physical PIF under ``network``'s PIF on ``host``."""
    local = kinds.pif_of_network_on_host(state, network, host)
    return underlying_pif(state, local) if local is not None else None


def vfs_in_use(state: SimState, physical_pif: str) -> int:
    """VIFs of VMs running or paused on the NIC's host whose network sits on this NIC there:
    each holds one VF (``reserve_sriov_vfs``)."""
    host = state.get("PIF", physical_pif)["host"]
    used = 0
    for vm in state.all("VM").values():
        if vm["resident_on"] != host or vm["power_state"] not in ("Running", "Paused"):
            continue
        for vif_ref in vm["VIFs"]:
            network = state.get("VIF", vif_ref)["network"]
            if state.exists("network", network) and \
                    local_underlying_pif(state, network, host) == physical_pif:
                used += 1
    return used


def idle_vfs(state: SimState, physical_pif: str) -> int:
    """``Xapi_pci.get_idle_vf_nums`` of the NIC's PCI record: VFs no VM uses."""
    total = len(virtual_functions(state, state.get("PIF", physical_pif)["PCI"]))
    return max(total - vfs_in_use(state, physical_pif), 0)


def can_be_up_without_reboot(state: SimState, sriov: str) -> bool:
    """``can_be_up_without_reboot``: sysfs mode, or modprobe/manual with the logical PIF
    attached or VFs left."""
    record = state.get("network_sriov", sriov)
    mode = record["configuration_mode"]
    if mode == "sysfs":
        return True
    if mode == "unknown":
        return False
    logical = record["logical_PIF"]
    attached = state.exists("PIF", logical) and state.get("PIF", logical)["currently_attached"]
    return bool(attached) or idle_vfs(state, record["physical_PIF"]) > 0


def sriov_of(state: SimState, pif_ref: str) -> str:
    """The network_sriov of an SR-IOV logical PIF or of the one under a VLAN PIF ("" if none)."""
    pif = state.get("PIF", pif_ref)
    if kinds.is_vlan_on_sriov(state, pif):
        pif = kinds.tagged_pif_of(state, pif) or pif
    found = pif.get("sriov_logical_PIF_of", [])
    return str(found[0]) if found else NULL_REF


__all__ = ["can_be_up_without_reboot", "disable_vfs", "enable_vfs", "idle_vfs",
           "local_underlying_pif", "sriov_of", "underlying_pif", "vf_addresses", "vfs_in_use",
           "virtual_functions"]
