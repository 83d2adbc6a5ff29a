"""Thin wrappers around pyroute2: open a socket in a namespace, and the netlink calls the
backend makes, each named after what it does.

This is the only module (with ``check`` and ``probe``, which need namespace entry too) that
imports pyroute2. Every other module works on plain data from ``observe``.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Iterator
from typing import Any

import pyroute2.netns as netns  # not 'from pyroute2 import': see local/lean_pyroute2.py
from pyroute2.iproute.linux import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from xapictl.errors import HostReadError, LocalBackendError
from xapictl.local.observe import IFA_F_SETTABLE

__all__ = [
    "IFA_F_NODAD",
    "NetlinkError",
    "errno_of",
    "in_netns",
    "kernel_errors",
    "list_netns",
    "open_ipr",
    "rename_link",
    "socket_in_netns",
]

IFA_F_NODAD = 0x02
IN6_ADDR_GEN_MODE = {"eui64": 0, "none": 1, "stable_privacy": 2, "random": 3}


def list_netns() -> list[str]:
    """Names under /var/run/netns."""
    return list(netns.listnetns())


@contextlib.contextmanager
def in_netns(name: str | None) -> Iterator[None]:
    """Run the block with this thread inside namespace ``name`` (None: stay where we are).

    We enter with setns instead of ``IPRoute(netns=...)``: that forks a helper process and,
    without ``flags=0``, silently creates a missing namespace (LOCAL-BACKEND §2.2).
    """
    if name is None:
        yield
        return
    if name not in list_netns():
        raise LocalBackendError(f"network namespace {name!r} does not exist (ip netns list)")
    try:
        netns.pushns(name)
    except PermissionError as exc:
        raise LocalBackendError(
            f"entering network namespace {name!r} needs root (CAP_SYS_ADMIN): run xapictl"
            " with sudo") from exc
    try:
        yield
    finally:
        netns.popns()


def open_ipr(name: str | None) -> Any:
    """An ``IPRoute`` whose socket lives in namespace ``name``; the caller closes it."""
    with in_netns(name), kernel_errors("opening a netlink socket"):
        return IPRoute()


@contextlib.contextmanager
def kernel_errors(what: str) -> Iterator[None]:
    """A netlink or OS error in the block becomes one ``HostReadError`` line naming ``what``
    and the errno (EPERM: run as root)."""
    try:
        yield
    except (NetlinkError, OSError) as exc:
        code = errno_of(exc)
        hint = "; run xapictl as root" if code in (errno.EPERM, errno.EACCES) else ""
        name = errno.errorcode.get(code or 0, "")
        raise HostReadError(f"{what} failed: {name + ' ' if name else ''}{exc}{hint}") from exc


def socket_in_netns(name: str | None, family: int, kind: int, proto: int = 0) -> socket.socket:
    """A plain socket created inside ``name``: it stays bound to that namespace."""
    with in_netns(name):
        return socket.socket(family, kind, proto)


def errno_of(exc: BaseException) -> int | None:
    """The errno of a NetlinkError or OSError, else None."""
    if isinstance(exc, NetlinkError):
        return int(exc.code)
    if isinstance(exc, OSError):
        return exc.errno
    return None


def is_unsupported(exc: BaseException) -> bool:
    """The kernel lacks the feature (no 8021q, bonding, VLAN filtering...)."""
    return errno_of(exc) in (errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPROTONOSUPPORT)


def rename_link(name: str | None, old: str, new: str) -> None:
    """Rename ``old`` to ``new`` in namespace ``name`` (taken down first: the kernel renames
    only a link that is down). Nothing to do when ``old`` is gone and ``new`` is there (done
    before); refused when both exist or when the name is not a valid interface name."""
    if not new or len(new) > 15 or any(c in new for c in "/: \t\n") or new in (".", ".."):
        raise LocalBackendError(f"vifname {new!r} is not a valid interface name (1-15"
                                " characters, no '/', ':' or blanks)")
    ipr = open_ipr(name)
    try:
        have_old, have_new = ipr.link_lookup(ifname=old), ipr.link_lookup(ifname=new)
        if have_new and not have_old:
            return
        if have_new:
            raise LocalBackendError(f"cannot rename {old} to {new}: an interface named {new}"
                                    " already exists (another guest's vifname?)")
        index = _index(ipr, old)
        ipr.link("set", index=index, state="down")
        ipr.link("set", index=index, ifname=new)
    finally:
        ipr.close()


# --- executing one op ---------------------------------------------------------------------

_TOLERATED = {
    "add": (errno.EEXIST,),
    "del": (errno.ENODEV, errno.EADDRNOTAVAIL, errno.ESRCH, errno.ENOENT),
}


def _index(ipr: Any, ifname: str) -> int:
    found = ipr.link_lookup(ifname=ifname)
    if not found:
        raise LocalBackendError(f"{ifname}: no such device")
    return int(found[0])


def _addrgen_spec(mode: int) -> dict[str, Any]:
    return {"attrs": [["AF_INET6", {"attrs": [["IFLA_INET6_ADDR_GEN_MODE", int(mode)]]}]]}


def _tolerate(kind: str, fn: Any, *args: Any, **kwargs: Any) -> None:
    """Run a netlink call; "already there" on add and "already gone" on delete are success
    (LOCAL-BACKEND §4.4.6); verification re-reads afterwards anyway."""
    try:
        fn(*args, **kwargs)
    except NetlinkError as exc:
        if exc.code not in _TOLERATED[kind]:
            raise


def execute(ipr: Any, op: Any) -> None:
    """Carry out one ``xapictl.local.ops`` step through ``ipr``."""
    from xapictl.local import ops  # local import: ops is plain data, this keeps the direction

    if isinstance(op, ops.CreateLink):
        _create(ipr, op)
    elif isinstance(op, ops.DeleteLink):
        found = ipr.link_lookup(ifname=op.ifname)
        if found:
            _tolerate("del", ipr.link, "del", index=found[0])
    elif isinstance(op, ops.SetLink):
        _set_link(ipr, op.ifname, op.attr, op.value)
    elif isinstance(op, ops.SetBondMode):
        _set_bond_mode(ipr, op.ifname, op.mode)
    elif isinstance(op, ops.SetBridgeOptions):
        kw: dict[str, Any] = {
            "br_stp_state": int(op.stp),
            "br_forward_delay": op.forward_delay * 100,
        }
        if op.vlan_filtering:
            kw["br_vlan_filtering"] = 1
        elif op.vlan_filtering is False:
            link = ipr.link("get", index=_index(ipr, op.ifname))[0]
            if link.get(("linkinfo", "data", "br_vlan_filtering")):
                kw["br_vlan_filtering"] = 0
        ipr.link("set", index=_index(ipr, op.ifname), kind="bridge", **kw)
    elif isinstance(op, ops.AddAddress):
        a = op.addr
        akw: dict[str, Any] = {}
        if a.family == 4 and a.label:
            akw["label"] = a.label
        # its own flags (dhcpcd's noprefixroute: no kernel route beside dhcpcd's own)
        aflags = a.flags & IFA_F_SETTABLE
        if a.family == 6:  # usable at once: DAD would leave it tentative (unusable) ~1 s
            aflags |= IFA_F_NODAD
        if aflags:
            akw["flags"] = aflags
        if a.valid_lft is not None:  # a DHCP lease moves with what is left of it
            akw["valid_lft"] = a.valid_lft
            akw["preferred_lft"] = min(a.preferred_lft or 0, a.valid_lft)
        index = _index(ipr, a.ifname)
        _tolerate("add", ipr.addr, "add", index=index, address=a.address,
                  prefixlen=a.prefixlen, **akw)
        if a.family == 6 and not a.flags & IFA_F_NODAD:
            # exact flags: drop the nodad it never had (a replace runs no DAD, so the address
            # stays usable; the kernel keeps DAD's state)
            ipr.addr("replace", index=index, address=a.address, prefixlen=a.prefixlen,
                     **(akw | {"flags": a.flags & IFA_F_SETTABLE}))
    elif isinstance(op, ops.DelAddress):
        a = op.addr
        found = ipr.link_lookup(ifname=a.ifname)
        if found:
            _tolerate("del", ipr.addr, "del", index=found[0], address=a.address,
                      prefixlen=a.prefixlen)
    elif isinstance(op, (ops.ReplaceRoute, ops.DeleteRoute)):
        r = op.route
        rkw: dict[str, Any] = {
            "dst": "0.0.0.0/0" if r.dst == "default" and r.family == 4 else
            ("::/0" if r.dst == "default" else r.dst),
            "family": socket.AF_INET if r.family == 4 else socket.AF_INET6,
            "table": r.table,
            "proto": r.proto,
            "scope": r.scope,
            "type": r.type,
        }
        if r.oif:
            rkw["oif"] = _index(ipr, r.oif)
        if r.gateway:
            rkw["gateway"] = r.gateway
        if r.priority is not None:
            rkw["priority"] = r.priority
        if r.prefsrc:
            rkw["prefsrc"] = r.prefsrc
        if isinstance(op, ops.ReplaceRoute):
            ipr.route("replace", **rkw)
        else:
            _tolerate("del", ipr.route, "del", **rkw)
    elif isinstance(op, ops.CopyNeighbours):
        _copy_neighbours(ipr, _index(ipr, op.source), _index(ipr, op.ifname))
    elif isinstance(op, ops.BridgeVlanAdd):
        flags = [f for f, on in (("pvid", op.pvid), ("untagged", op.untagged)) if on]
        ipr.vlan_filter("add", index=_index(ipr, op.ifname),
                        vlan_info={"vid": op.vid, "flags": flags})
    elif isinstance(op, ops.BridgeVlanDel):
        _tolerate("del", ipr.vlan_filter, "del", index=_index(ipr, op.ifname),
                  vlan_info={"vid": op.vid})
    elif isinstance(op, ops.StopDhcpClient):
        from xapictl.local import dhcp

        dhcp.stop(op.ifname, op.netns)
    elif isinstance(op, ops.StartDhcpClient):
        from xapictl.local import dhcp
        from xapictl.local.observe import observe

        before = observe(ipr)
        dhcp.start(op.ifname, op.argv, op.netns)
        _put_back(ipr, before, observe(ipr), op.ifname)
    else:
        raise LocalBackendError(f"cannot execute {type(op).__name__}")


def _put_back(ipr: Any, before: Any, now: Any, ifname: str) -> None:
    """What a DHCP client took from ``ifname`` when it started, beyond its own lease: udhcpc's
    script flushes the interface's IPv4 addresses and routes first (``deconfig``), dhcpcd
    re-adds the leased address, which drops the routes through its subnet. The addresses,
    then the routes (by destination) that were there before and are gone are added again."""
    from xapictl.local import ops

    def key(a: Any) -> tuple[str, int]:
        return a.address, a.prefixlen

    have = {key(a) for a in now.addresses_on(ifname)}
    for a in before.addresses_on(ifname):
        if a.family == 4 and key(a) not in have:
            execute(ipr, ops.AddAddress(ifname, "put back after the DHCP client's start", a))
    routed = {(r.family, r.dst, r.table) for r in now.routes_via(ifname)}
    for r in before.routes_via(ifname):
        if r.family == 4 and (r.family, r.dst, r.table) not in routed:
            execute(ipr, ops.ReplaceRoute(ifname, "put back after the DHCP client's start", r))


NUD_STALE = 0x04
NUD_USABLE = 0x02 | 0x04 | 0x08 | 0x10 | 0x80  # reachable, stale, delay, probe, permanent


def _copy_neighbours(ipr: Any, source: int, target: int) -> None:
    for n in ipr.neigh("dump", ifindex=source):
        if n.get("ifindex") != source or not n["state"] & NUD_USABLE:
            continue
        dst, lladdr = n.get_attr("NDA_DST"), n.get_attr("NDA_LLADDR")
        if dst and lladdr:
            ipr.neigh("replace", ifindex=target, dst=dst, lladdr=lladdr, state=NUD_STALE,
                      family=n["family"])


def _bond_mode_number(mode: str | None) -> int:
    """The kernel's number for a mode name; never a silent fallback to active-backup (a
    rolled-back 802.3ad bond must come back as 802.3ad)."""
    from xapictl.local.observe import BOND_MODES, bond_mode_name

    try:
        return BOND_MODES.index(bond_mode_name(mode) or "active-backup")
    except ValueError as exc:
        raise LocalBackendError(str(exc)) from exc


def _set_bond_mode(ipr: Any, ifname: str, mode: str) -> None:
    """Release any slaves and take the bond down (the kernel insists), set the mode, then
    put slaves and link state back as they were."""
    index = _index(ipr, ifname)
    bond = ipr.link("get", index=index)[0]
    was_up = bool(bond["flags"] & 1)
    slaves = [(int(m["index"]), bool(m["flags"] & 1)) for m in ipr.get_links()
              if m.get("master") == index]
    for slave, _ in slaves:
        ipr.link("set", index=slave, master=0)
    if was_up:
        ipr.link("set", index=index, state="down")
    ipr.link("set", index=index, kind="bond", bond_mode=_bond_mode_number(mode))
    for slave, up in slaves:
        ipr.link("set", index=slave, state="down")
        ipr.link("set", index=slave, master=index)
        if up:
            ipr.link("set", index=slave, state="up")
    if was_up:
        ipr.link("set", index=index, state="up")


def _create(ipr: Any, op: Any) -> None:
    kw: dict[str, Any] = {"ifname": op.ifname, "kind": op.kind}
    if op.kind == "bridge":
        kw |= {"br_stp_state": int(op.stp), "br_forward_delay": op.forward_delay * 100}
        if op.vlan_filtering:
            kw["br_vlan_filtering"] = 1
    elif op.kind == "vlan":
        kw |= {"link": _index(ipr, op.parent), "vlan_id": op.vlan_id}
    elif op.kind == "bond":
        kw["bond_mode"] = _bond_mode_number(op.bond_mode)
    if op.mac and op.kind != "vlan":
        kw["address"] = op.mac
    if op.mtu:
        kw["mtu"] = op.mtu
    try:
        ipr.link("add", **kw)
    except NetlinkError as exc:
        if exc.code != errno.EEXIST:
            raise
        existing = ipr.link("get", index=_index(ipr, op.ifname))[0]
        if existing.get(("linkinfo", "kind")) != op.kind:
            raise LocalBackendError(f"{op.ifname} exists and is not a {op.kind}") from exc
    if op.alias:
        ipr.link("set", index=_index(ipr, op.ifname), ifalias=op.alias)


def _set_link(ipr: Any, ifname: str, attr: str, value: Any) -> None:
    index = _index(ipr, ifname)
    if attr == "up":
        ipr.link("set", index=index, state="up" if value else "down")
    elif attr == "master":
        ipr.link("set", index=index, master=_index(ipr, value) if value else 0)
    elif attr == "mac":
        ipr.link("set", index=index, address=value)
    elif attr == "mtu":
        ipr.link("set", index=index, mtu=int(value))
    elif attr == "addrgenmode":
        ipr.link("set", index=index, af_spec=_addrgen_spec(int(value)))
    else:
        raise LocalBackendError(f"cannot set {attr} on {ifname}")
