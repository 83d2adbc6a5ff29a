"""``diff(desired, snapshot) -> Plan``: the pure heart of xapictl. No I/O, no clock.

Every recipe entry ends as steps (each with its reason) or a no-op saying why nothing is
needed; fields the recipe does not state are left alone. Order: bonds, then networks (a VLAN
may sit on a bond of the same recipe), then VM attachments, then removals in reverse
(attachments, VLAN networks, bonds). Anything that would make the plan fail half-way is
collected and raised as one ``PreflightError`` before a single step is returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xapictl.errors import AmbiguousObjectError, PreflightError
from xapictl.model.enums import VMPowerState
from xapictl.model.refs import HostRef, NetworkRef, PIFRef, VIFRef, VMRef
from xapictl.plan import identity as ident
from xapictl.plan import preflight as pf
from xapictl.plan.core import Noop, Plan, Step
from xapictl.plan.desired import BondSpec, DesiredState, NetworkSpec, VIFSpec
from xapictl.plan.steps import (
    AddPurpose,
    CreateBond,
    CreateNetwork,
    CreatePoolVLAN,
    CreateVIF,
    CreateVLAN,
    DestroyBond,
    DestroyNetwork,
    DestroyVIF,
    DestroyVLAN,
    Later,
    MoveVIF,
    PlugVIF,
    ReplugPIF,
    ReplugVIF,
    SetField,
    SetOtherConfig,
    UnplugVIF,
)
from xapictl.state.snapshot import PoolSnapshot

NetTarget = NetworkRef | Later


def diff(desired: DesiredState, snap: PoolSnapshot) -> Plan:
    """The steps that take ``snap`` to ``desired``, and the no-ops, each with its reason."""
    return _Differ(desired, snap).run()


@dataclass
class _Differ:
    desired: DesiredState
    snap: PoolSnapshot
    steps: list[Step] = field(default_factory=list)
    noops: list[Noop] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    networks: dict[str, NetTarget] = field(default_factory=dict)
    """Recipe network name -> its network (existing ref or created by this plan)."""
    bond_trunks: dict[str, dict[HostRef, PIFRef | Later]] = field(default_factory=dict)
    claimed: dict[VMRef, set[str]] = field(default_factory=dict)
    leaving_vifs: set[VIFRef] = field(default_factory=set)
    leaving_networks: set[NetworkRef] = field(default_factory=set)

    def run(self) -> Plan:
        d = self.desired
        for bond in d.bonds:
            if bond.present:
                self._bond(bond)
        for net in d.networks:
            if net.present:
                self._network(net)
        for vif in d.vifs:
            if vif.present:
                self._vif(vif)
        for vif in d.vifs:
            if not vif.present:
                self._vif_absent(vif)
        for net in d.networks:
            if not net.present:
                self._network_absent(net)
        for bond in d.bonds:
            if not bond.present:
                self._bond_absent(bond)
        if self.problems:
            raise PreflightError(self.problems)
        return Plan(tuple(self.steps), tuple(self.noops), tuple(self.warnings))

    # --- helpers -------------------------------------------------------------------------

    def _add(self, step: Step) -> None:
        self.steps.append(step)

    def _noop(self, subject: str, reason: str) -> None:
        self.noops.append(Noop(subject, reason))

    def _hosts(self, hosts: list[HostRef] | None = None) -> tuple[list[HostRef], list[HostRef]]:
        """(live, offline) hosts in apply order (master last)."""
        live: list[HostRef] = []
        offline: list[HostRef] = []
        for h in ident.ordered_hosts(self.snap):
            if hosts is not None and h not in hosts:
                continue
            (live if self.snap.host_is_live(h) else offline).append(h)
        return live, offline

    def _offline_warning(self, subject: str, offline: list[HostRef]) -> None:
        if offline:
            names = ", ".join(ident.host_name(self.snap, h) for h in offline)
            self.warnings.append(f"{subject}: host(s) {names} are offline and left as they "
                                 "are; re-run when they are back")

    def _single(self, what: str, refs: list[NetworkRef]) -> NetworkRef | None:
        try:
            found = ident.single(what, [ident.network_words(self.snap, r) for r in refs])
        except AmbiguousObjectError as exc:
            self.problems.append(str(exc))
            return None
        if found is None:
            return None
        return next(r for r in refs if ident.network_words(self.snap, r) == found)

    def _owned_or_adopt(self, ref: NetworkRef, spec_adopt: bool, identity: str,
                        subject: str, what: str) -> bool:
        """True if xapictl may manage ``ref``; plans the adoption mark when asked to."""
        if ident.is_owned(self.snap, ref):
            return True
        words = ident.network_words(self.snap, ref)
        if not spec_adopt:
            self.problems.append(f"{subject}: {what} is {words}, which xapictl did not make; "
                                 "add `adopt: true` (or --adopt) to manage it, or leave it out")
            return False
        current = self.snap.networks[ref].other_config
        self._add(SetOtherConfig(
            subject, "adopt: mark it as managed by xapictl", xapi_class="network", ref=ref,
            values=ident.mark(identity),
            replace=tuple(k for k in ident.mark(identity) if k in current)))
        return True

    # --- networks ----------------------------------------------------------------------------

    def _network(self, spec: NetworkSpec) -> None:
        subject = f"network {spec.name!r}"
        if spec.kind == "vlan":
            self._vlan_network(spec, subject)
        elif spec.kind == "nic":
            self._nic_network(spec, subject)
        else:
            self._named_network(spec, subject)

    def _create_network(self, spec: NetworkSpec, subject: str, identity: str, reason: str,
                        mtu: int | None = None) -> Later:
        other = dict(spec.other_config or {})
        if spec.automatic is not None:
            other["automatic"] = str(spec.automatic).lower()
        other.update(ident.mark(identity))
        key = f"network:{spec.name}"
        self._add(CreateNetwork(
            subject, reason, key=key, name_label=spec.name,
            name_description=spec.description or "", mtu=mtu or spec.mtu or 1500,
            other_config=other, tags=tuple(spec.tags or ()),
            managed=True if spec.managed is None else spec.managed))
        later = Later(key)
        if spec.default_locking_mode not in (None, "unlocked"):
            self._add(SetField(subject, "the recipe sets the default locking mode",
                               xapi_class="network", ref=later,
                               method="set_default_locking_mode",
                               field_name="default_locking_mode",
                               value=spec.default_locking_mode))
        for purpose in spec.purpose or ():
            self._add(AddPurpose(subject, "the recipe lists this purpose", network=later,
                                 purpose=purpose))
        return later

    def _named_network(self, spec: NetworkSpec, subject: str) -> None:
        identity = ident.named_identity(spec.name)
        named = self.snap.networks_named(spec.name)
        owned = sorted({r for r in named if ident.is_owned(self.snap, r)}
                       | set(ident.owned_with_identity(self.snap, identity)))
        if owned:
            ref = self._single(f"{subject} (made by xapictl)", owned)
        elif named:
            ref = self._single(f"{subject} (not made by xapictl)", named)
            if ref is None or not self._owned_or_adopt(ref, spec.adopt, identity, subject,
                                                       "the network with that name"):
                return
        else:
            self.networks[spec.name] = self._create_network(
                spec, subject, identity, "no network with this name was made by xapictl")
            return
        if ref is None:
            return
        self.networks[spec.name] = ref
        self._update_network(spec, ref, subject)

    def _nic_network(self, spec: NetworkSpec, subject: str) -> None:
        device = spec.device or ""
        trunks = ident.trunk_pifs_by_device(self.snap, device)
        if not trunks:
            self.problems.append(f"{subject}: no host has a NIC {device}; check the "
                                 "device name (`xapictl pif list`)")
            return
        missing = [h for h in self.snap.hosts if h not in trunks]
        if missing:
            names = ", ".join(sorted(ident.host_name(self.snap, h) for h in missing))
            self.warnings.append(f"{subject}: device {device} is missing on {names}")
        ref = self._single(f"{subject} (NIC {device})",
                           sorted({self.snap.pifs[p].network for p in trunks.values()}))
        if ref is None:
            return
        self.networks[spec.name] = ref
        self._update_network(spec, ref, subject, rename=True)

    def _vlan_network(self, spec: NetworkSpec, subject: str) -> None:
        tag = spec.vlan if spec.vlan is not None else -1
        if spec.device is not None:
            trunk_words = spec.device
            trunk_id = spec.device
            trunks: dict[HostRef, PIFRef | Later] = dict(
                ident.trunk_pifs_by_device(self.snap, spec.device))
            live, offline = self._hosts()
            self.problems += pf.missing_device(
                self.snap, spec.device, [h for h in live if h not in trunks])
        else:
            bond_name = spec.bond or ""
            trunk_words = f"bond {bond_name!r}"
            trunk_id = f"bond:{bond_name}"
            found = self._bond_trunks(bond_name, subject)
            if found is None:
                return
            trunks = found
            live, offline = self._hosts()
            missing = [h for h in live if h not in trunks]
            if missing:
                self.problems.append(f"{subject}: bond {bond_name!r} is missing on host(s) "
                                     f"{', '.join(ident.host_name(self.snap, h) for h in missing)}"
                                     "; state it under `bonds:` so it is made on every host")
        self._offline_warning(subject, offline)
        identity = ident.vlan_identity(trunk_id, tag)
        known = {h: PIFRef(p) for h, p in trunks.items() if not isinstance(p, Later)}
        by_host = ident.vlan_networks_on(self.snap, known, tag)
        tag_problems = pf.tag_used_elsewhere(self.snap, trunk_words, tag, by_host)
        if tag_problems:
            self.problems += [f"{subject}: {p}" for p in tag_problems]
            return
        candidates = sorted(set(by_host.values())
                            | set(ident.owned_with_identity(self.snap, identity)))
        ref: NetTarget
        if not candidates:
            ref = self._create_network(
                spec, subject, identity, f"no network carries VLAN {tag} on {trunk_words}")
            is_new = True
        else:
            found_ref = self._single(f"{subject} (VLAN {tag} on {trunk_words})", candidates)
            if found_ref is None or not self._owned_or_adopt(
                    found_ref, spec.adopt, identity, subject,
                    f"the network carrying VLAN {tag} on {trunk_words}"):
                return
            ref = found_ref
            is_new = False
        self.networks[spec.name] = ref
        wanted = [h for h in live if h in trunks]
        lacking = [h for h in wanted if h not in by_host]
        before = len(self.steps)
        if lacking and len(lacking) == len(wanted) and self._one_trunk_network(trunks):
            first = trunks[wanted[-1]]
            self._add(CreatePoolVLAN(
                subject, f"no host has VLAN {tag} on {trunk_words} yet: one pool call "
                f"creates it on all {len(wanted)} live host(s)",
                network=ref, trunk=first, tag=tag,
                hosts=tuple(ident.host_name(self.snap, h) for h in wanted)))
        else:
            for h in lacking:
                label = ident.host_name(self.snap, h)
                self._add(CreateVLAN(
                    f"{subject} on {label}", f"host {label} lacks VLAN {tag} on {trunk_words} "
                    "(down at the first run, joined later, or edited by hand): repair it",
                    host=h, host_label=label, network=ref, trunk=trunks[h], tag=tag))
        if not isinstance(ref, Later):
            self._update_network(spec, ref, subject, rename=True)
        if len(self.steps) == before and not is_new:
            self._noop(subject, f"already in place (VLAN {tag} on {trunk_words} on "
                       f"{len(wanted)} host(s))")

    def _one_trunk_network(self, trunks: dict[HostRef, PIFRef | Later]) -> bool:
        """``pool.create_VLAN_from_PIF`` reaches exactly the PIFs on the trunk's network."""
        nets = {self.snap.pifs[p].network for p in trunks.values() if not isinstance(p, Later)}
        return len(nets) <= 1

    def _update_network(self, spec: NetworkSpec, ref: NetworkRef, subject: str,
                        rename: bool = False) -> None:
        """Plan setters for each stated field that differs, and the MTU re-plugs."""
        n = self.snap.networks[ref]
        before = len(self.steps)

        def setter(method: str, field_name: str, value: object, why: str) -> None:
            self._add(SetField(subject, why, xapi_class="network", ref=ref, method=method,
                               field_name=field_name, value=value))

        if rename and n.name_label != spec.name:
            setter("set_name_label", "name_label", spec.name, f"named {n.name_label!r} now")
        if spec.description is not None and n.name_description != spec.description:
            setter("set_name_description", "name_description", spec.description,
                   "the description differs")
        if spec.mtu is not None and n.mtu != spec.mtu:
            setter("set_MTU", "mtu", spec.mtu, f"MTU is {n.mtu}, the recipe says {spec.mtu} "
                   "(changed in place, not rebuilt)")
        if spec.tags is not None and sorted(n.tags) != sorted(spec.tags):
            setter("set_tags", "tags", tuple(spec.tags), f"tags are {sorted(n.tags)}")
        if spec.default_locking_mode is not None and (
                n.default_locking_mode.value != spec.default_locking_mode):
            setter("set_default_locking_mode", "default_locking_mode",
                   spec.default_locking_mode, f"default locking mode is "
                   f"{n.default_locking_mode.value}")
        if spec.purpose is not None:
            have = {p.value for p in n.purpose}
            for p in sorted(set(spec.purpose) - have):
                self._add(AddPurpose(subject, "the recipe lists this purpose", network=ref,
                                     purpose=p))
            for p in sorted(have - set(spec.purpose)):
                self._add(AddPurpose(subject, "the recipe does not list this purpose",
                                     network=ref, purpose=p, remove=True))
        wanted = dict(spec.other_config or {})
        if spec.automatic is not None:
            wanted["automatic"] = str(spec.automatic).lower()
        changes = {k: v for k, v in wanted.items() if n.other_config.get(k) != v}
        if changes:
            self._add(SetOtherConfig(
                subject, f"other_config differs on {', '.join(sorted(changes))}",
                xapi_class="network", ref=ref, values=changes,
                replace=tuple(sorted(k for k in changes if k in n.other_config))))
        if spec.managed is not None and spec.managed != n.managed:
            self.problems.append(f"{subject}: `managed` is fixed when a network is made "
                                 f"({n.managed} on {ident.network_words(self.snap, ref)})")
        if spec.mtu is not None:
            self._replugs(spec, ref, subject)
        if len(self.steps) == before and spec.kind != "vlan":
            self._noop(subject, "already in place")

    def _replugs(self, spec: NetworkSpec, ref: NetworkRef, subject: str) -> None:
        mtu = spec.mtu
        n = self.snap.networks[ref]
        stale_pifs = [p for p in n.pifs if p in self.snap.pifs
                      and self.snap.pifs[p].currently_attached and self.snap.pifs[p].mtu != mtu
                      and "mtu" not in self.snap.pifs[p].other_config]
        stale_vifs = [v for v in n.vifs if v in self.snap.vifs
                      and self.snap.vifs[v].currently_attached and self.snap.vifs[v].mtu != mtu
                      and "mtu" not in self.snap.vifs[v].other_config]
        for p in sorted(stale_pifs, key=lambda r: ident.pif_words(self.snap, r)):
            pif = self.snap.pifs[p]
            words = ident.pif_words(self.snap, p)
            old = f"still carries MTU {pif.mtu}"
            if not spec.replug:
                self.warnings.append(f"{subject}: {words} {old} until re-plugged "
                                     "(replug: true / --replug)")
            elif pif.management and not spec.replug_management:
                self.warnings.append(f"{subject}: {words} {old} but is the management "
                                     "interface: not re-plugged without replug_management: "
                                     "true / --replug-management")
            else:
                self._add(ReplugPIF(f"{words}", f"{old}; re-plugging applies MTU {mtu}",
                                    pif=p, allow_management=spec.replug_management))
        for v in sorted(stale_vifs, key=lambda r: (self.snap.vifs[r].vm, r)):
            vif = self.snap.vifs[v]
            words = f"VIF {vif.device} of {ident.vm_words(self.snap, vif.vm)}"
            if spec.replug and pf.hotplug_problem(self.snap, vif.vm):
                self.warnings.append(f"{subject}: {words} still carries MTU {vif.mtu} and "
                                     "cannot be re-plugged (no PV drivers): the new MTU "
                                     "applies when the VM next starts")
            elif spec.replug:
                self._add(ReplugVIF(words, f"still carries MTU {vif.mtu}; re-plugging "
                                    f"applies MTU {mtu}", vif=v))
            else:
                self.warnings.append(f"{subject}: {words} still carries MTU {vif.mtu} until "
                                     "re-plugged (replug: true / --replug)")

    # --- bonds -------------------------------------------------------------------------------

    def _bond_network_candidates(self, name: str, members: tuple[str, ...]) -> list[NetworkRef]:
        existing = ident.bonds_with_members(self.snap, members)
        nets = {self.snap.pifs[self.snap.bonds[b].master].network for b in existing.values()}
        nets |= set(ident.owned_with_identity(self.snap, ident.bond_identity(name)))
        return sorted(nets)

    def _bond(self, spec: BondSpec) -> None:
        subject = f"bond {spec.network!r} ({'+'.join(spec.members)})"
        identity = ident.bond_identity(spec.network)
        candidates = self._bond_network_candidates(spec.network, spec.members)
        ref: NetTarget
        if not candidates:
            key = f"network:{spec.network}"
            self._add(CreateNetwork(
                f"network {spec.network!r}", "the bond's network does not exist yet", key=key,
                name_label=spec.network, mtu=spec.mtu or 1500,
                other_config=ident.mark(identity)))
            ref = Later(key)
        else:
            found = self._single(f"{subject} network", candidates)
            if found is None or not self._owned_or_adopt(found, spec.adopt, identity, subject,
                                                         "the bond's network"):
                return
            ref = found
            n = self.snap.networks[found]
            if spec.mtu is not None and n.mtu != spec.mtu:
                self._add(SetField(subject, f"MTU is {n.mtu}, the recipe says {spec.mtu}",
                                   xapi_class="network", ref=found, method="set_MTU",
                                   field_name="mtu", value=spec.mtu))
        self.networks[spec.network] = ref
        existing = ident.bonds_with_members(self.snap, spec.members)
        live, offline = self._hosts()
        self._offline_warning(subject, offline)
        trunks: dict[HostRef, PIFRef | Later] = {}
        before = len(self.steps)
        mode = spec.mode or "balance-slb"
        for h in live:
            label = ident.host_name(self.snap, h)
            if h in existing:
                bond = self.snap.bonds[existing[h]]
                trunks[h] = bond.master
                if spec.mode is not None and bond.mode.value != spec.mode:
                    self._add(SetField(f"{subject} on {label}", f"mode is {bond.mode.value}",
                                       xapi_class="Bond", ref=existing[h], method="set_mode",
                                       field_name="mode", value=spec.mode))
                continue
            pifs = [self.snap.pif_on(h, d) for d in spec.members]
            if any(p is None for p in pifs):
                lost = [d for d, p in zip(spec.members, pifs, strict=True) if p is None]
                self.problems += pf.missing_device(self.snap, "+".join(lost), [h])
                continue
            members = tuple(PIFRef(p) for p in pifs if p is not None)
            for m in members:
                self.problems += [f"{subject}: {p}" for p in pf.bond_member_problems(
                    self.snap, m)]
            key = f"bond:{spec.network}:{h}"
            self._add(CreateBond(
                f"{subject} on {label}", "the host has no bond of these NICs"
                + (" (the pool master goes last)" if h == self.snap.master else ""),
                key=key, host=h, host_label=label, network=ref, members=members,
                member_devices=spec.members, mode=mode, properties=spec.properties))
            trunks[h] = Later(f"{key}:master")
        self.bond_trunks[spec.network] = trunks
        if len(self.steps) == before:
            self._noop(subject, f"already in place on {len(live)} host(s)")

    def _bond_trunks(self, name: str, subject: str) -> dict[HostRef, PIFRef | Later] | None:
        if name in self.bond_trunks:
            return self.bond_trunks[name]
        nets = [r for r in self.snap.networks_named(name)
                if ident.bond_masters_on(self.snap, r)]
        if not nets:
            self.problems.append(f"{subject}: no bond network named {name!r}; state the bond "
                                 "under `bonds:` or check `xapictl network list`")
            return None
        ref = self._single(f"bond network {name!r}", nets)
        if ref is None:
            return None
        return dict(ident.bond_masters_on(self.snap, ref))

    def _bond_absent(self, spec: BondSpec) -> None:
        subject = f"bond {spec.network!r} ({'+'.join(spec.members)})"
        existing = ident.bonds_with_members(self.snap, spec.members)
        candidates = self._bond_network_candidates(spec.network, spec.members)
        if not existing and not candidates:
            self._noop(subject, "already absent")
            return
        for host in ident.ordered_hosts(self.snap):
            bond_ref = existing.get(host)
            if bond_ref is None:
                continue
            master = self.snap.pifs[self.snap.bonds[bond_ref].master]
            kept = [v for v in master.vlan_slave_of if v in self.snap.vlans and self.snap.pifs[
                self.snap.vlans[v].untagged_pif].network not in self.leaving_networks]
            if kept:
                self.problems.append(f"{subject}: the bond on {ident.host_name(self.snap, host)}"
                                     " still carries VLANs; remove those VLAN networks first "
                                     "(present: false)")
                continue
            label = ident.host_name(self.snap, host)
            self._add(DestroyBond(f"{subject} on {label}", "the recipe says absent",
                                  bond=bond_ref, host_label=label))
        for ref in candidates:
            if ident.is_owned(self.snap, ref):
                self._add(DestroyNetwork(f"network {spec.network!r}", "the bond's network, "
                                         "made by xapictl, goes with the bond", network=ref))

    # --- VM attachments ----------------------------------------------------------------------

    def _network_for(self, name: str, subject: str) -> NetTarget | None:
        if name in self.networks:
            return self.networks[name]
        spec = self.desired.network_named(name) or None
        if spec is not None:
            if not spec.present:
                self.problems.append(f"{subject}: network {name!r} is removed by this recipe")
            return None  # its own problem is already reported
        named = self.snap.networks_named(name)
        if not named:
            self.problems.append(f"{subject}: no network named {name!r}; add it under "
                                 "`networks:` or check `xapictl network list`")
            return None
        owned = [r for r in named if ident.is_owned(self.snap, r)]
        return self._single(f"network name {name!r}", owned if len(owned) == 1 else named)

    def _vm(self, name: str, subject: str, *, required: bool) -> VMRef | None:
        try:
            vm = ident.find_vm(self.snap, name)
        except AmbiguousObjectError as exc:
            self.problems.append(f"{subject}: {exc}")
            return None
        if vm is None and required:
            self.problems.append(f"{subject}: no VM named {name!r} (nor with that uuid); check "
                                 "`xapictl vif list`")
        return vm

    def _next_device(self, vm: VMRef) -> str | None:
        used = {int(v.device) for v in self.snap.vifs.values()
                if v.vm == vm and v.device.isdigit()}
        used |= {int(d) for d in self.claimed.get(vm, set())}
        free = [d for d in range(16) if d not in used]
        return str(free[0]) if free else None

    def _vif(self, spec: VIFSpec) -> None:
        subject = f"VM {spec.vm!r} on network {spec.network!r}"
        vm = self._vm(spec.vm, subject, required=True)
        if vm is None:
            return
        net = self._network_for(spec.network, subject)
        if net is None:
            return
        device = spec.device
        if device == "auto":
            on_net = sorted((int(v.device), r) for r, v in self.snap.vifs.items()
                            if v.vm == vm and v.network == net and v.device.isdigit())
            if on_net:
                device = str(on_net[0][0])
            else:
                free = self._next_device(vm)
                if free is None:
                    self.problems.append(f"{subject}: the VM has no free VIF device (0-15)")
                    return
                device = free
        self.claimed.setdefault(vm, set()).add(device)
        subject = f"VIF {device} of VM {spec.vm!r}"
        record = self.snap.vms[vm]
        running = record.power_state == VMPowerState.RUNNING
        ref = self.snap.vif_on(vm, device)
        if spec.mac and isinstance(net, str):
            self.problems += pf.mac_in_use(self.snap, NetworkRef(net), spec.mac, ref)
        if ref is None:
            self._create_vif(spec, vm, net, device, subject, running)
            return
        vif = self.snap.vifs[ref]
        before = len(self.steps)
        if vif.network != net:
            old = self.snap.networks.get(vif.network)
            self._add(MoveVIF(subject, f"it is on {old.name_label if old else vif.network!r}: "
                              "moved in place (same VIF, MAC and device)", vif=ref,
                              network=net, network_label=spec.network))
        if spec.mac and vif.mac.lower() != spec.mac.lower():
            self.problems.append(f"{subject}: its MAC is {vif.mac}; XAPI cannot change a MAC "
                                 "in place: remove the VIF (present: false) and add it again")
        self._vif_settings(spec, ref, subject)
        if running and not vif.currently_attached:
            self.problems += pf.hotplug_problem(self.snap, vm)
            self._add(PlugVIF(subject, "the VM runs and the VIF is not plugged", vif=ref))
        if len(self.steps) == before:
            self._noop(subject, f"already in place on network {spec.network!r}")

    def _create_vif(self, spec: VIFSpec, vm: VMRef, net: NetTarget, device: str,
                    subject: str, running: bool) -> None:
        mtu = spec.mtu
        if mtu is None:
            n = self.snap.networks.get(NetworkRef(net)) if isinstance(net, str) else None
            mtu = n.mtu if n is not None else self._planned_mtu(spec.network)
        other = {"mtu": str(spec.mtu)} if spec.mtu is not None else {}
        qos_type, qos_params = _qos(spec.qos_kbps)
        key = f"vif:{vm}:{device}"
        self._add(CreateVIF(
            subject, f"VM {spec.vm!r} has no VIF {device}", key=key, vm=vm, network=net,
            device=device, mac=spec.mac or "", mtu=mtu, other_config=other,
            locking_mode=spec.locking_mode or "network_default",
            ipv4_allowed=tuple(spec.ipv4_allowed or ()),
            ipv6_allowed=tuple(spec.ipv6_allowed or ()),
            qos_algorithm_type=qos_type or "", qos_algorithm_params=qos_params or {}))
        if running:
            self.problems += pf.hotplug_problem(self.snap, vm)
            self._add(PlugVIF(subject, "the VM is running: hot-plug the new VIF",
                              vif=Later(key)))

    def _planned_mtu(self, name: str) -> int:
        spec = self.desired.network_named(name)
        if spec is not None and spec.mtu is not None:
            return spec.mtu
        bond = self.desired.bond_named(name)
        return bond.mtu if bond is not None and bond.mtu is not None else 1500

    def _vif_settings(self, spec: VIFSpec, ref: VIFRef, subject: str) -> None:
        vif = self.snap.vifs[ref]

        def setter(method: str, field_name: str, value: object, why: str) -> None:
            self._add(SetField(subject, why, xapi_class="VIF", ref=ref, method=method,
                               field_name=field_name, value=value))

        if spec.mtu is not None and vif.other_config.get("mtu") != str(spec.mtu):
            self._add(SetOtherConfig(subject, f"MTU override is "
                                     f"{vif.other_config.get('mtu', 'unset')}",
                                     xapi_class="VIF", ref=ref, values={"mtu": str(spec.mtu)},
                                     replace=("mtu",) if "mtu" in vif.other_config else ()))
        if spec.locking_mode is not None and vif.locking_mode.value != spec.locking_mode:
            setter("set_locking_mode", "locking_mode", spec.locking_mode,
                   f"locking mode is {vif.locking_mode.value}")
        for attr in ("ipv4_allowed", "ipv6_allowed"):
            want = getattr(spec, attr)
            if want is not None and sorted(getattr(vif, attr)) != sorted(want):
                setter(f"set_{attr}", attr, tuple(want), f"{attr} is "
                       f"{sorted(getattr(vif, attr))}")
        if spec.qos_kbps is not None:
            qos_type, qos_params = _qos(spec.qos_kbps)
            if vif.qos_algorithm_type != qos_type:
                setter("set_qos_algorithm_type", "qos_algorithm_type", qos_type,
                       f"QoS is {vif.qos_algorithm_type or 'off'}")
            if dict(vif.qos_algorithm_params) != qos_params:
                setter("set_qos_algorithm_params", "qos_algorithm_params", qos_params,
                       "the rate limit differs")

    def _vif_absent(self, spec: VIFSpec) -> None:
        subject = f"VIF {spec.device} of VM {spec.vm!r}"
        vm = self._vm(spec.vm, subject, required=False)
        ref = self.snap.vif_on(vm, spec.device) if vm is not None else None
        if vm is None or ref is None:
            self._noop(subject, "already absent")
            return
        vif = self.snap.vifs[ref]
        self.leaving_vifs.add(ref)
        if vif.currently_attached and self.snap.vms[vm].domid != -1:
            self._add(UnplugVIF(subject, "the recipe says absent; it is plugged in", vif=ref))
        self._add(DestroyVIF(subject, "the recipe says absent", vif=ref))

    # --- removing networks ---------------------------------------------------------------------

    def _network_absent(self, spec: NetworkSpec) -> None:
        subject = f"network {spec.name!r}"
        if spec.kind == "vlan":
            tag = spec.vlan if spec.vlan is not None else -1
            trunk_id = spec.device or f"bond:{spec.bond}"
            trunks = (ident.trunk_pifs_by_device(self.snap, spec.device) if spec.device
                      else self._bond_trunks(spec.bond or "", subject) or {})
            known = {h: PIFRef(p) for h, p in trunks.items() if not isinstance(p, Later)}
            candidates = sorted(set(ident.vlan_networks_on(self.snap, known, tag).values())
                                | set(ident.owned_with_identity(
                                    self.snap, ident.vlan_identity(trunk_id, tag))))
        else:
            identity = ident.named_identity(spec.name)
            named = self.snap.networks_named(spec.name)
            candidates = sorted({r for r in named if ident.is_owned(self.snap, r) or spec.adopt}
                                | set(ident.owned_with_identity(self.snap, identity)))
            if not candidates and named:
                self.problems.append(f"{subject}: {', '.join(ident.network_words(self.snap, r) for r in named)} "  # noqa: E501
                                     "was not made by xapictl: not removed; add `adopt: true` "
                                     "to remove it anyway")
                return
        if not candidates:
            self._noop(subject, "already absent")
            return
        ref = self._single(subject, candidates)
        if ref is None:
            return
        if not ident.is_owned(self.snap, ref) and not spec.adopt:
            self.problems.append(f"{subject}: {ident.network_words(self.snap, ref)} was not "
                                 "made by xapictl: not removed; add `adopt: true` to remove it")
            return
        blocked = pf.plugged_vifs(self.snap, ref, self.leaving_vifs)
        if blocked:
            self.problems += [f"{subject}: {b}" for b in blocked]
            return
        n = self.snap.networks[ref]
        for pif_ref in sorted(n.pifs, key=lambda p: ident.pif_words(self.snap, p)):
            pif = self.snap.pifs.get(pif_ref)
            if pif is None:
                continue
            if pif.vlan_master_of not in self.snap.vlans:
                self.problems.append(f"{subject}: {ident.pif_words(self.snap, pif_ref)} is on "
                                     "it and is not a VLAN: xapictl does not remove it")
                continue
            label = ident.host_name(self.snap, pif.host)
            self._add(DestroyVLAN(f"{subject} on {label}", "the recipe says absent: its "
                                  "VLANs go first", vlan=pif.vlan_master_of, host_label=label))
        detached = [r for r in n.vifs if r in self.snap.vifs and r not in self.leaving_vifs]
        why = "the recipe says absent"
        if detached:
            names = "; ".join(f"VIF {self.snap.vifs[r].device} of "
                              f"{ident.vm_words(self.snap, self.snap.vifs[r].vm)}"
                              for r in sorted(detached))
            why += f" (XAPI also deletes its unplugged VIFs: {names})"
        self.leaving_networks.add(ref)
        self._add(DestroyNetwork(subject, why, network=ref))


def _qos(kbps: int | None) -> tuple[str, dict[str, str]]:
    if not kbps:
        return "", {}
    return "ratelimit", {"kbps": str(kbps)}


__all__ = ["diff"]
