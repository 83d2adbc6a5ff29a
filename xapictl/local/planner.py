"""desired + snapshot -> ordered steps. Pure: no I/O, so every case is a unit test.

Order follows nmstate: teardowns first, then controllers before their ports (bonds, then
bridges, then vifs). Each object is compared first and only what differs becomes a step; a
converged host plans nothing.
"""

from __future__ import annotations

from dataclasses import replace

from xapictl.local.desired import FROM_UPLINK, BondSpec, BridgeSpec, HostNetwork, VifSpec
from xapictl.local.observe import (
    IFA_F_NOPREFIXROUTE,
    Address,
    BridgeVlan,
    HostSnapshot,
    Link,
    Route,
)
from xapictl.local.ops import (
    DUMMY_MAC,
    AddAddress,
    BridgeVlanAdd,
    BridgeVlanDel,
    CopyNeighbours,
    CreateLink,
    DelAddress,
    DeleteLink,
    LocalOp,
    ReplaceRoute,
    SetBondMode,
    SetBridgeOptions,
    SetLink,
    link_local_of,
)
from xapictl.plan.core import Noop, Plan

__all__ = ["OWNER_ALIAS", "inverse_plan", "plan"]

OWNER_ALIAS = {"bridge": "xapictl:bridge", "vlan": "xapictl:vlan", "bond": "xapictl:bond"}
ADDRGEN_NONE = 1
ADDRGEN_EUI64 = 0
IFA_F_NODAD = 0x02
DEFAULT_PVID = (BridgeVlan(1, pvid=True, untagged=True),)


def _relabel(label: str | None, old: str, new: str) -> str | None:
    """``eth0`` -> ``xenbr0``, ``eth0:1`` -> ``xenbr0:1`` (network-bridge's transfer_addrs);
    IPv4 labels must start with the device name."""
    if label is None:
        return None
    if label == old or label.startswith(old + ":"):
        return new + label[len(old):]
    return label


def _moved(a: Address, to: str, from_: str) -> Address:
    """The address as the bridge gets it: permanent, or for a DHCP lease dynamic with the
    lifetimes it has left (the client moved to the bridge renews it)."""
    flags = (IFA_F_NODAD if a.family == 6 else 0) | (0 if a.valid_lft is not None else 0x80)
    flags |= a.flags & IFA_F_NOPREFIXROUTE  # dhcpcd's subnet route moves as a route of its own
    return replace(a, ifname=to, label=_relabel(a.label, from_, to), flags=flags)


def _on_link_first(routes: tuple[Route, ...]) -> list[Route]:
    """Routes in an order each can be put on a link: those with no gateway (the subnet's,
    which make the gateways reachable) before those via a gateway. A noprefixroute address
    (dhcpcd's) gets no kernel route, so its subnet route must be there first."""
    return sorted(routes, key=lambda r: r.gateway is not None)


def _same_addr(a: Address, b: Address) -> bool:
    return (a.address, a.prefixlen) == (b.address, b.prefixlen)


def _carried(snap: HostSnapshot, dev: str) -> list[Address]:
    """Addresses that move with the host: everything but the link-local one."""
    return [a for a in snap.addresses_on(dev) if not a.link_local and a.scope != 254]


class _Planner:
    def __init__(self, desired: HostNetwork, snap: HostSnapshot) -> None:
        self.desired = desired
        self.snap = snap
        self.steps: list[LocalOp] = []
        self.noops: list[Noop] = []
        self.warnings: list[str] = []

    def add(self, op: LocalOp) -> None:
        self.steps.append(op)

    # --- bridges ---------------------------------------------------------------------------

    def bridge(self, spec: BridgeSpec) -> None:
        snap = self.snap
        subject = f"bridge {spec.name}"
        current = snap.link(spec.name)
        uplink = snap.link(spec.uplink) if spec.uplink else None
        bond = next((b for b in self.desired.bonds if b.name == spec.uplink and b.present), None)
        port = spec.port
        before = len(self.steps)
        if spec.vlan is not None and port and snap.link(port) is None:
            self.add(CreateLink(
                f"VLAN device {port}", f"carries VLAN {spec.vlan} of {spec.uplink} to {spec.name}",
                port, "vlan", OWNER_ALIAS["vlan"], parent=spec.uplink, vlan_id=spec.vlan,
            ))
            if uplink is not None and not uplink.up:
                self.add(SetLink(f"NIC {spec.uplink}", "trunk must be up", spec.uplink or "",
                                 "up", True))
            self.add(SetLink(f"VLAN device {port}", "a bridge port needs no IPv6 address",
                             port, "addrgenmode", ADDRGEN_NONE))
            self.add(SetLink(f"VLAN device {port}", "new", port, "up", True))
        mac = self._bridge_mac(spec, uplink)
        mtu = spec.mtu or (uplink.mtu if uplink else None)
        if current is None:
            self.add(CreateLink(
                subject, "not there yet", spec.name, "bridge", OWNER_ALIAS["bridge"], mac, mtu,
                stp=spec.stp, forward_delay=spec.forward_delay,
                vlan_filtering=spec.vlan_filtering,
            ))
        else:
            self._bridge_settings(spec, current, mac, mtu)
        # bridge-first address move (LOCAL-BACKEND §4.3: 0 of 600 pings lost)
        carry_from = spec.uplink if spec.addresses == FROM_UPLINK and bond is None else None
        wanted: list[Address] = []
        if carry_from:
            wanted = [_moved(a, spec.name, carry_from) for a in _carried(snap, carry_from)]
        elif isinstance(spec.addresses, tuple):
            for cidr in spec.addresses:
                ip, plen = cidr.split("/")
                fam = 6 if ":" in ip else 4
                wanted.append(Address(spec.name, ip, int(plen), fam,
                                      spec.name if fam == 4 else None,
                                      (IFA_F_NODAD if fam == 6 else 0) | 0x80))
        have = snap.addresses_on(spec.name)
        for a in wanted:
            if not any(_same_addr(a, h) for h in have):
                self.add(AddAddress(subject, f"host address {a.cidr}", a))
        if current is None or not current.up:
            self.add(SetLink(subject, "carry traffic", spec.name, "up", True))
        if port:
            self._port(spec, port, carry_from)
        if len(self.steps) == before:
            self.noops.append(Noop(subject, "already as desired"))

    def _bridge_mac(self, spec: BridgeSpec, uplink: Link | None) -> str | None:
        if spec.mac == FROM_UPLINK:
            return uplink.mac if uplink else None
        return spec.mac

    def _bridge_settings(self, spec: BridgeSpec, cur: Link, mac: str | None,
                         mtu: int | None) -> None:
        subject = f"bridge {spec.name}"
        fd = spec.forward_delay * 100
        if (bool(cur.stp_state), cur.forward_delay or 0) != (spec.stp, fd) or (
            bool(cur.vlan_filtering) != spec.vlan_filtering
        ):
            self.add(SetBridgeOptions(subject, "STP/forward delay/VLAN filtering differ",
                                      spec.name, spec.stp, spec.forward_delay,
                                      spec.vlan_filtering))
        if mac and cur.mac != mac:
            self.add(SetLink(subject, "keep the uplink's MAC", spec.name, "mac", mac))
        if spec.mtu and cur.mtu != spec.mtu:
            self.add(SetLink(subject, f"MTU {cur.mtu} -> {spec.mtu}", spec.name, "mtu", spec.mtu))

    def _port(self, spec: BridgeSpec, port: str, carry_from: str | None) -> None:
        snap = self.snap
        cur = snap.link(port)
        subject = f"{'VLAN device' if spec.vlan else 'uplink'} {port}"
        enslaved = cur is not None and cur.master == spec.name
        if not enslaved:
            self.add(SetLink(subject, f"becomes a port of {spec.name}", port, "master", spec.name))
        if cur is not None and not cur.up:
            self.add(SetLink(subject, "ports must be up", port, "up", True))
        if spec.mtu and cur is not None and cur.mtu != spec.mtu:
            self.add(SetLink(subject, f"MTU {cur.mtu} -> {spec.mtu}", port, "mtu", spec.mtu))
        if cur is not None and cur.addrgenmode != ADDRGEN_NONE:
            self.add(SetLink(subject, "a bridge port needs no IPv6 address", port,
                             "addrgenmode", ADDRGEN_NONE))
        for a in snap.addresses_on(port):
            if a.link_local:
                self.add(DelAddress(subject, "the bridge has the same link-local", a))
        if carry_from:
            for r in _on_link_first(snap.routes_via(carry_from)):
                if not r.kernel_made:
                    self.add(ReplaceRoute(f"route {r.dst}", f"follow the address to {spec.name}",
                                          replace(r, oif=spec.name), r))
            # secondaries first: deleting a primary IPv4 address takes its secondaries along
            for a in reversed(_carried(snap, carry_from)):
                self.add(DelAddress(subject, f"{a.cidr} now lives on {spec.name}", a))
        if spec.vlan_filtering:
            have = snap.bridge_vlans.get(port, ()) if enslaved else DEFAULT_PVID
            self._vlans(subject, port, have, set(spec.trunk_vids), set(), None)

    def _vlans(self, subject: str, port: str, have: tuple[BridgeVlan, ...], tagged: set[int],
               untagged: set[int], pvid: int | None) -> None:
        current = {v.vid: v for v in have}
        want = {vid: BridgeVlan(vid, vid == pvid, vid in untagged or vid == pvid)
                for vid in tagged | untagged | ({pvid} if pvid else set())}
        for vid in sorted(want, key=lambda v: (v != pvid, v)):
            if current.get(vid) != want[vid]:
                w = want[vid]
                self.add(BridgeVlanAdd(subject, _vlan_words(w), port, vid, w.pvid, w.untagged))
        for vid in sorted(set(current) - set(want)):
            self.add(BridgeVlanDel(subject, f"VLAN {vid} not wanted", port, vid))

    def bridge_absent(self, spec: BridgeSpec) -> None:
        snap = self.snap
        subject = f"bridge {spec.name}"
        cur = snap.link(spec.name)
        if cur is None:
            self.noops.append(Noop(subject, "absent, as desired"))
            return
        ports = snap.ports_of(spec.name)
        port = spec.port if spec.port in ports else (ports[0] if len(ports) == 1 else None)
        if port is not None:
            plink = snap.link(port)
            target = port if spec.vlan is None and (plink is None or plink.kind != "vlan") else None
            # NIC-first, the mirror of apply's bridge-first move (0 of 600 echoes lost):
            # while the NIC is still a port (frames still arrive through the bridge), it
            # gets the addresses, the bridge's neighbours and the routes, and the bridge
            # loses its addresses; only then does deleting the bridge release the port
            carried = list(_carried(snap, spec.name))
            if target:
                for a in carried:
                    self.add(AddAddress(f"NIC {target}", f"host address {a.cidr} goes back",
                                        _moved(a, target, spec.name)))
                self.add(CopyNeighbours(
                    f"NIC {target}", f"it sends for the host from the next step on, while"
                    f" still a port of {spec.name}", target, spec.name))
                for r in _on_link_first(snap.routes_via(spec.name)):
                    if not r.kernel_made:
                        self.add(ReplaceRoute(f"route {r.dst}", f"back to {target}",
                                              replace(r, oif=target), r))
            # secondaries first: deleting a primary IPv4 address takes its secondaries along
            for a in reversed(carried):
                self.add(DelAddress(subject, f"{a.cidr}: the bridge is going", a))
            self.add(DeleteLink(subject, f"state: absent (releases {port})", spec.name))
            if target and plink is not None and plink.addrgenmode != ADDRGEN_EUI64:
                self.add(SetLink(f"NIC {target}", "a host NIC again", target, "addrgenmode",
                                 ADDRGEN_EUI64))
                ll = link_local_of(plink.mac)
                if not any(a.address == ll for a in snap.addresses_on(target)):
                    # flags as the kernel makes it: permanent, no nodad
                    self.add(AddAddress(f"NIC {target}", "its link-local address back",
                                        Address(target, ll, 64, 6, None, 0x80, 253)))
            if plink is not None and plink.kind == "vlan" and plink.owned:
                self.add(DeleteLink(f"VLAN device {port}", "its bridge is going", port))
        else:
            self.add(DeleteLink(subject, "state: absent", spec.name))

    # --- bonds and vifs ---------------------------------------------------------------------

    def bond(self, spec: BondSpec) -> None:
        subject = f"bond {spec.name}"
        cur = self.snap.link(spec.name)
        before = len(self.steps)
        if cur is None:
            self.add(CreateLink(subject, "not there yet", spec.name, "bond", OWNER_ALIAS["bond"],
                                bond_mode=spec.mode))
            if any(b.uplink == spec.name and b.present for b in self.desired.bridges):
                self.add(SetLink(subject, "a bridge port needs no IPv6 address", spec.name,
                                 "addrgenmode", ADDRGEN_NONE))
        released = self._bond_release(spec, cur) if cur is not None else set()
        for slave in spec.slaves:
            s = self.snap.link(slave)
            if s is None or s.master != spec.name or slave in released:
                self.add(SetLink(f"NIC {slave}", "a bond slave must be down to join",
                                 slave, "up", False))
                self.add(SetLink(f"NIC {slave}", f"joins {spec.name}", slave, "master",
                                 spec.name))
                self.add(SetLink(f"NIC {slave}", "carry traffic", slave, "up", True))
        for slave in sorted(released - set(spec.slaves)):  # the driver leaves them down
            self.add(SetLink(f"NIC {slave}", "a host NIC again", slave, "up", True))
        if cur is None or not cur.up or _mode_differs(spec, cur):  # down for a mode change
            self.add(SetLink(subject, "carry traffic", spec.name, "up", True))
        if len(self.steps) == before:
            self.noops.append(Noop(subject, "already as desired"))

    def _bond_release(self, spec: BondSpec, cur: Link) -> set[str]:
        """Release the slaves the recipe dropped, or every slave when the mode differs (the
        kernel changes a bond's mode only down and without slaves); returns those released."""
        subject = f"bond {spec.name}"
        slaves = set(self.snap.ports_of(spec.name))
        new_mode = _mode_differs(spec, cur)
        released = slaves if new_mode else slaves - set(spec.slaves)
        for slave in sorted(released):
            why = (f"mode {cur.bond_mode} -> {spec.mode} needs a bond without slaves"
                   if new_mode else "not a slave in the recipe")
            self.add(SetLink(f"NIC {slave}", why, slave, "master", None))
        if new_mode:
            if cur.up:
                self.add(SetLink(subject, "a bond changes mode only while down", spec.name,
                                 "up", False))
            self.add(SetBondMode(subject, f"mode {cur.bond_mode} -> {spec.mode}", spec.name,
                                 spec.mode))
        return released

    def bond_absent(self, spec: BondSpec) -> None:
        subject = f"bond {spec.name}"
        if self.snap.link(spec.name) is None:
            self.noops.append(Noop(subject, "absent, as desired"))
            return
        slaves = self.snap.ports_of(spec.name)
        for slave in slaves:
            self.add(SetLink(f"NIC {slave}", "bond is going", slave, "master", None))
        self.add(DeleteLink(subject, "state: absent", spec.name))
        for slave in slaves:  # the bonding driver leaves released slaves down
            self.add(SetLink(f"NIC {slave}", "a host NIC again", slave, "up", True))

    def _bridge_mtu(self, name: str) -> int | None:
        link = self.snap.link(name)
        if link is not None:
            return link.mtu
        spec = next((b for b in self.desired.bridges if b.name == name), None)
        if spec is None:
            return None
        up = self.snap.link(spec.uplink) if spec.uplink else None
        return spec.mtu or (up.mtu if up else None)

    def _host_bridge(self, name: str) -> bool:
        """The bridge carries (or, per the recipe, will carry) a host address."""
        if any(not a.link_local for a in self.snap.addresses_on(name)):
            return True
        spec = next((b for b in self.desired.bridges if b.name == name and b.present), None)
        if spec is None:
            return False
        if spec.addresses == FROM_UPLINK:
            return bool(spec.uplink and _carried(self.snap, spec.uplink))
        return bool(spec.addresses) and isinstance(spec.addresses, tuple)

    def vif(self, spec: VifSpec) -> None:
        subject = f"vif {spec.name}"
        cur = self.snap.link(spec.name)
        if cur is None:
            return  # preflight refuses: netback makes vifs, we never do
        bridge_mtu = self._bridge_mtu(spec.bridge)
        mtu = spec.mtu or bridge_mtu or cur.mtu
        if spec.mtu and bridge_mtu and spec.mtu < bridge_mtu and self._host_bridge(spec.bridge):
            # a bridge takes its smallest port's MTU: the host's own traffic would shrink
            self.warnings.append(
                f"vif {spec.name}: mtu {spec.mtu} would lower the MTU of {spec.bridge}, which"
                f" carries the host's addresses, from {bridge_mtu}: the vif stays at"
                f" {bridge_mtu} (set MTU {spec.mtu} inside the guest)")
            mtu = bridge_mtu
        addrs = self.snap.addresses_on(spec.name)
        prepare: list[LocalOp] = []
        if cur.mac != DUMMY_MAC:
            prepare.append(SetLink(subject, "vif-bridge's dummy MAC keeps the bridge MAC",
                                   spec.name, "mac", DUMMY_MAC))
        if cur.addrgenmode != ADDRGEN_NONE:
            prepare.append(SetLink(subject, "a bridge port needs no IPv6 address", spec.name,
                                   "addrgenmode", ADDRGEN_NONE))
        prepare += [DelAddress(subject, "a bridge port carries no address", a) for a in addrs]
        if cur.mtu != mtu:
            prepare.append(SetLink(subject, f"MTU {cur.mtu} -> {mtu}", spec.name, "mtu", mtu))
        if cur.master != spec.bridge:
            prepare.append(SetLink(subject, f"attach to {spec.bridge}", spec.name, "master",
                                   spec.bridge))
        before = len(self.steps)
        if prepare:
            if cur.up:
                self.add(SetLink(subject, "configure while down, as vif-bridge does",
                                 spec.name, "up", False))
            self.steps += prepare
        bridge_spec = next((b for b in self.desired.bridges if b.name == spec.bridge), None)
        bridge = self.snap.link(spec.bridge)
        filtering = (bridge_spec.vlan_filtering if bridge_spec else
                     bool(bridge and bridge.vlan_filtering))
        if filtering:
            have = (self.snap.bridge_vlans.get(spec.name, ()) if cur.master == spec.bridge
                    else DEFAULT_PVID)
            v = spec.vlans
            if v is not None:
                self._vlans(subject, spec.name, have, set(v.tagged), set(v.untagged), v.pvid)
        if prepare or not cur.up:
            self.add(SetLink(subject, "guest traffic flows", spec.name, "up", True))
        if len(self.steps) == before:
            self.noops.append(Noop(subject, f"already on {spec.bridge}"))

    def vif_absent(self, spec: VifSpec) -> None:
        subject = f"vif {spec.name}"
        cur = self.snap.link(spec.name)
        if cur is None or cur.master is None:
            self.noops.append(Noop(subject, "not attached"))
            return
        if cur.up:
            self.add(SetLink(subject, "offline", spec.name, "up", False))
        self.add(SetLink(subject, "offline: detach, netback removes the device", spec.name,
                         "master", None))

    def run(self) -> Plan:
        d = self.desired
        for v in d.vifs:
            if not v.present:
                self.vif_absent(v)
        for b in d.bridges:
            if not b.present:
                self.bridge_absent(b)
        for bond in d.bonds:
            if not bond.present:
                self.bond_absent(bond)
        for bond in d.bonds:
            if bond.present:
                self.bond(bond)
        for b in d.bridges:
            if b.present:
                self.bridge(b)
        for v in d.vifs:
            if v.present:
                self.vif(v)
        return Plan(tuple(self.steps), tuple(self.noops), tuple(self.warnings))


def _mode_differs(spec: BondSpec, cur: Link) -> bool:
    return cur.bond_mode is not None and cur.bond_mode != spec.mode


def _vlan_words(v: BridgeVlan) -> str:
    if v.pvid:
        return f"PVID {v.vid}, untagged"
    return f"VLAN {v.vid} {'untagged' if v.untagged else 'tagged'}"


def plan(desired: HostNetwork, snap: HostSnapshot) -> Plan:
    """The steps that bring ``snap`` to ``desired`` (empty when converged)."""
    return _Planner(desired, snap).run()


def inverse_plan(steps: tuple[LocalOp, ...] | list[LocalOp], before: HostSnapshot) -> list[LocalOp]:
    """The undo log: each step's inverse, last step first; in each run of routes put back,
    those with no gateway first (reversed, the gateway routes would come back before the
    subnet route that makes their gateway reachable: "Network is unreachable")."""
    out: list[LocalOp] = []
    for op in reversed(steps):
        out += op.inverse(before)
    return _subnet_routes_first(out)


def _via_gateway(op: ReplaceRoute) -> bool:
    return op.route.gateway is not None


def _subnet_routes_first(ops: list[LocalOp]) -> list[LocalOp]:
    out: list[LocalOp] = []
    run: list[ReplaceRoute] = []
    for op in [*ops, None]:
        if isinstance(op, ReplaceRoute):
            run.append(op)
            continue
        ordered: list[ReplaceRoute] = sorted(run, key=_via_gateway)
        out += ordered
        run = []
        if op is not None:
            out.append(op)
    return out
