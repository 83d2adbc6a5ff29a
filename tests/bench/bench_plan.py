"""Benchmarks of the plan engine (not tests: run ``python tests/bench/bench_plan.py``).

Prints:
1. ``network create --vlan`` on a 64-host pool with 50 ms injected latency per request:
   dependent round trips and wall time for xapictl, for a naive client (``VLAN.create`` once
   per host) and for the minimum (read, create network, create VLANs, verify);
2. the idempotent re-run: writes and round trips;
3. the CPU time of ``diff`` on 64 hosts, 500 VLAN networks and 5,000 VIFs;
4. ``xapictl --help`` start-up time.
"""

from __future__ import annotations

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


def bench_diff() -> None:
    from xapictl.model import record_type  # noqa: F401
    from xapictl.plan.desired import DesiredState, NetworkSpec, VIFSpec
    from xapictl.plan.diff import diff
    from xapictl.sim.engine import Simulator
    from xapictl.state.snapshot import SNAPSHOT_CLASSES, PoolSnapshot

    sim = Simulator()
    sim.reset(scenario="big", hosts=HOSTS, nics=2, vms=1000, vlans=500 * HOSTS, vifs=5000)
    state = sim.state
    for ref, net in state.all("network").items():
        if net["name_label"].startswith("VLAN "):
            tag = int(net["name_label"].split()[1])
            state.set_field("network", ref, "other_config", {
                "xapictl.owner": "xapictl", "xapictl.identity": f"vlan/eth1/{tag}"})
    raw: dict[str, Any] = {c: dict(state.all(c)) for c in SNAPSHOT_CLASSES}
    start = time.process_time()
    snap = PoolSnapshot.from_records(raw)
    decode = time.process_time() - start
    vlan_nets = sorted({n.name_label for n in snap.networks.values()
                        if n.name_label.startswith("VLAN ")})
    vms = {v.name_label: r for r, v in snap.guest_vms().items()}
    vif_specs = []
    for vif in snap.vifs.values():
        vm = snap.vms.get(vif.vm)
        if vm is not None and vm.name_label in vms:
            vif_specs.append(VIFSpec(vm=vm.name_label, network=snap.networks[
                vif.network].name_label, device=vif.device))
    desired = DesiredState(
        networks=tuple(NetworkSpec(name=n, vlan=int(n.split()[1]), device="eth1")
                       for n in vlan_nets),
        vifs=tuple(vif_specs))
    start = time.process_time()
    plan = diff(desired, snap)
    cpu = time.process_time() - start
    print(f"diff CPU time: {cpu:.2f} s for {len(snap.hosts)} hosts, {len(desired.networks)} "
          f"VLAN networks ({len(snap.vlans)} VLANs), {len(desired.vifs)} VIFs stated of "
          f"{len(snap.vifs)}; plan: {len(plan.steps)} steps, {len(plan.noops)} no-ops "
          f"(decoding the snapshot: {decode:.2f} s)")


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
    bench_create_vlan()
    bench_diff()
    bench_help()
