"""Benchmark of the lossless teardown (issue 16 item 3), in namespaces (root): apply the
xenbr0 recipe, then tear it down while two pingers on the LAN side send 600 echoes each at
1 ms (IPv4 and IPv6) to the host; prints the echoes lost per run. It asserts nothing: the
ordering that makes it lossless is asserted in tests/local/test_local_planner.py.

    sudo .venv/bin/python tests/bench/bench_local_teardown.py [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "local"))

from local_netns_helpers import Namespaces, build_xen_host  # noqa: E402

from xapictl.local.apply import apply  # noqa: E402
from xapictl.local.desired import load_recipe  # noqa: E402

TARGETS = ("192.0.2.10", "2001:db8::10")


def one_run() -> list[int]:
    desired = load_recipe(REPO / "recipes" / "local-xenbr0.yaml")
    down = replace(desired, bridges=tuple(replace(b, present=False) for b in desired.bridges))
    ns = Namespaces()
    pingers: list[subprocess.Popen[str]] = []
    try:
        host = build_xen_host(ns)
        apply(desired, netns=host.dom0, run_probe=False)
        for target in TARGETS:
            pingers.append(subprocess.Popen(
                [sys.executable, "-m", "xapictl.local.probe", "--netns", host.lan, "--announce",
                 "--count", "600", "--interval", "0.001", "--timeout", "2", target],
                stdout=subprocess.PIPE, text=True))
            assert pingers[-1].stdout is not None and pingers[-1].stdout.readline() == "ready\n"
        apply(down, netns=host.dom0, run_probe=False)
        results = [json.loads(p.communicate(timeout=60)[0]) for p in pingers]
        return [r["sent"] - r["received"] for r in results]
    finally:
        for p in pingers:
            if p.poll() is None:
                p.kill()
                p.wait()
        ns.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_local_teardown: needs root (network namespaces)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XAPICTL_LOCAL_STATE_DIR"] = tmp
        os.environ["XAPICTL_LOCAL_LOCK_DIR"] = tmp
        runs = [one_run() for _ in range(args.runs)]
    for i, target in enumerate(TARGETS):
        lost = [r[i] for r in runs]
        print(f"teardown under a 1-ms pinger to {target:<13} echoes lost of 600 per run:"
              f" {' '.join(map(str, lost))} (runs with 0 lost: {lost.count(0)}/{len(lost)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
