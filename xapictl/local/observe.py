"""One netlink dump of a host (or a namespace) as a typed, JSON-round-trippable snapshot.

The planner works only on ``HostSnapshot``; tests build snapshots by hand or load the JSON
fixtures that ``HostSnapshot.to_dict`` wrote from a real namespace.
"""

from __future__ import annotations

import socket
from dataclasses import asdict, field
from typing import Any

from xapictl._frozen import Frozen, frozen

__all__ = [
    "BOND_MODES",
    "Address",
    "BridgeVlan",
    "HostSnapshot",
    "Link",
    "Route",
    "bond_mode_name",
    "observe",
]

IFA_F_SECONDARY = 0x01
IFA_F_NODAD = 0x02
IFA_F_PERMANENT = 0x80
IFA_F_NOPREFIXROUTE = 0x200
"""No prefix route for the address's subnet (dhcpcd adds its own, with its metric)."""
IFA_F_SETTABLE = IFA_F_NODAD | 0x10 | 0x100 | IFA_F_NOPREFIXROUTE | 0x400
"""The address flags userspace sets (nodad, homeaddress, mngtmpaddr, noprefixroute,
autojoin); the others are the kernel's state (permanent, tentative, deprecated...)."""
RTPROT_KERNEL = 2
RT_TABLE_MAIN = 254
OWNER_PREFIX = "xapictl:"
BOND_MODES = (
    "balance-rr",
    "active-backup",
    "balance-xor",
    "broadcast",
    "802.3ad",
    "balance-tlb",
    "balance-alb",
)
"""Bonding modes by the kernel's number (IFLA_BOND_MODE): index 4 is 802.3ad."""


def bond_mode_name(value: object) -> str | None:
    """A bond mode as its name, from the kernel's number (or its text: undo files written
    before modes were named hold "4"); None when absent."""
    if value is None:
        return None
    text = str(value)
    if text.isdigit() and int(text) < len(BOND_MODES):
        return BOND_MODES[int(text)]
    if text in BOND_MODES:
        return text
    raise ValueError(f"unknown bond mode {text!r} (known: {', '.join(BOND_MODES)})")


@frozen
class Link(Frozen):
    """A network device as the kernel reports it; bridge/vlan/bond fields only for that kind."""

    name: str
    index: int = 0
    kind: str = ""
    master: str | None = None
    mac: str = ""
    mtu: int = 1500
    up: bool = False
    carrier: bool = False
    alias: str | None = None
    addrgenmode: int = 0
    stp_state: int | None = None
    forward_delay: int | None = None
    vlan_filtering: bool | None = None
    vlan_id: int | None = None
    vlan_parent: str | None = None
    bond_mode: str | None = None
    port_state: int | None = None
    """Bridge port STP state: 3 is forwarding (BR_STATE_FORWARDING)."""

    @property
    def owned(self) -> bool:
        """xapictl created it (its ifalias carries our mark)."""
        return (self.alias or "").startswith(OWNER_PREFIX)


@frozen
class Address(Frozen):
    ifname: str
    address: str
    prefixlen: int
    family: int = 4
    label: str | None = None
    flags: int = IFA_F_PERMANENT
    scope: int = 0
    valid_lft: int | None = None
    """Seconds left of a dynamic (DHCP) address's lease; None for a permanent one."""
    preferred_lft: int | None = None

    @property
    def dynamic(self) -> bool:
        """Handed out by DHCP/SLAAC (not permanent): it would not survive a move unattended."""
        return not self.flags & IFA_F_PERMANENT

    @property
    def link_local(self) -> bool:
        return self.family == 6 and self.address.lower().startswith("fe80:")

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefixlen}"


@frozen
class Route(Frozen):
    """A route; ``dst`` is ``default`` or ``prefix/len``; ``oif`` a device name."""

    dst: str
    oif: str | None
    family: int = 4
    gateway: str | None = None
    priority: int | None = None
    proto: int = 3
    table: int = RT_TABLE_MAIN
    scope: int = 0
    type: int = 1
    prefsrc: str | None = None

    @property
    def kernel_made(self) -> bool:
        """Made by the kernel for an address (goes and comes with that address)."""
        return self.proto == RTPROT_KERNEL


@frozen
class BridgeVlan(Frozen):
    vid: int
    pvid: bool = False
    untagged: bool = False


@frozen
class HostSnapshot(Frozen):
    """Links by name, addresses, main-table routes and bridge VLAN membership."""

    links: dict[str, Link] = field(default_factory=dict)
    addresses: tuple[Address, ...] = ()
    routes: tuple[Route, ...] = ()
    bridge_vlans: dict[str, tuple[BridgeVlan, ...]] = field(default_factory=dict)

    def link(self, name: str) -> Link | None:
        return self.links.get(name)

    def addresses_on(self, ifname: str) -> tuple[Address, ...]:
        return tuple(a for a in self.addresses if a.ifname == ifname)

    def routes_via(self, ifname: str) -> tuple[Route, ...]:
        return tuple(r for r in self.routes if r.oif == ifname)

    def ports_of(self, bridge: str) -> tuple[str, ...]:
        return tuple(sorted(n for n, link in self.links.items() if link.master == bridge))

    def default_gateways(self) -> tuple[str, ...]:
        return tuple(r.gateway for r in self.routes if r.dst == "default" and r.gateway)

    def fingerprint(self) -> dict[str, Any]:
        """What rollback must restore exactly: links (kind, master, MAC, MTU, up), addresses
        with labels and the flags userspace sets (nodad, noprefixroute...), and every
        main-table route. Indexes are left out (recreated devices get new ones)."""
        return {
            "links": {
                n: (lk.kind, lk.master, lk.mac, lk.mtu, lk.up, lk.alias)
                for n, lk in sorted(self.links.items())
            },
            "addresses": sorted(
                (a.ifname, a.address, a.prefixlen, a.label or "", a.flags & IFA_F_SETTABLE)
                for a in self.addresses
            ),
            "routes": sorted(
                (r.dst, r.oif or "", r.gateway or "", r.priority or 0, r.proto, r.table)
                for r in self.routes
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "links": [asdict(lk) for lk in self.links.values()],
            "addresses": [asdict(a) for a in self.addresses],
            "routes": [asdict(r) for r in self.routes],
            "bridge_vlans": {k: [asdict(v) for v in vs] for k, vs in self.bridge_vlans.items()},
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> HostSnapshot:
        return cls(
            links={d["name"]: Link(**{**d, "bond_mode": bond_mode_name(d.get("bond_mode"))})
                   for d in raw.get("links", [])},
            addresses=tuple(Address(**d) for d in raw.get("addresses", [])),
            routes=tuple(Route(**d) for d in raw.get("routes", [])),
            bridge_vlans={
                k: tuple(BridgeVlan(**v) for v in vs)
                for k, vs in raw.get("bridge_vlans", {}).items()
            },
        )


# --- reading the kernel -------------------------------------------------------------------


def _addrgenmode(msg: Any) -> int:
    spec = msg.get("af_spec") or {}
    for fam, nest in spec.get("attrs", []):
        if fam == "AF_INET6":
            for name, value in nest.get("attrs", []):
                if name == "IFLA_INET6_ADDR_GEN_MODE":
                    return int(value)
    return 0


def _link(msg: Any, names: dict[int, str]) -> Link:
    kind = msg.get(("linkinfo", "kind")) or ""
    data = ("linkinfo", "data")
    master = msg.get("master")
    is_bridge = kind == "bridge"
    vlan_parent = msg.get("link") if kind == "vlan" else None
    return Link(
        name=msg.get("ifname"),
        index=int(msg["index"]),
        kind=kind,
        master=names.get(master) if master else None,
        mac=msg.get("address") or "",
        mtu=int(msg.get("mtu") or 0),
        up=bool(msg["flags"] & 1),
        carrier=bool(msg.get("carrier")),
        alias=msg.get("ifalias"),
        addrgenmode=_addrgenmode(msg),
        stp_state=msg.get((*data, "br_stp_state")) if is_bridge else None,
        forward_delay=msg.get((*data, "br_forward_delay")) if is_bridge else None,
        vlan_filtering=bool(msg.get((*data, "br_vlan_filtering"))) if is_bridge else None,
        vlan_id=msg.get((*data, "vlan_id")) if kind == "vlan" else None,
        vlan_parent=names.get(vlan_parent) if vlan_parent else None,
        bond_mode=bond_mode_name(msg.get((*data, "bond_mode"))) if kind == "bond" else None,
        port_state=msg.get(("linkinfo", "slave_data", "IFLA_BRPORT_STATE")),
    )


def _route(msg: Any, names: dict[int, str]) -> Route:
    family = 4 if msg["family"] == socket.AF_INET else 6
    dst = msg.get("dst")
    oif = msg.get("oif")
    return Route(
        dst=f"{dst}/{msg['dst_len']}" if dst else "default",
        oif=names.get(oif) if oif else None,
        family=family,
        gateway=msg.get("gateway"),
        priority=msg.get("priority"),
        proto=int(msg["proto"]),
        table=int(msg.get("table") or msg["table"]),
        scope=int(msg["scope"]),
        type=int(msg["type"]),
        prefsrc=msg.get("prefsrc"),
    )


def _bridge_vlans(ipr: Any, names: dict[int, str]) -> dict[str, tuple[BridgeVlan, ...]]:
    out: dict[str, tuple[BridgeVlan, ...]] = {}
    try:
        dumped = list(ipr.get_vlans())
    except Exception:
        return out
    for msg in dumped:
        name = names.get(int(msg["index"]))
        spec = msg.get("af_spec") or {}
        entries = []
        for attr, value in spec.get("attrs", []):
            if attr == "IFLA_BRIDGE_VLAN_INFO":
                flags = int(value["flags"])
                entries.append(BridgeVlan(int(value["vid"]), bool(flags & 2), bool(flags & 4)))
        if name and entries:
            out[name] = tuple(entries)
    return out


def _lifetimes(msg: Any) -> dict[str, int]:
    """valid_lft/preferred_lft of a dynamic IPv4 address (a DHCP lease; IPv6 SLAAC
    addresses are the kernel's to renew on the bridge)."""
    flags = int(msg.get("flags") or msg["flags"])
    info = msg.get("cacheinfo") if hasattr(msg, "get") else None
    if flags & IFA_F_PERMANENT or msg["family"] != socket.AF_INET or not info:
        return {}
    return {"valid_lft": int(info["ifa_valid"]), "preferred_lft": int(info["ifa_preferred"])}


def observe(ipr: Any) -> HostSnapshot:
    """Dump links, addresses, main-table routes and bridge VLANs through one socket."""
    msgs = list(ipr.get_links())
    names = {int(m["index"]): m.get("ifname") for m in msgs}
    links = {lk.name: lk for lk in (_link(m, names) for m in msgs)}
    addresses = tuple(
        Address(
            ifname=names[int(a["index"])],
            address=a.get("address"),
            prefixlen=int(a["prefixlen"]),
            family=4 if a["family"] == socket.AF_INET else 6,
            label=a.get("label"),
            flags=int(a.get("flags") or a["flags"]),
            scope=int(a["scope"]),
            **_lifetimes(a),
        )
        for a in ipr.get_addr()
        if int(a["index"]) in names
    )
    routes = tuple(
        _route(r, names)
        for family in (socket.AF_INET, socket.AF_INET6)
        for r in ipr.get_routes(family=family, table=RT_TABLE_MAIN)
        # multicast and the kernel's per-address local routes are not ours to move
        if int(r["type"]) == 1
    )
    return HostSnapshot(links, addresses, routes, _bridge_vlans(ipr, names))
