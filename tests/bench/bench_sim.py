"""Simulator throughput over real sockets: prints a table, asserts nothing.

    python tests/bench/bench_sim.py [--seconds 2] [--hosts 64]

Figures: calls/s of a simple getter (``network.get_MTU``) and of ``VIF.get_all_records`` on a
``big`` pool (64 hosts, 2,000 VIFs by default), over XML-RPC (the official XenAPI client) and
JSON-RPC (httpx, keep-alive; and a bare ``http.client`` connection, to show the server's
own capacity), with 1 and 16 concurrent clients, plus the latency of one
``VIF.get_all_records``. The server runs in its own process (``xapictl sim serve``), as
users run it, so clients and server do not share a GIL. Aims on the 2-core build machine:
>= 1,000 getter calls/s, and ``VIF.get_all_records`` of 2,000 VIFs under 100 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx
import XenAPI

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


def bare_jsonrpc_client(url: str) -> tuple[Client, Callable[[], None]]:
    """JSON-RPC on one ``http.client`` keep-alive connection: almost no client overhead."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)

    def post(method: str, params: list[Any]) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1})
        conn.request("POST", "/jsonrpc", body, {"Content-Type": "application/json"})
        reply = json.loads(conn.getresponse().read())
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["result"]

    session = post("session.login_with_password", ["root", PASSWORD])

    def close() -> None:
        post("session.logout", [session])
        conn.close()

    return (lambda method, args: post(method, [session, *args])), close


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


def server_side_ms(hosts: int) -> dict[str, float]:
    """Median ms for ``handle_http`` alone (decode, engine, encode) of VIF.get_all_records."""
    from xapictl.sim import wire
    from xapictl.sim.app import handle_http
    from xapictl.sim.engine import Simulator

    sim = Simulator(password=PASSWORD)
    sim.reset(scenario="big", hosts=hosts)
    session = sim.call("session.login_with_password", ["root", PASSWORD])
    bodies = {
        "XML-RPC": ("/", wire.xmlrpc_request("VIF.get_all_records", [session])),
        "JSON-RPC": ("/jsonrpc", json.dumps({"jsonrpc": "2.0", "method": "VIF.get_all_records",
                                             "params": [session], "id": 1}).encode()),
    }
    figures = {}
    for name, (path, body) in bodies.items():
        times = []
        for _ in range(7):
            started = time.perf_counter()
            handle_http(sim, "POST", path, {}, body, host_address="127.0.0.1")
            times.append((time.perf_counter() - started) * 1000)
        figures[name] = statistics.median(times)
    sim.close()
    return figures


def start_server(hosts: int) -> tuple[subprocess.Popen[str], str]:
    """``xapictl sim serve --scenario big`` in its own process; returns it and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from xapictl.cli import main; main()", "sim", "serve",
         "--scenario", "big", "--hosts", str(hosts), "--password", PASSWORD],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--hosts", type=int, default=64)
    options = parser.parse_args(argv)

    built = time.perf_counter()
    process, url = start_server(options.hosts)
    try:
        call, close = jsonrpc_client(url)
        network = call("network.get_all", [])[0]
        vif_count = len(call("VIF.get_all", []))
        hosts = len(call("host.get_all", []))
        close()
        print(f"big pool: {hosts} hosts, {vif_count} VIFs at {url} "
              f"(up in {time.perf_counter() - built:.1f} s)")
        protocols = {"XML-RPC (XenAPI)": xmlrpc_client, "JSON-RPC (httpx)": jsonrpc_client,
                     "JSON-RPC (http.client)": bare_jsonrpc_client}
        rows: list[tuple[str, str, str, str]] = []
        for name, make in protocols.items():
            for clients in (1, 16):
                getter = throughput(make, url, "network.get_MTU", [network], clients,
                                    options.seconds)
                records = throughput(make, url, "VIF.get_all_records", [], clients,
                                     options.seconds)
                rows.append((name, str(clients), f"{getter:.0f}", f"{records:.1f} /s"))
            one = latency_ms(make, url, "VIF.get_all_records", [])
            rows.append((name, "1", "", f"{one:.1f} ms/call"))
    finally:
        process.terminate()
        process.wait(30)
    print(f"\n{'protocol':24} {'clients':>8} {'get_MTU/s':>10} {'VIF.get_all_records':>22}")
    for name, clients, getter, records in rows:
        print(f"{name:24} {clients:>8} {getter:>10} {records:>22}")
    print("\nserver side only (decode + engine + encode, no client parsing):")
    for name, ms in server_side_ms(options.hosts).items():
        print(f"  VIF.get_all_records over {name}: {ms:.1f} ms")


if __name__ == "__main__":
    main()
