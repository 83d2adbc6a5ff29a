"""``VM``: enough of the life cycle for networking work (REFERENCE §2.4 VM, §3.10).

Power-state changes are state changes only; what matters is what follows them: ``resident_on``
and ``domid``, the host's networks attached at start (``VM_REQUIRES_NETWORK`` when a network
has no PIF there), and the VIFs' ``currently_attached`` and ``allowed_operations``.
"""

from __future__ import annotations

import uuid
from typing import Any

from xapictl.sim.classes import _guests as guests
from xapictl.sim.classes import _pci
from xapictl.sim.classes import _pif_kinds as kinds
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import CallContext, handles
from xapictl.sim.state import NULL_REF, SimState

# The power states each operation starts from, in XAPI's order (for VM_BAD_POWER_STATE).
ALLOWED_FROM = {
    "start": ("Halted",),
    "clean_shutdown": ("Running",),
    "hard_shutdown": ("Paused", "Suspended", "Running"),
    "clean_reboot": ("Running",),
    "hard_reboot": ("Paused", "Running"),
    "suspend": ("Running",),
    "resume": ("Suspended",),
    "pause": ("Running",),
    "unpause": ("Paused",),
    "destroy": ("Halted", "Suspended"),
}


# Operations that need the guest's cooperation: an HVM guest needs PV drivers for them.
NEEDS_PV_DRIVERS = frozenset({"clean_shutdown", "clean_reboot", "suspend"})


def assert_power_state(vm_ref: str, vm: dict[str, Any], operation: str,
                       state: SimState | None = None) -> None:
    allowed = ALLOWED_FROM[operation]
    if vm["power_state"] not in allowed:
        raise SimFailure("VM_BAD_POWER_STATE", vm_ref, ", ".join(s.lower() for s in allowed),
                         str(vm["power_state"]).lower())
    if state is not None and operation in NEEDS_PV_DRIVERS and guests.is_hvm(vm):
        metrics = guests.guest_metrics(state, vm)
        if not (metrics and metrics["PV_drivers_detected"]):
            raise SimFailure("VM_MISSING_PV_DRIVERS", vm_ref)


@handles("VM.create")
def create(ctx: CallContext, args: dict[str, Any]) -> str:
    """A halted VM from the settable fields; XAPI always adds a random ``mac_seed``."""
    info = ctx.state.class_info("VM")
    fields = {name: value for name, value in args.items()
              if name in info.fields and info.fields[name].qualifier != "RO/runtime"}
    other_config = dict(fields.get("other_config", {}))
    other_config.setdefault("mac_seed", str(uuid.uuid4()))
    metrics = ctx.state.create("VM_metrics", {})
    fields.update(other_config=other_config, power_state="Halted", domid=-1, metrics=metrics)
    return ctx.state.create("VM", fields)


def unusable_network(state: SimState, vm_ref: str, host: str) -> str | None:
    """The first network of the VM's VIFs that cannot be used on ``host``."""
    for vif_ref in state.get("VM", vm_ref)["VIFs"]:
        network = state.get("VIF", vif_ref)["network"]
        if state.exists("network", network) and not guests.network_usable(
                state, network, host, vm_ref):
            return str(network)
    return None


def assert_can_boot_on(state: SimState, vm_ref: str, host: str) -> None:
    missing = unusable_network(state, vm_ref, host)
    if missing is not None:
        raise SimFailure("VM_REQUIRES_NETWORK", vm_ref, missing)
    for vif_ref in state.get("VM", vm_ref)["VIFs"]:
        network = state.get("VIF", vif_ref)["network"]
        if state.exists("network", network):
            guests.assert_network_attachable(state, network, host)
    assert_netsriov_available(state, vm_ref, host)


def sriov_networks(state: SimState, vm_ref: str) -> list[str]:
    """``get_sriov_networks_from_vm``: the networks of the VM's VIFs that are SR-IOV ones."""
    networks = (state.get("VIF", v)["network"] for v in state.get("VM", vm_ref)["VIFs"])
    return [str(n) for n in networks
            if state.exists("network", n) and kinds.is_sriov_network(state, n)]


def assert_netsriov_available(state: SimState, vm_ref: str, host: str) -> None:
    """``Xapi_vm_helpers.assert_netsriov_available``: per SR-IOV network, the VIFs on it need
    as many idle VFs of the NIC under the network's PIF on ``host``."""
    required: dict[str, tuple[int, str]] = {}
    for vif_ref in state.get("VM", vm_ref)["VIFs"]:
        network = str(state.get("VIF", vif_ref)["network"])
        if network in required:
            count, pif = required[network]
            required[network] = (count + 1, pif)
            continue
        pif_ref = _pci.local_underlying_pif(state, network, host) \
            if state.exists("network", network) else None
        if pif_ref is not None:
            required[network] = (1, pif_ref)
    for network, (count, pif_ref) in required.items():
        if _pci.idle_vfs(state, pif_ref) < count:
            raise SimFailure("NETWORK_SRIOV_INSUFFICIENT_CAPACITY", network)


def sriov_host_groups(state: SimState, network: str) -> list[list[str]]:
    """``group_hosts_by_best_sriov``: hosts whose PIF on the network is attached and has idle
    VFs, grouped by that number (most first), then those whose SR-IOV can come up without a
    reboot."""
    attached: dict[int, list[str]] = {}
    unattached: list[str] = []
    for pif_ref in state.get("network", network)["PIFs"]:
        pif = state.get("PIF", pif_ref)
        if pif["currently_attached"]:
            physical = _pci.underlying_pif(state, pif_ref)
            idle = _pci.idle_vfs(state, physical) if physical is not None else 0
            if idle:
                attached.setdefault(idle, []).append(str(pif["host"]))
        elif _pci.can_be_up_without_reboot(state, _pci.sriov_of(state, pif_ref)):
            unattached.append(str(pif["host"]))
    groups = [attached[n] for n in sorted(attached, reverse=True)]
    return [*groups, unattached] if unattached else groups


def choose_host(ctx: CallContext, vm_ref: str) -> str:
    """Affinity first, then the master, then the other live hosts; the first one's error wins.
    A VM with SR-IOV VIFs tries the hosts of its first SR-IOV network by most idle VFs
    (``choose_host_for_vm_no_wlb``), and none is NETWORK_SRIOV_INSUFFICIENT_CAPACITY."""
    state = ctx.state
    vm = state.get("VM", vm_ref)
    order = [vm["affinity"], ctx.master(), *state.refs("host")]
    networks = sriov_networks(state, vm_ref)
    if networks:
        groups = sriov_host_groups(state, networks[0])
        if not groups:
            raise SimFailure("NETWORK_SRIOV_INSUFFICIENT_CAPACITY", networks[0])
        order = [h for group in groups for h in order if h in group]
    candidates = [h for h in dict.fromkeys(order)
                  if state.exists("host", h) and ctx.host_is_live(h)
                  and state.get("host", h)["enabled"]]
    first_error: SimFailure | None = None
    for host in candidates:
        try:
            assert_can_boot_on(state, vm_ref, host)
        except SimFailure as failure:
            first_error = first_error or failure
            continue
        return str(host)
    if first_error is not None:
        raise first_error
    raise SimFailure("NO_HOSTS_AVAILABLE")


def _next_domid(state: SimState, host: str) -> int:
    domids = [int(rec["domid"]) for rec in state.all("VM").values() if rec["resident_on"] == host]
    return max(domids, default=0) + 1


def _run_on(state: SimState, vm_ref: str, host: str, paused: bool) -> None:
    """Attach the VM's networks on ``host`` and plug its VIFs."""
    for vif_ref in state.get("VM", vm_ref)["VIFs"]:
        network = state.get("VIF", vif_ref)["network"]
        if state.exists("network", network):
            guests.attach_network(state, network, host)
    state.update("VM", vm_ref, {"power_state": "Paused" if paused else "Running",
                                "resident_on": host, "domid": _next_domid(state, host),
                                "scheduled_to_be_resident_on": NULL_REF})
    for vif_ref in state.get("VM", vm_ref)["VIFs"]:
        vif = state.get("VIF", vif_ref)
        guests.refresh_vif(state, vif_ref, currently_attached=True,
                           MTU=guests.vif_mtu(state, vif))


def _stop(state: SimState, vm_ref: str, power_state: str) -> None:
    """Halted VMs lose their VIF attachments; suspended ones keep them for resume."""
    state.update("VM", vm_ref, {"power_state": power_state, "resident_on": NULL_REF,
                                "domid": -1})
    for vif_ref in state.get("VM", vm_ref)["VIFs"]:
        attached = power_state == "Suspended" and state.get("VIF", vif_ref)["currently_attached"]
        guests.refresh_vif(state, vif_ref, currently_attached=attached)


def _refresh_vifs(state: SimState, vm_ref: str) -> None:
    for vif_ref in state.get("VM", vm_ref)["VIFs"]:
        guests.refresh_vif(state, vif_ref)


def _assert_sriov_licensed(state: SimState, vm_ref: str) -> None:
    """``Xapi_vm.start``: a VM with SR-IOV VIFs needs the Network_sriov feature."""
    pool = kinds.pool_record(state)
    restricted = pool is not None and str(pool["restrictions"].get(
        "restrict_network_sriov", "false")).lower() == "true"
    if restricted and sriov_networks(state, vm_ref):
        raise SimFailure("LICENCE_RESTRICTION", "Network_sriov")


@handles("VM.start")
def start(ctx: CallContext, vm: str, start_paused: bool, force: bool) -> None:
    assert_power_state(vm, ctx.state.get("VM", vm), "start")
    _assert_sriov_licensed(ctx.state, vm)
    _run_on(ctx.state, vm, choose_host(ctx, vm), bool(start_paused))


@handles("VM.start_on")
def start_on(ctx: CallContext, vm: str, host: str, start_paused: bool, force: bool) -> None:
    assert_power_state(vm, ctx.state.get("VM", vm), "start")
    _assert_sriov_licensed(ctx.state, vm)
    ctx.state.get("host", host)
    ctx.require_live(host)
    assert_can_boot_on(ctx.state, vm, host)
    _run_on(ctx.state, vm, host, bool(start_paused))


@handles("VM.resume")
def resume(ctx: CallContext, vm: str, start_paused: bool, force: bool) -> None:
    assert_power_state(vm, ctx.state.get("VM", vm), "resume")
    _run_on(ctx.state, vm, choose_host(ctx, vm), bool(start_paused))


@handles("VM.resume_on")
def resume_on(ctx: CallContext, vm: str, host: str, start_paused: bool, force: bool) -> None:
    assert_power_state(vm, ctx.state.get("VM", vm), "resume")
    ctx.state.get("host", host)
    ctx.require_live(host)
    assert_can_boot_on(ctx.state, vm, host)
    _run_on(ctx.state, vm, host, bool(start_paused))


def _shutdown(ctx: CallContext, vm: str, operation: str) -> None:
    record = ctx.state.get("VM", vm)
    assert_power_state(vm, record, operation, ctx.state)
    if record["resident_on"] != NULL_REF:
        ctx.require_live(record["resident_on"])
    _stop(ctx.state, vm, "Halted")


@handles("VM.hard_shutdown")
def hard_shutdown(ctx: CallContext, vm: str) -> None:
    _shutdown(ctx, vm, "hard_shutdown")


@handles("VM.clean_shutdown")
def clean_shutdown(ctx: CallContext, vm: str) -> None:
    _shutdown(ctx, vm, "clean_shutdown")


@handles("VM.shutdown")
def shutdown(ctx: CallContext, vm: str) -> None:
    """Clean shutdown, falling back to hard: for the simulator both end Halted."""
    _shutdown(ctx, vm, "hard_shutdown")


@handles("VM.suspend")
def suspend(ctx: CallContext, vm: str) -> None:
    assert_power_state(vm, ctx.state.get("VM", vm), "suspend", ctx.state)
    _stop(ctx.state, vm, "Suspended")


def _reboot(ctx: CallContext, vm: str, operation: str) -> None:
    """A new domain on the same host: VIFs stay plugged."""
    record = ctx.state.get("VM", vm)
    assert_power_state(vm, record, operation, ctx.state)
    host = record["resident_on"]
    ctx.state.update("VM", vm, {"power_state": "Running", "domid": _next_domid(ctx.state, host)})
    _refresh_vifs(ctx.state, vm)


@handles("VM.clean_reboot")
def clean_reboot(ctx: CallContext, vm: str) -> None:
    _reboot(ctx, vm, "clean_reboot")


@handles("VM.hard_reboot")
def hard_reboot(ctx: CallContext, vm: str) -> None:
    _reboot(ctx, vm, "hard_reboot")


@handles("VM.pause")
def pause(ctx: CallContext, vm: str) -> None:
    assert_power_state(vm, ctx.state.get("VM", vm), "pause")
    ctx.state.set_field("VM", vm, "power_state", "Paused")
    _refresh_vifs(ctx.state, vm)


@handles("VM.unpause")
def unpause(ctx: CallContext, vm: str) -> None:
    assert_power_state(vm, ctx.state.get("VM", vm), "unpause")
    ctx.state.set_field("VM", vm, "power_state", "Running")
    _refresh_vifs(ctx.state, vm)


@handles("VM.destroy")
def destroy(ctx: CallContext, self: str) -> None:
    """The VM goes with its VIFs (and their metrics), its VBDs (not their VDIs: the disks
    stay, as in XAPI) and its metrics objects."""
    state = ctx.state
    record = state.get("VM", self)
    if record["is_control_domain"]:
        raise SimFailure("OPERATION_NOT_ALLOWED", "Cannot destroy a control domain")
    assert_power_state(self, record, "destroy")
    for vif_ref in list(record["VIFs"]):
        metrics = state.get("VIF", vif_ref)["metrics"]
        state.destroy("VIF", vif_ref)
        if state.exists("VIF_metrics", metrics):
            state.destroy("VIF_metrics", metrics)
    for vbd_ref in list(record["VBDs"]):
        state.destroy("VBD", vbd_ref)
    for cls, ref in (("VM_guest_metrics", record["guest_metrics"]),
                     ("VM_metrics", record["metrics"])):
        if state.exists(cls, ref):
            state.destroy(cls, ref)
    state.destroy("VM", self)


@handles("VM.get_allowed_VIF_devices")
def get_allowed_vif_devices(ctx: CallContext, vm: str) -> list[str]:
    """``"0"``..``"15"`` minus the devices in use, compared as strings (as XAPI does)."""
    used = {ctx.state.get("VIF", v)["device"] for v in ctx.state.get("VM", vm)["VIFs"]}
    return [str(n) for n in range(16) if str(n) not in used]


@handles("VM.assert_can_boot_here")
def assert_can_boot_here(ctx: CallContext, self: str, host: str) -> None:
    ctx.state.get("host", host)
    assert_can_boot_on(ctx.state, self, host)


__all__ = ["ALLOWED_FROM", "NEEDS_PV_DRIVERS", "assert_can_boot_here", "assert_can_boot_on",
           "assert_netsriov_available", "assert_power_state", "choose_host", "clean_reboot",
           "clean_shutdown", "create", "destroy", "get_allowed_vif_devices", "hard_reboot",
           "hard_shutdown", "pause", "resume", "resume_on", "shutdown", "sriov_host_groups",
           "sriov_networks", "start", "start_on", "suspend", "unpause", "unusable_network"]
