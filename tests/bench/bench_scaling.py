"""How the main job grows with the pool (issue 12 item 6): 4, 16, 64 and 256 hosts.

    python tests/bench/bench_scaling.py [--write] [--runs 5] [--hosts 4 16 64 256]

Each size is the ``big`` scenario with the big pool's density kept per host (8 NICs; per 64
hosts 500 VMs, 500 VLANs, 2,000 VIFs), served by a simulator in its own process with 50 ms
injected per call. Per size, ``--runs`` times:

* a snapshot through the library: ``xapictl.connect`` (login), ``conn.snapshot()``, logout;
  client CPU is this process's (the simulator is another process);
* ``xapictl network create --name X --vlan 905 --device eth1`` as its own program (wall and
  its own CPU, interpreter start-up included), the pool put back after each run (not timed).

Requests and dependent round trips come from the simulator's request log
(``xapictl.sim.roundtrips``). Round trips should not grow with the pool; wall time and client
CPU grow linearly with the objects read. With ``--write`` the tables go to
``docs/bench/scaling.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchdoc
from benchdoc import Page, Tally, seconds
from benchpool import PASSWORD, ServedPool

import xapictl

NAME, TAG, DEVICE = "X", "905", "eth1"
TRIPS_GOAL = "round trips as at the smallest size (fewest of the runs)"
COMMAND = ("network", "create", "--name", NAME, "--vlan", TAG, "--device", DEVICE)


def params(hosts: int) -> dict[str, int]:
    """The big pool's density (64 hosts: 500 VMs, 500 VLANs, 2,000 VIFs), kept per host."""
    return {"hosts": hosts, "nics": 8, "vms": max(1, 500 * hosts // 64),
            "vlans": max(1, 500 * hosts // 64), "vifs": max(1, 2000 * hosts // 64)}


def slope(cpu: list[float], objects: int, base: tuple[float, int] | None) -> str:
    """Client CPU added per 1,000 objects beyond the smallest size (medians): constant when
    the work grows linearly with the objects."""
    if base is None or objects == base[1]:
        return "—"
    return f"{(statistics.median(cpu) - base[0]) / (objects - base[1]) * 1e6:.0f} ms"


def constant(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}–{high}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="write docs/bench/scaling.md")
    parser.add_argument("--runs", type=int, default=benchdoc.RUNS)
    parser.add_argument("--hosts", type=int, nargs="+", default=[4, 16, 64, 256])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()

    page = Page("scaling", args.runs)
    columns = ["hosts", "objects", "requests", "dependent round trips", "wall", "client CPU",
               "client CPU added per 1,000 objects beyond the smallest pool"]
    snap_table = page.table(
        f"Snapshot (login, `conn.snapshot()`, logout) by pool size, {args.latency_ms:.0f} ms "
        "per call", columns)
    create_table = page.table(
        f"`xapictl {' '.join(COMMAND)}` by pool size, {args.latency_ms:.0f} ms per call",
        columns)
    first_snap: int | None = None
    first_create: int | None = None
    base_snap: tuple[float, int] | None = None
    base_create: tuple[float, int] | None = None
    for hosts in args.hosts:
        print(f"{hosts} hosts", file=sys.stderr)
        with ServedPool(args.latency_ms, **params(hosts)) as pool:
            objects = pool.counts["objects"]
            snaps: list[Tally] = []
            snap_wall, snap_cpu = [], []
            with xapictl.connect(pool.url, password=PASSWORD) as conn:
                conn.snapshot()  # untimed: the first one in this process imports modules
            for _ in range(args.runs):
                pool.control("clear_log")
                wall0, cpu0 = time.perf_counter(), time.process_time()
                with xapictl.connect(pool.url, password=PASSWORD) as conn:
                    conn.snapshot()
                snap_cpu.append(time.process_time() - cpu0)
                snap_wall.append(time.perf_counter() - wall0)
                snaps.append(Tally.of(pool.log()))
            creates = []
            for _ in range(args.runs):
                creates.append(pool.xapictl(*COMMAND))
                pool.remove_network(NAME)
        trips = [t.round_trips for t in snaps]
        first_snap = first_snap if first_snap is not None else min(trips)
        snap_table.add(hosts, f"{objects:,}", constant([t.requests for t in snaps]),
                       constant(trips), seconds(snap_wall), seconds(snap_cpu),
                       slope(snap_cpu, objects, base_snap),
                       goal=TRIPS_GOAL, met=min(trips) <= first_snap)
        trips = [r.tally.round_trips for r in creates]
        first_create = first_create if first_create is not None else min(trips)
        create_cpu = [r.timed.cpu for r in creates]
        create_table.add(hosts, f"{objects:,}", constant([r.tally.requests for r in creates]),
                         constant(trips), seconds([r.timed.wall for r in creates]),
                         seconds(create_cpu), slope(create_cpu, objects, base_create),
                         goal=TRIPS_GOAL, met=min(trips) <= first_create)
        base_snap = base_snap or (statistics.median(snap_cpu), objects)
        base_create = base_create or (statistics.median(create_cpu), objects)
    create_table.notes.append(
        "Pools: the `big` scenario at each size with 8 NICs per host and, per 64 hosts, "
        "500 VMs, 500 VLANs and 2,000 VIFs. `network create` figures include the "
        "interpreter's start-up and the write lease; the snapshot's are the library's alone. "
        "Round trips are judged on the fewest of the runs: the simulator logs a request when "
        "its thread starts on it, so on a loaded machine requests sent together can log as "
        "one after another (an extra round trip), never the reverse "
        "(`xapictl.sim.roundtrips`); the range shows every run.")
    page.emit(sys.argv)


if __name__ == "__main__":
    main()
