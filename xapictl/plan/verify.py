"""Verify: after apply, read the pool again and compare only what the recipe states.

``mismatches`` is pure (desired + snapshot -> list); ``verify`` re-collects a bounded number
of times before raising ``VerificationError`` naming the path, the desired and the current
value. Hosts that are offline are not expected to carry anything; on the live ones, the PIFs
a recipe's network needs (a VLAN's PIF and its trunk, a NIC) are expected plugged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xapictl._frozen import Frozen, frozen
from xapictl.errors import AmbiguousObjectError, VerificationError
from xapictl.model.enums import VMPowerState
from xapictl.model.refs import HostRef, NetworkRef, PIFRef
from xapictl.plan import identity as ident
from xapictl.plan.desired import BondSpec, DesiredState, NetworkSpec, VIFSpec
from xapictl.state.snapshot import PoolSnapshot


@frozen
class Mismatch(Frozen):
    """One value the pool has other than the recipe wants, after an apply."""

    path: str
    desired: Any
    current: Any

    def __str__(self) -> str:
        return f"{self.path}: wanted {self.desired!r}, found {self.current!r}"


def mismatches(desired: DesiredState, snap: PoolSnapshot) -> list[Mismatch]:
    out: list[Mismatch] = []
    for i, net in enumerate(desired.networks):
        out += _network(f"networks[{i}] ({net.name})", net, snap, desired)
    for i, bond in enumerate(desired.bonds):
        out += _bond(f"bonds[{i}] ({bond.network})", bond, snap)
    for i, vif in enumerate(desired.vifs):
        out += _vif(f"vifs[{i}] ({vif.vm} -> {vif.network})", vif, snap)
    if desired.interfaces:
        out += _interfaces(desired, snap)
    return out


def _interfaces(desired: DesiredState, snap: PoolSnapshot) -> list[Mismatch]:
    """Each field of a PIF that differs from its ``interfaces:`` entry (a problem planning
    them, which pre-flight refused before apply, is not the verify's to report again)."""
    from xapictl.errors import PreflightError
    from xapictl.plan.interface_drift import interface_drift

    try:
        found = interface_drift(desired, snap)
    except PreflightError:
        return []
    return [Mismatch(f"interfaces ({d.subject}).{name}", want, have)
            for d in found for name, have, want in d.fields]


def verify(desired: DesiredState, collect: Callable[[], PoolSnapshot], *,
           attempts: int = 2) -> PoolSnapshot:
    """Collect until the pool matches (at most ``attempts`` reads); return the snapshot."""
    found: list[Mismatch] = []
    for _ in range(max(attempts, 1)):
        snap = collect()
        found = mismatches(desired, snap)
        if not found:
            return snap
    first = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    raise VerificationError(first.path + more, first.desired, first.current)


def _live(snap: PoolSnapshot) -> list[HostRef]:
    return [h for h in snap.hosts if snap.host_is_live(h)]


def _resolve_network(net: NetworkSpec, snap: PoolSnapshot, desired: DesiredState
                     ) -> tuple[list[NetworkRef], dict[HostRef, NetworkRef | None]]:
    """Candidate networks, and for VLANs what each live trunk host carries."""
    if net.kind == "vlan":
        tag = net.vlan if net.vlan is not None else -1
        trunks = _trunks(net, snap, desired)
        carried = ident.vlan_networks_on(snap, trunks, tag)
        trunk_id = net.device or f"bond:{net.bond}"
        refs = sorted(set(carried.values()) | set(ident.owned_with_identity(
            snap, ident.vlan_identity(trunk_id, tag))))
        per_host: dict[HostRef, NetworkRef | None] = {
            h: carried.get(h) for h in _live(snap) if h in trunks}
        return refs, per_host
    if net.kind == "nic":
        pifs = ident.trunk_pifs_by_device(snap, net.device or "")
        return sorted({snap.pifs[p].network for p in pifs.values()}), {}
    if net.kind == "sriov":
        enabled = snap.sriovs_of_device(net.device or "").values()
        return sorted({snap.pifs[snap.sriovs[s].logical_pif].network for s in enabled
                       if snap.sriovs[s].logical_pif in snap.pifs}
                      | set(ident.owned_with_identity(
                          snap, ident.sriov_identity(net.device or "")))), {}
    identity = (ident.tunnel_identity(net.name) if net.kind == "tunnel"
                else ident.named_identity(net.name))
    named = snap.networks_named(net.name)
    return sorted({r for r in named if ident.is_owned(snap, r)}
                  | set(ident.owned_with_identity(snap, identity))), {}


def _trunks(net: NetworkSpec, snap: PoolSnapshot, desired: DesiredState
            ) -> dict[HostRef, PIFRef]:
    if net.device is not None:
        return ident.trunk_pifs_by_device(snap, net.device)
    bond = desired.bond_named(net.bond or "")
    if bond is not None:
        return {h: snap.bonds[b].master
                for h, b in ident.bonds_with_members(snap, bond.members).items()}
    nets = [r for r in snap.networks_named(net.bond or "") if ident.bond_masters_on(snap, r)]
    return ident.bond_masters_on(snap, nets[0]) if len(nets) == 1 else {}


def _network(path: str, net: NetworkSpec, snap: PoolSnapshot, desired: DesiredState
             ) -> list[Mismatch]:
    refs, per_host = _resolve_network(net, snap, desired)
    if not net.present:
        return [Mismatch(path, "absent", ident.network_words(snap, r)) for r in refs]
    if len(refs) != 1:
        return [Mismatch(path, "exactly one network",
                         [ident.network_words(snap, r) for r in refs] or "none")]
    ref = refs[0]
    out = [Mismatch(f"{path} VLAN {net.vlan} on {ident.host_name(snap, h)}", "present",
                    "missing" if got is None else ident.network_words(snap, got))
           for h, got in per_host.items() if got != ref]
    out += [Mismatch(f"{path} {ident.pif_words(snap, p)}.currently_attached", True, False)
            for p in _needed_pifs(net, snap, desired, per_host, ref)
            if not snap.pifs[p].currently_attached]
    n = snap.networks[ref]
    checks: list[tuple[str, Any, Any]] = [
        ("name_label", net.name, n.name_label),
        ("name_description", net.description, n.name_description),
        ("MTU", net.mtu, n.mtu),
        ("tags", sorted(net.tags) if net.tags is not None else None, sorted(n.tags)),
        ("default_locking_mode", net.default_locking_mode, n.default_locking_mode.value),
        ("purpose", sorted(net.purpose) if net.purpose is not None else None,
         sorted(p.value for p in n.purpose)),
    ]
    wanted = dict(net.other_config or {})
    if net.automatic is not None:
        wanted["automatic"] = str(net.automatic).lower()
    checks += [(f"other_config[{k}]", v, n.other_config.get(k)) for k, v in wanted.items()]
    out += [Mismatch(f"{path}.{name}", want, have) for name, want, have in checks
            if want is not None and want != have]
    return out


def _needed_pifs(net: NetworkSpec, snap: PoolSnapshot, desired: DesiredState,
                 per_host: dict[HostRef, NetworkRef | None], ref: NetworkRef) -> list[PIFRef]:
    """The PIFs of live hosts the network rides on: each VLAN PIF and its trunk, or the
    NIC's PIFs."""
    if net.kind == "nic":
        pifs = ident.trunk_pifs_by_device(snap, net.device or "")
        return sorted(p for h, p in pifs.items() if snap.host_is_live(h))
    if net.kind != "vlan":
        return []
    out: list[PIFRef] = []
    trunks = _trunks(net, snap, desired)
    for h, got in per_host.items():
        trunk = trunks.get(h)
        if trunk is None or trunk not in snap.pifs:
            continue
        out.append(trunk)
        vlan = snap.vlan_on(trunk, net.vlan if net.vlan is not None else -1)
        if got == ref and vlan is not None and snap.vlans[vlan].untagged_pif in snap.pifs:
            out.append(snap.vlans[vlan].untagged_pif)
    return out


def _bond(path: str, bond: BondSpec, snap: PoolSnapshot) -> list[Mismatch]:
    found = ident.bonds_with_members(snap, bond.members)
    if not bond.present:
        return [Mismatch(f"{path} on {ident.host_name(snap, h)}", "absent", b)
                for h, b in found.items()]
    out = []
    for h in _live(snap):
        b = found.get(h)
        where = f"{path} on {ident.host_name(snap, h)}"
        if b is None:
            out.append(Mismatch(where, "+".join(bond.members), "no such bond"))
            continue
        have = snap.bonds[b]
        if bond.mode is not None and have.mode.value != bond.mode:
            out.append(Mismatch(f"{where}.mode", bond.mode, have.mode.value))
        out += [Mismatch(f"{where}.{name}", want, have.properties.get(name))
                for name, want in sorted(bond.properties.items())
                if have.properties.get(name) != want]
    return out


def _vif(path: str, spec: VIFSpec, snap: PoolSnapshot) -> list[Mismatch]:
    try:
        vm = ident.find_vm(snap, spec.vm)
    except AmbiguousObjectError as exc:
        return [Mismatch(path, "one VM", exc.candidates)]
    if vm is None:
        return [] if not spec.present else [Mismatch(path, "a VM", "none")]
    if not spec.present:
        ref = snap.vif_on(vm, spec.device)
        return [] if ref is None else [Mismatch(path, "absent", f"VIF {spec.device}")]
    nets = list(snap.networks_named(spec.network))
    vifs = [r for r in snap.vifs_of(vm) if snap.vifs[r].network in nets
            and (spec.device == "auto" or snap.vifs[r].device == spec.device)]
    if not vifs:
        return [Mismatch(path, f"VIF {spec.device} on {spec.network!r}", "none")]
    vif = snap.vifs[vifs[0]]
    out = []
    if spec.mac and vif.mac.lower() != spec.mac.lower():
        out.append(Mismatch(f"{path}.mac", spec.mac, vif.mac))
    if spec.locking_mode and vif.locking_mode.value != spec.locking_mode:
        out.append(Mismatch(f"{path}.locking_mode", spec.locking_mode, vif.locking_mode.value))
    if spec.mtu is not None and vif.other_config.get("mtu") != str(spec.mtu):
        out.append(Mismatch(f"{path}.mtu", spec.mtu, vif.other_config.get("mtu")))
    running = snap.vms[vm].power_state == VMPowerState.RUNNING
    if running and not vif.currently_attached and not ident.is_sriov_network(snap, vif.network):
        # an SR-IOV VIF is not hot-plugged: it attaches when the VM next starts
        out.append(Mismatch(f"{path}.currently_attached", True, False))
    return out


__all__ = ["Mismatch", "mismatches", "verify"]
