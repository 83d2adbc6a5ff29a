"""Benchmark of the real-kernel tiers (issue 16), as root: the User-Mode Linux kernel the
tier picks on this host (boot, run ``true``, power off), one run of the whole UML tier
(``tests/uml/harness.py``: the tests inside UML, then the reboot test's boots), and with
XAPICTL_XEN_TIER=1 one run of the opt-in Xen tier under QEMU (its CLI calls and ``xl
create`` times as dom0 reports them), or with ``--xen-log FILE`` the output of such a run.
It asserts nothing: a tier that fails stops it (no figures from a failed run).

    sudo .venv/bin/python tests/bench/bench_kernel_tiers.py [--write] [--boots 5] [--xen-log F]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "uml"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from benchdoc import Page, seconds, spawn  # noqa: E402
from uml_harness import fetch, run  # noqa: E402

PASSED = re.compile(r"^(\d+) passed.* in ([\d.]+)s", re.M)
CLI = re.compile(r"^INFO: xapictl (local \w+)\b.* -> exit \d+ \((\d+) s in this dom0\)", re.M)
CREATE = re.compile(r"^PASS: xl create (\S+) \((\d+) s\)", re.M)
WALL = re.compile(r"^real\s+(\d+)m([\d.]+)s", re.M)
XEN_PASSES = ("PASS: local confirm kept it", "PASS: the guest on VLAN 101",
              "PASS: control: moved to VLAN 105", "PASS: xl destroy removed")


def uml(page: Page, boots: int) -> None:
    harness._probe()  # the kernel the tier uses here (sid's where Debian 12's cannot run)
    kernel = fetch()
    walls = []
    for _ in range(boots):
        start = time.perf_counter()
        if run(["true"]) != 0:
            raise SystemExit("UML: true exited non-zero")
        walls.append(time.perf_counter() - start)
    table = page.table("The real-kernel tier: User-Mode Linux (wall time)",
                       ["what", "min/median/max"])
    table.add(f"boot UML {kernel.version}, run `true`, power off", seconds(walls, 1))
    tier = spawn([sys.executable, str(REPO / "tests" / "uml" / "harness.py")])
    (inside, in_uml), (reboot, reboot_s) = PASSED.findall(tier.stdout)[-2:]
    table.add(f"the tests inside UML ({inside} passed), one run", f"{float(in_uml):.0f} s")
    table.add(f"the reboot test ({reboot} passed, three boots each), one run",
              f"{float(reboot_s):.0f} s")
    table.add("`python tests/uml/harness.py` in all (probe, both), one run",
              f"{tier.wall:.0f} s")


def xen(page: Page, log: Path | None) -> None:
    """One run of the Xen tier, or the saved output of one (``--xen-log``: the tier takes
    tens of minutes on a busy machine; the table says when that run was made)."""
    if log is None:
        tier = spawn([sys.executable, str(REPO / "tests" / "xen" / "run_xen_tier.py")])
        output, wall, when = tier.stdout, tier.wall, "this run"
    else:
        output = log.read_text(errors="replace")
        found = WALL.search(output)
        if found is None:
            raise SystemExit(f"{log}: no 'real XmY.Zs' line (run the tier under 'time')")
        wall = int(found[1]) * 60 + float(found[2])
        stamp = dt.datetime.fromtimestamp(log.stat().st_mtime, dt.UTC)
        when = f"a run that ended {stamp:%Y-%m-%d %H:%M} UTC, from its output"
    missing = [line for line in XEN_PASSES if line not in output]
    if missing:
        raise SystemExit(f"the Xen tier did not pass: no {missing}")
    table = page.table(
        "The real-Xen tier: Xen 4.17 + PV dom0 under QEMU's software emulation (wall time in"
        f" dom0, one run: {when})", ["what", "time"])
    for what, took in CLI.findall(output):
        table.add(f"`xapictl {what}` (Python start-up included)", f"{took} s")
    for name, took in CREATE.findall(output):
        table.add(f"`xl create` of guest {name} (hotplug script included)", f"{took} s")
    table.add("`python tests/xen/run_xen_tier.py` in all (boot, three guests, pings)",
              f"{wall:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--boots", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--xen-log", type=Path, help="the output of a run_xen_tier.py run"
                        " (under 'time') instead of a new run")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_kernel_tiers: needs root (the tiers create network namespaces)")
        return 0
    os.chdir(REPO)
    page = Page("kernel-tiers", runs=args.boots)
    uml(page, args.boots)
    if os.environ.get("XAPICTL_XEN_TIER") == "1" or args.xen_log:
        xen(page, args.xen_log)
    page.emit(sys.argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
