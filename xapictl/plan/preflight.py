"""Pre-flight checks: what would make a plan fail half-way, found before the first write.

Each check returns problem lines that name the objects involved and say what to do. The
structural ones run inside ``diff`` (they need the same identity work); ``check_roles`` runs
once the session's permissions are known. ``PreflightError`` carries them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from xapictl.errors import PreflightError
from xapictl.model.enums import VMPowerState
from xapictl.model.refs import HostRef, NetworkRef, PIFRef, VIFRef, VMRef
from xapictl.model.schema import ROLE_ORDER, datamodel
from xapictl.plan.core import Plan
from xapictl.plan.identity import host_name, network_words, pif_words, vm_words
from xapictl.state.snapshot import PoolSnapshot


def missing_device(snap: PoolSnapshot, device: str, hosts: Iterable[HostRef]) -> list[str]:
    names = sorted(host_name(snap, h) for h in hosts)
    if not names:
        return []
    return [f"device {device} is missing on host(s) {', '.join(names)}: give a device every "
            "host has, or fix those hosts (PIF.scan) first"]


def tag_used_elsewhere(snap: PoolSnapshot, device: str, tag: int,
                       by_host: dict[HostRef, NetworkRef]) -> list[str]:
    """The tag on that trunk belongs to several networks across the hosts."""
    if len(set(by_host.values())) <= 1:
        return []
    lines = [f"VLAN {tag} on {device} is used by more than one network; XAPI allows one per "
             "PIF and tag, so the pool is inconsistent. Per host:"]
    lines += [f"  {host_name(snap, h)}: {network_words(snap, n)}"
              for h, n in sorted(by_host.items(), key=lambda i: host_name(snap, i[0]))]
    lines.append("  remove the VLANs of the wrong network, then re-run")
    return ["\n".join(lines)]


def bond_member_problems(snap: PoolSnapshot, members: Sequence[PIFRef]) -> list[str]:
    """What XAPI's ``Bond.create`` would refuse for these members of one host
    (``xapi_bond.ml``), each with its error code; VLANs, IP configuration and the
    management interface on a member are no problem: XAPI moves them onto the bond."""
    out = []
    for member in members:
        pif = snap.pifs[member]
        words = pif_words(snap, member)
        if not pif.managed:
            out.append(f"{words} is not managed by XAPI (PIF_UNMANAGED): bond managed NICs")
        elif pif.bond_slave_of in snap.bonds:
            out.append(f"{words} is already a member of another bond (PIF_ALREADY_BONDED)")
        elif pif.management and any(p.ha_enabled for p in snap.pools.values()):
            out.append(f"{words} carries the management interface and HA is enabled: XAPI "
                       "refuses to change the bond status of the management interface "
                       "(HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE); disable HA first, or "
                       "bond other NICs")
    with_ip = [m for m in members if has_ip(snap, m)]
    if len(with_ip) > 1:
        out.append("more than one member has an IP configuration ("
                   + ", ".join(pif_words(snap, m) for m in with_ip)
                   + "): XAPI keeps one (PIF_BOND_MORE_THAN_ONE_IP); clear the others' "
                   "first (`PIF.reconfigure_ip` mode None)")
    if len({str(snap.pifs[m].properties) for m in members}) > 1:
        out.append("the members' PIF properties differ (INCOMPATIBLE_PIF_PROPERTIES): "
                   "make them equal (e.g. gro) first")
    if len({snap.pifs[m].primary_address_type for m in members}) > 1:
        out.append("the members' primary address types differ "
                   "(PIF_INCOMPATIBLE_PRIMARY_ADDRESS_TYPE)")
    return out


def bonded_trunks(snap: PoolSnapshot, device: str, trunks: Mapping[HostRef, object]
                  ) -> list[str]:
    """A VLAN trunked on a NIC that is a bond member: XAPI refuses it
    (CANNOT_ADD_VLAN_TO_BOND_SLAVE), and its VLANs were moved onto the bond."""
    bonds: dict[str, list[str]] = {}
    for host, ref in trunks.items():
        pif = snap.pifs.get(PIFRef(ref)) if isinstance(ref, str) else None
        bond = snap.bonds.get(pif.bond_slave_of) if pif is not None else None
        if bond is not None and bond.master in snap.pifs:
            name = snap.networks[snap.pifs[bond.master].network].name_label \
                if snap.pifs[bond.master].network in snap.networks else "?"
            bonds.setdefault(name, []).append(host_name(snap, host))
    return [f"{device} is a member of the bond on network {name!r} on {', '.join(sorted(hosts))}"
            f": XAPI refuses VLANs on a bond member (CANNOT_ADD_VLAN_TO_BOND_SLAVE); put the "
            f"VLAN on the bond (`bond: {name}`, or --bond {name!r})"
            for name, hosts in sorted(bonds.items())]


def has_ip(snap: PoolSnapshot, pif_ref: PIFRef) -> bool:
    """Whether the PIF has an IP configuration on its primary address type (as
    ``xapi_bond.ml`` judges it when it picks the primary member)."""
    pif = snap.pifs[pif_ref]
    if pif.primary_address_type.value == "IPv6":
        return pif.ipv6_configuration_mode.value != "None"
    return pif.ip_configuration_mode.value != "None"


def hotplug_problem(snap: PoolSnapshot, vm: VMRef) -> list[str]:
    """A running HVM guest without PV drivers cannot take a VIF hot-plug."""
    record = snap.vms[vm]
    if record.power_state != VMPowerState.RUNNING or record.domain_type.value != "hvm":
        return []
    metrics = snap.vm_guest_metrics.get(record.guest_metrics)
    if metrics is not None:
        can = metrics.can_use_hotplug_vif.value
        if can == "yes" or (can != "no" and metrics.pv_drivers_detected):
            return []
    return [f"{vm_words(snap, vm)} runs without PV drivers: a new VIF cannot be hot-plugged; "
            "install the guest tools, or stop the VM and re-run"]


def mac_in_use(snap: PoolSnapshot, network: NetworkRef, mac: str, this: VIFRef | None
               ) -> list[str]:
    users = [r for r in snap.vifs_with_mac(network, mac) if r != this]
    return [f"MAC {mac} is already used on {network_words(snap, network)} by VIF "
            f"{snap.vifs[r].device} of {vm_words(snap, snap.vifs[r].vm)}; choose another MAC"
            for r in users]


def plugged_vifs(snap: PoolSnapshot, network: NetworkRef, leaving: set[VIFRef]) -> list[str]:
    """VIFs plugged in running VMs block removing the network: name the VMs."""
    vms = sorted({vm_words(snap, snap.vifs[r].vm) for r in snap.networks[network].vifs
                  if r in snap.vifs and r not in leaving and snap.vifs[r].currently_attached})
    if not vms:
        return []
    return [f"{network_words(snap, network)} still has VIFs plugged in: {'; '.join(vms)}. "
            "Detach them (vifs: present: false, or `xapictl vif detach`) first"]


def minimum_role(method: str) -> str:
    """The weakest role allowed to call ``Class.message``."""
    cls, _, msg = method.partition(".")
    info = datamodel().find_class(cls)
    roles = info.messages[msg].roles if info is not None and msg in info.messages else set()
    for role in reversed(ROLE_ORDER):
        if role in roles:
            return role
    return "pool-admin"


def check_roles(plan: Plan, permissions: frozenset[str] | None) -> list[str]:
    """Calls the session may not make, with the role they need. ``None``: not known."""
    if permissions is None:
        return []
    missing: dict[str, list[str]] = {}
    for step in plan.steps:
        for method in getattr(step, "calls", ()):
            if method.lower() not in permissions:
                missing.setdefault(method, []).append(step.subject)
    if plan.steps:
        for method in LEASE_CALLS:
            if method.lower() not in permissions:
                missing.setdefault(method, []).append("take the pool's write lease")
    return [f"your role may not call {m} (needs {minimum_role(m)} or above), needed to "
            f"{', '.join(sorted(set(subjects)))}; log in with a stronger role"
            for m, subjects in sorted(missing.items())]


LEASE_CALLS = ("pool.add_to_other_config", "pool.remove_from_other_config")
"""What a run that writes sends besides its steps: the pool's write lease (one writer per
pool, ``xapictl.client.lease``)."""


def check_reach(plan: Plan, reach: Callable[[str], str | None]) -> list[str]:
    """Each address a step will need this client to reach (a new management address,
    ``needs_reach``) that ``reach`` says it cannot: the client would lose the pool."""
    out = []
    for step in plan.steps:
        address = getattr(step, "needs_reach", None)
        if not isinstance(address, str):
            continue
        why = reach(address)
        if why is not None:
            out.append(f"{step.subject}: this client cannot reach {address} ({why}); after "
                       "the move the pool would answer only there: give that network "
                       "addresses this client reaches, or run xapictl from that network")
    return out


def preflight(plan: Plan, permissions: frozenset[str] | None, *,
              reach: Callable[[str], str | None] | None = None) -> None:
    """Raise ``PreflightError`` when the session cannot run the plan (its role), or when a
    step needs an address this client cannot reach (``reach``, the connection's)."""
    problems = check_roles(plan, permissions)
    if reach is not None:
        problems += check_reach(plan, reach)
    if problems:
        raise PreflightError(problems)


__all__ = [
    "LEASE_CALLS",
    "bond_member_problems",
    "bonded_trunks",
    "check_reach",
    "check_roles",
    "has_ip",
    "hotplug_problem",
    "mac_in_use",
    "minimum_role",
    "missing_device",
    "plugged_vifs",
    "preflight",
    "tag_used_elsewhere",
]
