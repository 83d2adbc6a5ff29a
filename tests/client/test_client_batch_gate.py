"""Announced batches and the simulator's batch gate (``xapictl._batch``): requests sent
together carry ``X-Xapictl-Batch`` on both send paths and both protocols, one-off calls carry
nothing, and with the gate on a sibling sent late still counts as the same round trip, while
a batch announced but sent one request after the other is reported, not counted."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from client_helpers import PASSWORD

import xapictl
from xapictl.sim.control import BatchGate
from xapictl.sim.roundtrips import IncompleteBatch, round_trips

LATE = "PIF.get_all"
"""The sibling held back on the client until the other one's answer came (or a while)."""
HOLD_S = 1.0
"""How long the late sibling waits, with the gate on, for an answer the gate holds: far more
than the latency, so without the gate it would surely be counted as a round trip of its own."""


class LateSibling(httpx.BaseTransport):
    """Sends ``LATE`` only once another request's answer has come back (at most ``hold`` s)."""

    def __init__(self, inner: httpx.BaseTransport, hold: float | None) -> None:
        self.inner = inner
        self.hold = hold
        self.answered = threading.Event()
        self.waited_for_answer: bool | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if LATE.encode() in request.read():
            self.waited_for_answer = self.answered.wait(self.hold)
            return self.inner.handle_request(request)
        response = self.inner.handle_request(request)
        self.answered.set()
        return response


def _two_at_once(transport: LateSibling, protocol: str, control: Any
                 ) -> list[dict[str, Any]]:
    with xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=transport,
                         protocol=protocol) as conn:
        control.clear_log()
        transport.answered.clear()  # the login's answers do not count
        conn.call_many([("network.get_all", []), (LATE, [])])
        log = control.request_log()
    return log


def test_requests_sent_together_carry_one_batch_and_a_lone_call_none(
        transport: Any, protocol: str, control: Any) -> None:
    with xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=transport,
                         protocol=protocol) as conn:
        control.clear_log()
        conn.call("network.get_all")
        conn.call_many([("network.get_all", []), ("PIF.get_all", []), ("VLAN.get_all", [])])
    lone, *batch, _logout = control.request_log()
    assert "batch" not in lone
    assert len({e["batch"] for e in batch}) == 1
    assert batch[0]["batch"].endswith(";n=3")


def test_the_lean_socket_path_announces_too(sim_server: Any, protocol: str) -> None:
    with xapictl.connect(sim_server.url, password=PASSWORD, protocol=protocol) as conn:
        sim_server.control.clear_log()
        conn.call_many([("network.get_all", []), ("PIF.get_all", [])])
    *batch, _logout = sim_server.control.request_log()
    assert [e.get("batch", "").split(";")[-1] for e in batch] == ["n=2", "n=2"]
    assert "batch" not in _logout


def test_a_late_sibling_is_one_round_trip_with_the_gate(transport: Any, protocol: str,
                                                        control: Any) -> None:
    control.set_latency(20)
    control.set_batch_gate(True)
    late = LateSibling(transport, HOLD_S)
    log = _two_at_once(late, protocol, control)
    assert late.waited_for_answer is False  # the gate held the other answer: LATE went late
    assert round_trips(log) == 1


def test_the_same_late_sibling_is_two_round_trips_without_the_gate(
        transport: Any, protocol: str, control: Any) -> None:
    control.set_latency(20)
    late = LateSibling(transport, None)
    log = _two_at_once(late, protocol, control)
    assert late.waited_for_answer is True
    assert round_trips(log) == 2


def test_a_batch_announced_but_sent_one_after_the_other_fails_the_count(
        transport: Any, protocol: str, control: Any) -> None:
    control.set_batch_gate(True, timeout_s=0.2)  # the answer LATE waits for comes only then
    late = LateSibling(transport, None)
    log = _two_at_once(late, protocol, control)
    assert [e.get("batch_incomplete", False) for e in log] == [True, False]
    with pytest.raises(IncompleteBatch, match=r"network\.get_all"):
        round_trips(log)


class RefusedOnce(httpx.BaseTransport):
    """The first ``LATE`` request finds the connection refused: it never reaches the server."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.refused = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if LATE.encode() in request.read() and not self.refused:
            self.refused += 1
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return self.inner.handle_request(request)


def test_a_request_that_never_left_hands_its_place_in_the_batch_to_the_next_one_sent(
        transport: Any, protocol: str, control: Any, fast_retry: Any) -> None:
    control.set_batch_gate(True, timeout_s=30)  # safety net: a lost place would wait this long
    refusing = RefusedOnce(transport)
    with xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=refusing,
                         protocol=protocol, retry=fast_retry) as conn:
        control.clear_log()
        conn.call_many([("network.get_all", []), (LATE, [])])
        log = control.request_log()
    assert refusing.refused == 1
    # the refused member's next request (here the failover's probe of the master) joins the
    # batch in its place, so the batch completes at once; later requests are one-offs
    first, second = (e for e in log if "batch" in e)
    assert first["batch"] == second["batch"] and "network.get_all" in (
        first["method"], second["method"])
    assert not any(e.get("batch_incomplete") for e in log)
    assert round_trips(log) >= 2  # the retry came after the batch: a round trip of its own


def test_linked_batches_are_released_together() -> None:
    """A member's own batch (its first request carries both slots) holds the outer batch's
    answers too, until its last request has come."""
    gate = BatchGate()
    gate.enabled = True
    done: dict[str, bool] = {}
    arrived = threading.Barrier(3)

    def send(name: str, header: str) -> None:
        if name != "inner-2":
            arrived.wait(timeout=30)
        done[name] = gate.wait(header)

    first = [threading.Thread(target=send, args=a) for a in
             (("outer", "a;n=2"), ("inner-1", "b;n=2, a;n=2"))]
    for thread in first:
        thread.start()
    arrived.wait(timeout=30)
    for thread in first:  # outer's batch is complete, but not the one linked to it
        thread.join(timeout=0.2)
        assert thread.is_alive()
    last = threading.Thread(target=send, args=("inner-2", "b;n=2"))
    last.start()
    for thread in (*first, last):
        thread.join(timeout=30)
    assert done == {"outer": True, "inner-1": True, "inner-2": True}
