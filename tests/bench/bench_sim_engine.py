"""The simulator engine alone (no wire): prints a table, asserts nothing.

    python tests/bench/bench_sim_engine.py [--hosts 64] [--vifs 2000]

Figures: ``Simulator.call`` rates for a getter, a setter and a login on a ``big`` pool; the
latency of ``VIF.get_all_records``; how soon a blocked ``event.from`` returns after a write
(task-only subscriptions skip the 50 ms batching); and the same getter and setter with the
state in an SQLite file (one transaction per call).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xapictl.sim.engine import Simulator

PASSWORD = "xapictl"


def rate(fn: Callable[[], Any], seconds: float = 1.0) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def median_ms(fn: Callable[[], Any], times: int = 10) -> float:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def wake_latency_ms(sim: Simulator, session: str, classes: list[str], write: Callable[[], Any],
                    times: int = 10) -> float:
    samples = []
    for _ in range(times):
        token = sim.call("event.from", [session, classes, "", 0.0])["token"]
        done: list[float] = []
        def wait(t: str = token, out: list[float] = done) -> None:
            sim.call("event.from", [session, classes, t, 10.0])
            out.append(time.perf_counter())
        waiter = threading.Thread(target=wait)
        waiter.start()
        threading.Event().wait(0.05)  # let the waiter block
        start = time.perf_counter()
        write()
        waiter.join()
        samples.append((done[0] - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=64)
    parser.add_argument("--vifs", type=int, default=2000)
    args = parser.parse_args()

    sim = Simulator(password=PASSWORD)
    sim.load_scenario("big", hosts=args.hosts, vifs=args.vifs)
    s = sim.call("session.login_with_password", ["root", PASSWORD])
    net = sim.call("network.get_all", [s])[0]
    getter = rate(lambda: sim.call("network.get_MTU", [s, net]))
    setter = rate(lambda: sim.call("network.set_name_description", [s, net, "x"]))
    logins = rate(lambda: sim.call("session.logout", [
        sim.call("session.login_with_password", ["root", PASSWORD])]))
    get_all = median_ms(lambda: sim.call("VIF.get_all_records", [s]))
    wake_network = wake_latency_ms(
        sim, s, ["network"], lambda: sim.call("network.set_name_description", [s, net, "y"]))
    wake_task = wake_latency_ms(sim, s, ["task"], lambda: sim.call("task.create", [s, "t", ""]))
    from xapictl.sim import scenarios
    from xapictl.sim.state import SimState

    started = time.perf_counter()  # was a test's "< 30 s" assertion: a figure, not a check
    scenarios.build(SimState(), "big", hosts=64, nics=8, vms=500, vlans=500, vifs=2000)
    build_s = time.perf_counter() - started
    rows: list[tuple[str, str]] = [
        ("pool", f"{args.hosts} hosts, {sim.state.count('VIF')} VIFs"),
        ("build big (64 hosts, 8 NICs, 500 VMs, 500 VLANs, 2000 VIFs)", f"{build_s:.2f} s"),
        ("getter network.get_MTU", f"{getter:,.0f}/s"),
        ("setter network.set_name_description", f"{setter:,.0f}/s"),
        ("login + logout", f"{logins:,.0f}/s"),
        ("VIF.get_all_records", f"{get_all:.1f} ms"),
        ("event.from wake (network: 50 ms batching)", f"{wake_network:.1f} ms"),
        ("event.from wake (task only)", f"{wake_task:.1f} ms"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        stored = Simulator(password=PASSWORD, state_file=Path(tmp) / "pool.db", scenario="seed")
        ss = stored.call("session.login_with_password", ["root", PASSWORD])
        snet = stored.call("network.get_all", [ss])[0]
        stored_get = rate(lambda: stored.call("network.get_MTU", [ss, snet]))
        stored_set = rate(lambda: stored.call("network.set_name_description", [ss, snet, "x"]))
        rows.append(("persisted getter (seed)", f"{stored_get:,.0f}/s"))
        rows.append(("persisted setter (seed)", f"{stored_set:,.0f}/s"))
        stored.close()
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    sim.close()


if __name__ == "__main__":
    main()
