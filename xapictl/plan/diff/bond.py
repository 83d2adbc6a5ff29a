"""Planning bonds: the same member devices on every host, the pool master last; an existing
bond's mode and hashing algorithm; the bond's network; removal (refused while VLANs not
being removed sit on it).
"""

from __future__ import annotations

from xapictl.model.refs import BondRef, HostRef, NetworkRef, PIFRef
from xapictl.plan import identity as ident
from xapictl.plan import preflight as pf
from xapictl.plan.desired import BondSpec
from xapictl.plan.diff.planner import NetTarget, Planner
from xapictl.plan.steps import (
    CreateBond,
    CreateNetwork,
    DestroyBond,
    DestroyNetwork,
    Later,
    SetBondProperty,
    SetField,
)


def bond_network_candidates(d: Planner, name: str, members: tuple[str, ...]) -> list[NetworkRef]:
    existing = ident.bonds_with_members(d.snap, members)
    nets = {d.snap.pifs[d.snap.bonds[b].master].network for b in existing.values()}
    nets |= set(ident.owned_with_identity(d.snap, ident.bond_identity(name)))
    return sorted(nets)


def plan_bond(d: Planner, spec: BondSpec) -> None:
    subject = f"bond {spec.network!r} ({'+'.join(spec.members)})"
    identity = ident.bond_identity(spec.network)
    candidates = bond_network_candidates(d, spec.network, spec.members)
    ref: NetTarget
    if not candidates:
        key = f"network:{spec.network}"
        d.add(
            CreateNetwork(
                f"network {spec.network!r}",
                "the bond's network does not exist yet",
                key=key,
                name_label=spec.network,
                mtu=spec.mtu or 1500,
                other_config=ident.mark(identity),
            )
        )
        ref = Later(key)
    else:
        found = d.single(f"{subject} network", candidates)
        if found is None or not d.owned_or_adopt(
            found, spec.adopt, identity, subject, "the bond's network"
        ):
            return
        ref = found
        n = d.snap.networks[found]
        if spec.mtu is not None and n.mtu != spec.mtu:
            d.add(
                SetField(
                    subject,
                    f"MTU is {n.mtu}, the recipe says {spec.mtu}",
                    xapi_class="network",
                    ref=found,
                    method="set_MTU",
                    field_name="mtu",
                    value=spec.mtu,
                )
            )
    d.networks[spec.network] = ref
    existing = ident.bonds_with_members(d.snap, spec.members)
    live, offline = d.hosts()
    d.defer(subject, [h for h in offline if h not in existing],
            f"the bond of {'+'.join(spec.members)}")
    trunks: dict[HostRef, PIFRef | Later] = {}
    before = len(d.steps)
    mode = spec.mode or "balance-slb"
    for h in live:
        label = ident.host_name(d.snap, h)
        if h in existing:
            bond = d.snap.bonds[existing[h]]
            trunks[h] = bond.master
            bond_settings(d, spec, existing[h], f"{subject} on {label}")
            continue
        pifs = [d.snap.pif_on(h, dev) for dev in spec.members]
        if any(p is None for p in pifs):
            lost = [dev for dev, p in zip(spec.members, pifs, strict=True) if p is None]
            d.problems += pf.missing_device(d.snap, "+".join(lost), [h])
            continue
        members = tuple(PIFRef(p) for p in pifs if p is not None)
        for m in members:
            d.problems += [f"{subject}: {p}" for p in pf.bond_member_problems(d.snap, m)]
        key = f"bond:{spec.network}:{h}"
        d.add(
            CreateBond(
                f"{subject} on {label}",
                "the host has no bond of these NICs"
                + (" (the pool master goes last)" if h == d.snap.master else ""),
                key=key,
                host=h,
                host_label=label,
                network=ref,
                members=members,
                member_devices=spec.members,
                mode=mode,
                properties=spec.properties,
            )
        )
        trunks[h] = Later(f"{key}:master")
    d.bond_trunks[spec.network] = trunks
    if len(d.steps) == before:
        d.noop(subject, f"already in place on {len(live)} host(s)")


def bond_settings(d: Planner, spec: BondSpec, ref: BondRef, subject: str) -> None:
    """An existing bond's mode, then its mode properties (``set_mode`` keeps only the
    properties valid for the new mode, so they are set after it)."""
    bond = d.snap.bonds[ref]
    if spec.mode is not None and bond.mode.value != spec.mode:
        d.add(
            SetField(
                subject,
                f"mode is {bond.mode.value}, the recipe says {spec.mode}",
                xapi_class="Bond",
                ref=ref,
                method="set_mode",
                field_name="mode",
                value=spec.mode,
            )
        )
    for name, value in sorted(spec.properties.items()):
        have = bond.properties.get(name)
        if have != value:
            d.add(
                SetBondProperty(
                    subject,
                    f"{name} is {have or 'unset'}, the recipe says {value}",
                    bond=ref,
                    name=name,
                    value=value,
                )
            )


def bond_trunks(d: Planner, name: str, subject: str) -> dict[HostRef, PIFRef | Later] | None:
    if name in d.bond_trunks:
        return d.bond_trunks[name]
    nets = [r for r in d.snap.networks_named(name) if ident.bond_masters_on(d.snap, r)]
    if not nets:
        d.problems.append(
            f"{subject}: no bond network named {name!r}; state the bond "
            "under `bonds:` or check `xapictl network list`"
        )
        return None
    ref = d.single(f"bond network {name!r}", nets)
    if ref is None:
        return None
    return dict(ident.bond_masters_on(d.snap, ref))


def plan_bond_absent(d: Planner, spec: BondSpec) -> None:
    subject = f"bond {spec.network!r} ({'+'.join(spec.members)})"
    existing = ident.bonds_with_members(d.snap, spec.members)
    candidates = bond_network_candidates(d, spec.network, spec.members)
    if not existing and not candidates:
        d.noop(subject, "already absent")
        return
    for host in ident.ordered_hosts(d.snap):
        bond_ref = existing.get(host)
        if bond_ref is None:
            continue
        master = d.snap.pifs[d.snap.bonds[bond_ref].master]
        kept = [
            v
            for v in master.vlan_slave_of
            if v in d.snap.vlans
            and d.snap.pifs[d.snap.vlans[v].untagged_pif].network not in d.leaving_networks
        ]
        if kept:
            d.problems.append(
                f"{subject}: the bond on {ident.host_name(d.snap, host)}"
                " still carries VLANs; remove those VLAN networks first "
                "(present: false)"
            )
            continue
        label = ident.host_name(d.snap, host)
        d.add(
            DestroyBond(
                f"{subject} on {label}", "the recipe says absent", bond=bond_ref, host_label=label
            )
        )
    for ref in candidates:
        if ident.is_owned(d.snap, ref):
            d.add(
                DestroyNetwork(
                    f"network {spec.network!r}",
                    "the bond's network, made by xapictl, goes with the bond",
                    network=ref,
                )
            )


__all__ = ["bond_settings", "bond_trunks", "plan_bond", "plan_bond_absent"]
