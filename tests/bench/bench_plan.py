"""Benchmarks of the plan engine: ``python tests/bench/bench_plan.py [--write] [part…]``.

1. the CPU time of ``diff`` on 64 hosts, 500 VLAN networks and 5,000 VIFs, and at twice and
   four times as many networks, VMs and VIFs, with the Python calls it makes (they grow
   linearly; its CPU grows a little faster, as the larger snapshots miss the caches more);
2. ``xapictl --help`` start-up time.

``network create --vlan`` end to end (round trips, wall, CPU, the 5-call script) is
``bench_main_job.py``. With ``--write`` the table goes to ``docs/bench/plan.md``.
"""

from __future__ import annotations

import functools
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdoc import RUNS, Page, Table, millis, seconds

HOSTS = 64


DIFF_GOAL_S = 0.2  # issue 12: 64 hosts x 500 VLAN networks x 5,000 stated VIFs
DIFF_RUNS = RUNS


def _scaled(raw: dict[str, Any], factor: int) -> dict[str, Any]:
    """``raw`` (the x1 pool) with its VLAN networks, their VLANs and PIFs, the guest VMs and
    their VIFs copied ``factor - 1`` more times (new refs, names, uuids and tags; the same 64
    hosts and trunks; back-references on the shared objects extended). Building x4 in the
    simulator itself would take minutes of this shared machine's CPU; copying its records
    keeps their exact shape."""
    import copy

    vlan_nets = {r for r, n in raw["network"].items() if n["name_label"].startswith("VLAN ")}
    span = len(vlan_nets)
    guests = {r for r, vm in raw["VM"].items()
              if not (vm["is_control_domain"] or vm["is_a_template"] or vm["is_a_snapshot"])}
    copied = {
        "network": vlan_nets,
        "PIF": {r for r, p in raw["PIF"].items() if int(p["VLAN"]) != -1},
        "VLAN": set(raw["VLAN"]),
        "VM": guests,
        "VIF": {r for r, v in raw["VIF"].items() if v["VM"] in guests},
        "VM_guest_metrics": {raw["VM"][r]["guest_metrics"] for r in guests}
        & set(raw["VM_guest_metrics"]),
    }
    out = {c: dict(records) for c, records in raw.items()}
    for n in range(1, factor):
        refmap = {r: f"{r}-x{n}" for refs in copied.values() for r in refs}

        def rewrite(value: Any, refmap: dict[str, str] = refmap) -> Any:
            if isinstance(value, str):
                return refmap.get(value, value)
            if isinstance(value, list):
                return [rewrite(v) for v in value]
            if isinstance(value, dict):
                return {k: rewrite(v) for k, v in value.items()}
            return value

        for cls, refs in copied.items():
            for ref in refs:
                rec = rewrite(copy.deepcopy(raw[cls][ref]))
                rec["uuid"] = f"{rec['uuid']}-x{n}"
                if cls == "network":
                    tag = int(rec["name_label"].split()[1]) + n * span
                    rec["name_label"], rec["bridge"] = f"VLAN {tag}", f"{rec['bridge']}x{n}"
                elif cls == "PIF":
                    rec["VLAN"] = int(rec["VLAN"]) + n * span
                elif cls == "VLAN":
                    rec["tag"] = int(rec["tag"]) + n * span
                elif cls == "VM":
                    rec["name_label"] = f"{rec['name_label']}-x{n}"
                out[cls][refmap[ref]] = rec
        for cls, records in raw.items():  # shared objects point at the copies too
            for ref, rec in records.items():
                if ref in copied.get(cls, ()):
                    continue
                grown = {k: v + [refmap[x] for x in v if x in refmap] for k, v in rec.items()
                         if isinstance(v, list) and any(x in refmap for x in v)}
                if grown:
                    out[cls][ref] = {**out[cls][ref], **grown}
    for ref, net in out["network"].items():
        if net["name_label"].startswith("VLAN "):
            tag = int(net["name_label"].split()[1])
            out["network"][ref] = {**net, "other_config": {
                "xapictl.owner": "xapictl", "xapictl.identity": f"vlan/eth1/{tag}"}}
    return out


def bench_diff(table: Table) -> None:
    """``diff`` CPU at x1 (64 hosts, 500 VLAN networks, 5,000 stated VIFs), x2 and x4 (the
    VLAN networks, VMs and VIFs doubled and quadrupled, the hosts kept): process CPU time,
    min/median/max of ``DIFF_RUNS`` runs, each on a fresh copy of the snapshot so the
    indexes are built inside the measured time."""
    import dataclasses

    from xapictl.plan.desired import DesiredState, NetworkSpec, VIFSpec
    from xapictl.plan.diff import diff
    from xapictl.sim.engine import Simulator
    from xapictl.state.snapshot import SNAPSHOT_CLASSES, PoolSnapshot

    sim = Simulator()
    sim.reset(scenario="big", hosts=HOSTS, nics=2, vms=1000, vlans=500 * HOSTS, vifs=5000)
    base: dict[str, Any] = {c: dict(sim.state.all(c)) for c in SNAPSHOT_CLASSES}
    sim.close()
    first, first_calls = 0.0, 0
    for factor in (1, 2, 4):
        raw = _scaled(base, factor)
        start = time.process_time()
        snap = PoolSnapshot.from_records(raw)
        decode = time.process_time() - start
        vlan_nets = sorted({n.name_label for n in snap.networks.values()
                            if n.name_label.startswith("VLAN ")})
        vms = {v.name_label for v in snap.guest_vms().values()}
        vif_specs = [VIFSpec(vm=snap.vms[v.vm].name_label,
                             network=snap.networks[v.network].name_label, device=v.device)
                     for v in snap.vifs.values()
                     if v.vm in snap.vms and snap.vms[v.vm].name_label in vms]
        desired = DesiredState(
            networks=tuple(NetworkSpec(name=n, vlan=int(n.split()[1]), device="eth1")
                           for n in vlan_nets),
            vifs=tuple(vif_specs))
        cpu = []
        for _ in range(DIFF_RUNS):
            fresh = dataclasses.replace(snap)  # no index built yet
            start = time.process_time()
            plan = diff(desired, fresh)
            cpu.append(time.process_time() - start)
        median = statistics.median(cpu)
        first = first or median
        calls = _calls(functools.partial(diff, desired, dataclasses.replace(snap)))
        first_calls = first_calls or calls
        table.add(f"`diff` ×{factor}: {len(snap.hosts)} hosts, {len(desired.networks):,} VLAN "
                  f"networks ({len(snap.vlans):,} VLANs), {len(desired.vifs):,} stated VIFs; "
                  f"{len(plan.steps):,} steps, {len(plan.noops):,} no-ops",
                  seconds(cpu, 3), f"{median / first:.2f}× (×{factor} the work)",
                  f"{calls:,}: {calls / first_calls:.2f}×", f"{decode:.2f} s",
                  goal=f"≤ {DIFF_GOAL_S} s (median)" if factor == 1 else "",
                  met=median <= DIFF_GOAL_S if factor == 1 else None)


def _calls(run: Any) -> int:
    """Python-level calls ``run()`` makes (one run under ``cProfile``): the work itself,
    which the CPU figures show through the machine's caches (a four times larger snapshot
    is four times as far from them)."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.runcall(run)
    return sum(entry[1] for entry in pstats.Stats(profile).stats.values())  # type: ignore[attr-defined]


def _walls(command: list[str], runs: int = 7) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def bench_help(table: Table) -> None:
    bare = _walls([sys.executable, "-c", "pass"])
    table.add("`xapictl --help` start-up (7 runs)",
              millis(_walls([sys.executable, "-m", "xapictl", "--help"])),
              f"the bare interpreter: {millis(bare)}", "—", "—")


if __name__ == "__main__":
    # ``python tests/bench/bench_plan.py diff`` runs one part (diff, help).
    page = Page("plan")
    table = page.table(
        "Plan engine: `diff` CPU (process CPU, a fresh snapshot each run so its indexes are "
        "built inside the measured time) and start-up",
        ["what", "CPU or wall, min/median/max", "median against ×1",
         "function calls (one profiled run), against ×1", "decoding the snapshot"])
    parts = {"diff": bench_diff, "help": bench_help}
    for name in [a for a in sys.argv[1:] if not a.startswith("--")] or parts:
        parts[name](table)
    page.emit(sys.argv)
