"""``xapictl local check``: what this host can really do, found by trying.

Kernel features are tried in a throw-away namespace (created and removed here), never
guessed from config files; Xen and CPU facts come from /proc and PATH.
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pyroute2 import netns as pr_netns

from xapictl.errors import LocalBackendError
from xapictl.local.netlink import NetlinkError, errno_of, in_netns, open_ipr

__all__ = ["Finding", "capabilities", "check_host"]


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str
    advice: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _try(ipr: Any, **kw: Any) -> tuple[bool, str]:
    try:
        ipr.link("add", **kw)
        return True, "works"
    except NetlinkError as exc:
        return False, f"refused: {os.strerror(exc.code)} (errno {exc.code})"


NEEDS_ROOT = ("trying kernel features (what 'xapictl local check' and apply's pre-flight do)"
              " needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN): it makes a throw-away network"
              " namespace. Run xapictl with sudo")


def _root_has_bond0() -> bool:
    ipr = open_ipr(None)
    try:
        return bool(ipr.link_lookup(ifname="bond0"))
    finally:
        ipr.close()


def _remove_stray_bond0() -> None:
    """Loading the bonding driver (our first bond, in the probe namespace) makes a bond0 in
    the root namespace (max_bonds=1): delete that one, and only that one."""
    ipr = open_ipr(None)
    try:
        for index in ipr.link_lookup(ifname="bond0"):
            if ipr.link("get", index=index)[0].get(("linkinfo", "kind")) == "bond":
                ipr.link("del", index=index)
    finally:
        ipr.close()


def _probe_kernel(sys_module: Path = Path("/sys/module")) -> dict[str, tuple[bool, str]]:
    """Try each feature in a throw-away namespace; the root namespace is left as it was."""
    name = f"xapictl-check-{os.getpid()}"
    try:
        pr_netns.create(name)
    except (OSError, NetlinkError) as exc:
        if errno_of(exc) in (errno.EPERM, errno.EACCES):
            raise LocalBackendError(NEEDS_ROOT) from exc
        raise
    ours = not (sys_module / "bonding").exists() and not _root_has_bond0()
    try:
        ipr = open_ipr(name)
        try:
            out: dict[str, tuple[bool, str]] = {}
            out["veth"] = _try(ipr, ifname="xc-veth0", kind="veth", peer="xc-veth1")
            out["bridge"] = _try(ipr, ifname="xc-br0", kind="bridge")
            parent = ipr.link_lookup(ifname="xc-veth0")
            out["vlan"] = (
                _try(ipr, ifname="xc-vlan", kind="vlan", link=parent[0], vlan_id=105)
                if parent else (False, "no veth to hang a VLAN on")
            )
            out["bond"] = _try(ipr, ifname="xc-bond0", kind="bond")
            out["vlan_filtering"] = _try(ipr, ifname="xc-br1", kind="bridge",
                                         br_vlan_filtering=1)
            return out
        finally:
            ipr.close()
    finally:
        pr_netns.remove(name)
        if ours and (sys_module / "bonding").exists():
            _remove_stray_bond0()


@functools.cache
def capabilities() -> dict[str, tuple[bool, str]]:
    """Kernel network features by name (bridge, veth, vlan, bond, vlan_filtering), tried once
    per process."""
    return _probe_kernel()


_KERNEL_ADVICE = {
    "bridge": "Enable CONFIG_BRIDGE (modprobe bridge); xapictl cannot build xenbr0 without it.",
    "veth": "Enable CONFIG_VETH; only tests need it.",
    "vlan": "Enable CONFIG_VLAN_8021Q (modprobe 8021q) for bridge-per-VLAN trunks.",
    "bond": "Enable CONFIG_BONDING (modprobe bonding) to use bonds as uplinks.",
    "vlan_filtering": "Enable CONFIG_BRIDGE_VLAN_FILTERING for VLAN-aware bridges and xl"
    " vlan=; or use a bridge per VLAN.",
}


def _cpu_flags(proc: Path) -> set[str]:
    try:
        text = (proc / "cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def _read_in(netns: str | None, path: Path) -> str:
    """A file read from inside ``netns``: /proc/sys/net shows the opener's namespace."""
    with in_netns(netns):
        return path.read_text()


def _dom0(proc: Path) -> Finding:
    """A dom0 has ``control_d`` in /proc/xen/capabilities; a domU with xenfs mounted has
    the file too, without it."""
    if not (proc / "xen").exists():
        return Finding("xen dom0", False, "/proc/xen absent: not running on Xen",
                       "Boot the Xen hypervisor with this kernel as dom0 to run guests; the"
                       " bridges work without it.")
    try:
        caps = (proc / "xen" / "capabilities").read_text().split()
    except OSError:
        caps = []
    if "control_d" in caps:
        return Finding("xen dom0", True, "/proc/xen/capabilities has control_d")
    return Finding("xen dom0", False, "/proc/xen present but no control_d in"
                   " /proc/xen/capabilities: a Xen guest (domU), or xenfs not mounted",
                   "Run xapictl local on the dom0 (mount xenfs on /proc/xen if it is the"
                   " dom0); a domU cannot attach other guests' vifs.")


def check_host(
    proc: Path = Path("/proc"), kernel: dict[str, tuple[bool, str]] | None = None,
    netns: str | None = None,
) -> list[Finding]:
    """Every finding, each with what to do about it (``proc`` and ``kernel`` for tests).

    ``netns`` matters only for bridge netfilter, the one per-namespace setting here: kernel
    features and Xen facts belong to the whole machine."""
    out = [
        Finding(f"kernel: {cap}", ok, detail, "" if ok else _KERNEL_ADVICE[cap])
        for cap, (ok, detail) in (capabilities() if kernel is None else kernel).items()
    ]
    out.append(_dom0(proc))
    tools = {t: shutil.which(t) for t in ("xl", "xenstore-read", "xenstore-write")}
    missing = [t for t, p in tools.items() if p is None]
    out.append(Finding("xen tools", not missing,
                       "found " + ", ".join(t for t, p in tools.items() if p) if not missing
                       else "missing " + ", ".join(missing),
                       "" if not missing else "Install xen-utils and xenstore-utils; the vif"
                       " hotplug script needs xenstore-read/-write."))
    flags = _cpu_flags(proc)
    hw = sorted(flags & {"vmx", "svm"})
    out.append(Finding("cpu virtualisation", bool(hw),
                       f"cpu flags: {', '.join(hw)}" if hw else "no vmx/svm cpu flag",
                       "" if hw else "Only PV guests can run; enable VT-x/AMD-V in the"
                       " firmware for HVM/PVH guests."))
    nf = proc / "sys" / "net" / "bridge" / "bridge-nf-call-iptables"
    try:
        on = _read_in(netns, nf).strip() == "1"
        out.append(Finding("bridge netfilter", not on,
                           "bridge-nf-call-iptables = 1: bridged guest traffic crosses the"
                           " iptables FORWARD chain" if on else "bridged traffic bypasses"
                           " iptables",
                           "A FORWARD policy of DROP (Docker sets one) silently drops guest"
                           " traffic: set net.bridge.bridge-nf-call-iptables=0 or add physdev"
                           " ACCEPT rules" if on else ""))
    except OSError:
        out.append(Finding("bridge netfilter", True, "br_netfilter not loaded: bridged traffic"
                           " bypasses iptables"))
    return out
