"""Namespace helpers shared by the local tests and the UML tier: namespaces made and
removed by name, veth "NICs", and the root-namespace fingerprint."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from dataclasses import dataclass

IS_ROOT = os.geteuid() == 0
_counter = itertools.count()


def _ip_json(*args: str) -> object:
    out = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout or "[]")


def root_fingerprint() -> object:
    """Root namespace links, addresses and routes, minus counters that move on their own."""
    links = [{k: v for k, v in link.items() if k not in ("operstate", "linkmode")}
             for link in _ip_json("link")]  # type: ignore[union-attr]
    addrs = [(a["ifname"], [(i.get("local"), i.get("prefixlen")) for i in a["addr_info"]])
             for a in _ip_json("addr")]  # type: ignore[union-attr]
    return links, addrs, _ip_json("route"), _ip_json("-6", "route")


class Namespaces:
    """Creates namespaces with a per-test unique prefix and removes exactly those."""

    def __init__(self) -> None:
        self.prefix = f"xlt{os.getpid() % 10000}-{next(_counter)}"
        self.made: list[str] = []

    def __call__(self, role: str) -> str:
        from pyroute2 import netns

        name = f"{self.prefix}-{role}"
        netns.create(name)
        self.made.append(name)
        return name

    def cleanup(self) -> None:
        from pyroute2 import netns

        for name in reversed(self.made):
            if name in netns.listnetns():
                netns.remove(name)


def ipr_in(name: str):
    from xapictl.local import netlink

    return netlink.open_ipr(name)


def veth(ns_a: str, name_a: str, ns_b: str, name_b: str, mac: str | None = None) -> None:
    """A veth pair with one end in each namespace, both up."""
    ipr = ipr_in(ns_a)
    try:
        ipr.link("add", ifname=name_a, kind="veth", peer={"ifname": name_b, "net_ns_fd": ns_b})
        idx = ipr.link_lookup(ifname=name_a)[0]
        if mac:
            ipr.link("set", index=idx, address=mac)
        ipr.link("set", index=idx, state="up")
        ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")
    finally:
        ipr.close()
    ipr = ipr_in(ns_b)
    try:
        ipr.link("set", index=ipr.link_lookup(ifname=name_b)[0], state="up")
        ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")
    finally:
        ipr.close()


def add_addr(ns: str, ifname: str, cidr: str, label: str | None = None,
             flags: int | None = None) -> None:
    ip, plen = cidr.split("/")
    ipr = ipr_in(ns)
    try:
        kw = {"label": label} if label else {}
        if flags is not None:
            kw["flags"] = flags
        elif ":" in ip:
            kw["flags"] = 0x02  # NODAD: usable at once
        ipr.addr("add", index=ipr.link_lookup(ifname=ifname)[0], address=ip,
                 prefixlen=int(plen), **kw)
    finally:
        ipr.close()


def add_route(ns: str, dst: str, gateway: str, dev: str, priority: int | None = None) -> None:
    ipr = ipr_in(ns)
    try:
        kw = {"priority": priority} if priority else {}
        ipr.route("add", dst=dst, gateway=gateway, oif=ipr.link_lookup(ifname=dev)[0], **kw)
    finally:
        ipr.close()


@dataclass
class XenHost:
    """dom0 with eth0 (veth to the LAN namespace, which holds the gateway 192.0.2.1)."""

    dom0: str
    lan: str


def build_xen_host(namespaces: Namespaces) -> XenHost:
    """LOCAL-BACKEND §4.2's topology: eth0 00:16:3e:00:00:10 with 192.0.2.10/24,
    192.0.2.11/24 (label eth0:1), 2001:db8::10/64; default via 192.0.2.1 and
    198.51.100.0/24 via 192.0.2.254 metric 50."""
    lan, dom0 = namespaces("lan"), namespaces("dom0")
    veth(dom0, "eth0", lan, "lan0", mac="00:16:3e:00:00:10")
    add_addr(lan, "lan0", "192.0.2.1/24")
    add_addr(lan, "lan0", "2001:db8::1/64")
    add_addr(dom0, "eth0", "192.0.2.10/24", label="eth0")
    add_addr(dom0, "eth0", "192.0.2.11/24", label="eth0:1")
    add_addr(dom0, "eth0", "2001:db8::10/64")
    add_route(dom0, "0.0.0.0/0", "192.0.2.1", "eth0")
    add_route(dom0, "198.51.100.0/24", "192.0.2.254", "eth0", priority=50)
    return XenHost(dom0, lan)


def snapshot_of(ns: str):
    from xapictl.local.observe import observe

    ipr = ipr_in(ns)
    try:
        return observe(ipr)
    finally:
        ipr.close()
