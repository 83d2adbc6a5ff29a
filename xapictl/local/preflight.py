"""Refuse, with reasons and fixes, before the first write (LOCAL-BACKEND §5.2 step 4)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from xapictl.errors import PreflightError
from xapictl.local.desired import FROM_UPLINK, BridgeSpec, HostNetwork
from xapictl.local.observe import HostSnapshot
from xapictl.local.ops import CreateLink, LocalOp, SetBridgeOptions, StopDhcpClient
from xapictl.plan.core import Step

__all__ = ["needed_capabilities", "preflight", "problems"]


def needed_capabilities(steps: Iterable[LocalOp]) -> set[str]:
    """Kernel features the steps use that some kernels lack."""
    need: set[str] = set()
    for op in steps:
        if isinstance(op, CreateLink):
            if op.kind == "vlan":
                need.add("vlan")
            elif op.kind == "bond":
                need.add("bond")
            elif op.kind == "bridge":
                need.add("bridge")
            if op.vlan_filtering:
                need.add("vlan_filtering")
        elif isinstance(op, SetBridgeOptions) and op.vlan_filtering:
            need.add("vlan_filtering")
    return need


_CAP_FIX = {
    "bridge": "the kernel has no bridge support (CONFIG_BRIDGE)",
    "vlan": "the kernel has no 802.1Q VLAN devices (CONFIG_VLAN_8021Q; modprobe 8021q)",
    "bond": "the kernel has no bonding driver (CONFIG_BONDING; modprobe bonding)",
    "vlan_filtering": "the kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)",
}


def problems(desired: HostNetwork, snap: HostSnapshot,
             steps: Iterable[Step] = ()) -> list[str]:
    """Every reason to refuse this desired state on this host (empty: go ahead). ``steps``:
    the plan's, whose DHCP client moves make a leased uplink address movable."""
    dhcp_moved = {s.ifname for s in steps if isinstance(s, StopDhcpClient)}
    out: list[str] = []
    bonds = {b.name for b in desired.bonds if b.present}
    bridges = {b.name for b in desired.bridges if b.present}
    for b in desired.bridges:
        cur = snap.link(b.name)
        if not b.present:
            if cur is None:
                continue
            if cur.kind != "bridge" or not cur.owned:
                out.append(f"bridge {b.name}: xapictl did not create it (no 'xapictl:' ifalias);"
                           " it will not tear it down. Remove it by hand or drop 'state: absent'")
            foreign = [p for p in snap.ports_of(b.name) if p != b.port]
            if b.port is None and len(snap.ports_of(b.name)) == 1:
                foreign = []
            if foreign:
                out.append(f"bridge {b.name}: still has ports {', '.join(foreign)};"
                           " detach them (vifs: state: absent) before removing the bridge")
            continue
        if cur is not None and cur.kind != "bridge":
            out.append(f"bridge {b.name}: the name is taken by a {cur.kind or 'plain'} device;"
                       " pick another bridge name")
        elif cur is not None and not cur.owned:
            others = [p for p in snap.ports_of(b.name) if p != b.port]
            if others:
                out.append(f"bridge {b.name}: exists, was not made by xapictl and has ports"
                           f" {', '.join(others)}; pick another name, or remove that bridge")
        if b.uplink:
            up = snap.link(b.uplink)
            if up is None and b.uplink not in bonds:
                out.append(f"bridge {b.name}: uplink {b.uplink} does not exist"
                           " (see 'xapictl local show')")
            port = snap.link(b.port) if b.port else None
            if port is not None and port.master not in (None, b.name):
                out.append(f"bridge {b.name}: {b.port} is already a port of {port.master};"
                           " detach it there first")
            stranded = [a.cidr for a in snap.addresses_on(b.uplink) if not a.link_local]
            if (up is not None and b.vlan is None and b.addresses != FROM_UPLINK
                    and up.master != b.name and stranded):
                out.append(f"bridge {b.name}: uplink {b.uplink} carries {', '.join(stranded)},"
                           " which would be stranded on a bridge port; use 'addresses:"
                           " from-uplink' to move them to the bridge")
            if (up is not None and b.addresses == FROM_UPLINK and not desired.allow_dhcp
                    and b.uplink not in dhcp_moved):
                dyn = [a.cidr for a in snap.addresses_on(b.uplink)
                       if a.dynamic and not a.link_local]
                if dyn:
                    out.append(f"bridge {b.name}: {b.uplink} has DHCP/SLAAC addresses"
                               f" {', '.join(dyn)} and no DHCP client xapictl can move to the"
                               " bridge serves it (it looks for dhclient, dhcpcd and udhcpc"
                               " processes; systemd-networkd's leases stay with it). Set"
                               " 'allow_dhcp: true' to move them anyway, or make them static")
        out += _vlan_aware_host_addresses(b, snap, bonds)
    for bond in desired.bonds:
        cur = snap.link(bond.name)
        if not bond.present:
            if cur is not None and not cur.owned:
                out.append(f"bond {bond.name}: xapictl did not create it; it will not remove it")
            continue
        if cur is not None and cur.kind != "bond":
            out.append(f"bond {bond.name}: the name is taken by a {cur.kind or 'plain'} device")
        for s in bond.slaves:
            sl = snap.link(s)
            if sl is None:
                out.append(f"bond {bond.name}: slave {s} does not exist")
            elif sl.master not in (None, bond.name):
                out.append(f"bond {bond.name}: {s} is already a port of {sl.master}")
            elif sl.master is None and [a for a in snap.addresses_on(s) if not a.link_local]:
                out.append(f"bond {bond.name}: {s} carries addresses; a bond slave loses them."
                           " Move them to the bridge first")
    for v in desired.vifs:
        cur = snap.link(v.name)
        if not v.present:
            continue
        if cur is None:
            out.append(f"vif {v.name}: no such device; netback creates it when the domain"
                       " starts (is the guest running?)")
        if snap.link(v.bridge) is None and v.bridge not in bridges:
            out.append(f"vif {v.name}: bridge {v.bridge} does not exist and the recipe does not"
                       " create it; add it under local.bridges")
        br = snap.link(v.bridge)
        spec = next((b for b in desired.bridges if b.name == v.bridge), None)
        filtering = spec.vlan_filtering if spec else bool(br and br.vlan_filtering)
        if v.vlans is not None and not filtering and (spec or br):
            out.append(f"vif {v.name}: vlan={v.vlans.spec()} needs a VLAN-aware bridge;"
                       f" {v.bridge} has no VLAN filtering (set vlan_filtering: true on it)")
    return out


def _vlan_aware_host_addresses(b: BridgeSpec, snap: HostSnapshot, bonds: set[str]) -> list[str]:
    """A VLAN-aware bridge with an uplink drops VID 1 from the uplink and has no untagged
    VLAN there (LOCAL-BACKEND §5.2): host addresses on it could not reach the network."""
    if not (b.present and b.vlan_filtering and b.uplink):
        return []
    if isinstance(b.addresses, tuple):
        host = list(b.addresses)
    elif b.uplink in bonds:
        host = []  # from-uplink over a bond carries nothing
    else:
        host = [a.cidr for dev in (b.uplink, b.name) for a in snap.addresses_on(dev)
                if not a.link_local]
    if not host:
        return []
    return [f"bridge {b.name}: a VLAN-aware bridge carries only trunk_vids tagged on"
            f" {b.uplink}, so host addresses {', '.join(host)} on it would be cut off; set"
            " 'addresses: none' on it and keep the host on another NIC or bridge, or drop"
            " 'vlan_filtering'"]


def preflight(desired: HostNetwork, snap: HostSnapshot, steps: Iterable[LocalOp],
              capability: Callable[[str], bool]) -> None:
    """Raise PreflightError with every problem, including missing kernel features."""
    found = problems(desired, snap, steps)
    for cap in sorted(needed_capabilities(steps)):
        if not capability(cap):
            found.append(f"missing kernel capability: {_CAP_FIX[cap]}"
                         " ('xapictl local check' shows what this kernel can do)")
    if found:
        raise PreflightError(found)
