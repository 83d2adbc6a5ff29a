"""One-request read (``event.from``) against parallel ``get_all_records`` by pool size.

    python tests/bench/bench_collect.py [--hosts 4 16 64] [--latency-ms 20] [--runs 5]

Each pool (the ``big`` scenario: ``hosts`` hosts, 4 NICs, 8 VMs and 8 VLAN networks per host,
2 VIFs per VM) is served by a ``SimServer`` in another process, so the server's CPU is not
the client's. For each size, a fresh connection per run reads the pool both ways:

* one request: ``collect_once`` forced to ``event.from`` (``Connection.read_all_at_once``);
* parallel reads: a token, then one ``get_all_records`` per class at once (``collect``).

Wall time and this process's CPU, min/median/max of ``runs``; the ratio is what
``xapictl.state.collect.ONE_REQUEST_MAX_HOSTS`` is chosen from (prints figures, asserts
nothing).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
from typing import Any

from xapictl.client.connection import connect
from xapictl.state import collect as collect_mod

PASSWORD = "xapictl"


def _serve(hosts: int, latency_ms: float, conn: Any) -> None:
    from xapictl.sim.control import Control
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer

    sim = Simulator(password=PASSWORD)
    sim.reset(scenario="big", hosts=hosts, nics=4, vms=8 * hosts, vlans=8 * hosts * hosts,
              vifs=16 * hosts)
    control = Control(sim)
    control.set_latency(latency_ms)
    server = SimServer(sim, control=control).start()
    conn.send(server.url)
    conn.recv()
    server.stop()


def _figures(values: list[float]) -> str:
    return f"{min(values):.3f}/{statistics.median(values):.3f}/{max(values):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ctx = multiprocessing.get_context("fork")
    print(f"one request vs parallel reads ({args.latency_ms:g} ms per call, "
          f"min/median/max of {args.runs} runs, load {os.getloadavg()[0]:.1f}; "
          f"threshold now: one request up to {collect_mod.ONE_REQUEST_MAX_HOSTS} hosts)")
    for hosts in args.hosts:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(hosts, args.latency_ms, child), daemon=True)
        proc.start()
        url = parent.recv()
        walls: dict[str, list[float]] = {"one request": [], "parallel": []}
        cpus: dict[str, list[float]] = {"one request": [], "parallel": []}
        objects = 0
        for _ in range(args.runs):
            for way in walls:
                with connect(url, password=PASSWORD) as conn:
                    t0, c0 = time.perf_counter(), time.process_time()
                    snap = (collect_mod.collect_at_once(conn) if way == "one request"
                            else collect_mod.collect(conn))
                    walls[way].append(time.perf_counter() - t0)
                    cpus[way].append(time.process_time() - c0)
                    objects = sum(len(getattr(snap, a)) for a in
                                  collect_mod.SNAPSHOT_CLASSES.values())
        parent.send("stop")
        proc.join(60)
        ratio = statistics.median(walls["one request"]) / statistics.median(walls["parallel"])
        print(f"  {hosts:3d} hosts ({objects} records): one request "
              f"{_figures(walls['one request'])} s wall, {_figures(cpus['one request'])} s CPU; "
              "parallel "
              f"{_figures(walls['parallel'])} s wall, {_figures(cpus['parallel'])} s CPU; "
              f"one request takes {ratio:.2f}x the parallel wall time -> "
              f"{'one request' if ratio <= 1 else 'parallel'} wins")


if __name__ == "__main__":
    main()
