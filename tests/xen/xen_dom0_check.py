"""Runs inside the Xen dom0 (after xen_dom0_job.sh started the daemons): a PV guest whose vif
uses ``xapictl local vif-hotplug`` as its script= lands on the right bridge and VLAN, and
leaves cleanly on ``xl destroy``. Exits non-zero with the reason on any failure."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from xapictl.local import netlink
from xapictl.local.apply import apply
from xapictl.local.desired import parse_recipe
from xapictl.local.observe import BridgeVlan, observe

VLAN = "105"
LOG = Path("/var/log/xen/xapictl-vif.log")
WRAPPER = Path("/etc/xen/scripts/vif-xapictl")
PYC = "/var/cache/xapictl-pyc"


def sh(*cmd: str, timeout: float = 600) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(cmd)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def snapshot():
    ipr = netlink.open_ipr(None)
    try:
        return observe(ipr)
    finally:
        ipr.close()


def xl_supports_vlan() -> bool:
    """xl learned vlan= in Xen 4.19; Debian 12 ships 4.17."""
    version = sh("xl", "info").split("xen_version", 1)[1].split(":", 1)[1].split()[0]
    major, minor = (int(x) for x in version.split(".")[:2])
    return (major, minor) >= (4, 19)


def main() -> int:
    apply(parse_recipe("local:\n  bridges:\n    xenbr0: {vlan_filtering: true}\n"),
          run_probe=False)
    print("PASS: VLAN-aware xenbr0 built by xapictl local apply")
    native_vlan = xl_supports_vlan()
    lines = ["#!/bin/sh"]
    if not native_vlan:
        # test-only stand-in for xl >= 4.19, which writes vlan= verbatim into the backend dir
        lines.append(f'[ "$1" = online ] && xenstore-write "$XENBUS_PATH/vlan" {VLAN}')
    # the lean entry point: under QEMU's software emulation every second of start-up counts
    # against libxl's 40 s hotplug timeout. Bytecode goes to a cache the warm-up below fills
    # (the host's environment may carry PYTHONDONTWRITEBYTECODE, and the repository has no
    # __pycache__ then: every start would compile xapictl from source)
    lines.append("unset PYTHONDONTWRITEBYTECODE")
    lines.append(f"export PYTHONPYCACHEPREFIX={PYC}")
    lines.append(f'exec {sys.executable} -m xapictl.local.hotplug "$@"')
    WRAPPER.write_text("\n".join(lines) + "\n")
    WRAPPER.chmod(0o755)
    vif_spec = "bridge=xenbr0,mac=00:16:3e:00:00:01,script=vif-xapictl"
    if native_vlan:
        vif_spec += f",vlan={VLAN}"
    cfg = Path("/tmp/domu.cfg")
    cfg.write_text(
        'name = "xapictl-domu"\ntype = "pv"\nmemory = 128\n'
        f'kernel = "{os.environ["XEN_TIER_KERNEL"]}"\n'
        f'ramdisk = "{os.environ["XEN_TIER_DOMU_RAMDISK"]}"\n'
        'extra = "console=hvc0 quiet"\n'
        f'vif = ["{vif_spec}"]\n'
    )
    warm = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for attempt in ("cold", "warm"):
        start = time.monotonic()
        done = subprocess.run([sys.executable, "-c", "import xapictl.local.hotplug,"
                               " xapictl.local.apply"], env={**warm, "PYTHONPYCACHEPREFIX": PYC},
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise SystemExit(f"FAIL: importing the hotplug script: {done.stderr}")
        print(f"INFO: hotplug imports take {time.monotonic() - start:.1f} s in this dom0"
              f" ({attempt})")
    start = time.monotonic()
    sh("xl", "create", str(cfg), timeout=900)
    print(f"PASS: xl create with script=vif-xapictl ({time.monotonic() - start:.0f} s)")
    domid = sh("xl", "domid", "xapictl-domu").strip()
    vif = f"vif{domid}.0"
    status = sh("xenstore-read", f"backend/vif/{domid}/0/hotplug-status").strip()
    if status != "connected":
        raise SystemExit(f"FAIL: hotplug-status is {status!r}")
    snap = snapshot()
    link = snap.links.get(vif)
    if link is None or link.master != "xenbr0" or link.mac != "fe:ff:ff:ff:ff:ff":
        raise SystemExit(f"FAIL: {vif} not attached as vif-bridge would: {link}")
    vlans = list(snap.bridge_vlans.get(vif, ()))
    if vlans != [BridgeVlan(int(VLAN), pvid=True, untagged=True)]:
        raise SystemExit(f"FAIL: {vif} VLANs are {vlans}, wanted PVID {VLAN} untagged")
    print(f"PASS: {vif} on xenbr0, dummy MAC, PVID {VLAN} untagged, hotplug-status connected")
    sh("xl", "destroy", "xapictl-domu", timeout=300)
    for _ in range(100):
        if vif not in snapshot().links:
            break
        time.sleep(0.2)
    else:
        raise SystemExit(f"FAIL: {vif} still there after xl destroy")
    log = LOG.read_text() if LOG.exists() else ""
    for entry in (f"online {vif} bridge=xenbr0", f"offline {vif} bridge="):
        if entry not in log:
            raise SystemExit(f"FAIL: no {entry!r} entry in {LOG}: {log!r}")
    left = sorted(str(p) for p in Path("/run/xapictl").glob("undo-*"))
    if left:
        raise SystemExit(f"FAIL: undo files left behind: {left}")
    print(f"PASS: xl destroy removed {vif}; hotplug log:\n{log}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
