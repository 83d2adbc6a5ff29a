"""Runs inside the Xen dom0 (after xen_dom0_job.sh started the daemons), through the CLI as
an operator would:

1. dom0's uplink eth0 (QEMU's restricted user networking) is addressed as a distribution
   would leave it: 10.0.2.15/24, default route via QEMU's gateway 10.0.2.2;
2. ``xapictl local plan`` (exit 3), ``local apply --confirm-within`` and ``local confirm``
   build xenbr0 over eth0, moving the address and the default route to it under Xen (the
   gateway still answers), and a VLAN-aware xenbr1 for guests; ``local plan`` then exits 0;
3. three PV guests whose vif ``script=`` is the hotplug script (as ``xl`` calls it) land on
   xenbr1: two on VLAN 105 ping each other, one on VLAN 101 (same subnet) reaches neither;
   moved to VLAN 105 it reaches them (its network works: the VLAN was what kept it out);
4. ``xl destroy`` removes every vif; the offline runs are logged; no undo file is left.

Prints PASS:/INFO: lines; exits non-zero with FAIL: and the reason on any failure. Every wait
is a bounded number of polls (a safety net, never a measured duration).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from xapictl.local import netlink, probe
from xapictl.local.observe import BridgeVlan, observe

HERE = Path(__file__).resolve().parent
RECIPE = HERE / "xen-dom0.yaml"
LOG = Path("/var/log/xen/xapictl-vif.log")
CONSOLES = Path("/var/log/xen/console")
WRAPPER = Path("/etc/xen/scripts/vif-xapictl")
IMAGES = Path("/var/lib/xen-tier")  # in dom0's tmpfs overlay, not read through 9p
GATEWAY = "10.0.2.2"
# name -> (MAC, VLAN, address, peers it pings)
GUESTS = {
    "xt-a": ("00:16:3e:00:01:01", 105, "10.105.0.11/24", ["10.105.0.12"]),
    "xt-b": ("00:16:3e:00:01:02", 105, "10.105.0.12/24", ["10.105.0.11"]),
    "xt-c": ("00:16:3e:00:01:03", 101, "10.105.0.13/24", ["10.105.0.11", "10.105.0.12"]),
}
# the environment of every xapictl process: the bytecode the harness compiled on the host is
# used, and what is missing is written (into the throw-away overlay) for the next start
FAST = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def fail(why: str) -> SystemExit:
    return SystemExit(f"FAIL: {why}")


def sh(*cmd: str, timeout: float = 600) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise fail(f"{' '.join(cmd)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def xapictl(*args: str, want: int) -> str:
    """Run ``python -m xapictl ARGS`` (the CLI) and check its exit code."""
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "xapictl", *args], capture_output=True,
                          text=True, env=FAST, timeout=1200)
    print(f"INFO: xapictl {' '.join(args)} -> exit {done.returncode}"
          f" ({time.monotonic() - start:.0f} s in this dom0)")
    if done.returncode != want:
        raise fail(f"xapictl {' '.join(args)} exited {done.returncode}, wanted {want}:\n"
                   f"{done.stdout}{done.stderr}")
    return done.stdout


def snapshot():
    ipr = netlink.open_ipr(None)
    try:
        return observe(ipr)
    finally:
        ipr.close()


def wait_for(what: str, ready: Callable[[], bool], polls: int = 900) -> None:
    """Poll ``ready`` once a second, at most ``polls`` times (a safety net)."""
    for _ in range(polls):
        if ready():
            return
        time.sleep(1)
    raise fail(f"{what}: not seen after {polls} polls")


def console(name: str) -> list[str]:
    path = CONSOLES / f"guest-{name}.log"
    return path.read_text(errors="replace").splitlines() if path.exists() else []


def xl_supports_vlan() -> bool:
    """xl learned vlan= in Xen 4.19; Debian 12 ships 4.17."""
    version = sh("xl", "info").split("xen_version", 1)[1].split(":", 1)[1].split()[0]
    major, minor = (int(x) for x in version.split(".")[:2])
    return (major, minor) >= (4, 19)


def uplink_as_the_distribution_leaves_it() -> None:
    sh("ip", "link", "set", "eth0", "up")
    sh("ip", "addr", "add", "10.0.2.15/24", "dev", "eth0")
    sh("ip", "route", "add", "default", "via", GATEWAY, "dev", "eth0")
    if not probe.reachable(GATEWAY):
        raise fail(f"the gateway {GATEWAY} does not answer on eth0 before any change")
    print(f"PASS: eth0 holds 10.0.2.15/24, default via {GATEWAY}, gateway answers")


def bridges_through_the_cli() -> None:
    out = xapictl("local", "plan", str(RECIPE), want=3)
    if "create bridge xenbr0" not in out or "10.0.2.15/24 now lives on xenbr0" not in out:
        raise fail(f"local plan does not move eth0's address to xenbr0:\n{out}")
    out = xapictl("local", "apply", str(RECIPE), "--yes", "--confirm-within", "1800", want=0)
    if "rolls back in 1800 s unless you run 'xapictl local confirm" not in out:
        raise fail(f"local apply did not arm its confirmation:\n{out}")
    snap = snapshot()
    xenbr0 = [a.cidr for a in snap.addresses if a.ifname == "xenbr0" and a.family == 4]
    eth0 = [a.cidr for a in snap.addresses if a.ifname == "eth0" and a.family == 4]
    default = [r for r in snap.routes if r.dst == "default" and r.family == 4]
    if xenbr0 != ["10.0.2.15/24"] or eth0 or [r.oif for r in default] != ["xenbr0"]:
        raise fail(f"after apply: xenbr0 {xenbr0}, eth0 {eth0}, default {default}")
    if snap.links["eth0"].master != "xenbr0" or not snap.links["xenbr1"].vlan_filtering:
        raise fail("after apply: eth0 not in xenbr0 or xenbr1 not VLAN-aware")
    if not probe.reachable(GATEWAY):
        raise fail(f"the gateway {GATEWAY} does not answer through xenbr0")
    print("PASS: local apply moved 10.0.2.15/24 and the default route to xenbr0 under Xen;"
          f" {GATEWAY} answers through it")
    out = xapictl("local", "confirm", want=0)
    if not out.startswith("confirmed: the change stays"):
        raise fail(f"local confirm: {out}")
    xapictl("local", "plan", str(RECIPE), want=0)
    print("PASS: local confirm kept it; local plan finds nothing to do")


def install_hotplug_wrapper(native_vlan: bool) -> None:
    """The vif script= xl runs: the hotplug script's lean entry point (libxl allows 40 s, and
    under QEMU's emulation every second of Python start-up counts); one import first, so
    the guests' hotplug runs find every module compiled."""
    lines = ["#!/bin/sh"]
    if not native_vlan:
        # test-only stand-in for xl >= 4.19, which writes vlan= verbatim into the backend dir
        lines.append('[ "$1" = online ] && case "$(xenstore-read "$XENBUS_PATH/mac")" in')
        lines += [f'  {mac}) xenstore-write "$XENBUS_PATH/vlan" {vlan};;'
                  for mac, vlan, _, _ in GUESTS.values()]
        lines.append("esac")
    lines.append("unset PYTHONDONTWRITEBYTECODE")
    lines.append(f'exec {sys.executable} -m xapictl.local.hotplug "$@"')
    WRAPPER.write_text("\n".join(lines) + "\n")
    WRAPPER.chmod(0o755)
    for run in ("first", "second"):  # the first fills the caches; the second is what xl sees
        start = time.monotonic()
        done = subprocess.run([sys.executable, "-c", "import xapictl.local.hotplug,"
                               " xapictl.local.apply, xapictl.local.netlink,"
                               " xapictl.local.lock"], env=FAST,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise fail(f"importing the hotplug script: {done.stderr}")
        print(f"INFO: hotplug imports take {time.monotonic() - start:.1f} s in this dom0"
              f" ({run} run)")
    # what else the script spends libxl's 40 s on: one spawn of each tool it runs per vif
    for tool in (["xenstore-read", "domid"], ["nft", "list", "tables"],
                 ["iptables", "-L", "xapictl_probe", "-n"], ["true"]):
        if shutil.which(tool[0]):
            start = time.monotonic()
            subprocess.run(tool, capture_output=True, check=False, timeout=600)
            print(f"INFO: one {tool[0]} run takes {time.monotonic() - start:.1f} s in this dom0")


def stage_guest_images() -> dict[str, Path]:
    """The guests' kernel and ramdisk copied into dom0's own memory (the overlay's tmpfs) and
    checked against the host's files. libxc maps the kernel with mmap; a second guest once
    got "unable to XZ decompress kernel" from the file on the 9p mount (cache=loose) the
    first guest had booted from: a local, checked copy takes 9p out of guest creation."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    staged = {}
    for key in ("XEN_TIER_KERNEL", "XEN_TIER_DOMU_RAMDISK"):
        source = Path(os.environ[key])
        copy = IMAGES / source.name
        shutil.copyfile(source, copy)
        digest = hashlib.sha256(copy.read_bytes()).hexdigest()
        if digest != os.environ[f"{key}_SHA256"]:
            raise fail(f"{source} read through 9p differs from the host's file"
                       f" (sha256 {digest}, host {os.environ[key + '_SHA256']})")
        staged[key] = copy
    print(f"PASS: the guests' kernel and ramdisk copied into dom0's memory, sha256 as on the"
          f" host ({', '.join(f'{p.name} {p.stat().st_size} B' for p in staged.values())})")
    return staged


def memory() -> str:
    """dom0's available memory and Xen's free memory (what a new guest is built from)."""
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    free = sh("xl", "info").split("free_memory", 1)[1].split(":", 1)[1].split()[0]
    return f"dom0 MemAvailable {meminfo['MemAvailable'].strip()}, Xen free_memory {free} MB"


def create_guest(name: str, native_vlan: bool, images: dict[str, Path]) -> str:
    mac, vlan, cidr, peers = GUESTS[name]
    vif_spec = f"bridge=xenbr1,mac={mac},script=vif-xapictl"
    if native_vlan:
        vif_spec += f",vlan={vlan}"
    extra = " ".join(["console=hvc0 quiet", f"xt.ip={cidr}", *(f"xt.ping={p}" for p in peers)])
    cfg = Path(f"/tmp/{name}.cfg")
    cfg.write_text(
        f'name = "{name}"\ntype = "pv"\nmemory = 96\n'
        f'kernel = "{images["XEN_TIER_KERNEL"]}"\n'
        f'ramdisk = "{images["XEN_TIER_DOMU_RAMDISK"]}"\n'
        f'extra = "{extra}"\n'
        f'vif = ["{vif_spec}"]\n'
    )
    print(f"INFO: before xl create {name}: {memory()}")
    start = time.monotonic()
    # -v: libxc's domain builder says why it refuses a kernel (its panic says only that).
    # -p: built and its vif attached (the hotplug script runs) but not started: guests that
    # already run would take the emulated CPUs from the next guest's hotplug script, which
    # libxl gives 40 s; every guest starts once the three are attached
    done = subprocess.run(["xl", "-v", "create", "-p", str(cfg)], capture_output=True,
                          text=True, timeout=900)
    if done.returncode != 0:
        raise fail(f"xl create {name} exited {done.returncode} after"
                   f" {time.monotonic() - start:.0f} s ({memory()}); its last lines:\n"
                   + "\n".join(done.stderr.splitlines()[-40:]) + f"\n{LOG}:\n{hotplug_log()}")
    domid = sh("xl", "domid", name).strip()
    vif = f"vif{domid}.0"
    status = sh("xenstore-read", f"backend/vif/{domid}/0/hotplug-status").strip()
    if status != "connected":
        raise fail(f"{name}: hotplug-status is {status!r}")
    link = snapshot().links.get(vif)
    if link is None or link.master != "xenbr1" or link.mac != "fe:ff:ff:ff:ff:ff":
        raise fail(f"{vif} not attached as vif-bridge would: {link}")
    vlans = list(snapshot().bridge_vlans.get(vif, ()))
    if vlans != [BridgeVlan(vlan, pvid=True, untagged=True)]:
        raise fail(f"{vif} VLANs are {vlans}, wanted PVID {vlan} untagged")
    print(f"PASS: xl create {name} ({time.monotonic() - start:.0f} s): {vif} on xenbr1,"
          f" dummy MAC, PVID {vlan} untagged, hotplug-status connected")
    for line in hotplug_log().splitlines():  # the script's own account of its 40 s
        if f" {vif}" in line:
            print(f"INFO: hotplug log: {line}")
    return vif


def hotplug_log() -> str:
    return LOG.read_text() if LOG.exists() else "(none)"


def guests_talk_only_within_their_vlan(vifs: dict[str, str]) -> None:
    def ok(name: str, peer: str) -> bool:
        return f"PING-OK {peer}" in console(name)

    for name in GUESTS:  # created paused (create_guest)
        sh("xl", "unpause", name)

    wait_for("xt-a pings xt-b", lambda: ok("xt-a", "10.105.0.12"))
    wait_for("xt-b pings xt-a", lambda: ok("xt-b", "10.105.0.11"))
    print("PASS: the two guests on VLAN 105 ping each other through xenbr1")
    # xt-c has been pinging both all along; once it has failed ten more times, none got through
    seen = len([line for line in console("xt-c") if line.startswith("PING-FAIL")])
    wait_for("xt-c's pings", lambda: len(
        [line for line in console("xt-c") if line.startswith("PING-FAIL")]) >= seen + 10)
    if "NET-UP 10.105.0.13/24" not in console("xt-c"):
        raise fail(f"xt-c never brought its network up: {console('xt-c')[-20:]}")
    if any(line.startswith("PING-OK") for line in console("xt-c")):
        raise fail("the guest on VLAN 101 reached a guest on VLAN 105")
    print("PASS: the guest on VLAN 101 (same subnet) reaches neither guest on VLAN 105")
    # the control: the same guest, its vif moved to VLAN 105, gets through
    vif = vifs["xt-c"]
    sh("bridge", "vlan", "add", "dev", vif, "vid", "105", "pvid", "untagged")
    sh("bridge", "vlan", "del", "dev", vif, "vid", "101")
    wait_for("xt-c pings xt-a once on VLAN 105", lambda: ok("xt-c", "10.105.0.11"))
    print("PASS: control: moved to VLAN 105, the same guest reaches them")


def destroy(vifs: dict[str, str]) -> None:
    for name in GUESTS:  # the checks are done: running guests would slow the offline runs
        sh("xl", "pause", name)
    for name in GUESTS:  # libxl reports a killed offline script on stderr, not in its status
        start = time.monotonic()
        done = subprocess.run(["xl", "destroy", name], capture_output=True, text=True,
                              timeout=300)
        if done.returncode != 0:
            raise fail(f"xl destroy {name}: {done.stderr.strip()}")
        print(f"INFO: xl destroy {name} took {time.monotonic() - start:.0f} s"
              + (f"; it said: {done.stderr.strip()}" if done.stderr.strip() else ""))
    wait_for("every vif gone after xl destroy",
             lambda: not set(vifs.values()) & set(snapshot().links), polls=300)
    log = hotplug_log()
    for vif in vifs.values():
        for entry in (f"online {vif} bridge=xenbr1", f"offline {vif} bridge="):
            if entry not in log:  # the script's own lines say how far it got
                raise fail(f"no {entry!r} entry in {LOG}, which says:\n{log}")
    left = sorted(str(p) for p in Path("/run/xapictl").glob("undo-*"))
    if left:
        raise fail(f"undo files left behind: {left}")
    print(f"PASS: xl destroy removed {', '.join(vifs.values())}; hotplug log:\n{log}")


def main() -> int:
    uplink_as_the_distribution_leaves_it()
    bridges_through_the_cli()
    native_vlan = xl_supports_vlan()
    install_hotplug_wrapper(native_vlan)
    images = stage_guest_images()
    vifs = {name: create_guest(name, native_vlan, images) for name in GUESTS}
    guests_talk_only_within_their_vlan(vifs)
    destroy(vifs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
