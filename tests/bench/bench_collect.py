"""One-request read (``event.from``) against parallel ``get_all_records`` by pool size.

    python tests/bench/bench_collect.py [--write] [--hosts 4 8 16 32 64] [--latency-ms 20]
                                        [--runs 5]

Each pool (the ``big`` scenario: ``hosts`` hosts, 4 NICs, 8 VMs and 8 VLAN networks per host,
2 VIFs per VM) is served by a ``SimServer`` in another process, so the server's CPU is not
the client's. For each size, a fresh connection per run reads the pool both ways:

* one request: ``collect_once`` forced to ``event.from`` (``Connection.read_all_at_once``);
* parallel reads: a token, then one ``get_all_records`` per class at once (``collect``);

both decoding wide records lazily, as ``collect_once`` does.

Wall time and this process's CPU, min/median/max of ``runs``; the ratio is what
``xapictl.state.collect.ONE_REQUEST_MAX_HOSTS`` is chosen from (prints figures, asserts
nothing). With ``--write`` the table goes to ``docs/bench/collect.md``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdoc import Page, seconds

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="write docs/bench/collect.md")
    parser.add_argument("--hosts", type=int, nargs="+", default=[4, 8, 12, 16, 32, 64])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ctx = multiprocessing.get_context("fork")
    page = Page("collect", args.runs)
    table = page.table(
        f"One request (`event.from`) against parallel `get_all_records`, {args.latency_ms:g} ms "
        f"per call (`collect_once` reads in one request up to ONE_REQUEST_MAX_HOSTS = "
        f"{collect_mod.ONE_REQUEST_MAX_HOSTS} hosts)",
        ["hosts", "records", "one request: wall", "CPU", "parallel: wall", "CPU",
         "one request / parallel (median wall)", "faster"])
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
                    snap = (collect_mod.collect_at_once(conn, lazy=True)
                            if way == "one request" else collect_mod.collect(conn, lazy=True))
                    walls[way].append(time.perf_counter() - t0)
                    cpus[way].append(time.process_time() - c0)
                    objects = sum(len(getattr(snap, a)) for a in
                                  collect_mod.SNAPSHOT_CLASSES.values())
        parent.send("stop")
        proc.join(60)
        ratio = statistics.median(walls["one request"]) / statistics.median(walls["parallel"])
        chosen = ("one request" if hosts <= collect_mod.ONE_REQUEST_MAX_HOSTS
                  else "parallel")
        table.add(hosts, f"{objects:,}", seconds(walls["one request"], 3),
                  seconds(cpus["one request"], 3), seconds(walls["parallel"], 3),
                  seconds(cpus["parallel"], 3), f"{ratio:.2f}×",
                  "one request" if ratio <= 1 else "parallel",
                  goal=f"`collect_once` picks the faster ({chosen})",
                  met=(ratio <= 1) == (chosen == "one request") or abs(ratio - 1) < 0.05)
    table.notes.append(
        "Pools: the `big` scenario with 4 NICs, 8 VMs and 8 VLAN networks per host and 2 VIFs "
        "per VM; a fresh connection per run; CPU is this process's (the simulator runs in "
        "another). Within 5% of each other the two ways count as a tie.")
    page.emit(sys.argv)


if __name__ == "__main__":
    main()
