"""``xapictl local vif-hotplug``: an xl vif ``script=`` that does vif-bridge's job, plus the
``vlan=`` setting upstream vif-bridge ignores.

libxl runs it as ``SCRIPT online|offline type_if=vif`` (``add``/``remove`` with
``type_if=tap`` for an HVM's emulated nic) with ``XENBUS_PATH=backend/vif/<domid>/<devid>``
and ``vif=<device>`` in the environment, and waits at most 40 s for ``hotplug-status``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

from xapictl._frozen import Frozen, frozen
from xapictl._log import logger
from xapictl.errors import UsageError, XapictlError
from xapictl.local import antispoof
from xapictl.local.desired import HostNetwork, VifSpec
from xapictl.local.xl_vif import parse_vlan_spec

__all__ = ["HotplugResult", "XenStore", "run_hotplug"]

log = logger("xapictl.local.hotplug")
ONLINE = ("online", "add")
BACKEND_KEYS = ("vifname", "bridge", "mac", "mtu", "vlan", "ip")
"""The backend directory's keys the script reads (vif-bridge and vif-common.sh's, and
``vlan``), all at once."""
OFFLINE = ("offline", "remove")


class XenStore:
    """xenstore through the ``xenstore-read``/``-write`` commands (as Xen's scripts do)."""

    def read(self, path: str) -> str | None:
        exe = shutil.which("xenstore-read")
        if exe is None:
            raise UsageError("xenstore-read not found: install xenstore-utils")
        out = subprocess.run([exe, path], capture_output=True, text=True, check=False)  # noqa: S603
        return out.stdout.rstrip("\n") if out.returncode == 0 else None

    def read_keys(self, directory: str, keys: Sequence[str]) -> dict[str, str]:
        """Those of ``keys`` that ``directory`` has, with their values, in two commands
        (``xenstore-list``, then one ``xenstore-read`` of them all) instead of one per key:
        libxl gives the whole script 40 s, and a slow dom0 pays for every process. An
        absent directory has no keys."""
        exe = shutil.which("xenstore-list")
        if exe is None:
            raise UsageError("xenstore-list not found: install xenstore-utils")
        out = subprocess.run([exe, directory], capture_output=True, text=True,  # noqa: S603
                             check=False)
        present = [k for k in keys if k in out.stdout.split("\n")] if out.returncode == 0 else []
        if not present:
            return {}
        paths = [f"{directory}/{k}" for k in present]
        read = shutil.which("xenstore-read")
        if read is None:
            raise UsageError("xenstore-read not found: install xenstore-utils")
        both = subprocess.run([read, *paths], capture_output=True, text=True,  # noqa: S603
                              check=False)
        values = both.stdout.split("\n")[:len(paths)]
        if both.returncode != 0 or len(both.stdout.split("\n")) != len(paths) + 1:
            # a key removed meanwhile, or a value with a newline: one read each
            found = {k: self.read(p) for k, p in zip(present, paths, strict=True)}
            return {k: v for k, v in found.items() if v is not None}
        return dict(zip(present, values, strict=True))

    def write(self, path: str, value: str) -> None:
        exe = shutil.which("xenstore-write")
        if exe is None:
            raise UsageError("xenstore-write not found: install xenstore-utils")
        subprocess.run([exe, path, value], check=True, capture_output=True)  # noqa: S603


@frozen
class HotplugResult(Frozen):
    action: str
    vif: str
    bridge: str | None
    steps: int
    seconds: float
    error: str | None = None
    guest_mac: str | None = None
    """The guest-side MAC libxl wrote (``mac``): logged so a vif can be traced to its guest;
    the vif itself gets the dummy MAC, as with vif-bridge."""


def _frontend_mtu_path(xenbus_path: str) -> str | None:
    parts = xenbus_path.strip("/").split("/")
    if len(parts) >= 4 and parts[0] == "backend":
        return f"/local/domain/{parts[2]}/device/{parts[1]}/{parts[3]}/mtu"
    return None


def run_hotplug(action: str, env: Mapping[str, str], *, netns: str | None = None,
                store: XenStore | None = None, args: Sequence[str] = ()) -> HotplugResult:
    """Attach (online/add) or detach (offline/remove) one vif; write hotplug-status."""
    start = time.monotonic()
    store = store or XenStore()
    xb = env.get("XENBUS_PATH", "")
    extra = dict(a.split("=", 1) for a in args if "=" in a)
    type_if = extra.get("type_if", "vif")
    vif = env.get("vif") if type_if == "vif" else env.get("INTERFACE")
    vif = vif or env.get("vif") or env.get("INTERFACE")
    if action not in ONLINE + OFFLINE:
        raise UsageError(f"unknown hotplug action {action!r}: use online, offline, add, remove")
    if not xb or not vif:
        raise UsageError("XENBUS_PATH and vif (or INTERFACE) must be set, as libxl does")
    bridge: str | None = None
    guest_mac: str | None = None
    try:
        if action in ONLINE:
            keys = store.read_keys(xb, BACKEND_KEYS)
        else:  # offline: the backend directory may already be gone; that must not stop it
            keys = {}
            with contextlib.suppress(XapictlError, OSError):
                keys = store.read_keys(xb, BACKEND_KEYS)
        vif = _vifname(keys.get("vifname"), vif, type_if, action, netns)
        if action in ONLINE:
            bridge = keys.get("bridge") or "xenbr0"
            guest_mac = keys.get("mac")
            mtu_text, vlan_text = keys.get("mtu"), keys.get("vlan")
            spec = VifSpec(vif, bridge, parse_vlan_spec(vlan_text) if vlan_text else None,
                           int(mtu_text) if mtu_text else None)
        else:
            bridge = keys.get("bridge")  # for the log only (vif-bridge reads it too)
            spec = VifSpec(vif, present=False)
        sources = _ip_key(keys.get("ip"), action)
        phases = [time.monotonic()]  # read (xenstore), guard, change: where libxl's 40 s go
        if action in ONLINE and sources:  # guarded before it is attached: no unguarded gap
            tool = antispoof.install(vif, sources, netns=netns)
            log.info("%s: antispoofing (%s) allows %s", vif, tool, " ".join(sources))
        else:  # offline; or a stale guard (ip= gone from the config) must not block the guest
            ran = antispoof.remove(vif, sources, netns=netns)  # never guarded: runs nothing
            if ran:
                log.info("%s: antispoofing removed (%d command%s)", vif, ran,
                         "" if ran == 1 else "s")
        phases.append(time.monotonic())
        steps, warnings, imported = _change(spec, netns)
        phases.append(time.monotonic())
        for warning in warnings:
            log.warning("%s", warning)
        if action in ONLINE:
            front = _frontend_mtu_path(xb)
            if front and spec.mtu:  # the guest may use a smaller MTU than its vif
                store.write(front, str(spec.mtu))
            if type_if == "vif":
                store.write(f"{xb}/hotplug-status", "connected")
        result = HotplugResult(action, vif, bridge, steps, time.monotonic() - start,
                               guest_mac=guest_mac)
        log.info("%s %s bridge=%s%s: %d steps in %.3f s (xenstore read in %.3f s, guard in"
                 " %.3f s, change in %.3f s, its imports in %.3f s)", action, vif,
                 bridge or "?", f" (guest MAC {guest_mac})" if guest_mac else "",
                 result.steps, result.seconds, phases[0] - start, phases[1] - phases[0],
                 phases[2] - phases[1], imported)
        return result
    # NetlinkError: the kernel can refuse even the first read (libxl still needs an answer);
    # only a run that loaded the netlink side can raise it
    except Exception as exc:
        if not isinstance(exc, (XapictlError, ValueError, OSError, *_netlink_errors())):
            raise
        log.error("%s %s failed: %s", action, vif, exc)
        if action in ONLINE:
            store.write(f"{xb}/hotplug-error", f"xapictl: {exc}")
            store.write(f"{xb}/hotplug-status", "error")
        return HotplugResult(action, vif, bridge, 0, time.monotonic() - start, str(exc))


def _change(spec: VifSpec, netns: str | None) -> tuple[int, tuple[str, ...], float]:
    """Apply ``spec``: (steps, warnings, seconds spent importing the netlink side). An
    offline whose device netback already removed (as at ``xl destroy``) has nothing to
    detach: in dom0's own namespace that is known from /sys, and the run then loads no
    netlink code at all (pyroute2 is most of a hotplug run's imports, and libxl gives the
    script 40 s)."""
    if not spec.present and netns is None and not os.path.exists(f"/sys/class/net/{spec.name}"):
        return 0, (), 0.0
    start = time.monotonic()
    from xapictl.local.apply import apply

    imported = time.monotonic() - start  # the first run in a process loads pyroute2 here
    outcome = apply(HostNetwork(vifs=(spec,), probes=()), netns=netns, run_probe=False,
                    undo_tag=f"vif-{spec.name}")
    return len(outcome.plan.steps), tuple(outcome.plan.warnings), imported


def _netlink_errors() -> tuple[type[Exception], ...]:
    """pyroute2's NetlinkError, where this run imported the netlink side (else none)."""
    module = sys.modules.get("xapictl.local.netlink")
    if module is None:
        return ()
    error: type[Exception] = module.NetlinkError
    return (error,)


def _ip_key(text: str | None, action: str) -> tuple[str, ...]:
    """The ``ip`` key (vif-common.sh reads it for online and offline); a bad one fails an
    online, and is ignored by an offline (the detach must finish)."""
    if not text:
        return ()
    try:
        return antispoof.parse_ip_key(text)
    except UsageError:
        if action in ONLINE:
            raise
        return ()


def _vifname(wanted: str | None, dev: str, type_if: str, action: str,
             netns: str | None) -> str:
    """vif-common.sh's ``vifname``: the device gets the name the guest's config chose
    (``vifname=web0``; ``web0-emu`` for an HVM's emulated nic), renamed on online/add, and
    is known by it afterwards. A name another device already has is refused (upstream: "it's
    likely a configuration error"); a device already renamed (a second online) is fine."""
    if not wanted:
        return dev
    if type_if == "tap":
        wanted += "-emu"
    if action in ONLINE and wanted != dev:
        from xapictl.local import netlink
        from xapictl.local.lock import locked

        with locked(netns):
            netlink.rename_link(netns, dev, wanted)
    return wanted


def _process_age() -> float | None:
    """Seconds since this process began (its start time in /proc, on the boot clock); None
    where /proc does not say."""
    try:
        with open("/proc/self/stat") as fh:
            started = int(fh.read().rsplit(")", 1)[1].split()[19])
        return time.clock_gettime(time.CLOCK_BOOTTIME) - started / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def setup_logging() -> None:
    """Log to stderr (libxl keeps it) and to XAPICTL_HOTPLUG_LOG or /var/log/xen."""
    target = os.environ.get("XAPICTL_HOTPLUG_LOG", "/var/log/xen/xapictl-vif.log")
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    with contextlib.suppress(OSError):  # an unwritable log dir must not fail the vif
        os.makedirs(os.path.dirname(target), exist_ok=True)
        handlers.append(logging.FileHandler(target))
    for old in list(log.handlers):  # called once per run; never stack handlers
        log.removeHandler(old)
        old.close()
    fmt = logging.Formatter("%(asctime)s xapictl vif-hotplug: %(message)s")
    for h in handlers:
        h.setFormatter(fmt)
        log.addHandler(h)
    log.setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m xapictl.local.hotplug online|offline|add|remove [KEY=VALUE...]
    [--netns NS]``: the same as ``xapictl local vif-hotplug`` without loading the CLI, for
    slow machines (libxl gives a hotplug script 40 s in all). Exit 0 done, 2 bad input,
    4 failed (hotplug-error written)."""
    import argparse

    from xapictl.local.lean_pyroute2 import load_bare

    load_bare()  # before anything imports pyroute2: its __init__ loads every netlink family
    parser = argparse.ArgumentParser(prog="xapictl-vif-hotplug")
    parser.add_argument("action")
    parser.add_argument("extra", nargs="*")
    parser.add_argument("--netns")
    args = parser.parse_args(argv)
    setup_logging()
    # first, so a run libxl kills at its 40 s still shows that it began and what its
    # start-up (the interpreter and the imports) took of them
    age = _process_age()
    dev = os.environ.get("vif") or os.environ.get("INTERFACE")  # noqa: SIM112 - libxl's names
    log.info("%s %s: started (pid %d%s)", args.action, dev or "?", os.getpid(),
             "" if age is None else f", {age:.1f} s after the process began")
    try:
        result = run_hotplug(args.action, os.environ, netns=args.netns, args=args.extra)
    except UsageError as exc:
        log.error("%s", exc)
        return 2
    return 4 if result.error else 0


if __name__ == "__main__":
    raise SystemExit(main())
