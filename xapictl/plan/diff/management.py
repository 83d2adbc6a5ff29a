"""Plan the ``management`` section: the management interface of every host onto the PIF of
``network`` on that host.

One ``host.management_reconfigure`` step per host that is not there yet, the members first
and the master last, then ``pool.recover_slaves`` when the master moved (each member learns
the master's new address): what ``pool.management_reconfigure`` does, but one host at a time,
so each member is seen answering on its new address before the next one moves, a member that
does not is moved back at once, and a failure undoes the members already moved (``Plan.undo``)
while the master, which forwards every call, is still where the client reaches it.
``pool.management_reconfigure`` would try every host even after one failed (its
``call_fn_on_slaves_then_master`` collects the errors), master included, and leave the pool
split with nothing to undo it from.

Refused before any write, each by its field: HA enabled (XAPI's ``HA_IS_ENABLED``), a live
host without a PIF on the network (``PIF_NOT_PRESENT``), a bond member
(``CANNOT_PLUG_BOND_SLAVE``; but the primary member of a management bond the recipe removes
is a no-op: ``Bond.destroy`` moves management onto it), primary address types that differ,
a PIF without an address (``PIF_HAS_NO_NETWORK_CONFIGURATION``, or DHCP without a lease
yet: xapictl must know where the host will answer), an offline host (it would be left on
the old interface). Whether this client reaches each new address is checked by
``preflight`` (it needs the connection). The move is planned last: every other step runs
while the pool is still where the client reaches it, except the removal of a bond it moves
management off (after the moves: their undo moves a member back onto its bond).
"""

from __future__ import annotations

from typing import TypeVar

from xapictl.model.refs import HostRef, NetworkRef, PIFRef
from xapictl.plan import identity as ident
from xapictl.plan.desired import ManagementSpec
from xapictl.plan.diff.planner import Planner
from xapictl.plan.steps import (
    Later,
    MoveManagement,
    ReconfigureIP,
    ReconfigureIPv6,
    RecoverSlaves,
    SetPrimaryAddressType,
)


def plan_management(d: Planner, spec: ManagementSpec) -> None:
    snap = d.snap
    where = f"{spec.where}: management.network"
    network = _network(d, spec, where)
    if network is None:
        return
    if any(p.ha_enabled for p in snap.pools.values()):
        d.problems.append(f"{where}: HA is enabled on the pool; XAPI refuses to move the "
                          "management interface then (HA_IS_ENABLED): disable HA first")
        return
    on_hosts = {p.host: r for r, p in snap.pifs.items() if p.network == network}
    chosen = _chosen(d, spec, where)
    if chosen is None:
        return
    live, offline = d.hosts(chosen)
    problems = []
    for host in offline:
        problems.append(f"{ident.host_name(snap, host)} is offline: its management interface "
                        "cannot be moved (it would stay on the old one); bring it back first")
    moves: list[tuple[HostRef, PIFRef, str]] = []
    unbonded = 0  # hosts whose bond's removal moves management onto the network's PIF
    types = {_primary_type(d, on_hosts[h]) for h in live if h in on_hosts}
    for host in live:
        name = ident.host_name(snap, host)
        pif_ref = on_hosts.get(host)
        if pif_ref is None:
            problems.append(f"{name} has no PIF on network {spec.network!r} "
                            "(PIF_NOT_PRESENT): add the network's PIF there first")
            continue
        pif = snap.pifs[pif_ref]
        if pif.management:
            continue
        if pif.bond_slave_of in snap.bonds:
            if _unbonded_onto(d, pif_ref):
                unbonded += 1
                d.noop(f"host {name}", f"the recipe removes its bond, whose Bond.destroy "
                       f"moves the management interface back onto {pif.device} (its primary "
                       "member, with the bond's address)")
                continue
            problems.append(f"{ident.pif_words(snap, pif_ref)} is a bond member "
                            "(CANNOT_PLUG_BOND_SLAVE): put management on the bond's network")
            continue
        address = _address(d, pif_ref)
        if not address:
            problems.append(
                f"{ident.pif_words(snap, pif_ref)} has no address xapictl knows, so the "
                f"host could not be reached after the move: give the network {spec.network!r} "
                "static addresses first (an `interfaces:` entry, or `xapictl pif set-ip "
                f"{name} {pif.device} --mode static --address A/N`)")
            continue
        moves.append((host, pif_ref, address))
    if len(types) > 1:
        problems.append(f"the PIFs of network {spec.network!r} have different primary address "
                        "types (PIF_INCOMPATIBLE_PRIMARY_ADDRESS_TYPE): make them all IPv4 "
                        "or all IPv6")
    if problems:
        d.problems += [f"{where}: {p}" for p in problems]
        return
    if not moves:
        if not unbonded:
            d.noop(spec.subject, f"every host's management interface is on {spec.network!r}")
        return
    _plan_moves(d, spec, moves)


def _plan_moves(d: Planner, spec: ManagementSpec, moves: list[tuple[HostRef, PIFRef, str]]
                ) -> None:
    snap = d.snap
    group = f"management {spec.network}"
    master = snap.master
    for host, pif_ref, address in moves:
        name = ident.host_name(snap, host)
        old_pif = next((r for r, p in snap.pifs.items() if p.host == host and p.management),
                       None)
        old_address = snap.hosts[host].address
        is_master = host == master
        why = ("the master last: it forwards every other host's call, and the client "
               "follows it to its new address" if is_master else
               "a member before the master; it must answer on its new address before the "
               "next host moves, or it is moved back")
        step = MoveManagement(
            f"host {name}",
            f"management: {spec.network!r}: {old_address or 'no address'} -> {address} ({why})",
            host=host, pif=pif_ref, old_pif=old_pif, address=address,
            old_address=old_address, host_label=name, network_label=spec.network,
            is_master=is_master, key=f"management {name}", group=group)
        d.add(step)
        if old_pif is not None:
            d.management_leaves.add(old_pif)
        if old_pif is not None and not is_master:
            d.undo.append(MoveManagement(
                f"host {name}",
                f"undo: back to {old_address} (the move failed at this host or a later one)",
                host=host, pif=old_pif, old_pif=pif_ref, address=old_address,
                old_address=address, host_label=name,
                network_label=snap.networks[snap.pifs[old_pif].network].name_label,
                group=group, undoes=step.key))
    new_master = next((address for host, _, address in moves if host == master), None)
    if new_master is not None and len(snap.hosts) > 1:
        d.add(RecoverSlaves(
            "pool members", f"the master's address changed to {new_master}: each member is "
            "told (pool.recover_slaves), as pool.management_reconfigure does",
            pool=next(iter(snap.pools)), master_address=new_master))  # no group: never undone


def _unbonded_onto(d: Planner, pif_ref: PIFRef) -> bool:
    """Whether the recipe removes the bond ``pif_ref`` is a member of, that bond carries the
    management interface and ``pif_ref`` is its primary member: ``Bond.destroy`` then moves
    the management interface onto it (``xapi_bond.ml``), with the bond's address."""
    snap = d.snap
    ref = snap.pifs[pif_ref].bond_slave_of
    bond = snap.bonds[ref]
    removed = any(not spec.present and ref in ident.bonds_with_members(
        snap, spec.members).values() for spec in d.desired.bonds)
    master = snap.pifs.get(bond.master)
    return removed and bond.primary_slave == pif_ref and master is not None and \
        master.management


def _chosen(d: Planner, spec: ManagementSpec, where: str) -> list[HostRef] | None:
    """The stated hosts (every host when none are); ``None`` after naming unknown ones."""
    if spec.hosts is None:
        return list(d.snap.hosts)
    known = {word: ref for ref, h in d.snap.hosts.items() for word in (h.name_label, h.uuid)}
    unknown = sorted(set(spec.hosts) - set(known))
    if unknown:
        names = sorted(h.name_label for h in d.snap.hosts.values())
        d.problems.append(f"{where.removesuffix('.network')}.hosts: no host "
                          f"{', '.join(unknown)} in the pool ({', '.join(names)})")
        return None
    return [known[word] for word in spec.hosts]


def _network(d: Planner, spec: ManagementSpec, where: str) -> NetworkRef | None:
    target = d.networks.get(spec.network)
    if isinstance(target, Later):
        d.problems.append(f"{where}: network {spec.network!r} is made by this plan, its PIFs "
                          "have no address yet: apply it (and its `interfaces:` entry) first, "
                          "then move management")
        return None
    if target is not None:
        return target
    found = [r for r, n in d.snap.networks.items() if n.name_label == spec.network]
    if len(found) != 1:
        d.problems.append(f"{where}: network {spec.network!r} " + (
            "does not exist on the pool; check the name (xapictl network list)"
            if not found else "is the name of several networks; rename one"))
        return None
    return found[0]


_Planned = TypeVar("_Planned", SetPrimaryAddressType, ReconfigureIP, ReconfigureIPv6)


def _last_planned(d: Planner, kind: type[_Planned], pif_ref: PIFRef) -> _Planned | None:
    """The last step of ``kind`` the plan has for the PIF so far (an ``interfaces:`` entry's)."""
    planned = [s for s in d.steps if isinstance(s, kind) and s.pif == pif_ref]
    return planned[-1] if planned else None


def _primary_type(d: Planner, pif_ref: PIFRef) -> str:
    """The PIF's primary address type once the plan's earlier steps ran (an ``interfaces:``
    entry's ``primary_address_type``), else the one it has."""
    planned = _last_planned(d, SetPrimaryAddressType, pif_ref)
    return planned.value if planned else d.snap.pifs[pif_ref].primary_address_type.value


def _address(d: Planner, pif_ref: PIFRef) -> str:
    """The address the host will answer on, of the PIF's primary address type: the one this
    plan gives the PIF (an ``interfaces:`` entry), else the one it has (none for DHCP or
    autoconf, whose lease may change)."""
    pif = d.snap.pifs[pif_ref]
    if _primary_type(d, pif_ref) == "IPv6":
        planned6 = _last_planned(d, ReconfigureIPv6, pif_ref)
        if planned6:
            return planned6.ipv6.split("/", 1)[0] if planned6.mode == "Static" else ""
        found = [a.split("/", 1)[0] for a in pif.ipv6 if a]
        return found[0] if found else ""
    planned = _last_planned(d, ReconfigureIP, pif_ref)
    if planned:
        return planned.ip if planned.mode == "Static" else ""
    if pif.ip_configuration_mode.value == "None":
        return ""
    return pif.ip  # static, or DHCP's current lease (none when it has not got one)


__all__ = ["plan_management"]
