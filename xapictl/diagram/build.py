"""From a pool snapshot (and a plan, or drift findings) to a ``Diagram``. Pure: no I/O.

Each host's interfaces are laid out by a host-independent key (``eth1``, ``eth1.105``,
``bond0``), so hosts whose interfaces, networks and marks are the same fold into one column
with a count (``fold``; automatic above ``FOLD_ABOVE`` hosts). Addresses differ on every host:
they are shown only in a column of one host. ``expand`` names hosts drawn on their own even so.

``plan_diagram`` draws the pool as it will be after the plan: what a step creates is added
(marked ``added``), what it destroys, changes or plugs is marked so. ``drift_diagram`` marks
the hosts and objects ``xapictl drift`` found disagreeing with the rest of the pool, and adds
what a host lacks (``missing``).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from xapictl.diagram.model import Diagram, Edge, EdgeKind, Group, Kind, Mark, Node
from xapictl.errors import UsageError
from xapictl.inventory.drift import DriftKind, Finding
from xapictl.model.refs import HostRef, NetworkRef, PIFRef, VIFRef, VMRef
from xapictl.plan.core import Plan, Step
from xapictl.plan.steps.base import Later, SetField, SetOtherConfig
from xapictl.plan.steps.bond import CreateBond, DestroyBond, SetBondProperty
from xapictl.plan.steps.management import MoveManagement, RecoverSlaves
from xapictl.plan.steps.network import AddPurpose, CreateNetwork, DestroyNetwork
from xapictl.plan.steps.pif import (
    PlugPIF,
    ReconfigureIP,
    ReconfigureIPv6,
    ReplugPIF,
    ScanPIFs,
    SetPrimaryAddressType,
)
from xapictl.plan.steps.pool import ForgetSdnController, IntroduceSdnController
from xapictl.plan.steps.sriov import CreateSriov, DestroySriov
from xapictl.plan.steps.tunnel import CreateTunnel, DestroyTunnel
from xapictl.plan.steps.vif import (
    CreateVIF,
    DestroyVIF,
    MoveVIF,
    PlugVIF,
    ReplugVIF,
    UnplugVIF,
)
from xapictl.plan.steps.vlan import CreatePoolVLAN, CreateVLAN, DestroyVLAN
from xapictl.state.snapshot import PoolSnapshot

FOLD_ABOVE = 4
"""Pools with more hosts than this fold hosts of the same layout by default."""

VM_LIMIT = 40
"""With more guest VMs than this, ``--vms`` folds them into one node per network (the VMs a
plan touches are still drawn one by one)."""

_EDGE_MARKS = frozenset({Mark.ADDED, Mark.REMOVED, Mark.MISSING})
"""Marks of a node that its edges carry too."""


@dataclass
class _Local:
    """One interface of one host, keyed host-independently."""

    kind: Kind
    lines: list[str]
    private: list[str] = field(default_factory=list)
    """Host-specific lines (addresses): drawn in a one-host column only."""
    network: str | None = None
    links: list[tuple[str, EdgeKind]] = field(default_factory=list)
    """(key of the interface it sits on, how): the edges that end here."""
    marks: set[Mark] = field(default_factory=set)

    def signature(self) -> tuple[object, ...]:
        return (self.kind, tuple(self.lines), self.network, tuple(sorted(self.links)),
                frozenset(self.marks))


@dataclass
class _Vif:
    network: str
    vm: str
    label: str
    marks: set[Mark] = field(default_factory=set)


@dataclass
class _Scene:
    """The pool being drawn, before hosts fold."""

    snap: PoolSnapshot
    title: str
    hosts: dict[HostRef, dict[str, _Local]] = field(default_factory=dict)
    host_marks: dict[HostRef, set[Mark]] = field(default_factory=dict)
    pif_keys: dict[PIFRef, tuple[HostRef, str]] = field(default_factory=dict)
    networks: dict[str, tuple[list[str], set[Mark]]] = field(default_factory=dict)
    vms: dict[str, tuple[list[str], set[Mark]]] = field(default_factory=dict)
    vm_ids: dict[VMRef, str] = field(default_factory=dict)
    vifs: dict[str, _Vif] = field(default_factory=dict)
    """By VIF ref (or ``Later`` key of a VIF a plan creates)."""
    shown_vms: set[str] = field(default_factory=set)
    """VM ids to draw one by one even when VMs fold (a plan touches them)."""
    new: dict[str, str] = field(default_factory=dict)
    """``Later`` key of what a plan creates → network id, or bond key on each host."""
    new_bonds: dict[str, dict[HostRef, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def net_id(self, ref: str | Later) -> str | None:
        if isinstance(ref, Later):
            return self.new.get(ref.key)
        net = self.snap.networks.get(NetworkRef(ref))
        return None if net is None else "net_" + _slug(net.bridge or net.uuid)

    def host_named(self, name: str) -> HostRef | None:
        return next((h for h, rec in self.snap.hosts.items() if rec.name_label == name), None)

    def local(self, pif: str | Later) -> tuple[HostRef, _Local] | None:
        found = self.pif_keys.get(PIFRef(pif)) if isinstance(pif, str) else None
        if found is None:
            return None
        host, key = found
        return host, self.hosts[host][key]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text) or "_"


def _speed(mbits: int) -> str:
    return f"{mbits // 1000} Gb/s" if mbits >= 1000 and mbits % 1000 == 0 else f"{mbits} Mb/s"


# --- the pool as it is ---------------------------------------------------------------------------


def _pif_key(snap: PoolSnapshot, ref: PIFRef) -> str:
    p = snap.pifs[ref]
    if p.vlan >= 0:
        return f"{p.device}.{p.vlan}"
    if p.tunnel_access_pif_of:
        return f"{p.device}~tunnel"
    if p.sriov_logical_pif_of:
        return f"{p.device}~sr-iov"
    return p.device


def _interface(scene: _Scene, ref: PIFRef) -> _Local:
    snap = scene.snap
    p = snap.pifs[ref]
    metrics = snap.pif_metrics.get(p.metrics)
    mtu = f"MTU {p.mtu}"
    local: _Local
    if p.vlan >= 0:
        vlan = snap.vlans.get(p.vlan_master_of)
        trunk = snap.pifs.get(vlan.tagged_pif) if vlan is not None else None
        local = _Local(Kind.VLAN, [f"VLAN {p.vlan}", f"on {p.device}", mtu])
        if vlan is not None and trunk is not None:
            local.links.append((_pif_key(snap, vlan.tagged_pif), EdgeKind.TAGGED))
    elif p.tunnel_access_pif_of:
        tunnel = snap.tunnels.get(p.tunnel_access_pif_of[0])
        local = _Local(Kind.TUNNEL, [f"tunnel {p.device}",
                                     str(tunnel.protocol) if tunnel else "", mtu])
        if tunnel is not None and tunnel.transport_pif in snap.pifs:
            local.links.append((_pif_key(snap, tunnel.transport_pif), EdgeKind.TRANSPORT))
    elif p.sriov_logical_pif_of:
        local = _Local(Kind.SRIOV, [f"SR-IOV {p.device}", mtu])
        physical = next((r for r, q in snap.pifs.items() if q.host == p.host
                         and set(q.sriov_physical_pif_of) & set(p.sriov_logical_pif_of)), None)
        if physical is not None:
            local.links.append((_pif_key(snap, physical), EdgeKind.VIRTUAL_FUNCTION))
    elif p.bond_master_of:
        bond = snap.bonds.get(p.bond_master_of[0])
        local = _Local(Kind.BOND, [p.device, f"bond {bond.mode}" if bond else "bond", mtu])
        if bond is not None:
            local.links += [(_pif_key(snap, s), EdgeKind.MEMBER) for s in bond.slaves
                            if s in snap.pifs]
    else:
        speed = metrics.speed if metrics is not None else 0
        local = _Local(Kind.NIC, [p.device, f"{_speed(speed)} · {mtu}" if speed > 0 else mtu])
    if p.management:
        local.marks.add(Mark.MANAGEMENT)
    if p.ip:
        local.private.append(p.ip)
    if p.bond_slave_of not in snap.bonds:  # a bond member's traffic is the bond's, and
        local.network = scene.net_id(p.network)  # XAPI shows it unplugged: it is not down
        if not p.currently_attached:
            local.marks.add(Mark.UNPLUGGED)
    return local


def _network_lines(snap: PoolSnapshot, ref: NetworkRef) -> list[str]:
    n = snap.networks[ref]
    tags = sorted({snap.pifs[p].vlan for p in n.pifs if p in snap.pifs
                   and snap.pifs[p].vlan >= 0})
    lines = [n.name_label, f"{n.bridge} · MTU {n.mtu}" if n.bridge else f"MTU {n.mtu}"]
    if tags and n.name_label != f"VLAN {tags[0]}":
        lines.append("VLAN " + ", ".join(map(str, tags)))
    if n.tags:
        lines.append("tags: " + ", ".join(sorted(n.tags)))
    return lines


def _scene(snap: PoolSnapshot, title: str, *, vms: bool) -> _Scene:
    scene = _Scene(snap, title)
    for net_ref in snap.networks:
        net_id = scene.net_id(net_ref)
        assert net_id is not None  # noqa: S101 - the network is in the snapshot
        scene.networks[net_id] = (_network_lines(snap, net_ref), set())
    for host in snap.hosts:
        scene.hosts[host] = {}
        scene.host_marks[host] = {Mark.MASTER} if snap.pools and host == snap.master else set()
    for ref, p in sorted(snap.pifs.items(), key=lambda item: (item[1].device, item[1].vlan)):
        if p.host not in scene.hosts:
            continue
        key = _pif_key(snap, ref)
        layout = scene.hosts[p.host]
        while key in layout:
            key += "#"
        layout[key] = _interface(scene, ref)
        scene.pif_keys[ref] = (p.host, key)
    if vms:
        for vm in snap.guest_vms():
            _add_vm(scene, vm)
        for vif_ref, vif in snap.vifs.items():
            if snap.is_guest(vif.vm):
                _add_vif(scene, vif_ref)
    return scene


def _add_vm(scene: _Scene, vm: VMRef) -> str:
    """The VM's node id (``vm_<name>``; a second VM of the same name gets ``_2``)."""
    vm_id = scene.vm_ids.get(vm)
    if vm_id is None:
        rec = scene.snap.vms[vm]
        vm_id = base = "vm_" + _slug(rec.name_label)
        n = 1
        while vm_id in scene.vms:
            n += 1
            vm_id = f"{base}_{n}"
        scene.vm_ids[vm] = vm_id
        scene.vms[vm_id] = ([rec.name_label, str(rec.power_state)], set())
    return vm_id


def _add_vif(scene: _Scene, ref: VIFRef) -> _Vif | None:
    vif = scene.snap.vifs[ref]
    net = scene.net_id(vif.network)
    if net is None or vif.vm not in scene.snap.vms:
        return None
    found = _Vif(net, _add_vm(scene, vif.vm), f"VIF {vif.device} · {vif.locking_mode}")
    if not vif.currently_attached:
        found.marks.add(Mark.UNPLUGGED)
    scene.vifs[ref] = found
    return found


# --- folding and drawing -------------------------------------------------------------------------


@dataclass
class _Ids:
    used: set[str] = field(default_factory=set)

    def take(self, base: str) -> str:
        found, n = base, 1
        while found in self.used:
            n += 1
            found = f"{base}_{n}"
        self.used.add(found)
        return found


def _names(names: Sequence[str]) -> str:
    if len(names) <= 4:
        return ", ".join(names)
    return f"{names[0]}, {names[1]}, … {names[-1]}"


def _host_columns(scene: _Scene, fold: bool | None, expand: Iterable[str]
                  ) -> list[list[HostRef]]:
    snap = scene.snap
    by_name = {rec.name_label: h for h, rec in snap.hosts.items()}
    alone: set[HostRef] = set()
    for name in expand:
        if name not in by_name:
            near = difflib.get_close_matches(name, list(by_name), n=1)
            hint = f" (did you mean {near[0]}?)" if near else (
                f"; its hosts: {_names(sorted(by_name))}")
            raise UsageError(f"--host: no host named {name!r} in the pool{hint}")
        alone.add(by_name[name])
    master = snap.master if snap.pools else None
    order = sorted(snap.hosts, key=lambda h: (h != master, snap.hosts[h].name_label, h))
    if fold is None:
        fold = len(order) > FOLD_ABOVE
    columns: dict[object, list[HostRef]] = {}
    for host in order:
        layout = scene.hosts[host]
        marks = frozenset(scene.host_marks[host] - {Mark.MASTER})
        signature: object = (marks, frozenset((k, v.signature()) for k, v in layout.items()))
        if not fold or host in alone:
            signature = host
        columns.setdefault(signature, []).append(host)
    return list(columns.values())


def _draw(scene: _Scene, *, fold: bool | None, expand: Iterable[str]) -> Diagram:
    snap = scene.snap
    ids = _Ids()
    groups: list[Group] = []
    nodes: list[Node] = []
    edges: list[Edge] = []
    for net_id, (lines, marks) in scene.networks.items():
        nodes.append(Node(ids.take(net_id), Kind.NETWORK, tuple(lines), None, frozenset(marks)))
    for column in _host_columns(scene, fold, expand):
        names = tuple(snap.hosts[h].name_label for h in column)
        group_marks = frozenset(m for h in column for m in scene.host_marks[h])
        if len(column) == 1:
            gid = ids.take("host_" + _slug(names[0]))
            label: tuple[str, ...] = (names[0] + (" (pool master)" if Mark.MASTER in
                                                  group_marks else ""),)
        else:
            gid = ids.take(f"hosts_{len(groups) + 1}")
            label = (f"{len(column)} hosts with this layout", _names(names))
            if Mark.MASTER in group_marks:
                label += (f"pool master: {names[0]}",)
        groups.append(Group(gid, names, label, group_marks))
        layout = scene.hosts[column[0]]
        node_ids = {key: ids.take(f"{gid}__{_slug(key)}") for key in layout}
        for key, local in sorted(layout.items(), key=lambda item: _order(item[1].kind, item[0])):
            lines = [*local.lines, *(local.private if len(column) == 1 else ())]
            lines += [f"({m})" for m in Mark if m in local.marks]
            nodes.append(Node(node_ids[key], local.kind, tuple(x for x in lines if x), gid,
                              frozenset(local.marks)))
            carried = frozenset(local.marks & _EDGE_MARKS)
            for source, how in local.links:
                if source in node_ids:
                    edges.append(Edge(node_ids[source], node_ids[key], how, marks=carried))
            if local.network is not None and local.network in scene.networks:
                edges.append(Edge(node_ids[key], local.network, EdgeKind.JOINS, marks=carried))
    _draw_vms(scene, nodes, edges, ids)
    return Diagram(scene.title, tuple(groups), tuple(nodes), tuple(edges), tuple(scene.notes))


def _order(kind: Kind, key: str) -> tuple[int, str]:
    rank = [Kind.NIC, Kind.SRIOV, Kind.BOND, Kind.TUNNEL, Kind.VLAN]
    return rank.index(kind) if kind in rank else len(rank), key


def _draw_vms(scene: _Scene, nodes: list[Node], edges: list[Edge], ids: _Ids) -> None:
    folded = len(scene.vms) > VM_LIMIT
    shown = scene.shown_vms if folded else set(scene.vms)
    for vm_id, (lines, marks) in scene.vms.items():
        if vm_id in shown:
            nodes.append(Node(ids.take(vm_id), Kind.VM, tuple(lines), None, frozenset(marks)))
    rest: dict[str, tuple[set[str], Counter[str]]] = {}
    for vif in scene.vifs.values():
        if vif.vm in shown:
            edges.append(Edge(vif.network, vif.vm, EdgeKind.VIF, vif.label, frozenset(vif.marks)))
        else:
            vms, modes = rest.setdefault(vif.network, (set(), Counter()))
            vms.add(vif.vm)
            modes[vif.label.rsplit(" · ", 1)[-1]] += 1
    for net_id, (vms, modes) in sorted(rest.items()):
        many = ids.take("vms_on_" + net_id.removeprefix("net_"))
        count = sum(modes.values())
        label = (f"{len(vms)} VMs", f"{count} VIFs", *(f"{mode}: {n}" for mode, n in
                                                       sorted(modes.items())))
        nodes.append(Node(many, Kind.VMS, label))
        edges.append(Edge(net_id, many, EdgeKind.VIF, f"{count} VIFs"))
    if folded:
        scene.notes.append(f"{len(scene.vms)} VMs: more than {VM_LIMIT}, so drawn as one node "
                           "per network")


# --- entry points --------------------------------------------------------------------------------


def _title(snap: PoolSnapshot, what: str) -> str:
    name = snap.pool.name_label if snap.pools else "pool"
    return f"{what} {name}" if what else f"pool {name}"


def pool_diagram(snap: PoolSnapshot, *, vms: bool = False, fold: bool | None = None,
                 expand: Iterable[str] = ()) -> Diagram:
    """The pool's networking as it is. ``vms``: the guest VMs and their VIFs too. ``fold``:
    fold hosts of the same layout (``None``: when the pool has more than ``FOLD_ABOVE``).
    ``expand``: names of hosts drawn on their own whatever the folding (``UsageError`` for a
    name the pool does not have)."""
    scene = _scene(snap, _title(snap, ""), vms=vms)
    return _draw(scene, fold=fold, expand=expand)


def plan_diagram(snap: PoolSnapshot, plan: Plan, *, vms: bool = False,
                 fold: bool | None = None, expand: Iterable[str] = ()) -> Diagram:
    """The pool as it will be once ``plan`` (made from ``snap``) is applied: each step's
    objects marked (added, changed, removed, re-plugged). VMs a step touches are drawn even
    without ``vms``. Deferred work and steps the picture cannot place are listed as notes."""
    n = len(plan.steps)
    scene = _scene(snap, f"plan for pool {_title(snap, '').removeprefix('pool ')}: "
                         f"{n} step{'s' if n != 1 else ''}", vms=vms)
    for step in plan.steps:
        if not _overlay(scene, step):
            scene.notes.append(f"not drawn: {step.describe()}")
    scene.notes += [f"deferred: {d.describe()}" for d in plan.deferred]
    return _draw(scene, fold=fold, expand=expand)


def drift_diagram(snap: PoolSnapshot, findings: Sequence[Finding], *, vms: bool = False,
                  fold: bool | None = None, expand: Iterable[str] = ()) -> Diagram:
    """The pool with what ``xapictl drift`` found: the hosts that disagree and their objects
    marked ``drift``, what they lack added as ``missing``, each finding as a note."""
    n = len(findings)
    scene = _scene(snap, f"drift in pool {_title(snap, '').removeprefix('pool ')}: "
                         f"{n} finding{'s' if n != 1 else ''}", vms=vms)
    for finding in findings:
        _mark_drift(scene, finding)
        scene.notes.append(finding.describe())
    return _draw(scene, fold=fold, expand=expand)


# --- plans ---------------------------------------------------------------------------------------


def _mark_network(scene: _Scene, ref: str | Later, mark: Mark) -> bool:
    net = scene.net_id(ref)
    if net is None or net not in scene.networks:
        return False
    scene.networks[net][1].add(mark)
    return True


def _mark_pif(scene: _Scene, ref: str | Later, mark: Mark) -> bool:
    found = scene.local(ref)
    if found is None:
        return False
    found[1].marks.add(mark)
    return True


def _trunks(scene: _Scene, trunk: str | Later, hosts: Iterable[HostRef]
            ) -> dict[HostRef, str]:
    """The trunk's key on each of ``hosts``: a PIF's device, or a bond the plan creates."""
    key: str | None
    if isinstance(trunk, Later) and trunk.key in scene.new:  # a NIC a scan of the plan finds
        key = scene.new[trunk.key]
    elif isinstance(trunk, Later):  # one host's new bond; the pool call fans out by layout
        made = scene.new_bonds.get(trunk.key.removesuffix(":master"), {})
        key = next(iter(made.values()), None)
    else:
        found = scene.pif_keys.get(PIFRef(trunk))
        key = found[1] if found is not None else None
    return {h: key for h in hosts if key is not None and key in scene.hosts[h]}


def _add_vlan(scene: _Scene, host: HostRef, trunk_key: str, tag: int,
              network: str | None) -> None:
    device = scene.hosts[host][trunk_key].lines[0]
    if network in scene.networks and not any(
            x.startswith("VLAN ") for x in scene.networks[network][0][1:]) and (
            scene.networks[network][0][0] != f"VLAN {tag}"):
        scene.networks[network][0].append(f"VLAN {tag}")
    scene.hosts[host][f"{trunk_key}.{tag}"] = _Local(
        Kind.VLAN, [f"VLAN {tag}", f"on {device}"], network=network,
        links=[(trunk_key, EdgeKind.TAGGED)], marks={Mark.ADDED})


def _overlay(scene: _Scene, step: Step) -> bool:
    """Draw ``step`` into the scene; False when the picture has no place for it."""
    snap = scene.snap
    if isinstance(step, CreateNetwork):
        net = "new_" + _slug(step.key or step.name_label)
        scene.networks[net] = ([step.name_label, f"new bridge · MTU {step.mtu}"], {Mark.ADDED})
        if step.key:
            scene.new[step.key] = net
        return True
    if isinstance(step, DestroyNetwork):
        return _mark_network(scene, step.network, Mark.REMOVED)
    if isinstance(step, AddPurpose):
        return _mark_network(scene, step.network, Mark.CHANGED)
    if isinstance(step, CreatePoolVLAN | CreateVLAN):
        hosts = ([step.host] if isinstance(step, CreateVLAN) else
                 [h for name in step.hosts if (h := scene.host_named(name)) is not None])
        trunks = _trunks(scene, step.trunk, hosts)
        for host, key in trunks.items():
            _add_vlan(scene, host, key, step.tag, scene.net_id(step.network))
        return bool(trunks)
    if isinstance(step, DestroyVLAN):
        vlan = snap.vlans.get(step.vlan)
        return vlan is not None and _mark_pif(scene, vlan.untagged_pif, Mark.REMOVED)
    if isinstance(step, ReplugPIF | PlugPIF):
        return _mark_pif(scene, step.pif, Mark.REPLUGGED)
    if isinstance(step, ReconfigureIP | ReconfigureIPv6 | SetPrimaryAddressType):
        return _mark_pif(scene, step.pif, Mark.CHANGED)
    if isinstance(step, MoveManagement):  # the PIF that takes the management interface
        return _mark_pif(scene, step.pif, Mark.CHANGED)
    if isinstance(step, RecoverSlaves):
        scene.title += f" · {step.action}"  # no node of its own: every member is told
        return True
    if isinstance(step, CreateBond):
        return _add_bond(scene, step)
    if isinstance(step, DestroyBond | SetBondProperty):
        bond = snap.bonds.get(step.bond) if not isinstance(step.bond, Later) else None
        mark = Mark.REMOVED if isinstance(step, DestroyBond) else Mark.CHANGED
        return bond is not None and _mark_pif(scene, bond.master, mark)
    if isinstance(step, SetField | SetOtherConfig):
        return _overlay_setter(scene, step)
    if isinstance(step, CreateTunnel | DestroyTunnel | CreateSriov | DestroySriov | ScanPIFs
                  | IntroduceSdnController | ForgetSdnController):
        return _overlay_private(scene, step)
    return _overlay_vif(scene, step)


def _overlay_private(scene: _Scene, step: Step) -> bool:
    """Tunnels and SR-IOV per host, a NIC a scan looks for, the pool's SDN controller."""
    snap = scene.snap
    if isinstance(step, CreateTunnel | CreateSriov):
        pif = step.transport if isinstance(step, CreateTunnel) else step.pif
        found = scene.pif_keys.get(pif)
        if found is None or step.host not in scene.hosts:
            return False
        key = found[1]
        local = (_Local(Kind.TUNNEL, ["new tunnel", step.protocol],
                        links=[(key, EdgeKind.TRANSPORT)])
                 if isinstance(step, CreateTunnel) else
                 _Local(Kind.SRIOV, [f"SR-IOV {snap.pifs[pif].device}"],
                        links=[(key, EdgeKind.VIRTUAL_FUNCTION)]))
        local.network, local.marks = scene.net_id(step.network), {Mark.ADDED}
        suffix = "~tunnel" if isinstance(step, CreateTunnel) else "~sr-iov"
        scene.hosts[step.host][f"{key}{suffix}:{local.network}"] = local
        return True
    if isinstance(step, DestroyTunnel):
        tunnel = snap.tunnels.get(step.tunnel)
        return tunnel is not None and _mark_pif(scene, tunnel.access_pif, Mark.REMOVED)
    if isinstance(step, DestroySriov):
        sriov = snap.sriovs.get(step.sriov)
        return sriov is not None and _mark_pif(scene, sriov.logical_pif, Mark.REMOVED)
    if isinstance(step, ScanPIFs):
        if step.host not in scene.hosts:
            return False
        scene.hosts[step.host][step.device] = _Local(Kind.NIC, [step.device, "found by scan"],
                                                     marks={Mark.ADDED})
        if step.key:
            scene.new[step.key] = step.device
        return True
    scene.title += f" · {step.action}"  # the pool's SDN controller: no node of its own
    return True


def _add_bond(scene: _Scene, step: CreateBond) -> bool:
    if step.host not in scene.hosts:
        return False
    key = "bond:" + "+".join(step.member_devices)
    members = [scene.pif_keys[m][1] for m in step.members if m in scene.pif_keys]
    scene.hosts[step.host][key] = _Local(
        Kind.BOND, ["new bond", f"bond {step.mode}"], network=scene.net_id(step.network),
        links=[(m, EdgeKind.MEMBER) for m in members], marks={Mark.ADDED})
    for m in members:  # their traffic moves onto the bond
        member = scene.hosts[step.host][m]
        if member.network is not None:
            member.network = None
            member.marks.add(Mark.CHANGED)
    if step.key:
        scene.new_bonds.setdefault(step.key, {})[step.host] = key
    return True


def _overlay_setter(scene: _Scene, step: SetField | SetOtherConfig) -> bool:
    if isinstance(step.ref, Later):
        return True  # a setting of what this plan creates: part of the creation
    cls, ref = step.xapi_class, step.ref
    if cls == "network":
        return _mark_network(scene, ref, Mark.CHANGED)
    if cls == "PIF":
        return _mark_pif(scene, ref, Mark.CHANGED)
    if cls == "Bond":
        bond = scene.snap.bonds.get(ref)  # type: ignore[call-overload]
        return bond is not None and _mark_pif(scene, bond.master, Mark.CHANGED)
    if cls == "VIF":
        vif = _vif(scene, ref)
        if vif is not None:
            vif.marks.add(Mark.CHANGED)
        return vif is not None
    if cls == "pool":  # a pool-wide switch (IGMP snooping): no node of its own
        if isinstance(step, SetField):
            scene.title += f" · {step.method.removeprefix('set_').replace('_', ' ')} " \
                           f"{step.value}"
        return True
    if cls == "VM" and VMRef(ref) in scene.snap.vms:
        vm = _add_vm(scene, VMRef(ref))
        scene.vms[vm][1].add(Mark.CHANGED)
        scene.shown_vms.add(vm)
        return True
    return False


def _vif(scene: _Scene, ref: str | Later) -> _Vif | None:
    """The VIF's edge (added to the scene, with its VM, when VMs are not drawn)."""
    if isinstance(ref, Later):
        return scene.vifs.get(ref.key)
    found = scene.vifs.get(ref)
    if found is None and VIFRef(ref) in scene.snap.vifs:
        found = _add_vif(scene, VIFRef(ref))
    if found is not None:
        scene.shown_vms.add(found.vm)
    return found


def _overlay_vif(scene: _Scene, step: Step) -> bool:
    if isinstance(step, CreateVIF):
        net = scene.net_id(step.network)
        if net is None or step.vm not in scene.snap.vms:
            return False
        vm = _add_vm(scene, step.vm)
        scene.shown_vms.add(vm)
        scene.vifs[step.key or f"new VIF {step.device} of {vm}"] = _Vif(
            net, vm, f"VIF {step.device} · {step.locking_mode}", {Mark.ADDED})
        return True
    if not isinstance(step, PlugVIF | UnplugVIF | ReplugVIF | MoveVIF | DestroyVIF):
        return False
    if isinstance(step, PlugVIF) and isinstance(step.vif, Later):
        return True  # plugs a VIF this plan creates: part of its creation
    vif = _vif(scene, step.vif)
    if vif is None:
        return False
    if isinstance(step, MoveVIF):
        net = scene.net_id(step.network)
        if net is None:
            return False
        vif.marks.add(Mark.REMOVED)
        scene.vifs[f"moved {step.vif}"] = _Vif(net, vif.vm, vif.label + " (moved)",
                                               {Mark.ADDED})
    else:
        vif.marks.add(Mark.REMOVED if isinstance(step, DestroyVIF) else
                      Mark.CHANGED if isinstance(step, UnplugVIF) else Mark.REPLUGGED)
    return True


# --- drift ---------------------------------------------------------------------------------------


def _bridge(subject: str) -> str | None:
    """The bridge a drift finding's subject names: ``network 'VLAN 105' (xenbr7)``."""
    found = re.search(r"\(([^()]*)\)$", subject)
    return found.group(1) if found else None


def _mark_drift(scene: _Scene, finding: Finding) -> None:
    snap = scene.snap
    bridge = _bridge(finding.subject)
    net_ref = snap.network_by_bridge(bridge) if bridge is not None else None
    hosts = [h for h, rec in snap.hosts.items() if rec.uuid in finding.hosts]
    for host in hosts:
        scene.host_marks[host].add(Mark.DRIFT)
    if net_ref is None:
        return
    net_id = scene.net_id(net_ref)
    if net_id is not None and net_id in scene.networks:
        scene.networks[net_id][1].add(Mark.DRIFT)
    if finding.kind is DriftKind.VLAN_MISSING:
        _missing_vlan(scene, net_ref, hosts)
        return
    for host in hosts:
        pif = snap.pif_on_network(host, net_ref)
        if finding.kind is DriftKind.BOND_MODE_MISMATCH:
            pif = snap.bond_masters_on(net_ref).get(host, pif)
        if pif is not None:
            _mark_pif(scene, pif, Mark.DRIFT)


def _missing_vlan(scene: _Scene, net_ref: NetworkRef, hosts: list[HostRef]) -> None:
    """On each host that lacks it, the VLAN the other hosts carry for the network, as
    ``missing`` on the trunk of the same device."""
    snap = scene.snap
    carried = [snap.pifs[p] for p in snap.networks[net_ref].pifs
               if p in snap.pifs and snap.pifs[p].vlan >= 0]
    if not carried:
        return
    tag, device = carried[0].vlan, carried[0].device
    net_id = scene.net_id(net_ref)
    for host in hosts:
        trunk = snap.pif_on(host, device)
        if trunk is None or trunk not in scene.pif_keys:
            continue
        key = scene.pif_keys[trunk][1]
        scene.hosts[host][f"{key}.{tag}"] = _Local(
            Kind.VLAN, [f"VLAN {tag}", f"on {device}"], network=net_id,
            links=[(key, EdgeKind.TAGGED)], marks={Mark.MISSING})


__all__ = ["FOLD_ABOVE", "VM_LIMIT", "drift_diagram", "plan_diagram", "pool_diagram"]
