"""``xapictl local check``: what this host can really do, found by trying.

Kernel features are tried in a throw-away namespace (created and removed here), never
guessed from config files; Xen and CPU facts come from /proc and PATH. The advice for a
missing feature fits the kernel: whether it loads modules at all (/proc/modules exists only
with CONFIG_MODULES), and whether the module is loaded, built in (modules.builtin,
/sys/module) or only on disk (modules.dep).
"""

from __future__ import annotations

import errno
import functools
import os
import re
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pyroute2 import netns as pr_netns

from xapictl._frozen import Frozen, frozen
from xapictl.errors import LocalBackendError
from xapictl.local.desired import HostNetwork
from xapictl.local.netlink import NetlinkError, errno_of, in_netns, open_ipr

__all__ = ["BACKEND_NEEDS", "Finding", "KernelFiles", "capabilities", "check_host",
           "kernel_advice", "missing_needs", "recipe_needs"]

BACKEND_NEEDS = frozenset({"bridge"})
"""What every use of the local backend needs, recipe or not."""


@frozen
class Finding(Frozen):
    name: str
    ok: bool
    detail: str
    advice: str = ""
    needed: bool = False
    """The backend or the recipe checked needs this: ``local check`` fails while it is NO."""

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


_PURPOSE = {
    "bridge": "xapictl cannot build xenbr0 without it.",
    "veth": "Only tests need it.",
    "vlan": "Bridge-per-VLAN trunks need it.",
    "bond": "Bonds as uplinks need it.",
    "vlan_filtering": "VLAN-aware bridges and xl vlan= need it; or use a bridge per VLAN.",
}
_MODULES = {  # capability: (module, kernel option)
    "bridge": ("bridge", "CONFIG_BRIDGE"),
    "veth": ("veth", "CONFIG_VETH"),
    "vlan": ("8021q", "CONFIG_VLAN_8021Q"),
    "bond": ("bonding", "CONFIG_BONDING"),
}


@frozen
class KernelFiles(Frozen):
    """Where the running kernel tells about its modules (other roots for tests)."""

    proc: Path = Path("/proc")
    sys_module: Path = Path("/sys/module")
    modules_root: Path = Path("/lib/modules")
    release: str = ""

    @property
    def modules_dir(self) -> Path:
        return self.modules_root / (self.release or os.uname().release)


def _listed(path: Path, module: str) -> bool:
    """``module`` is in modules.builtin / modules.dep (``kernel/net/8021q/8021q.ko[.xz]``)."""
    try:
        text = path.read_text()
    except OSError:
        return False
    pattern = re.compile(rf"(^|/){re.escape(module)}\.ko(\.[a-z]+)?(:|$)", re.MULTILINE)
    return pattern.search(text) is not None


def _loaded(proc: Path, module: str) -> bool:
    try:
        return any(line.split(" ", 1)[0] == module
                   for line in (proc / "modules").read_text().splitlines())
    except OSError:
        return False


def kernel_advice(cap: str, files: KernelFiles | None = None) -> str:
    """What to do about a missing kernel feature, for this kernel: modprobe only where a
    module exists to load."""
    f = files or KernelFiles()
    purpose = _PURPOSE[cap]
    if cap == "vlan_filtering":
        return ("This kernel's bridge was built without CONFIG_BRIDGE_VLAN_FILTERING (a"
                " bridge option: no module to load); boot a kernel with it. " + purpose)
    module, option = _MODULES[cap]
    release = f.release or os.uname().release
    if not (f.proc / "modules").exists():
        return (f"This kernel ({release}) loads no modules (no /proc/modules: built without"
                f" CONFIG_MODULES), so 'modprobe {module}' cannot help: boot a kernel built"
                f" with {option}=y. " + purpose)
    if _loaded(f.proc, module) or _listed(f.modules_dir / "modules.builtin", module) or (
            (f.sys_module / module).exists()):
        return (f"{module} is loaded or built in, yet the kernel refused: see 'dmesg' (a"
                " container without CAP_NET_ADMIN refuses too). " + purpose)
    if _listed(f.modules_dir / "modules.dep", module):
        return (f"Load it: 'modprobe {module}' (and list it in /etc/modules-load.d/ to load"
                " it at boot). " + purpose)
    return (f"No {module} module for this kernel under {f.modules_dir} ({option} is off, or"
            " the kernel's modules package is not installed): install that package or boot"
            f" a kernel with {option}. " + purpose)


def recipe_needs(desired: HostNetwork) -> frozenset[str]:
    """The kernel features a recipe needs whatever the host's state: the backend's, 802.1Q
    for a bridge per VLAN, bonding for bonds, VLAN filtering for VLAN-aware bridges."""
    need = set(BACKEND_NEEDS)
    for b in desired.bridges:
        if b.present and b.vlan is not None:
            need.add("vlan")
        if b.present and b.vlan_filtering:
            need.add("vlan_filtering")
    if any(b.present for b in desired.bonds):
        need.add("bond")
    return frozenset(need)


def missing_needs(findings: list[Finding]) -> list[Finding]:
    """The findings that make ``local check`` fail: needed and not there."""
    return [f for f in findings if f.needed and not f.ok]


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
    netns: str | None = None, needs: frozenset[str] | set[str] = BACKEND_NEEDS,
    files: KernelFiles | None = None,
) -> list[Finding]:
    """Every finding, each with what to do about it (``proc``, ``kernel`` and ``files`` for
    tests); the kernel features in ``needs`` (the backend's, plus a recipe's) are marked
    ``needed``.

    ``netns`` matters only for bridge netfilter, the one per-namespace setting here: kernel
    features and Xen facts belong to the whole machine."""
    kf = files or KernelFiles(proc=proc)
    out = [
        Finding(f"kernel: {cap}", ok, detail, "" if ok else kernel_advice(cap, kf),
                cap in needs)
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
