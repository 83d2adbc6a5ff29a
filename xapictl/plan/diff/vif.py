"""Planning VM attachments: (VM, device) identity, the next free device, create + hot-plug,
move in place, settings (MTU override, locking, allowed IPs, QoS), removal.
"""

from __future__ import annotations

from xapictl.errors import AmbiguousObjectError
from xapictl.model.enums import VMPowerState
from xapictl.model.refs import NetworkRef, VIFRef, VMRef
from xapictl.plan import identity as ident
from xapictl.plan import preflight as pf
from xapictl.plan.core import PlanWarning
from xapictl.plan.desired import VIFSpec
from xapictl.plan.diff.planner import NetTarget, Planner
from xapictl.plan.steps import (
    CreateVIF,
    DestroyVIF,
    Later,
    MoveVIF,
    PlugVIF,
    ReplugVIFQoS,
    SetField,
    SetOtherConfig,
    UnplugVIF,
)


def network_for(d: Planner, name: str, subject: str) -> NetTarget | None:
    if name in d.networks:
        return d.networks[name]
    spec = d.desired_network(name)
    if spec is not None:
        if not spec.present:
            d.problems.append(f"{subject}: network {name!r} is removed by this recipe")
        return None  # its own problem is already reported
    named = d.snap.networks_named(name)
    if not named:
        d.problems.append(
            f"{subject}: no network named {name!r}; add it under "
            "`networks:` or check `xapictl network list`"
        )
        return None
    owned = [r for r in named if ident.is_owned(d.snap, r)]
    return d.single(f"network name {name!r}", owned if len(owned) == 1 else named)


def find_vm(d: Planner, name: str, subject: str, *, required: bool) -> VMRef | None:
    try:
        vm = ident.find_vm(d.snap, name)
    except AmbiguousObjectError as exc:
        d.problems.append(f"{subject}: {exc}")
        return None
    if vm is None and required:
        d.problems.append(
            f"{subject}: no VM named {name!r} (nor with that uuid); check `xapictl vif list`"
        )
    return vm


def device_number(text: str) -> int | None:
    """A VIF device as XAPI stores it ("0".."15"); None for anything else (not "²": it passes
    ``str.isdigit`` but not ``int``)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else None


def next_device(d: Planner, vm: VMRef) -> str | None:
    vifs = d.snap.vifs
    used = {n for r in d.snap.vifs_of(vm) if (n := device_number(vifs[r].device)) is not None}
    used |= {int(dev) for dev in d.claimed.get(vm, set())}
    free = [n for n in range(16) if n not in used]
    return str(free[0]) if free else None


def plan_vif(d: Planner, spec: VIFSpec) -> None:
    subject = f"VM {spec.vm!r} on network {spec.network!r}"
    vm = find_vm(d, spec.vm, subject, required=True)
    if vm is None:
        return
    net = network_for(d, spec.network, subject)
    if net is None:
        return
    device = spec.device
    if device == "auto":
        # a device this recipe removes from the VM is not "the VIF it already has there":
        # taking it would destroy and re-create that VIF on every apply
        removed = {w.device for w in d.desired.vifs if w.vm == spec.vm and not w.present}
        vifs = d.snap.vifs
        on_net = sorted(
            (n, r)
            for r in d.snap.vifs_of(vm)
            if vifs[r].network == net and vifs[r].device not in removed
            and (n := device_number(vifs[r].device)) is not None
        )
        if on_net:
            device = str(on_net[0][0])
        else:
            free = next_device(d, vm)
            if free is None:
                d.problems.append(f"{subject}: the VM has no free VIF device (0-15)")
                return
            device = free
    d.claimed.setdefault(vm, set()).add(device)
    subject = f"VIF {device} of VM {spec.vm!r}"
    if d.is_sriov(net, spec.network):
        from xapictl.plan.diff.sriov import warn_bypassed_settings

        warn_bypassed_settings(d, spec, subject)
    record = d.snap.vms[vm]
    running = record.power_state == VMPowerState.RUNNING
    ref = d.snap.vif_on(vm, device)
    if spec.mac and isinstance(net, str):
        d.problems += pf.mac_in_use(d.snap, NetworkRef(net), spec.mac, ref)
    if ref is None:
        create_vif(d, spec, vm, net, device, subject, running)
        return
    vif = d.snap.vifs[ref]
    before = len(d.steps)
    sriov = d.is_sriov(net, spec.network)
    if vif.network != net and vif.currently_attached and (
            sriov or d.is_sriov(vif.network)):
        d.problems.append(
            f"{subject}: it is plugged in and SR-IOV VIFs are not hot-plugged (XAPI: "
            "OPERATION_NOT_ALLOWED); stop the VM first, then re-run")
        return
    if vif.network != net:
        if sriov and isinstance(net, str):
            from xapictl.plan.diff.sriov import check_vfs

            check_vfs(d, spec, vm, NetworkRef(net), subject)
        old = d.snap.networks.get(vif.network)
        d.add(
            MoveVIF(
                subject,
                f"it is on {old.name_label if old else vif.network!r}: "
                "moved in place (same VIF, MAC and device)",
                vif=ref,
                network=net,
                network_label=spec.network,
            )
        )
    if spec.mac and vif.mac.lower() != spec.mac.lower():
        d.problems.append(
            f"{subject}: its MAC is {vif.mac}; XAPI cannot change a MAC "
            "in place: remove the VIF (present: false) and add it again"
        )
    vif_settings(d, spec, ref, subject)
    if running and not vif.currently_attached and sriov:
        sriov_next_start(d, subject)
    elif running and not vif.currently_attached:
        d.problems += pf.hotplug_problem(d.snap, vm)
        d.add(PlugVIF(subject, "the VM runs and the VIF is not plugged", vif=ref))
    if len(d.steps) == before:
        d.noop(subject, f"already in place on network {spec.network!r}")


def create_vif(
    d: Planner, spec: VIFSpec, vm: VMRef, net: NetTarget, device: str, subject: str, running: bool
) -> None:
    mtu = spec.mtu
    if mtu is None:
        n = d.snap.networks.get(NetworkRef(net)) if isinstance(net, str) else None
        mtu = n.mtu if n is not None else planned_mtu(d, spec.network)
    other = {"mtu": str(spec.mtu)} if spec.mtu is not None else {}
    qos_type, qos_params = _qos(spec.qos_kbps)
    key = f"vif:{vm}:{device}"
    d.add(
        CreateVIF(
            subject,
            f"VM {spec.vm!r} has no VIF {device}",
            key=key,
            vm=vm,
            network=net,
            device=device,
            mac=spec.mac or "",
            mtu=mtu,
            other_config=other,
            locking_mode=spec.locking_mode or "network_default",
            ipv4_allowed=tuple(spec.ipv4_allowed or ()),
            ipv6_allowed=tuple(spec.ipv6_allowed or ()),
            qos_algorithm_type=qos_type or "",
            qos_algorithm_params=qos_params or {},
        )
    )
    if isinstance(net, str) and d.is_sriov(net, spec.network):
        from xapictl.plan.diff.sriov import check_vfs

        check_vfs(d, spec, vm, NetworkRef(net), subject)
    if running and d.is_sriov(net, spec.network):
        sriov_next_start(d, subject)
    elif running:
        d.problems += pf.hotplug_problem(d.snap, vm)
        d.add(PlugVIF(subject, "the VM is running: hot-plug the new VIF", vif=Later(key),
                      vm=vm, device=device))


def sriov_next_start(d: Planner, subject: str) -> None:
    """A VIF on an SR-IOV network is a VF passed through to the guest: XAPI refuses its
    hot-plug (OPERATION_NOT_ALLOWED); it attaches when the VM next starts."""
    d.warnings.append(PlanWarning(
        "vif_sriov_next_start", f"{subject}: on an SR-IOV network, which XAPI does not "
        "hot-plug: the VIF attaches when the VM next starts"))


def planned_mtu(d: Planner, name: str) -> int:
    spec = d.desired_network(name)
    if spec is not None and spec.mtu is not None:
        return spec.mtu
    bond = d.desired.bond_named(name)
    return bond.mtu if bond is not None and bond.mtu is not None else 1500


def vif_settings(d: Planner, spec: VIFSpec, ref: VIFRef, subject: str) -> None:
    vif = d.snap.vifs[ref]

    def setter(method: str, field_name: str, value: object, why: str) -> None:
        d.add(
            SetField(
                subject,
                why,
                xapi_class="VIF",
                ref=ref,
                method=method,
                field_name=field_name,
                value=value,
            )
        )

    if spec.mtu is not None and vif.other_config.get("mtu") != str(spec.mtu):
        d.add(
            SetOtherConfig(
                subject,
                f"MTU override is {vif.other_config.get('mtu', 'unset')}",
                xapi_class="VIF",
                ref=ref,
                values={"mtu": str(spec.mtu)},
                replace=("mtu",) if "mtu" in vif.other_config else (),
            )
        )
    if spec.locking_mode is not None and vif.locking_mode.value != spec.locking_mode:
        setter(
            "set_locking_mode",
            "locking_mode",
            spec.locking_mode,
            f"locking mode is {vif.locking_mode.value}",
        )
    for attr in ("ipv4_allowed", "ipv6_allowed"):
        want = getattr(spec, attr)
        if want is not None and sorted(getattr(vif, attr)) != sorted(want):
            setter(f"set_{attr}", attr, tuple(want),
                   f"{attr} is {sorted(getattr(vif, attr))}, the recipe says {sorted(want)}")
    if spec.qos_kbps is not None:
        qos_type, qos_params = _qos(spec.qos_kbps)
        before = len(d.steps)
        if vif.qos_algorithm_type != qos_type:
            setter(
                "set_qos_algorithm_type",
                "qos_algorithm_type",
                qos_type,
                f"QoS is {vif.qos_algorithm_type or 'off'}",
            )
        if dict(vif.qos_algorithm_params) != qos_params:
            setter(
                "set_qos_algorithm_params",
                "qos_algorithm_params",
                qos_params,
                "the rate limit differs",
            )
        if len(d.steps) > before:
            qos_replug(d, spec, ref, subject)


def qos_replug(d: Planner, spec: VIFSpec, ref: VIFRef, subject: str) -> None:
    """A QoS change on a VIF plugged in a running VM applies at its next plug (XAPI hands
    the rate limit to the VIF when it is plugged): re-plug it with ``replug``, else warn."""
    vif = d.snap.vifs[ref]
    vm = d.snap.vms.get(vif.vm)
    if not vif.currently_attached or vm is None or vm.power_state != VMPowerState.RUNNING:
        return
    if spec.replug and not pf.hotplug_problem(d.snap, vif.vm):
        d.add(ReplugVIFQoS(subject, "plugged in the running VM: the new rate limit applies "
                           "when it is plugged again, so re-plug it", vif=ref, mtu=vif.mtu))
        return
    why = ("cannot be re-plugged (no PV drivers): the new rate limit applies when the VM "
           "next starts") if spec.replug else (
        "is plugged in the running VM: the new rate limit applies at its next plug "
        "(replug: true / --replug re-plugs it now)")
    d.warnings.append(PlanWarning("vif_qos_until_replug", f"{subject} {why}"))


def plan_vif_absent(d: Planner, spec: VIFSpec) -> None:
    subject = f"VIF {spec.device} of VM {spec.vm!r}"
    vm = find_vm(d, spec.vm, subject, required=False)
    ref = d.snap.vif_on(vm, spec.device) if vm is not None else None
    if vm is None or ref is None:
        d.noop(subject, "already absent")
        return
    vif = d.snap.vifs[ref]
    d.leaving_vifs.add(ref)
    if vif.currently_attached and d.snap.vms[vm].domid != -1 and d.is_sriov(vif.network):
        d.problems.append(f"{subject}: it is plugged in and on an SR-IOV network, which XAPI "
                          "does not hot-unplug (OPERATION_NOT_ALLOWED); stop the VM first")
        return
    if vif.currently_attached and d.snap.vms[vm].domid != -1:
        d.add(UnplugVIF(subject, "the recipe says absent; it is plugged in", vif=ref))
    d.add(DestroyVIF(subject, "the recipe says absent", vif=ref))


def _qos(kbps: int | None) -> tuple[str, dict[str, str]]:
    if not kbps:
        return "", {}
    return "ratelimit", {"kbps": str(kbps)}


__all__ = ["plan_vif", "plan_vif_absent", "qos_replug"]
