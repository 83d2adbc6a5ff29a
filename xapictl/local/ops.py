"""The steps of a local plan. Each is data (a ``Step``) that knows its own inverse, computed
from the snapshot taken before the apply, so the undo log exists before the first change.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any, ClassVar

from xapictl._frozen import frozen
from xapictl.local.observe import Address, HostSnapshot, Route
from xapictl.plan.core import Step

__all__ = [
    "AddAddress",
    "BridgeVlanAdd",
    "BridgeVlanDel",
    "CopyNeighbours",
    "CreateLink",
    "DelAddress",
    "DeleteLink",
    "LocalOp",
    "ReplaceRoute",
    "SetBondMode",
    "SetBridgeOptions",
    "SetLink",
    "StartDhcpClient",
    "StopDhcpClient",
    "link_local_of",
    "op_from_dict",
]

DUMMY_MAC = "fe:ff:ff:ff:ff:ff"
"""The numerically largest unicast MAC: vif-bridge gives it to every vif so the bridge keeps
the NIC's MAC (and nothing ever sends to it: guests use their own 00:16:3e MACs)."""


@frozen
class LocalOp(Step):
    """A local step: one netlink change."""

    label: ClassVar[str] = "change"

    @property
    def action(self) -> str:
        return self.label

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        """Steps that undo this one, given the state before the apply began."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {"op": type(self).__name__, **dataclasses.asdict(self)}


@frozen
class CreateLink(LocalOp):
    """Create a bridge, VLAN device or bond, down, marked as ours with an ifalias."""

    ifname: str
    kind: str
    alias: str = ""
    mac: str | None = None
    mtu: int | None = None
    parent: str | None = None
    vlan_id: int | None = None
    stp: bool = False
    forward_delay: int = 0
    vlan_filtering: bool = False
    bond_mode: str | None = None
    label: ClassVar[str] = "create"

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        return [DeleteLink(self.subject, "undo: it was not there before", self.ifname)]


@frozen
class DeleteLink(LocalOp):
    ifname: str
    label: ClassVar[str] = "delete"

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        """Recreate the link as it was, with what deleting it took along at once: a
        bridge's ports, the link's addresses and the routes through it."""
        old = before.link(self.ifname)
        if old is None:
            return []
        why = "undo: recreate as it was"
        ops: list[LocalOp] = [
            CreateLink(
                self.subject, why, old.name, old.kind, old.alias or "", old.mac, old.mtu,
                old.vlan_parent, old.vlan_id, bool(old.stp_state),
                (old.forward_delay or 0) // 100, bool(old.vlan_filtering),
                old.bond_mode,
            )
        ]
        if old.master:
            ops.append(SetLink(self.subject, why, old.name, "master", old.master))
        if old.kind == "bridge":
            ops += [SetLink(self.subject, why, p, "master", old.name)
                    for p in before.ports_of(old.name)]
        if old.up:
            ops.append(SetLink(self.subject, why, old.name, "up", True))
        ops += [AddAddress(self.subject, why, a) for a in before.addresses_on(old.name)
                if not a.link_local]  # the kernel makes the link-local one
        ops += [ReplaceRoute(self.subject, why, r) for r in before.routes_via(old.name)
                if not r.kernel_made]
        return ops


@frozen
class SetLink(LocalOp):
    """Set one attribute of a link: ``up`` (bool), ``master`` (name or None), ``mac``,
    ``mtu``, ``addrgenmode`` (0 eui64, 1 none)."""

    ifname: str
    attr: str
    value: Any

    @property
    def action(self) -> str:
        if self.attr == "up":
            return "bring up" if self.value else "bring down"
        if self.attr == "master":
            return "enslave" if self.value else "detach"
        if self.attr == "mac":
            return f"set MAC {self.value} on"
        if self.attr == "addrgenmode":
            return "stop IPv6 autoconf on" if self.value == 1 else "restore IPv6 autoconf on"
        return f"set {self.attr.upper()} {self.value} on"

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        old = before.link(self.ifname)
        if old is None:
            return []  # made by this apply: deleting it undoes everything
        value = {
            "up": old.up,
            "master": old.master,
            "mac": old.mac,
            "mtu": old.mtu,
            "addrgenmode": old.addrgenmode,
        }[self.attr]
        return [SetLink(self.subject, "undo", self.ifname, self.attr, value)]


@frozen
class SetBridgeOptions(LocalOp):
    ifname: str
    stp: bool
    forward_delay: int
    vlan_filtering: bool | None = None
    label: ClassVar[str] = "set bridge options"

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        old = before.link(self.ifname)
        if old is None:
            return []
        return [
            SetBridgeOptions(
                self.subject, "undo", self.ifname, bool(old.stp_state),
                (old.forward_delay or 0) // 100, old.vlan_filtering,
            )
        ]


@frozen
class SetBondMode(LocalOp):
    """Change a bond's mode. The kernel allows it only with the bond down and without
    slaves: the plan releases them first, and the executor does the same for any slaves
    still there (a rollback runs it on a bond whose slaves are back)."""

    ifname: str
    mode: str
    label: ClassVar[str] = "set bond mode"

    @property
    def action(self) -> str:
        return f"set mode {self.mode} on"

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        old = before.link(self.ifname)
        if old is None or old.bond_mode is None:
            return []
        return [SetBondMode(self.subject, "undo", self.ifname, old.bond_mode)]


@frozen
class AddAddress(LocalOp):
    addr: Address
    label: ClassVar[str] = "add address"

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        return [DelAddress(self.subject, "undo", self.addr)]


@frozen
class DelAddress(LocalOp):
    addr: Address
    label: ClassVar[str] = "remove address"

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        return [AddAddress(self.subject, "undo", self.addr)]


@frozen
class StopDhcpClient(LocalOp):
    """Stop the DHCP client serving ``ifname`` (SIGTERM: its lease and address stay);
    ``argv`` is its command line, to start it again on undo. ``netns``: where it runs."""

    ifname: str
    argv: tuple[str, ...]
    netns: str | None = None
    label: ClassVar[str] = "stop DHCP client"

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        return [StartDhcpClient(self.subject, "undo: it ran there before", self.ifname,
                                self.argv, self.netns)]


@frozen
class StartDhcpClient(LocalOp):
    """Run ``argv``, a DHCP client for ``ifname``, until it holds its lease."""

    ifname: str
    argv: tuple[str, ...]
    netns: str | None = None
    label: ClassVar[str] = "start DHCP client"

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        return [StopDhcpClient(self.subject, "undo: it did not run there before", self.ifname,
                               self.argv, self.netns)]


@frozen
class ReplaceRoute(LocalOp):
    """``route replace``: atomically points a route at ``route.oif``; ``old`` is what it
    replaces (None when it is new)."""

    route: Route
    old: Route | None = None
    label: ClassVar[str] = "move"

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        if self.old is not None:
            return [ReplaceRoute(self.subject, "undo", self.old, self.route)]
        return [DeleteRoute(self.subject, "undo", self.route)]


@frozen
class DeleteRoute(LocalOp):
    route: Route
    label: ClassVar[str] = "delete route"

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        return [ReplaceRoute(self.subject, "undo", self.route)]


@frozen
class BridgeVlanAdd(LocalOp):
    """Add (or re-flag) a VID on a port of a VLAN-aware bridge."""

    ifname: str
    vid: int
    pvid: bool = False
    untagged: bool = False
    label: ClassVar[str] = "add VLAN"

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        for v in before.bridge_vlans.get(self.ifname, ()):
            if v.vid == self.vid:
                return [BridgeVlanAdd(self.subject, "undo", self.ifname, v.vid, v.pvid, v.untagged)]
        return [BridgeVlanDel(self.subject, "undo", self.ifname, self.vid)]


@frozen
class BridgeVlanDel(LocalOp):
    ifname: str
    vid: int
    label: ClassVar[str] = "remove VLAN"

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        for v in before.bridge_vlans.get(self.ifname, ()):
            if v.vid == self.vid:
                return [BridgeVlanAdd(self.subject, "undo", self.ifname, v.vid, v.pvid, v.untagged)]
        return []


@frozen
class CopyNeighbours(LocalOp):
    """Give ``ifname`` the resolved neighbours (ARP and NDP entries) of ``source``, as stale
    entries the kernel re-checks on use. Teardown moves the routes to a NIC that is still a
    port of the bridge: the replies to its own ARP and NDP requests would reach the bridge,
    so it could not resolve the gateway and the peers by itself until the port leaves. A
    cache: undo leaves the entries to age out."""

    ifname: str
    source: str
    label: ClassVar[str] = "copy neighbours to"

    def inverse(self, before: HostSnapshot) -> list[LocalOp]:
        return []


_OPS: dict[str, type[LocalOp]] = {
    cls.__name__: cls
    for cls in (
        CreateLink, DeleteLink, SetLink, SetBondMode, SetBridgeOptions, AddAddress, DelAddress,
        ReplaceRoute, DeleteRoute, BridgeVlanAdd, BridgeVlanDel, CopyNeighbours,
        StopDhcpClient, StartDhcpClient,
    )
}


def op_from_dict(raw: dict[str, Any]) -> LocalOp:
    """Rebuild an op from ``LocalOp.to_dict`` (the undo file)."""
    data = dict(raw)
    cls = _OPS[data.pop("op")]
    for key in ("addr",):
        if isinstance(data.get(key), dict):
            data[key] = Address(**data[key])
    for key in ("route", "old"):
        if isinstance(data.get(key), dict):
            data[key] = Route(**data[key])
    if isinstance(data.get("argv"), list):
        data["argv"] = tuple(data["argv"])
    return cls(**data)


def link_local_of(mac: str) -> str:
    """The EUI-64 IPv6 link-local address the kernel derives from a MAC."""
    b = [int(x, 16) for x in mac.split(":")]
    b[0] ^= 0x02
    eui = [*b[:3], 0xFF, 0xFE, *b[3:]]
    groups = [f"{(eui[i] << 8) | eui[i + 1]:x}" for i in range(0, 8, 2)]
    return str(ipaddress.IPv6Address("fe80::" + ":".join(groups)))
