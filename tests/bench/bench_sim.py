"""Simulator throughput over real sockets: prints a table, asserts nothing.

    python tests/bench/bench_sim.py [--write] [--seconds 2] [--hosts 64]

Figures: calls/s of a simple getter (``network.get_MTU``) over XML-RPC (the official XenAPI
client) and JSON-RPC (httpx, keep-alive; and a bare ``http.client`` connection, to show the
server's own capacity), with 1 and 16 concurrent clients, and the time of one
``VIF.get_all_records`` on a ``big`` pool (64 hosts, 2,000 VIFs by default), whole call and
server side only. The server runs in its own process (``xapictl sim serve``), as
users run it, so clients and server do not share a GIL. Aims on the 2-core build machine:
>= 1,000 getter calls/s, and ``VIF.get_all_records`` of 2,000 VIFs under 100 ms. And where
one XML-RPC client's time goes: the CPU per getter call of the server and of the ``XenAPI``
client, and ``VIF.get_all_records``'s answer: its size, its round trip, its parse.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import xmlrpc.client
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import XenAPI

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdoc import RUNS, Page

PASSWORD = "xapictl"
GETTER_GOAL = 1000  # calls/s on the 2-core build machine
RECORDS_GOAL_MS = 100.0  # VIF.get_all_records of 2,000 VIFs

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
               method: str, args: list[Any], clients: int, seconds: float,
               windows: int = RUNS) -> list[float]:
    """Calls per second with ``clients`` threads, each on its own keep-alive connection: one
    figure per window of ``seconds / windows`` (consecutive windows of one run)."""
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
    rates = []
    started, done = time.perf_counter(), 0
    for _ in range(windows):
        stop.wait(seconds / windows)
        now, total = time.perf_counter(), sum(counts)
        rates.append((total - done) / (now - started))
        started, done = now, total
    stop.set()
    for thread in threads:
        thread.join()
    return rates


def latency_ms(make: Callable[[str], tuple[Client, Callable[[], None]]], url: str,
               method: str, args: list[Any], rounds: int = 7) -> list[float]:
    call, close = make(url)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call(method, args)
        times.append((time.perf_counter() - started) * 1000)
    close()
    return times


def server_side_ms(hosts: int) -> dict[str, list[float]]:
    """ms of ``handle_http`` alone (decode, engine, encode) of VIF.get_all_records, 7 runs."""
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
        figures[name] = times
    sim.close()
    return figures


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) another process has used so far (``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def xmlrpc_costs(url: str, pid: int, seconds: float, network: str) -> dict[str, list[float]]:
    """One XML-RPC client (``XenAPI``) on this thread: per ``network.get_MTU`` call, the
    server's CPU and this process's (µs, one figure per window); and ``VIF.get_all_records``
    sent raw: the answer's size (MB), the HTTP round trip to its last byte and
    ``xmlrpc.client``'s parse of it (ms, 7 runs)."""
    call, close = xmlrpc_client(url)
    call("network.get_MTU", [network])
    server, client = [], []
    for _ in range(RUNS):
        count, cpu0, server0 = 0, time.process_time(), process_cpu(pid)
        until = time.perf_counter() + seconds / RUNS
        while time.perf_counter() < until:
            call("network.get_MTU", [network])
            count += 1
        client.append((time.process_time() - cpu0) / count * 1e6)
        server.append((process_cpu(pid) - server0) / count * 1e6)
    close()
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)

    def post(method: str, params: tuple[Any, ...]) -> bytes:
        conn.request("POST", "/", xmlrpc.client.dumps(params, method).encode(),
                     {"Content-Type": "text/xml"})
        return conn.getresponse().read()

    session = xmlrpc.client.loads(post("session.login_with_password",
                                       ("root", PASSWORD)))[0][0]["Value"]
    trips, parses, size = [], [], 0.0
    for _ in range(7):
        started = time.perf_counter()
        body = post("VIF.get_all_records", (session,))
        trips.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        xmlrpc.client.loads(body)
        parses.append((time.perf_counter() - started) * 1000)
        size = len(body) / 1e6
    post("session.logout", (session,))
    conn.close()
    return {"server": server, "client": client, "trip": trips, "parse": parses,
            "size": [size]}


def start_server(hosts: int) -> tuple[subprocess.Popen[str], str]:
    """``xapictl sim serve --scenario big`` in its own process; returns it and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from xapictl.cli import main; main()", "sim", "serve",
         "--scenario", "big", "--hosts", str(hosts), "--password", PASSWORD],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def spread(values: list[float], unit: str, digits: int = 0) -> str:
    lo, mid, hi = min(values), statistics.median(values), max(values)
    return f"{lo:,.{digits}f}/{mid:,.{digits}f}/{hi:,.{digits}f} {unit}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write docs/bench/sim.md")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--hosts", type=int, default=64)
    options = parser.parse_args(argv)

    page = Page("sim")
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
        table = page.table(
            f"Simulator throughput over real sockets (`xapictl sim serve --scenario big`: "
            f"{hosts} hosts, {vif_count:,} VIFs; its own process)",
            ["protocol (client)", "clients", "`network.get_MTU`",
             "one `VIF.get_all_records`, whole call (7 runs)"])
        protocols = {"XML-RPC (official `XenAPI`)": xmlrpc_client,
                     "JSON-RPC (httpx)": jsonrpc_client,
                     "JSON-RPC (`http.client`)": bare_jsonrpc_client}
        for name, make in protocols.items():
            one = latency_ms(make, url, "VIF.get_all_records", [])
            for clients in (1, 16):
                getter = throughput(make, url, "network.get_MTU", [network], clients,
                                    options.seconds)
                table.add(name, clients, spread(getter, "calls/s"),
                          spread(one, "ms", 1) if clients == 1 else "",
                          goal="getter ≥ 1,000 calls/s (median)",
                          met=statistics.median(getter) >= GETTER_GOAL)
        costs = xmlrpc_costs(url, process.pid, options.seconds, network)
    finally:
        process.terminate()
        process.wait(30)
    served = page.table(
        "Server side only: decode, engine and encode of `VIF.get_all_records` (7 runs, "
        "no client parsing)", ["protocol", "time"])
    for name, times in server_side_ms(options.hosts).items():
        served.add(name, spread(times, "ms", 1), goal="< 100 ms (median)",
                   met=statistics.median(times) < RECORDS_GOAL_MS)
    where = page.table(
        "Where one XML-RPC client's time goes (the official `XenAPI` client)",
        ["what", "min/median/max"])
    where.add("`network.get_MTU`: the server's CPU per call", spread(costs["server"], "µs"))
    where.add("`network.get_MTU`: the client's CPU per call", spread(costs["client"], "µs"))
    where.add("`VIF.get_all_records`: the answer", f"{costs['size'][0]:.1f} MB of XML")
    where.add("`VIF.get_all_records`: the HTTP round trip, to the answer's last byte (7 runs)",
              spread(costs["trip"], "ms"))
    where.add("`VIF.get_all_records`: `xmlrpc.client` parsing the answer (7 runs)",
              spread(costs["parse"], "ms"))
    where.notes.append(
        f"CPU per call: {RUNS} consecutive windows of {options.seconds / RUNS:.1f} s of calls "
        "one after another on one connection; the server's from `/proc` (clock ticks), the "
        "client's is this process's.")
    table.notes.append(
        f"Throughput: {RUNS} consecutive windows of {options.seconds / RUNS:.1f} s each, "
        "min/median/max; 16 clients are 16 threads, each on its own keep-alive connection.")
    page.emit(sys.argv)


if __name__ == "__main__":
    main()
