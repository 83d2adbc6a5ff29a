"""Planning private networks (XAPI tunnels over GRE/VXLAN) and SR-IOV networks: one network,
then per host a ``tunnel.create`` / ``network_sriov.create``, each host repaired alone as
VLANs are. XAPI's refusals are checked here, before the first write: ``tunnel.create`` writes
its records before it finds that the transport PIF has no IP (TRANSPORT_PIF_NOT_CONFIGURED)."""

from __future__ import annotations

from xapictl.model.enums import IPConfigurationMode
from xapictl.model.refs import HostRef, NetworkRef, NetworkSriovRef, PIFRef, TunnelRef
from xapictl.plan import identity as ident
from xapictl.plan.core import PlanWarning
from xapictl.plan.desired import NetworkSpec, TunnelSpec
from xapictl.plan.diff import sriov as sriov_checks
from xapictl.plan.diff.network import (
    create_network,
    keeps_its_name,
    plug_unplugged,
    update_network,
)
from xapictl.plan.diff.planner import NetTarget, Planner
from xapictl.plan.steps import CreateSriov, CreateTunnel

OPENVSWITCH = "openvswitch"


def bridge_backend_hosts(d: Planner) -> list[str]:
    """Hosts whose network backend is not openvswitch (XAPI: OPENVSWITCH_NOT_ACTIVE)."""
    return sorted(ident.host_name(d.snap, h) for h, host in d.snap.hosts.items()
                  if host.software_version.get("network_backend") != OPENVSWITCH)


def find_owned(d: Planner, spec: NetworkSpec, subject: str, identity: str,
               carried: list[NetworkRef], what: str) -> NetworkRef | bool | None:
    """The network ``spec`` means: the one carrying it (``carried``), else one marked with
    ``identity``, else one by name (adopted only with ``adopt``). ``False`` when a problem
    was recorded, ``None`` when there is none (to be created)."""
    candidates = sorted(set(carried) | set(ident.owned_with_identity(d.snap, identity)))
    if candidates:
        ref = d.single(f"{subject} ({what})", candidates)
        if ref is None or not keeps_its_name(d, spec, ref, subject, what):
            return False
        if not d.owned_or_adopt(ref, spec.adopt, identity, subject, f"the network of {what}"):
            return False
        return ref
    named = [r for r in d.snap.networks_named(spec.name)
             if not d.snap.networks[r].pifs or r in carried]
    if named:
        ref = d.single(f"{subject} (by name)", named)
        if ref is None or not d.owned_or_adopt(ref, spec.adopt, identity, subject,
                                               "the network with that name"):
            return False
        return ref
    taken = [r for r in d.snap.networks_named(spec.name) if r not in named]
    if taken:
        d.problems.append(
            f"{subject}: {ident.network_words(d.snap, taken[0])} has that name and carries "
            f"other PIFs; it cannot become {what}: choose another name")
        return False
    return None


def plan_private_or_sriov(d: Planner, spec: NetworkSpec) -> None:
    """A private (``tunnel``) or SR-IOV network entry wanted present."""
    subject = f"network {spec.name!r}"
    if spec.kind == "tunnel":
        private_network(d, spec, subject)
    else:
        sriov_network(d, spec, subject)


# --- private networks ------------------------------------------------------------------------


def private_network(d: Planner, spec: NetworkSpec, subject: str) -> None:
    tunnel = spec.tunnel
    if tunnel is None:  # pragma: no cover - only tunnel specs are routed here
        return
    transport = transport_network(d, tunnel, subject)
    if transport is None:
        return
    bridge = bridge_backend_hosts(d)
    if bridge:
        d.problems.append(
            f"{subject}: tunnels need the openvswitch network backend on every host; "
            f"{', '.join(bridge)} use another (XAPI answers OPENVSWITCH_NOT_ACTIVE): switch "
            "them with `xe-switch-network-backend openvswitch`, or leave the private "
            "network out")
        return
    identity = ident.tunnel_identity(spec.name)
    carried = [r for r in d.snap.networks_named(spec.name) if d.snap.tunnels_on(r)]
    found = find_owned(d, spec, subject, identity, carried, "a private network")
    if found is False:
        return
    is_new = found is None
    ref: NetTarget = create_network(
        d, spec, subject, identity, f"no private network named {spec.name!r} was made by "
        "xapictl") if found is None else NetworkRef(str(found))
    if isinstance(ref, str) and not _only_tunnels(d, ref, subject):
        return
    d.networks[spec.name] = ref
    existing = d.snap.tunnels_on(ref) if isinstance(ref, str) else {}
    live, offline = d.hosts()
    before = len(d.steps)
    made = _tunnel_steps(d, spec, tunnel, subject, ref, transport, existing, live)
    if made is None:
        return
    if not existing and not made:
        d.problems.append(
            f"{subject}: no live host has an IP on its PIF of transport network "
            f"{tunnel.transport!r}: XAPI would refuse every tunnel "
            "(TRANSPORT_PIF_NOT_CONFIGURED); give those PIFs an address first")
        return
    if isinstance(ref, str):
        update_network(d, spec, ref, subject, noop=False)
        plug_unplugged(d, [d.snap.tunnels[t].access_pif for h, t in sorted(existing.items())
                           if h in live], "it is the access PIF of the private network")
    d.defer(subject, [h for h in offline if h not in existing], "its tunnel")
    if len(d.steps) == before and not is_new:
        d.noop(subject, f"already in place ({tunnel.protocol} tunnels over "
                        f"{tunnel.transport!r} on {len(existing)} host(s))")


def transport_network(d: Planner, tunnel: TunnelSpec, subject: str) -> NetworkRef | None:
    """The existing network named ``tunnel.transport`` (the recipe may not create it: its
    PIFs must already have an IP)."""
    planned = d.networks.get(tunnel.transport)
    if planned is not None and not isinstance(planned, str):
        d.problems.append(
            f"{subject}: transport network {tunnel.transport!r} is created by this plan; "
            "tunnels need its PIFs to have an IP already: apply it first, give the PIFs an "
            "address, then add the private network")
        return None
    if planned is not None:
        return NetworkRef(planned)
    named = d.snap.networks_named(tunnel.transport)
    if not named:
        d.problems.append(f"{subject}: no transport network named {tunnel.transport!r}; see "
                          "`xapictl network list`")
        return None
    return d.single(f"{subject}: transport network {tunnel.transport!r}", named)


def _only_tunnels(d: Planner, ref: NetworkRef, subject: str) -> bool:
    """A private network holds tunnel access PIFs only (XAPI:
    NETWORK_INCOMPATIBLE_WITH_TUNNEL for an SR-IOV network, NETWORK_ALREADY_CONNECTED)."""
    other = [p for p in d.snap.networks[ref].pifs
             if p in d.snap.pifs and not d.snap.pifs[p].tunnel_access_pif_of]
    if other:
        d.problems.append(
            f"{subject}: {ident.network_words(d.snap, ref)} carries "
            f"{ident.pif_words(d.snap, other[0])}, which is not a tunnel: it is not a private "
            "network; choose another name")
        return False
    return True


def _tunnel_steps(d: Planner, spec: NetworkSpec, tunnel: TunnelSpec, subject: str,
                  ref: NetTarget, transport: NetworkRef, existing: dict[HostRef, TunnelRef],
                  live: list[HostRef]) -> list[HostRef] | None:
    """A ``CreateTunnel`` per live host that lacks its tunnel and whose transport PIF has an
    IP; warnings for the hosts skipped; ``None`` after a problem."""
    made: list[HostRef] = []
    problems = len(d.problems)
    for h in live:
        label = ident.host_name(d.snap, h)
        if h in existing:
            _check_existing_tunnel(d, subject, tunnel, transport, existing[h], label)
            continue
        pif_ref = d.snap.pif_on_network(h, transport)
        if pif_ref is None:
            d.warnings.append(PlanWarning(
                "transport_missing", f"{subject}: {label} has no PIF on transport network "
                f"{tunnel.transport!r}: no tunnel there"))
            continue
        refusal = transport_refusal(d, pif_ref)
        if refusal:
            d.problems.append(f"{subject}: {refusal}")
            continue
        if d.snap.pifs[pif_ref].ip_configuration_mode is IPConfigurationMode.NONE:
            d.warnings.append(PlanWarning(
                "transport_without_ip", f"{subject}: {ident.pif_words(d.snap, pif_ref)} has no "
                "IP: no tunnel there (XAPI would answer TRANSPORT_PIF_NOT_CONFIGURED); give it "
                "an address and re-run"))
            continue
        d.add(CreateTunnel(
            f"{subject} on {label}",
            f"{label} has no {tunnel.protocol} tunnel of the private network yet; its "
            f"transport PIF {d.snap.pifs[pif_ref].device} has an IP",
            host=h, host_label=label, transport=pif_ref, network=ref,
            protocol=tunnel.protocol))
        made.append(h)
    return made if len(d.problems) == problems else None


def transport_refusal(d: Planner, pif_ref: PIFRef) -> str:
    """Why XAPI would refuse ``pif_ref`` as a transport PIF ("" if it would not)."""
    pif = d.snap.pifs[pif_ref]
    words = ident.pif_words(d.snap, pif_ref)
    if not pif.managed:
        return f"{words} is not managed by xapi (XAPI: PIF_UNMANAGED)"
    if pif.tunnel_access_pif_of:
        return f"{words} is itself a tunnel's access PIF (XAPI: IS_TUNNEL_ACCESS_PIF)"
    if pif.bond_slave_of in d.snap.bonds:
        return f"{words} is a bond member (XAPI: CANNOT_ADD_TUNNEL_TO_BOND_SLAVE)"
    if pif.sriov_logical_pif_of:
        return f"{words} is an SR-IOV logical PIF (XAPI: CANNOT_ADD_TUNNEL_TO_SRIOV_LOGICAL)"
    vlan = d.snap.vlans.get(pif.vlan_master_of)
    tagged = d.snap.pifs.get(vlan.tagged_pif) if vlan is not None else None
    if tagged is not None and tagged.sriov_logical_pif_of:
        return (f"{words} is a VLAN on an SR-IOV logical PIF "
                "(XAPI: CANNOT_ADD_TUNNEL_TO_VLAN_ON_SRIOV_LOGICAL)")
    return ""


def _check_existing_tunnel(d: Planner, subject: str, tunnel: TunnelSpec,
                           transport: NetworkRef, found: TunnelRef, label: str) -> None:
    record = d.snap.tunnels[found]
    carrier = d.snap.pifs.get(record.transport_pif)
    if record.protocol.value != tunnel.protocol:
        d.problems.append(
            f"{subject}: the tunnel on {label} is {record.protocol.value}, the recipe says "
            f"{tunnel.protocol}; xapictl does not rebuild tunnels: delete the private network "
            "first (`xapictl network delete`), or state its protocol")
    elif carrier is None or carrier.network != transport:
        d.problems.append(
            f"{subject}: the tunnel on {label} rides on another network than "
            f"{tunnel.transport!r}; xapictl does not move tunnels: delete the private "
            "network first, or state its transport")


# --- SR-IOV networks ---------------------------------------------------------------------------


def sriov_network(d: Planner, spec: NetworkSpec, subject: str) -> None:
    device = spec.device or ""
    nics = ident.trunk_pifs_by_device(d.snap, device)
    if not nics:
        d.problems.append(f"{subject}: no host has a NIC {device}; check the device name "
                          "(`xapictl pif list`)")
        return
    if d.snap.pool.restrictions.get("restrict_network_sriov", "false").lower() == "true":
        d.problems.append(f"{subject}: the pool's licence does not allow SR-IOV (XAPI: "
                          "LICENCE_RESTRICTION Network_sriov)")
        return
    identity = ident.sriov_identity(device)
    enabled = d.snap.sriovs_of_device(device)
    carried = sorted({d.snap.pifs[d.snap.sriovs[s].logical_pif].network
                      for s in enabled.values() if d.snap.sriovs[s].logical_pif in d.snap.pifs})
    found = find_owned(d, spec, subject, identity, carried, f"SR-IOV on NIC {device}")
    if found is False:
        return
    ref: NetTarget = create_network(
        d, spec, subject, identity, f"no network has SR-IOV on NIC {device} yet"
    ) if found is None else NetworkRef(str(found))
    d.networks[spec.name] = ref
    live, offline = d.hosts()
    before = len(d.steps)
    capable = 0
    adding: list[PIFRef] = []
    for h in live:
        label = ident.host_name(d.snap, h)
        if h in enabled:
            capable += 1
            _sriov_state_warning(d, subject, enabled[h], label)
            continue
        pif_ref = nics.get(h)
        if pif_ref is None:
            d.warnings.append(PlanWarning("device_missing",
                                          f"{subject}: device {device} is missing on {label}"))
            continue
        pif = d.snap.pifs[pif_ref]
        if not pif.physical or "sriov" not in pif.capabilities:
            d.warnings.append(PlanWarning(
                "sriov_not_capable", f"{subject}: {ident.pif_words(d.snap, pif_ref)} cannot do "
                "SR-IOV (no capability sriov): no SR-IOV there"))
            continue
        if not pif.managed:
            d.problems.append(f"{subject}: {ident.pif_words(d.snap, pif_ref)} is not managed "
                              "by xapi (XAPI: PIF_UNMANAGED)")
            continue
        capable += 1
        adding.append(pif_ref)
        d.add(CreateSriov(
            f"{subject} on {label}",
            f"{label}'s {device} can do SR-IOV and it is not enabled; XAPI says in the answer "
            "whether the host must reboot before its VFs exist (requires_reboot, shown by "
            "`network show`)", host=h, host_label=label, pif=pif_ref, network=ref))
    if not capable:
        d.problems.append(f"{subject}: no live host's {device} can do SR-IOV (capability "
                          "sriov); see `xapictl pif list`")
        return
    if not sriov_checks.check_models(
            d, subject, sriov_checks.first_physical(d.snap, ref) if isinstance(ref, str)
            else None, adding):
        return
    if isinstance(ref, str):
        update_network(d, spec, ref, subject, noop=False)
    d.defer(subject, [h for h in offline if h not in enabled], f"SR-IOV on {device}")
    if len(d.steps) == before and found is not None:
        d.noop(subject, f"already in place (SR-IOV on {device} of {len(enabled)} host(s): "
                        f"{sriov_checks.vf_report(d.snap, enabled)})")
    elif enabled:
        d.noop(f"{subject} on the other hosts", f"SR-IOV on {device} already enabled: "
                                                f"{sriov_checks.vf_report(d.snap, enabled)}")


def _sriov_state_warning(d: Planner, subject: str, sriov: NetworkSriovRef, label: str
                         ) -> None:
    record = d.snap.sriovs[sriov]
    if record.requires_reboot:
        d.warnings.append(PlanWarning(
            "sriov_requires_reboot", f"{subject}: {label} must reboot before the VFs exist "
            f"(requires_reboot; configuration mode {record.configuration_mode.value})"))


__all__ = ["bridge_backend_hosts", "plan_private_or_sriov", "private_network", "sriov_network",
           "transport_refusal"]
