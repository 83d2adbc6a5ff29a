"""HTTP pipelining in the simulator: requests a client sends back to back on one connection,
without waiting for the answers in between, are served in order, as XAPI's ``http_svr``
serves them (it reads exactly one request's head and body at a time, so the next stays in
the socket until the answer is written). They travel together, so the injected latency is
paid once for all of them and the round-trip count (``xapictl.sim.roundtrips``) is one."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from xapictl.sim.control import Control
from xapictl.sim.engine import Simulator
from xapictl.sim.roundtrips import groups, round_trips
from xapictl.sim.server import SimServer

LATENCY_MS = 50.0


@pytest.fixture
def served() -> Iterator[tuple[SimServer, list[float]]]:
    """A served seed pool with 50 ms latency, and the simulator's sleeps (seconds)."""
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # counted (and slept: the spans of the log need it)
        sleeps.append(seconds)
        time.sleep(seconds)

    sim = Simulator(scenario="seed")
    control = Control(sim, sleep=sleep)
    control.set_latency(LATENCY_MS)
    with SimServer(sim, control=control) as server:
        yield server, sleeps


def request(method: str, params: list[Any], number: int) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params,
                       "id": number}).encode()
    head = (f"POST /jsonrpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    return head + body


class Reader:
    """Reads the answers of one connection, in order."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buf = sock, b""

    def answer(self) -> dict[str, Any]:
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._more()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(self.buf) < length:
            self.buf += self._more()
        body, self.buf = self.buf[:length], self.buf[length:]
        found: dict[str, Any] = json.loads(body)
        return found

    def _more(self) -> bytes:
        data = self.sock.recv(65536)
        assert data, "the simulator closed the connection"
        return data


def login(server: SimServer) -> tuple[socket.socket, Reader, str]:
    sock = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), 10)
    reader = Reader(sock)
    sock.sendall(request("session.login_with_password", ["root", "xapictl", "2.21", "t"], 1))
    ref = reader.answer()["result"]
    server.control.clear_log()  # the requests after the login are the test's
    return sock, reader, str(ref)


def test_requests_sent_back_to_back_are_answered_in_order_in_one_round_trip(
        served: tuple[SimServer, list[float]]) -> None:
    server, sleeps = served
    sock, reader, ref = login(server)
    sleeps.clear()
    with sock:
        sock.sendall(b"".join(request(m, [ref], n) for n, m in enumerate(
            ["pool.get_all", "host.get_all", "network.get_all"], start=10)))
        answers = [reader.answer() for _ in range(3)]
    assert [a["id"] for a in answers] == [10, 11, 12]
    assert all(isinstance(a["result"], list) and a["result"] for a in answers)
    log = server.control.request_log()
    assert [e["method"] for e in log] == ["pool.get_all", "host.get_all", "network.get_all"]
    assert [e.get("pipelined", False) for e in log] == [False, True, True]
    assert round_trips(log) == 1
    assert [len(g) for g in groups(log)] == [3]
    # the latency was paid once, by the first: the others had waited as long behind it
    assert sleeps == [pytest.approx(LATENCY_MS / 1000)]


def test_requests_sent_after_each_answer_are_a_round_trip_each(
        served: tuple[SimServer, list[float]]) -> None:
    server, sleeps = served
    sock, reader, ref = login(server)
    sleeps.clear()
    with sock:
        for n, method in enumerate(["pool.get_all", "host.get_all"], start=10):
            sock.sendall(request(method, [ref], n))
            assert reader.answer()["id"] == n
    log = server.control.request_log()
    assert [e.get("pipelined", False) for e in log] == [False, False]
    assert round_trips(log) == 2
    assert sleeps == [pytest.approx(LATENCY_MS / 1000)] * 2


def test_a_pipelined_write_and_the_read_behind_it_see_each_other_in_order(
        served: tuple[SimServer, list[float]]) -> None:
    server, _ = served
    sock, reader, ref = login(server)
    with sock:
        sock.sendall(request("pool.get_all", [ref], 2))
        pool = reader.answer()["result"][0]
        sock.sendall(request("pool.add_to_other_config", [ref, pool, "k", "v"], 3)
                     + request("pool.get_other_config", [ref, pool], 4))
        added, read = reader.answer(), reader.answer()
    assert added["result"] is None or added["result"] == ""
    assert read["result"]["k"] == "v"
