"""Simulator throughput over real sockets: prints a table, asserts nothing.

    python tests/bench/bench_sim.py [--seconds 2] [--hosts 64] [--vifs 2000]

Figures: calls/s of a simple getter (``network.get_MTU``) and of ``VIF.get_all_records`` on a
``big`` pool (64 hosts, 2,000 VIFs by default), over XML-RPC (the official XenAPI client) and
JSON-RPC (httpx, keep-alive), with 1 and 16 concurrent clients, plus the latency of one
``VIF.get_all_records``. Aims on the 2-core build machine: >= 1,000 getter calls/s, and
``VIF.get_all_records`` of 2,000 VIFs under 100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import XenAPI

from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer

PASSWORD = "xapictl"

Client = Callable[[str, list[Any]], Any]


def xmlrpc_client(url: str) -> tuple[Client, Callable[[], None]]:
    session = XenAPI.Session(url)
    session.login_with_password("root", PASSWORD, "1.0", "bench")

    def call(method: str, args: list[Any]) -> Any:
        target: Any = session.xenapi
        for part in method.split("."):
            target = getattr(target, part)
        return target(*args)

    def close() -> None:
        session.xenapi.session.logout()
        session("close")()

    return call, close


def jsonrpc_client(url: str) -> tuple[Client, Callable[[], None]]:
    http = httpx.Client(base_url=url, timeout=60)
    login = {"jsonrpc": "2.0", "method": "session.login_with_password",
             "params": ["root", PASSWORD], "id": 0}
    session = http.post("/jsonrpc", json=login).json()["result"]

    def call(method: str, args: list[Any]) -> Any:
        body = http.post("/jsonrpc", json={"jsonrpc": "2.0", "method": method,
                                           "params": [session, *args], "id": 1}).json()
        if "error" in body:
            raise RuntimeError(body["error"])
        return body["result"]

    def close() -> None:
        call("session.logout", [])
        http.close()

    return call, close


def throughput(make: Callable[[str], tuple[Client, Callable[[], None]]], url: str,
               method: str, args: list[Any], clients: int, seconds: float) -> float:
    """Calls per second with ``clients`` threads, each on its own keep-alive connection."""
    counts = [0] * clients
    ready = threading.Barrier(clients + 1)
    stop = threading.Event()

    def worker(index: int) -> None:
        call, close = make(url)
        call(method, args)  # warm the connection
        ready.wait()
        while not stop.is_set():
            call(method, args)
            counts[index] += 1
        close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    stop.wait(seconds)
    stop.set()
    elapsed = time.perf_counter() - started
    for thread in threads:
        thread.join()
    return sum(counts) / elapsed


def latency_ms(make: Callable[[str], tuple[Client, Callable[[], None]]], url: str,
               method: str, args: list[Any], rounds: int = 7) -> float:
    call, close = make(url)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call(method, args)
        times.append((time.perf_counter() - started) * 1000)
    close()
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--hosts", type=int, default=64)
    parser.add_argument("--vifs", type=int, default=2000)
    options = parser.parse_args(argv)

    built = time.perf_counter()
    sim = Simulator(password=PASSWORD)
    sim.reset(scenario="big", hosts=options.hosts, vifs=options.vifs, vms=500, vlans=64)
    with sim.state.lock:
        network = sim.state.refs("network")[0]
        vif_count = sim.state.count("VIF")
    print(f"big pool: {len(sim.host_addresses())} hosts, {vif_count} VIFs "
          f"(built in {time.perf_counter() - built:.1f} s)")
    protocols = {"XML-RPC (XenAPI)": xmlrpc_client, "JSON-RPC (httpx)": jsonrpc_client}
    with SimServer(sim) as server:
        rows = []
        for name, make in protocols.items():
            for clients in (1, 16):
                getter = throughput(make, server.url, "network.get_MTU", [network], clients,
                                    options.seconds)
                records = throughput(make, server.url, "VIF.get_all_records", [], clients,
                                     options.seconds)
                rows.append((name, clients, getter, records))
            rows_ms = latency_ms(make, server.url, "VIF.get_all_records", [])
            rows.append((name, "latency", None, rows_ms))
    print(f"\n{'protocol':20} {'clients':>8} {'get_MTU/s':>12} {'VIF.get_all_records':>22}")
    for name, clients, getter, records in rows:
        if clients == "latency":
            print(f"{name:20} {'1':>8} {'':>12} {records:>17.1f} ms/call")
        else:
            print(f"{name:20} {clients:>8} {getter:>12.0f} {records:>18.1f} /s")
    sim.close()


if __name__ == "__main__":
    main()
