"""Planning bonds: the same member devices on every host, the pool master last; an existing
bond's mode and hashing algorithm; the bond's network; removal (refused while VLANs not
being removed sit on it).
"""

from __future__ import annotations

from collections.abc import Sequence

from xapictl.model.refs import BondRef, HostRef, NetworkRef, PIFRef
from xapictl.plan import identity as ident
from xapictl.plan import preflight as pf
from xapictl.plan.core import Step
from xapictl.plan.desired import BondSpec
from xapictl.plan.diff.mtu import below_its_vlans
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
from xapictl.state.snapshot import PoolSnapshot


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
                group=f"bond {spec.network}",
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
            lowering = n.mtu > spec.mtu
            set_mtu = SetField(
                subject,
                f"MTU is {n.mtu}, the recipe says {spec.mtu}"
                + (" (after the VLANs on the bond come down)" if lowering else ""),
                xapi_class="network",
                ref=found,
                method="set_MTU",
                field_name="mtu",
                value=spec.mtu,
            )
            if not below_its_vlans(d, found, spec.mtu, subject, "bond"):
                # lowered after the networks (the VLANs on it come down first)
                (d.lowered_bonds.append if lowering else d.add)(set_mtu)
    d.networks[spec.network] = ref
    existing = ident.bonds_with_members(d.snap, spec.members)
    live, offline = d.hosts()
    d.defer(subject, [h for h in offline if h not in existing],
            f"the bond of {'+'.join(spec.members)}")
    trunks: dict[HostRef, PIFRef | Later] = {}
    before = len(d.steps)
    mode = spec.mode or "balance-slb"
    group = f"bond {spec.network}"
    made: list[CreateBond] = []
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
        other = other_bond_here(d, ref, members)
        if other is not None:
            d.problems.append(f"{subject} on {label}: {other}")
            continue
        problems = pf.bond_member_problems(d.snap, members)
        if problems:
            d.problems += [f"{subject} on {label}: {p}" for p in problems]
            continue
        moves, moved = bond_moves(d.snap, members)
        key = f"bond:{spec.network}:{h}"
        d.moved_vlans[f"{key}:master"] = moved
        step = CreateBond(
            f"{subject} on {label}",
            "the host has no bond of these NICs"
            + (" (the pool master goes last)" if h == d.snap.master else "")
            + ("; XAPI moves onto the bond: " + "; ".join(moves) if moves else ""),
            key=key,
            group=group,
            host=h,
            host_label=label,
            network=ref,
            members=members,
            member_devices=spec.members,
            mode=mode,
            properties=spec.properties,
            moves=moves,
            answers_at=_member_address(d, h, moves),
        )
        d.add(step)
        made.append(step)
        trunks[h] = Later(f"{key}:master")
    d.bond_trunks[spec.network] = trunks
    if spec.on_failure == "rollback":
        plan_undo(d, spec, made, ref)
    if len(d.steps) == before:
        d.noop(subject, f"already in place on {len(live)} host(s)")


def other_bond_here(d: Planner, network: NetTarget, members: tuple[PIFRef, ...]
                    ) -> str | None:
    """A bond of other NICs on the bond's own network on this host (a partial bond, or one
    with an extra NIC): XAPI cannot change a bond's members, so say how to rebuild it."""
    if isinstance(network, Later):
        return None
    host = d.snap.pifs[members[0]].host
    master = d.snap.pif_on_network(host, network)
    bond = d.snap.bonds.get(d.snap.pifs[master].bond_master_of[0]) if (
        master is not None and d.snap.pifs[master].bond_master_of) else None
    if bond is None:
        return None
    have = "+".join(sorted(d.snap.pifs[m].device for m in bond.slaves if m in d.snap.pifs))
    return (f"the bond on this network there bonds {have}, not "
            f"{'+'.join(d.snap.pifs[m].device for m in members)}: XAPI cannot change a "
            f"bond's members; destroy that host's bond (`xe bond-destroy uuid={bond.uuid}`), "
            "then re-run: the plan makes it with the recipe's NICs")


def bond_moves(snap: PoolSnapshot, members: tuple[PIFRef, ...]
               ) -> tuple[tuple[str, ...], dict[int, NetworkRef]]:
    """What ``Bond.create`` moves onto the new bond (``xapi_bond.ml``): the management
    interface and the primary member's IP configuration (the primary member is the one
    with management, else the first with an IP configuration, else the first), every
    member's VLANs (re-created on the bond on the same networks) and tunnels. Returns the
    moves in words, and the VLANs moved (tag -> network)."""
    pifs = [(m, snap.pifs[m]) for m in members]
    primary = next((m for m, p in pifs if p.management), None) or next(
        (m for m, _ in pifs if pf.has_ip(snap, m)), members[0])
    moves: list[str] = []
    moved: dict[int, NetworkRef] = {}
    for _, p in pifs:
        if p.management:
            moves.append(f"the management interface (from {p.device})")
    if pf.has_ip(snap, primary):
        moves.append(f"the IP configuration {ip_words(snap, primary)} "
                     f"(from {snap.pifs[primary].device})")
    for _, p in pifs:
        vlans = [snap.vlans[v] for v in p.vlan_slave_of if v in snap.vlans]
        untagged = [(v.tag, snap.pifs[v.untagged_pif]) for v in vlans
                    if v.untagged_pif in snap.pifs]
        for tag, vlan_pif in untagged:
            moved.setdefault(tag, vlan_pif.network)
        if untagged:
            tags = ", ".join(str(t) for t, _ in sorted(untagged, key=lambda i: i[0]))
            moves.append(f"VLAN(s) {tags} (from {p.device}: re-created on the bond, "
                         "same networks, IP configuration kept)")
        for tag, vlan_pif in sorted(untagged, key=lambda i: i[0]):
            if vlan_pif.management and vlan_pif.currently_attached:
                moves.append(f"the management interface (on VLAN {tag} of {p.device})")
        if p.tunnel_transport_pif_of:
            moves.append(f"{len(p.tunnel_transport_pif_of)} tunnel(s) (from {p.device})")
    return tuple(moves), moved


def _member_address(d: Planner, host: HostRef, moves: Sequence[str]) -> str:
    """Where a member must answer once a bond step moved its management interface (its
    address kept); "" for the master (the connection follows it) or no management move."""
    if not any(m.startswith("the management interface") for m in moves) \
            or host == d.snap.master:
        return ""
    return d.snap.hosts[host].address


def unbond_moves(snap: PoolSnapshot, ref: BondRef, *, moved_off: bool = False) -> list[str]:
    """What ``Bond.destroy`` moves back onto the primary member (``xapi_bond.ml``): its
    device first, then the management interface (unless the plan ``moved_off`` it before)
    and the IP configuration, in words."""
    bond = snap.bonds[ref]
    master = snap.pifs[bond.master]
    primary = snap.pifs.get(bond.primary_slave)
    out = [primary.device if primary is not None else "the first member"]
    if master.management and not moved_off:
        out.append("the management interface")
    if pf.has_ip(snap, bond.master):
        out.append(f"the IP configuration {ip_words(snap, bond.master)}")
    if master.tunnel_transport_pif_of:
        out.append(f"{len(master.tunnel_transport_pif_of)} tunnel(s)")
    return out


def ip_words(snap: PoolSnapshot, ref: PIFRef) -> str:
    p = snap.pifs[ref]
    if p.primary_address_type.value == "IPv6":
        return f"IPv6 {p.ipv6_configuration_mode.value}" + (
            f" {', '.join(a for a in p.ipv6 if a)}" if any(p.ipv6) else "")
    mode = p.ip_configuration_mode.value
    return f"{mode} {p.ip}/{p.netmask}" if mode == "Static" else mode


def plan_undo(d: Planner, spec: BondSpec, made: list[CreateBond], network: NetTarget) -> None:
    """The undo of each host's bond but the last (and of the bond's network, when this plan
    creates it): run, newest first, when a later host's bond fails."""
    if len(made) < 2:
        return
    group = made[0].group
    for step in made[:-1]:
        back = ("; XAPI moves back what it moved: " + "; ".join(
            m.replace(" (from ", " (onto ", 1) for m in step.moves)) if step.moves else ""
        d.undo.append(DestroyBond(
            step.subject, f"made by this run (on_failure: rollback){back}",
            bond=Later(step.key), host_label=step.host_label, answers_at=step.answers_at,
            group=group, undoes=step.key))
    if isinstance(network, Later):
        d.undo.append(DestroyNetwork(
            f"network {spec.network!r}", "made by this run for the bond (on_failure: rollback)",
            network=network, group=group, undoes=network.key))


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
    steps: list[Step] = []
    after = False  # after the management moves: one of its hosts' management leaves it
    moving_to = f"management: {d.desired.management.network!r}" if d.desired.management \
        else ""
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
        if master.management and any(p.ha_enabled for p in d.snap.pools.values()):
            d.problems.append(
                f"{subject}: the bond on {label} carries the management interface and HA is "
                "enabled: XAPI refuses to change the bond status of the management interface "
                "(HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE); disable HA first")
            continue
        leaves = d.snap.bonds[bond_ref].master in d.management_leaves
        after = after or leaves
        back = unbond_moves(d.snap, bond_ref, moved_off=leaves)
        steps.append(
            DestroyBond(
                f"{subject} on {label}",
                "the recipe says absent"
                + (f"; the management interface moves off it first ({moving_to})"
                   if leaves else "")
                + (f"; XAPI moves back onto {back[0]}: " + "; ".join(back[1:])
                   if len(back) > 1 else ""),
                bond=bond_ref, host_label=label,
                answers_at=_member_address(d, host, back) if not leaves else "",
            )
        )
    for ref in candidates:
        if ident.is_owned(d.snap, ref):
            steps.append(
                DestroyNetwork(
                    f"network {spec.network!r}",
                    "the bond's network, made by xapictl, goes with the bond",
                    network=ref,
                )
            )
    (d.after_management if after else d.steps).extend(steps)


__all__ = ["bond_moves", "bond_settings", "bond_trunks", "ip_words", "other_bond_here",
           "plan_bond", "plan_bond_absent", "plan_undo", "unbond_moves"]
