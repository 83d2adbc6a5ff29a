"""Benchmarks of the plan engine (not tests: run ``python tests/bench/bench_plan.py [part…]``).

Prints:
1. ``network create --vlan`` on a 64-host pool with 50 ms injected latency per request:
   dependent round trips and wall time for xapictl, for a naive client (``VLAN.create`` once
   per host) and for the minimum (read, create network, create VLANs, verify);
2. the idempotent re-run: writes and round trips;
3. the CPU time of ``diff`` on 64 hosts, 500 VLAN networks and 5,000 VIFs, and at twice and
   four times as many networks, VMs and VIFs (it grows linearly);
4. ``xapictl --help`` start-up time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "recipes"))
from recipes_simpool import SimPool

from xapictl.plan.audit import is_write
from xapictl.recipes import ensure_vlan_network

LATENCY_MS = 50.0
HOSTS = 64


def _trips(pool: SimPool) -> int:
    """Dependent round trips in the request log: the longest chain of requests each sent
    after the previous one was answered (requests in flight together count once)."""
    spans = []
    for entry in pool.control.request_log():
        end = datetime.fromisoformat(entry["time"]).timestamp()
        spans.append((end - entry["duration_ms"] / 1000.0, end))
    count, last_end = 0, float("-inf")
    for start, end in sorted(spans, key=lambda s: s[1]):
        if start >= last_end - 0.002:  # the log's clock has millisecond resolution
            count, last_end = count + 1, end
    return count


def _log_counts(pool: SimPool) -> tuple[int, int]:
    log = pool.control.request_log()
    return len(log), sum(1 for e in log if is_write(e["method"]))


def bench_create_vlan() -> None:
    desired = ensure_vlan_network("VLAN 105", 105, device="eth1")
    pool = SimPool("big", {"hosts": HOSTS, "nics": 2, "vms": 0, "vlans": 0, "vifs": 0})
    pool.control.set_latency(LATENCY_MS)
    pool.clear()
    start = time.perf_counter()
    result = pool.converge(desired)
    wall = time.perf_counter() - start
    requests, writes = _log_counts(pool)
    assert result.replan is not None and result.replan.is_empty
    print(f"xapictl network create --vlan 105 --device eth1 ({HOSTS} hosts, "
          f"{LATENCY_MS:.0f} ms/request):")
    print(f"  xapictl: {wall:6.2f} s wall, {_trips(pool)} dependent round trips, "
          f"{requests} requests, {writes} writes (login to logout: read, pre-flight, re-read, "
          "2 writes each re-checked, verify)")

    pool.clear()
    start = time.perf_counter()
    again = pool.converge(desired)
    wall2 = time.perf_counter() - start
    requests2, writes2 = _log_counts(pool)
    assert again.plan.is_empty
    print(f"  idempotent re-run: {wall2:6.2f} s wall, {_trips(pool)} dependent round trips, "
          f"{requests2} requests, {writes2} writes")

    naive = SimPool("big", {"hosts": HOSTS, "nics": 2, "vms": 0, "vlans": 0, "vifs": 0})
    naive.control.set_latency(LATENCY_MS)
    naive.clear()
    start = time.perf_counter()
    with naive.connect() as conn:
        pifs = conn.call("PIF.get_all_records")
        net = conn.call("network.create", {"name_label": "VLAN 105", "other_config": {}})
        for ref, pif in pifs.items():
            if pif["device"] == "eth1" and pif["VLAN"] == -1:
                conn.call("VLAN.create", ref, 105, net)
    wall3 = time.perf_counter() - start
    requests3, writes3 = _log_counts(naive)
    print(f"  naive per-host loop (read PIFs, create network, VLAN.create once per host): "
          f"{wall3:6.2f} s wall, {_trips(naive)} dependent round trips, {requests3} "
          f"requests, {writes3} writes")

    minimum = SimPool("big", {"hosts": HOSTS, "nics": 2, "vms": 0, "vlans": 0, "vifs": 0})
    minimum.control.set_latency(LATENCY_MS)
    with minimum.connect() as conn:
        minimum.clear()
        start = time.perf_counter()
        records = conn.read_all(["PIF", "network"])                       # 1: read
        pif = next(r for r, p in records["PIF"].items()
                   if p["device"] == "eth1" and str(p["VLAN"]) == "-1")
        net = conn.call("network.create", {"name_label": "VLAN 105",       # 2: create network
                                           "other_config": {}})
        conn.call("pool.create_VLAN_from_PIF", pif, net, 105)              # 3: create VLANs
        conn.read_all(["PIF", "VLAN"])                                     # 4: verify
        wall4 = time.perf_counter() - start
    print(f"  minimum (read, create network, create VLANs, verify; session already open): "
          f"{wall4:6.2f} s wall, {_trips(minimum)} dependent round trips")
    print(f"  xapictl vs naive: {wall3 / wall:4.1f}x faster; xapictl vs minimum: "
          f"{wall / wall4:4.1f}x the minimum (the extra trips: login, event token, "
          "permissions, logout)")


DIFF_GOAL_S = 0.2  # issue 12: 64 hosts x 500 VLAN networks x 5,000 stated VIFs
DIFF_RUNS = 5


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


def bench_diff() -> None:
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
    print(f"diff CPU time (process CPU, min/median/max of {DIFF_RUNS} runs, fresh indexes "
          f"each run; load {os.getloadavg()[0]:.1f}):")
    first = 0.0
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
        goal = f" (goal <= {DIFF_GOAL_S} s)" if factor == 1 else ""
        print(f"  x{factor}: {len(snap.hosts)} hosts, {len(desired.networks)} VLAN networks "
              f"({len(snap.vlans)} VLANs), {len(desired.vifs)} VIFs stated: "
              f"{min(cpu):.3f}/{median:.3f}/{max(cpu):.3f} s{goal}; "
              f"{median / first:.2f}x the x1 median (linear: {factor}x); plan "
              f"{len(plan.steps)} steps, {len(plan.noops)} no-ops; decoding the snapshot "
              f"{decode:.2f} s")


def _median_ms(command: list[str], runs: int = 7) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, min(times) * 1000


def bench_help() -> None:
    exe = Path(sys.executable).with_name("xapictl")
    median, fastest = _median_ms([str(exe), "--help"])
    bare, bare_fastest = _median_ms([sys.executable, "-c", "pass"])
    print(f"xapictl --help start-up: median {median:.0f} ms (min {fastest:.0f} ms, 7 runs); "
          f"the bare interpreter: median {bare:.0f} ms (min {bare_fastest:.0f} ms)")


if __name__ == "__main__":
    # ``python tests/bench/bench_plan.py diff`` runs one part (create_vlan, diff, help).
    parts = {"create_vlan": bench_create_vlan, "diff": bench_diff, "help": bench_help}
    for name in sys.argv[1:] or parts:
        parts[name]()
