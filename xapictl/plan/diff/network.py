"""Planning networks: named (by name + ownership mark), a NIC's network, and trunked
VLAN networks (one pool call, per-host repair); field updates, MTU re-plugs, removal.
"""

from __future__ import annotations

from xapictl.model.refs import HostRef, NetworkRef, PIFRef
from xapictl.plan import identity as ident
from xapictl.plan import preflight as pf
from xapictl.plan.core import PlanWarning, Step
from xapictl.plan.desired import NetworkSpec
from xapictl.plan.diff.mtu import below_its_vlans
from xapictl.plan.diff.planner import NetTarget, Planner
from xapictl.plan.steps import (
    AddPurpose,
    CreateNetwork,
    CreatePoolVLAN,
    CreateVLAN,
    DestroyNetwork,
    DestroyVLAN,
    Later,
    PlugPIF,
    ReplugPIF,
    ScanPIFs,
    SetField,
    SetOtherConfig,
)


def plan_network(d: Planner, spec: NetworkSpec) -> None:
    """A VLAN, NIC or named network (private and SR-IOV ones: ``diff.private``)."""
    subject = f"network {spec.name!r}"
    if spec.rediscover and not rediscover(d, spec, subject):
        return
    if spec.kind == "vlan":
        vlan_network(d, spec, subject)
    elif spec.kind == "nic":
        nic_network(d, spec, subject)
    else:
        named_network(d, spec, subject)


def create_network(
    d: Planner, spec: NetworkSpec, subject: str, identity: str, reason: str, mtu: int | None = None
) -> Later:
    other = dict(spec.other_config or {})
    if spec.automatic is not None:
        other["automatic"] = str(spec.automatic).lower()
    other.update(ident.mark(identity))
    key = f"network:{spec.name}"
    d.add(
        CreateNetwork(
            subject,
            reason,
            key=key,
            name_label=spec.name,
            name_description=spec.description or "",
            mtu=mtu or spec.mtu or 1500,
            other_config=other,
            tags=tuple(spec.tags or ()),
            managed=True if spec.managed is None else spec.managed,
        )
    )
    later = Later(key)
    if spec.default_locking_mode not in (None, "unlocked"):
        d.add(
            SetField(
                subject,
                "the recipe sets the default locking mode",
                xapi_class="network",
                ref=later,
                method="set_default_locking_mode",
                field_name="default_locking_mode",
                value=spec.default_locking_mode,
            )
        )
    for purpose in spec.purpose or ():
        d.add(AddPurpose(subject, "the recipe lists this purpose", network=later, purpose=purpose))
    return later


def named_network(d: Planner, spec: NetworkSpec, subject: str) -> None:
    identity = ident.named_identity(spec.name)
    named = d.snap.networks_named(spec.name)
    owned = sorted(
        {r for r in named if ident.is_owned(d.snap, r)}
        | set(ident.owned_with_identity(d.snap, identity))
    )
    if owned:
        ref = d.single(f"{subject} (made by xapictl)", owned)
    elif named:
        ref = d.single(f"{subject} (not made by xapictl)", named)
        if ref is None or not d.owned_or_adopt(
            ref, spec.adopt, identity, subject, "the network with that name"
        ):
            return
    else:
        d.networks[spec.name] = create_network(
            d, spec, subject, identity, "no network with this name was made by xapictl"
        )
        return
    if ref is None:
        return
    d.networks[spec.name] = ref
    update_network(d, spec, ref, subject)


def rediscover(d: Planner, spec: NetworkSpec, subject: str) -> bool:
    """``rediscover: true``: a ``PIF.scan`` of each live host that lacks ``device``; the PIF
    it finds is what the entry builds on there (``Planner.rescanning``). At least one host
    must have the NIC already, so the plan knows which network it is on: False (a problem)
    otherwise."""
    device = spec.device or ""
    have = ident.trunk_pifs_by_device(d.snap, device)
    live, _ = d.hosts()
    if not any(h in have for h in live):
        d.problems.append(
            f"{subject}: no live host has a NIC {device} yet, so the plan cannot tell which "
            f"network it joins: run `xapictl pif scan` on the hosts first, then re-run")
        return False
    for h in live:
        if h in have:
            continue
        if (h, device) in d.rescanning:
            continue  # another entry of the recipe has it scanned for already
        label = ident.host_name(d.snap, h)
        key = f"pif:{h}:{device}"
        d.rescanning[(h, device)] = Later(key)
        d.add(ScanPIFs(f"NICs of {label}", f"{label} has no PIF for {device} and the recipe "
                       "says rediscover: true", key=key, host=h, host_label=label,
                       device=device))
    return True


def scanned(d: Planner, device: str) -> dict[HostRef, Later]:
    """The hosts whose ``device`` PIF a scan of this plan finds."""
    return {h: later for (h, dev), later in d.rescanning.items() if dev == device}


def nic_network(d: Planner, spec: NetworkSpec, subject: str) -> None:
    device = spec.device or ""
    trunks = ident.trunk_pifs_by_device(d.snap, device)
    if not trunks:
        d.problems.append(
            f"{subject}: no host has a NIC {device}; check the device name (`xapictl pif list`)"
        )
        return
    found = scanned(d, device)
    missing = [h for h in d.snap.hosts if h not in trunks and h not in found]
    if missing:
        names = ", ".join(sorted(ident.host_name(d.snap, h) for h in missing))
        d.warnings.append(PlanWarning("device_missing",
                                      f"{subject}: device {device} is missing on {names}"))
    ref = d.single(
        f"{subject} (NIC {device})", sorted({d.snap.pifs[p].network for p in trunks.values()})
    )
    if ref is None or not keeps_its_name(d, spec, ref, subject, f"NIC {device}"):
        return
    d.networks[spec.name] = ref
    before = len(d.steps)
    update_network(d, spec, ref, subject, rename=True, noop=False)
    live, _ = d.hosts()  # plugged after set_MTU, so the plug applies the new MTU
    plug_unplugged(d, [trunks[h] for h in live if h in trunks], f"it is NIC {device}")
    for h, later in found.items():
        d.add(PlugPIF(f"PIF {device} on {ident.host_name(d.snap, h)}", "found by the scan "
                      f"and it is NIC {device}: plug it", pif=later))
    if len(d.steps) == before:
        d.noop(subject, "already in place")


def vlan_network(d: Planner, spec: NetworkSpec, subject: str) -> None:
    tag = spec.vlan if spec.vlan is not None else -1
    if spec.device is not None:
        trunk_words = spec.device
        trunk_id = spec.device
        trunks: dict[HostRef, PIFRef | Later] = dict(
            ident.trunk_pifs_by_device(d.snap, spec.device)
        )
        live, offline = d.hosts()
        trunks.update(scanned(d, spec.device))
        d.problems += pf.missing_device(d.snap, spec.device, [h for h in live if h not in trunks])
        bonded = pf.bonded_trunks(d.snap, spec.device, trunks)
        if bonded:
            d.problems += [f"{subject}: {p}" for p in bonded]
            return
    else:
        from xapictl.plan.diff.bond import bond_trunks  # a VLAN on a bond

        bond_name = spec.bond or ""
        trunk_words = f"bond {bond_name!r}"
        trunk_id = f"bond:{bond_name}"
        found = bond_trunks(d, bond_name, subject)
        if found is None:
            return
        trunks = found
        live, offline = d.hosts()
        missing = [h for h in live if h not in trunks]
        if missing:
            d.problems.append(
                f"{subject}: bond {bond_name!r} is missing on host(s) "
                f"{', '.join(ident.host_name(d.snap, h) for h in missing)}"
                "; state it under `bonds:` so it is made on every host"
            )
    if not trunk_mtu_fits(d, spec, subject, trunk_words, trunks):
        return
    identity = ident.vlan_identity(trunk_id, tag)
    known = {h: PIFRef(p) for h, p in trunks.items() if not isinstance(p, Later)}
    by_host = ident.vlan_networks_on(d.snap, known, tag)
    for h, p in trunks.items():  # a bond this plan makes: XAPI moves the members' VLANs
        moved = d.moved_vlans.get(p.key, {}) if isinstance(p, Later) else {}
        if tag in moved:
            by_host[h] = moved[tag]
    tag_problems = pf.tag_used_elsewhere(d.snap, trunk_words, tag, by_host)
    if tag_problems:
        d.problems += [f"{subject}: {p}" for p in tag_problems]
        return
    candidates = sorted(set(by_host.values()) | set(ident.owned_with_identity(d.snap, identity)))
    ref: NetTarget
    if not candidates:
        ref = create_network(
            d, spec, subject, identity, f"no network carries VLAN {tag} on {trunk_words}"
        )
        is_new = True
    else:
        found_ref = d.single(f"{subject} (VLAN {tag} on {trunk_words})", candidates)
        if found_ref is not None and not keeps_its_name(
            d, spec, found_ref, subject, f"VLAN {tag} on {trunk_words}"
        ):
            return
        if found_ref is None or not d.owned_or_adopt(
            found_ref,
            spec.adopt,
            identity,
            subject,
            f"the network carrying VLAN {tag} on {trunk_words}",
        ):
            return
        ref = found_ref
        is_new = False
    d.networks[spec.name] = ref
    wanted = [h for h in live if h in trunks]
    lacking = [h for h in wanted if h not in by_host]
    before = len(d.steps)
    plug_unplugged(
        d, [p for h in wanted if not isinstance(p := trunks[h], Later)],
        f"VLAN {tag} on {trunk_words} rides on it",
    )
    # a trunk found by a scan of this plan: VLAN.create per host (the pool call would be sent
    # with a trunk not known when the plan was made)
    if lacking and len(lacking) == len(wanted) and one_trunk_network(d, trunks) \
            and not scanned(d, trunk_id):
        first = trunks[wanted[-1]]
        d.add(
            CreatePoolVLAN(
                subject,
                f"no host has VLAN {tag} on {trunk_words} yet: one pool call "
                f"creates it on all {len(wanted)} live host(s)",
                network=ref,
                trunk=first,
                tag=tag,
                hosts=tuple(ident.host_name(d.snap, h) for h in wanted),
            )
        )
    else:
        for h in lacking:
            label = ident.host_name(d.snap, h)
            d.add(
                CreateVLAN(
                    f"{subject} on {label}",
                    f"host {label} lacks VLAN {tag} on {trunk_words} "
                    "(down at the first run, joined later, or edited by hand): repair it",
                    host=h,
                    host_label=label,
                    network=ref,
                    trunk=trunks[h],
                    tag=tag,
                )
            )
    if not isinstance(ref, Later):
        update_network(d, spec, ref, subject, rename=True)
    plug_unplugged(  # after set_MTU, so the plug applies the new MTU
        d, vlan_pifs(d, [known[h] for h in wanted if h in by_host and h in known], tag),
        f"it carries VLAN {tag} on {trunk_words}",
    )
    d.defer(subject, [h for h in offline if h not in by_host], f"VLAN {tag} on {trunk_words}")
    if len(d.steps) == before and not is_new:
        d.noop(subject, f"already in place (VLAN {tag} on {trunk_words} on {len(wanted)} host(s))")


def trunk_mtu_fits(d: Planner, spec: NetworkSpec, subject: str, trunk_words: str,
                   trunks: dict[HostRef, PIFRef | Later]) -> bool:
    """A VLAN's MTU is never above its trunk's network MTU as the plan leaves it: the trunk's
    own recipe entry, a raise planned here (``raise_trunk_mtu``), or what the pool has.

    XAPI checks nothing (xen-api ``nm.ml`` ``create_bridges``: the VLAN device and bridge get
    the VLAN network's MTU, the trunk NIC its own network's; networkd's ``link_set_mtu`` only
    logs "MTU size is not supported" when the kernel refuses a VLAN device above its parent)
    and ``PIF.MTU`` is then synced from the VLAN bridge: the records say 9000 while frames
    above the trunk's MTU are dropped. So the plan refuses it, naming the fix, or with
    ``raise_trunk_mtu`` raises the trunk's network first with its own re-plugs. False (a
    problem recorded) when it does not fit.

    Reads the trunk's PIFs and network, and for a raise the trunk network's VIFs and VMs:
    keep them in the plan's read (``backend.classes_needed``: VIFs are read because ``mtu``
    is stated)."""
    if spec.mtu is None:
        return True
    nets = sorted({d.snap.pifs[p].network for p in trunks.values()
                   if not isinstance(p, Later) and p in d.snap.pifs})
    bond = d.desired.bond_named(spec.bond) if spec.bond is not None else None
    if spec.device is not None:
        stated = next((n for n in d.desired.networks
                       if n.kind == "nic" and n.device == spec.device and n.present), None)
        current = max((d.raised_trunks.get(n, d.snap.networks[n].mtu) for n in nets),
                      default=None)
        name = (stated.name if stated is not None else
                d.snap.networks[nets[0]].name_label if nets else spec.device)
        entry = f"{{name: {name!r}, device: {spec.device}, mtu: {spec.mtu}, replug: true}}"
        fix = f"state networks: - {entry}"
    else:
        stated = d.desired.network_named(spec.bond or "")
        current = max((d.raised_trunks.get(n, d.snap.networks[n].mtu) for n in nets),
                      default=None)
        if bond is not None and bond.mtu is not None:
            current = bond.mtu
        elif current is None:
            current = 1500  # a bond this plan makes without an MTU: a new network's default
        name = spec.bond or ""
        fix = f"state `mtu: {spec.mtu}` on the bond {name!r} under bonds:"
    trunk_mtu = stated.mtu if stated is not None and stated.mtu is not None else current
    if trunk_mtu is None or spec.mtu <= trunk_mtu:
        if stated is None:
            trunk_not_replugged(d, spec, subject, trunks)
        return True
    if spec.raise_trunk_mtu and nets and (stated is None or stated.mtu is None) and (
            bond is None or bond.mtu is None):
        raised = [raise_trunk(d, spec, n, subject) for n in nets]  # each problem recorded
        return all(raised)
    management = sorted(ident.host_name(d.snap, d.snap.pifs[p].host) for p in trunks.values()
                        if not isinstance(p, Later) and p in d.snap.pifs
                        and d.snap.pifs[p].management)
    fix = f"raise the trunk first: {fix}"
    if nets and (stated is None or stated.mtu is None):
        fix += ", or add raise_trunk_mtu: true (--raise-trunk-mtu)"
    if management:
        fix += (f"; the trunk carries the management interface on {', '.join(management)}: "
                "re-plugging it needs replug_management: true (a separate confirmation)")
    d.problems.append(f"{subject}: MTU {spec.mtu} is above its trunk's ({trunk_words}, "
                      f"network {name!r}, MTU {trunk_mtu}): a VLAN carries no frame larger "
                      f"than its trunk; {fix}")
    return False


def trunk_not_replugged(d: Planner, spec: NetworkSpec, subject: str,
                        trunks: dict[HostRef, PIFRef | Later]) -> None:
    """A trunk whose network MTU fits the VLAN but whose plugged PIFs still carry less (its
    MTU was set without a re-plug) and that this plan does not re-plug: a warning per PIF,
    since the VLAN's larger frames are dropped there until then."""
    mtu = spec.mtu or 0
    replugged = {st.pif for st in d.steps if isinstance(st, ReplugPIF)}
    low = [p for p in trunks.values() if not isinstance(p, Later) and p in d.snap.pifs
           and p not in replugged and d.snap.pifs[p].currently_attached
           and d.snap.pifs[p].mtu < mtu and "mtu" not in d.snap.pifs[p].other_config]
    for p in sorted(low, key=lambda r: ident.pif_words(d.snap, r)):
        net = d.snap.networks[d.snap.pifs[p].network].name_label
        d.warnings.append(PlanWarning(
            "trunk_mtu_until_replug",
            f"{subject}: its trunk {ident.pif_words(d.snap, p)} still carries MTU "
            f"{d.snap.pifs[p].mtu} until re-plugged: the VLAN's frames above that are "
            f"dropped there until then (`xapictl network set-mtu {net!r} "
            f"{d.snap.networks[d.snap.pifs[p].network].mtu} --replug`)"))


def raise_trunk(d: Planner, spec: NetworkSpec, ref: NetworkRef, subject: str) -> bool:
    """``raise_trunk_mtu``: the trunk's network ``ref`` goes to the VLAN's MTU first, its
    attached PIFs re-plugged, then its VIFs (PIFs first: never a VIF above its PIF). Refused
    (False) when that re-plugs the management interface without ``replug_management``, as
    ``set-mtu --replug`` is."""
    mtu = spec.mtu or 0
    n = d.snap.networks[ref]
    trunk = f"network {n.name_label!r}"
    management = sorted(ident.pif_words(d.snap, p) for p in n.pifs if p in d.snap.pifs
                        and d.snap.pifs[p].management and d.snap.pifs[p].currently_attached)
    if management and not spec.replug_management:
        d.problems.append(
            f"{subject}: raising its trunk {trunk} to MTU {mtu} (raise_trunk_mtu) re-plugs "
            f"the management interface ({', '.join(management)}): add replug_management: "
            "true / --replug-management to allow it (it is re-plugged first), or keep the "
            f"VLAN at MTU {n.mtu} or below")
        return False
    d.raised_trunks[ref] = max(mtu, d.raised_trunks.get(ref, 0))
    if n.mtu >= mtu:
        return True  # another VLAN entry of this recipe raised it already
    d.add(SetField(trunk, f"MTU is {n.mtu} and {subject} on it says {mtu} (raise_trunk_mtu): "
                   "a VLAN carries no frame larger than its trunk", xapi_class="network",
                   ref=ref, method="set_MTU", field_name="mtu", value=mtu))
    replugs(d, NetworkSpec(name=n.name_label, mtu=mtu, replug=True,
                           replug_management=spec.replug_management), ref, trunk)
    return True


def planning_order(d: Planner, networks: tuple[NetworkSpec, ...] | list[NetworkSpec]
                   ) -> list[NetworkSpec]:
    """The order networks are planned in: NIC networks whose MTU goes up or stays first (a
    trunk is raised before the VLANs on it), then the others in recipe order, then trunks
    whose MTU goes down (the VLANs on a trunk come down before it): NIC networks, and named
    networks that carry VLANs (a bond's network, found by its name)."""
    def lowered(spec: NetworkSpec, nets: list[NetworkRef]) -> bool:
        return spec.mtu is not None and any(
            d.snap.networks[n].mtu > spec.mtu for n in nets if n in d.snap.networks)

    def carries_vlans(ref: NetworkRef) -> bool:
        return any(d.snap.vlans_on(p) for p in d.snap.networks[ref].pifs if p in d.snap.pifs)

    def rank(spec: NetworkSpec) -> int:
        if spec.kind == "named":
            trunks = [r for r in d.snap.networks_named(spec.name) if carries_vlans(r)]
            return 2 if lowered(spec, trunks) else 1
        if spec.kind != "nic":
            return 1
        return 2 if lowered(spec, [
            d.snap.pifs[p].network
            for p in ident.trunk_pifs_by_device(d.snap, spec.device or "").values()]) else 0
    return sorted(networks, key=rank)


def vlan_pifs(d: Planner, trunks: list[PIFRef], tag: int) -> list[PIFRef]:
    """The VLAN (untagged) PIFs of ``tag`` on those of ``trunks`` that carry it."""
    return d.snap.vlan_untagged_pifs(trunks, tag)


def plug_unplugged(d: Planner, pifs: list[PIFRef], why: str) -> None:
    """A ``PIF.plug`` for each of ``pifs`` that is unplugged: the recipe needs it attached
    (plugging is additive: nothing that runs is interrupted)."""
    # only the unplugged ones are named (and sorted by name)
    for p in sorted(d.snap.unplugged(pifs), key=lambda r: ident.pif_words(d.snap, r)):
        d.add(PlugPIF(ident.pif_words(d.snap, p), f"unplugged, and {why}: plug it", pif=p))


def keeps_its_name(
    d: Planner, spec: NetworkSpec, ref: NetworkRef, subject: str, what: str
) -> bool:
    """False (a problem naming the network) when ``ref``, found by ``what`` it carries, has
    another name and ``spec`` may not rename it: ``network create`` never re-purposes."""
    n = d.snap.networks[ref]
    if spec.rename or n.name_label == spec.name:
        return True
    d.problems.append(
        f"{subject}: {what} is already carried by network {n.name_label!r} (uuid {n.uuid}); "
        f"xapictl does not rename or re-purpose it: refer to it as {n.name_label!r}, or "
        f"delete it first (`xapictl network delete {n.name_label!r}`); to rename it, state "
        "`rename: true` in a recipe"
    )
    return False


def one_trunk_network(d: Planner, trunks: dict[HostRef, PIFRef | Later]) -> bool:
    """``pool.create_VLAN_from_PIF`` reaches exactly the PIFs on the trunk's network."""
    nets = {d.snap.pifs[p].network for p in trunks.values() if not isinstance(p, Later)}
    return len(nets) <= 1


def update_network(
    d: Planner, spec: NetworkSpec, ref: NetworkRef, subject: str, rename: bool = False,
    noop: bool = True,
) -> None:
    """Plan setters for each stated field that differs, and the MTU re-plugs; with ``noop``
    an "already in place" no-op when there is none (not for a VLAN network: its caller
    says so)."""
    n = d.snap.networks[ref]
    before = len(d.steps)

    def setter(method: str, field_name: str, value: object, why: str) -> None:
        d.add(
            SetField(
                subject,
                why,
                xapi_class="network",
                ref=ref,
                method=method,
                field_name=field_name,
                value=value,
            )
        )

    if rename and n.name_label != spec.name:
        setter("set_name_label", "name_label", spec.name, f"named {n.name_label!r} now")
    if spec.description is not None and n.name_description != spec.description:
        setter(
            "set_name_description", "name_description", spec.description, "the description differs"
        )
    if spec.mtu is not None and below_its_vlans(d, ref, spec.mtu, subject, "trunk"):
        return
    if spec.mtu is not None and n.mtu != spec.mtu:
        setter(
            "set_MTU",
            "mtu",
            spec.mtu,
            f"MTU is {n.mtu}, the recipe says {spec.mtu} (changed in place, not rebuilt)",
        )
    if spec.tags is not None and sorted(n.tags) != sorted(spec.tags):
        setter("set_tags", "tags", tuple(spec.tags), f"tags are {sorted(n.tags)}")
    if spec.default_locking_mode is not None and (
        n.default_locking_mode.value != spec.default_locking_mode
    ):
        setter(
            "set_default_locking_mode",
            "default_locking_mode",
            spec.default_locking_mode,
            f"default locking mode is {n.default_locking_mode.value}",
        )
    if spec.purpose is not None:
        have = {p.value for p in n.purpose}
        for p in sorted(set(spec.purpose) - have):
            d.add(AddPurpose(subject, "the recipe lists this purpose", network=ref, purpose=p))
        for p in sorted(have - set(spec.purpose)):
            d.add(
                AddPurpose(
                    subject,
                    "the recipe does not list this purpose",
                    network=ref,
                    purpose=p,
                    remove=True,
                )
            )
    wanted = dict(spec.other_config or {})
    if spec.automatic is not None:
        wanted["automatic"] = str(spec.automatic).lower()
    changes = {k: v for k, v in wanted.items() if n.other_config.get(k) != v}
    if changes:
        d.add(
            SetOtherConfig(
                subject,
                f"other_config differs on {', '.join(sorted(changes))}",
                xapi_class="network",
                ref=ref,
                values=changes,
                replace=tuple(sorted(k for k in changes if k in n.other_config)),
            )
        )
    if spec.managed is not None and spec.managed != n.managed:
        d.problems.append(
            f"{subject}: `managed` is fixed when a network is made "
            f"({n.managed} on {ident.network_words(d.snap, ref)})"
        )
    if spec.mtu is not None:
        replugs(d, spec, ref, subject)
    if noop and len(d.steps) == before and spec.kind != "vlan":
        d.noop(subject, "already in place")


def replugs(d: Planner, spec: NetworkSpec, ref: NetworkRef, subject: str) -> None:
    from xapictl.plan.steps.vif import ReplugVIF  # an MTU change (re-plugs VIFs)

    mtu = spec.mtu
    if mtu is None:
        return
    n = d.snap.networks[ref]
    stale_pifs = [
        p
        for p in n.pifs
        if p in d.snap.pifs
        and d.snap.pifs[p].currently_attached
        and d.snap.pifs[p].mtu != mtu
        and "mtu" not in d.snap.pifs[p].other_config
    ]
    stale_vifs = [
        v
        for v in n.vifs
        if v in d.snap.vifs
        and d.snap.vifs[v].currently_attached
        and d.snap.vifs[v].mtu != mtu
        and "mtu" not in d.snap.vifs[v].other_config
    ]
    kept_low = [p for p in stale_pifs if d.snap.pifs[p].management
                and spec.replug and not spec.replug_management and d.snap.pifs[p].mtu < mtu]
    if kept_low and stale_vifs:
        words = ", ".join(sorted(ident.pif_words(d.snap, p) for p in kept_low))
        d.problems.append(
            f"{subject}: re-plugging the VIFs at MTU {mtu} while the management interface "
            f"({words}) stays at {d.snap.pifs[kept_low[0]].mtu} would leave VIFs above their "
            "PIF's MTU; add replug_management: true / --replug-management (it is re-plugged "
            "first), or leave the MTU")
        return
    lowering = len(d.steps)
    for p in sorted(stale_pifs, key=lambda r: ident.pif_words(d.snap, r)):
        pif = d.snap.pifs[p]
        words = ident.pif_words(d.snap, p)
        old = f"still carries MTU {pif.mtu}"
        if not spec.replug:
            d.warnings.append(PlanWarning(
                "pif_mtu_until_replug",
                f"{subject}: {words} {old} until re-plugged (replug: true / --replug)"
            ))
        elif pif.management and not spec.replug_management:
            d.warnings.append(PlanWarning(
                "management_not_replugged",
                f"{subject}: {words} {old} but is the management "
                "interface: not re-plugged without replug_management: "
                "true / --replug-management"
            ))
        else:
            d.add(
                ReplugPIF(
                    f"{words}",
                    f"{old}; re-plugging applies MTU {mtu}",
                    pif=p,
                    allow_management=spec.replug_management,
                    mtu=mtu,
                )
            )
    for v in sorted(stale_vifs, key=lambda r: (d.snap.vifs[r].vm, r)):
        vif = d.snap.vifs[v]
        words = f"VIF {vif.device} of {ident.vm_words(d.snap, vif.vm)}"
        if spec.replug and pf.hotplug_problem(d.snap, vif.vm):
            d.warnings.append(PlanWarning(
                "vif_not_replugged_no_pv_drivers",
                f"{subject}: {words} still carries MTU {vif.mtu} and "
                "cannot be re-plugged (no PV drivers): the new MTU "
                "applies when the VM next starts"
            ))
        elif spec.replug:
            d.add(
                ReplugVIF(
                    words, f"still carries MTU {vif.mtu}; re-plugging applies MTU {mtu}", vif=v,
                    mtu=mtu,
                )
            )
        else:
            d.warnings.append(PlanWarning(
                "vif_mtu_until_replug",
                f"{subject}: {words} still carries MTU {vif.mtu} until "
                "re-plugged (replug: true / --replug)"
            ))
    pif_steps: list[Step] = [st for st in d.steps[lowering:] if isinstance(st, ReplugPIF)]
    if any(isinstance(st, ReplugPIF) and d.snap.pifs[st.pif].mtu > mtu for st in pif_steps):
        # Lowering: the VIFs come down first, so none is ever above its PIF's MTU.
        rest = [st for st in d.steps[lowering:] if not isinstance(st, ReplugPIF)]
        d.steps[lowering:] = rest + pif_steps


def plan_network_absent(d: Planner, spec: NetworkSpec) -> None:
    subject = f"network {spec.name!r}"
    if spec.kind == "vlan":
        from xapictl.plan.diff.bond import bond_trunks  # a VLAN on a bond

        tag = spec.vlan if spec.vlan is not None else -1
        trunk_id = spec.device or f"bond:{spec.bond}"
        trunks = (
            ident.trunk_pifs_by_device(d.snap, spec.device)
            if spec.device
            else bond_trunks(d, spec.bond or "", subject) or {}
        )
        known = {h: PIFRef(p) for h, p in trunks.items() if not isinstance(p, Later)}
        candidates = sorted(
            set(ident.vlan_networks_on(d.snap, known, tag).values())
            | set(ident.owned_with_identity(d.snap, ident.vlan_identity(trunk_id, tag)))
        )
    elif spec.kind == "sriov":
        enabled = d.snap.sriovs_of_device(spec.device or "")
        candidates = sorted(
            {d.snap.pifs[d.snap.sriovs[s].logical_pif].network for s in enabled.values()
             if d.snap.sriovs[s].logical_pif in d.snap.pifs}
            | set(ident.owned_with_identity(d.snap, ident.sriov_identity(spec.device or ""))))
    else:
        identity = (ident.tunnel_identity(spec.name) if spec.kind == "tunnel"
                    else ident.named_identity(spec.name))
        named = d.snap.networks_named(spec.name)
        candidates = sorted(
            {r for r in named if ident.is_owned(d.snap, r) or spec.adopt}
            | set(ident.owned_with_identity(d.snap, identity))
        )
        if not candidates and named:
            d.problems.append(
                f"{subject}: {', '.join(ident.network_words(d.snap, r) for r in named)} "
                "was not made by xapictl: not removed; add `adopt: true` (or --adopt) "
                "to remove it anyway"
            )
            return
    if not candidates:
        d.noop(subject, "already absent")
        return
    ref = d.single(subject, candidates)
    if ref is None:
        return
    if not ident.is_owned(d.snap, ref) and not spec.adopt:
        d.problems.append(
            f"{subject}: {ident.network_words(d.snap, ref)} was not "
            "made by xapictl: not removed; add `adopt: true` (or --adopt) to remove it"
        )
        return
    blocked = pf.plugged_vifs(d.snap, ref, d.leaving_vifs)
    if blocked:
        d.problems += [f"{subject}: {b}" for b in blocked]
        return
    n = d.snap.networks[ref]
    for pif_ref in sorted(n.pifs, key=lambda p: ident.pif_words(d.snap, p)):
        pif = d.snap.pifs.get(pif_ref)
        if pif is None:
            continue
        label = ident.host_name(d.snap, pif.host)
        if pif.tunnel_access_pif_of and pif.tunnel_access_pif_of[0] in d.snap.tunnels:
            from xapictl.plan.steps.tunnel import DestroyTunnel

            d.add(DestroyTunnel(f"{subject} on {label}", "the recipe says absent: its "
                                "tunnels go first", tunnel=pif.tunnel_access_pif_of[0],
                                host_label=label))
            continue
        if pif.sriov_logical_pif_of and pif.sriov_logical_pif_of[0] in d.snap.sriovs:
            from xapictl.plan.steps.sriov import DestroySriov

            d.add(DestroySriov(f"{subject} on {label}", "the recipe says absent: SR-IOV is "
                               "disabled on its NICs first", sriov=pif.sriov_logical_pif_of[0],
                               host_label=label))
            continue
        if pif.vlan_master_of not in d.snap.vlans:
            d.problems.append(
                f"{subject}: {ident.pif_words(d.snap, pif_ref)} is on "
                "it and is not a VLAN, tunnel or SR-IOV: xapictl does not remove it"
            )
            continue
        d.add(
            DestroyVLAN(
                f"{subject} on {label}",
                "the recipe says absent: its VLANs go first",
                vlan=pif.vlan_master_of,
                host_label=label,
            )
        )
    from xapictl.plan.steps.vif import DestroyVIF  # a removal (its unplugged VIFs)

    # network.destroy would delete the unplugged VIFs on it silently: each is its own
    # (disruptive) step, so the plan and the question name every VM that loses a NIC.
    detached = [r for r in n.vifs if r in d.snap.vifs and r not in d.leaving_vifs]
    for r in sorted(detached, key=lambda r: (d.snap.vifs[r].vm, d.snap.vifs[r].device)):
        vif = d.snap.vifs[r]
        d.leaving_vifs.add(r)
        d.add(DestroyVIF(
            f"VIF {vif.device} of VM {d.snap.vms[vif.vm].name_label!r}",
            f"it is on {subject}, which the recipe says absent (unplugged: "
            "network.destroy would delete it anyway)", vif=r))
    d.leaving_networks.add(ref)
    d.add(DestroyNetwork(subject, "the recipe says absent", network=ref))


NBD_CONFLICT = {"nbd": "insecure_nbd", "insecure_nbd": "nbd"}
"""``network.add_purpose`` refuses one of these while any network of the pool has the other
(``xapi_network.ml`` assert_can_add_purpose: NETWORK_INCOMPATIBLE_PURPOSES [new, other])."""


def check_purposes(d: Planner) -> None:
    """The plan's purpose changes against XAPI's rule, as they would run: a removal that a
    later addition needs is moved before the additions (a removal cannot fail); an addition
    that would still meet the other NBD purpose on some network is a problem naming both."""
    steps = [s for s in d.steps if isinstance(s, AddPurpose)]
    if not any(not s.remove for s in steps):
        return
    removals = [s for s in steps if s.remove]
    if removals and _purpose_problems(d, d.steps) and not _purpose_problems(
            d, removals + [s for s in d.steps if s not in removals]):
        first = next(i for i, s in enumerate(d.steps) if isinstance(s, AddPurpose))
        rest = [s for s in d.steps if s not in removals]
        d.steps[:] = rest[:first] + removals + rest[first:]
    d.problems += _purpose_problems(d, d.steps)


def _purpose_problems(d: Planner, steps: list[Step]) -> list[str]:
    def name(key: str | Later) -> str:
        if isinstance(key, Later):
            return key.key.removeprefix("network:")
        n = d.snap.networks.get(NetworkRef(key))
        return n.name_label if n is not None else key

    have: dict[str | Later, set[str]] = {
        ref: {p.value for p in n.purpose} for ref, n in d.snap.networks.items()}
    out = []
    for step in steps:
        if isinstance(step, DestroyNetwork):
            have.pop(step.network, None)
        if not isinstance(step, AddPurpose):
            continue
        mine = have.setdefault(step.network, set())
        if step.remove:
            mine.discard(step.purpose)
            continue
        other = NBD_CONFLICT.get(step.purpose)
        holders = sorted(name(k) for k, v in have.items() if other in v)
        if holders:
            out.append(
                f"network {name(step.network)!r} would get purpose {step.purpose} while "
                f"{', '.join(repr(h) for h in holders)} has {other}: XAPI refuses both in one "
                f"pool (NETWORK_INCOMPATIBLE_PURPOSES [{step.purpose}, {other}]); use one of "
                f"them, or state {other} away from {holders[0]!r} first (purpose: [...])")
            continue
        mine.add(step.purpose)
    return out


__all__ = ["NBD_CONFLICT", "check_purposes", "create_network", "plan_network",
           "plan_network_absent", "planning_order", "rediscover", "update_network"]
