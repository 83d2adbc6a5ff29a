"""Benchmark of the local backend, in namespaces (root): prints the apply time of the xenbr0
recipe (including verify and the gateway probe), the re-plan time on the converged host,
and the time to attach a guest vif.

    sudo .venv/bin/python tests/bench/bench_local.py [--write] [--runs 5]

With ``--write`` the table goes to ``docs/bench/local.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "local"))

from local_netns_helpers import Namespaces, build_xen_host, veth  # noqa: E402

sys.path.insert(0, str(REPO / "tests" / "bench"))
from benchdoc import RUNS, Page  # noqa: E402

from xapictl.local import netlink  # noqa: E402
from xapictl.local.apply import apply  # noqa: E402
from xapictl.local.desired import HostNetwork, VifSpec, load_recipe  # noqa: E402
from xapictl.local.observe import observe  # noqa: E402
from xapictl.local.planner import plan  # noqa: E402


def one_run() -> tuple[float, float, float, int]:
    ns = Namespaces()
    try:
        host = build_xen_host(ns)
        guest = ns("g1")
        veth(host.dom0, "vif1.0", guest, "eth0")
        desired = load_recipe(REPO / "recipes" / "local-xenbr0.yaml")
        t0 = time.perf_counter()
        outcome = apply(desired, netns=host.dom0)
        t_apply = time.perf_counter() - t0
        ipr = netlink.open_ipr(host.dom0)
        try:
            t0 = time.perf_counter()
            again = plan(desired, observe(ipr))
            t_replan = time.perf_counter() - t0
        finally:
            ipr.close()
        assert again.is_empty
        t0 = time.perf_counter()
        apply(HostNetwork(vifs=(VifSpec("vif1.0", "xenbr0"),), probes=()), netns=host.dom0,
              run_probe=False)
        t_vif = time.perf_counter() - t0
        return t_apply, t_replan, t_vif, len(outcome.plan.steps)
    finally:
        ns.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--write", action="store_true", help="write docs/bench/local.md")
    args = parser.parse_args()
    if os.geteuid() != 0:
        # skipped, not failed, so that `nox -s bench` runs on any machine
        print("bench_local: skipped, needs root (network namespaces); docs/bench/local.md "
              "left as it is", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XAPICTL_LOCAL_STATE_DIR"] = tmp
        os.environ["XAPICTL_LOCAL_LOCK_DIR"] = tmp
        runs = [one_run() for _ in range(args.runs)]
    page = Page("local", args.runs)
    table = page.table("The local backend in network namespaces it makes (wall time)",
                       ["what", "min/median/max"])
    for i, label in enumerate((f"apply the xenbr0 recipe ({runs[0][3]} netlink steps, "
                               "verify, gateway probe)",
                               "re-plan on the converged host (dump + diff)",
                               "attach one guest vif (plan + apply + verify)")):
        ms = [r[i] * 1000 for r in runs]
        table.add(label, f"{min(ms):.1f}/{statistics.median(ms):.1f}/{max(ms):.1f} ms")
    page.emit(sys.argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
