"""What SR-IOV networks need besides their ``network_sriov.create`` steps: one NIC model per
network, virtual functions (VFs) for the VIFs on it, and the words that report them.

XAPI puts a NIC into an SR-IOV network only if its PCI vendor and device ids are those of the
physical PIF under the network's first PIF (``assert_network_compatible_with_sriov``,
``is_device_underneath_same_type``): a network over mixed NICs fails at the first host of
another model, after the others were written. A VM starts only on a host with a free VF per
VIF it has on an SR-IOV network there (``assert_netsriov_available``:
NETWORK_SRIOV_INSUFFICIENT_CAPACITY). Both are checked here, before the first write.
"""

from __future__ import annotations

from xapictl.model.enums import VMPowerState
from xapictl.model.refs import HostRef, NetworkRef, NetworkSriovRef, PIFRef, VMRef
from xapictl.plan import identity as ident
from xapictl.plan.core import PlanWarning
from xapictl.plan.desired import VIFSpec
from xapictl.plan.diff.planner import Planner
from xapictl.state.snapshot import PoolSnapshot


def nic_model(snap: PoolSnapshot, pif: PIFRef) -> tuple[str, str] | None:
    """(PCI vendor id, device id) of a physical PIF's NIC; ``None`` when its PCI record is
    not known (not read, or the PIF has none)."""
    record = snap.pifs.get(pif)
    pci = snap.pcis.get(record.pci) if record is not None else None
    return (pci.vendor_id, pci.device_id) if pci is not None else None


def model_words(snap: PoolSnapshot, pif: PIFRef) -> str:
    pci = snap.pcis[snap.pifs[pif].pci]
    return f"{pci.vendor_name} {pci.device_name} ({pci.vendor_id}:{pci.device_id})".strip()


def first_physical(snap: PoolSnapshot, network: NetworkRef) -> PIFRef | None:
    """The physical PIF XAPI compares a new SR-IOV PIF with: the one under the network's
    first PIF (``network.PIFs`` in XAPI's order)."""
    record = snap.networks.get(network)
    first = record.pifs[0] if record is not None and record.pifs else None
    sriov = snap.sriov_under(first) if first is not None else None
    found = snap.sriovs.get(sriov) if sriov is not None else None
    return found.physical_pif if found is not None else None


def check_models(d: Planner, subject: str, reference: PIFRef | None,
                 candidates: list[PIFRef]) -> bool:
    """Every NIC to be added has the model of ``reference`` (the existing network's, else the
    first candidate's); a problem per other one. False when one was found."""
    reference = reference if reference is not None else next(iter(candidates), None)
    model = nic_model(d.snap, reference) if reference is not None else None
    if reference is None or model is None:
        return True
    ok = True
    for pif in candidates:
        other = nic_model(d.snap, pif)
        if pif == reference or other is None or other == model:
            continue
        ok = False
        d.problems.append(
            f"{subject}: {ident.pif_words(d.snap, pif)} is {model_words(d.snap, pif)}, "
            f"{ident.pif_words(d.snap, reference)} is {model_words(d.snap, reference)}; XAPI "
            "puts NICs of one model only (PCI vendor and device ids) in an SR-IOV network "
            "(NETWORK_HAS_INCOMPATIBLE_SRIOV_PIFS) and would refuse it after writing the "
            "others: give the network a device of the same model on every host")
    return ok


def vf_words(snap: PoolSnapshot, sriov: NetworkSriovRef) -> str:
    """``xcp-host-01: 7 of 8 VFs free (sysfs)``, or what keeps the NIC from having VFs."""
    record = snap.sriovs[sriov]
    pif = snap.pifs.get(record.physical_pif)
    label = ident.host_name(snap, pif.host) if pif is not None else record.physical_pif
    mode = record.configuration_mode.value
    if record.requires_reboot:
        return f"{label}: no VFs until it reboots ({mode})"
    vfs = snap.sriov_vfs(sriov)
    if vfs is None:
        return f"{label}: {mode}"
    return f"{label}: {vfs.free} of {vfs.total} VFs free ({mode})"


def vf_report(snap: PoolSnapshot, enabled: dict[HostRef, NetworkSriovRef]) -> str:
    """Per host of ``enabled``, in host order: its VFs and configuration mode."""
    order = {h: i for i, h in enumerate(snap.ordered_hosts())}
    return "; ".join(vf_words(snap, enabled[h])
                     for h in sorted(enabled, key=lambda h: order.get(h, len(order))))


def warn_bypassed_settings(d: Planner, spec: VIFSpec, subject: str) -> None:
    """Locking and QoS stated for a VIF on an SR-IOV network: XAPI stores them, but the VIF
    is a VF passed through to the guest (``xapi_xenops.ml``: backend ``Network.Sriov``), past
    the vswitch that enforces them."""
    stated = [name for name, value in (
        ("locking_mode", spec.locking_mode not in (None, "network_default")),
        ("ipv4_allowed", bool(spec.ipv4_allowed)), ("ipv6_allowed", bool(spec.ipv6_allowed)),
        ("qos_kbps", spec.qos_kbps is not None)) if value]
    if stated:
        d.warnings.append(PlanWarning(
            "vif_sriov_bypasses_vswitch", f"{subject}: {', '.join(stated)} stated on SR-IOV "
            f"network {spec.network!r}: XAPI records them, but the VIF is a virtual function "
            "passed through to the guest, past the vswitch that would enforce them"))


def check_vfs(d: Planner, spec: VIFSpec, vm: VMRef, network: NetworkRef, subject: str) -> None:
    """A new VIF on an existing SR-IOV network: the VM will start only on a host with a free
    VF for each of its VIFs there. Refused (once per VM and network) when no host has
    enough; nothing is checked when the VFs were not read."""
    snap = d.snap
    enabled = snap.sriovs_on(network)
    if not enabled or any(s not in snap.sriov_capacity for s in enabled.values()):
        return
    key = (vm, network)
    if key not in d.vf_demand:
        d.vf_demand[key] = sum(1 for v in snap.vifs.values()
                               if v.vm == vm and v.network == network)
    d.vf_demand[key] += 1
    wanted = d.vf_demand[key]
    record = snap.vms[vm]
    running = record.power_state in (VMPowerState.RUNNING, VMPowerState.PAUSED)
    held = sum(1 for v in snap.vifs.values()
               if v.vm == vm and v.network == network and v.currently_attached) if running else 0
    room = {}
    for host, sriov in enabled.items():
        vfs = snap.sriov_vfs(sriov)
        room[host] = (vfs.free if vfs is not None else 0) + (
            held if record.resident_on == host else 0)
    if max(room.values()) >= wanted or key in d.vf_refused:
        return
    d.vf_refused.add(key)
    d.problems.append(
        f"{spec.where}: vifs: {subject}: VM {spec.vm!r} would have {wanted} VIF(s) on SR-IOV "
        f"network {spec.network!r}, a VF each, and no host has that many free "
        f"({vf_report(snap, enabled)}); XAPI would refuse to start it "
        "(NETWORK_SRIOV_INSUFFICIENT_CAPACITY): free VFs (stop VMs using them) or state "
        "fewer VIFs on that network")


__all__ = ["check_models", "check_vfs", "first_physical", "model_words", "nic_model",
           "vf_report", "vf_words", "warn_bypassed_settings"]
