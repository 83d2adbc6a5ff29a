"""Dependent round trips counted from a request log (``xapictl.sim.roundtrips``): the one
definition every benchmark and round-trip budget uses. Synthetic logs pin the rules; a real
log of sequential calls checks the fields it reads."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

import xapictl
from xapictl.sim.control import DEFAULT_GATE_TIMEOUT, Control
from xapictl.sim.engine import Simulator
from xapictl.sim.inprocess import InProcessTransport
from xapictl.sim.roundtrips import IncompleteBatch, groups, interval, round_trips

T0 = dt.datetime(2026, 12, 7, 12, 0, 0, tzinfo=dt.UTC)


def entry(method: str, start_ms: float, end_ms: float) -> dict[str, Any]:
    """A log entry as the simulator writes it: ``time`` (end, millisecond resolution) and
    ``duration_ms``."""
    end = T0 + dt.timedelta(milliseconds=end_ms)
    stamp = end.replace(microsecond=end.microsecond // 1000 * 1000)
    return {"time": stamp.isoformat(timespec="milliseconds"), "method": method,
            "duration_ms": end_ms - start_ms, "host": "127.0.0.1", "params": [],
            "outcome": "success"}


def test_an_empty_log_has_no_round_trip() -> None:
    assert round_trips([]) == 0


def test_requests_one_after_another_are_one_round_trip_each() -> None:
    log = [entry("session.login_with_password", 0, 50), entry("network.create", 51, 101),
           entry("session.logout", 102, 152)]
    assert round_trips(log) == 3


def test_requests_in_flight_together_are_one_round_trip() -> None:
    fan_out = [entry(f"c{i}.get_all_records", 60 + i, 110 + i * 3) for i in range(13)]
    log = [entry("session.login_with_password", 0, 50), *fan_out,
           entry("session.logout", 200, 250)]
    found = groups(log)
    assert round_trips(log) == 3
    assert [len(g) for g in found] == [1, 13, 1]


def test_a_request_sent_after_an_answer_is_a_round_trip_even_if_another_was_in_flight() -> None:
    # c arrived after a's answer (it may have waited for it), while b was in flight: 2
    log = [entry("a", 0, 50), entry("b", 40, 90), entry("c", 80, 130)]
    assert round_trips(log) == 2
    assert [[e["method"] for e in g] for g in groups(log)] == [["a", "b"], ["c"]]


def test_a_long_request_beside_others_hides_none_of_their_round_trips() -> None:
    # a long-poll (or a slow read) in flight while two calls go one after the other
    log = [entry("long", 0, 200), entry("short1", 10, 60), entry("short2", 70, 120)]
    assert round_trips(log) == 2


def test_a_longer_request_logged_as_starting_a_little_early_does_not_swallow_earlier_ones() -> None:
    # millisecond truncation can put a long request's start just before the start of short
    # ones that were answered before it arrived; they are still round trips of their own
    log = [entry("a", 0.0, 0.012), entry("b", 0.988, 1.0), entry("slow", 1.1, 12.2)]
    assert round_trips(log) == 3


def test_the_logs_millisecond_resolution_does_not_join_calls_sent_one_after_another() -> None:
    # b left 0.3 ms after a's answer; the log's truncated clock shows them overlapping
    a, b = entry("a", 0.0, 50.0), entry("b", 50.3, 101.9)
    assert interval(b)[0] < interval(a)[1]
    assert round_trips([a, b]) == 2
    # a real overlap, longer than the slack, joins them
    assert round_trips([entry("a", 0, 50), entry("b", 45, 95)]) == 1
    assert round_trips([entry("a", 0, 50), entry("b", 45, 95)], slack_ms=10) == 2


def test_the_order_of_the_log_does_not_matter() -> None:
    log = [entry("login", 0, 50), *(entry(f"r{i}", 55, 105 + i) for i in range(5)),
           entry("write", 120, 170), entry("logout", 175, 225)]
    shuffled = list(log)
    random.Random(12).shuffle(shuffled)
    assert round_trips(shuffled) == round_trips(log) == 4


def test_a_real_log_of_sequential_calls_counts_each_call() -> None:
    sim = Simulator(scenario="seed")
    control = Control(sim)
    with xapictl.connect("http://127.0.0.1", password="xapictl",
                         transport=InProcessTransport(sim, control)) as conn:
        control.clear_log()
        for _ in range(4):
            conn.raw_call("pool.get_all")
        log = control.request_log()
    assert [e["method"] for e in log] == ["pool.get_all"] * 4
    assert round_trips(log) == len(groups(log)) == 4


def test_a_request_of_an_incomplete_batch_fails_the_count_and_the_grouping() -> None:
    log = [entry("a", 0, 50), {**entry("b", 60, 110), "batch": "1.2;n=2",
                               "batch_incomplete": True}]
    with pytest.raises(IncompleteBatch, match=r"batch 1\.2;n=2"):
        round_trips(log)
    with pytest.raises(IncompleteBatch):
        groups(log)


def test_the_batch_gate_is_switched_over_the_control_endpoint_too() -> None:
    control = Control(Simulator())
    assert control.handle({"action": "batch_gate", "enabled": True, "timeout_s": 5}) is None
    assert control.gate.enabled and control.gate.timeout == 5.0
    control.handle({"action": "batch_gate", "enabled": False})
    assert not control.gate.enabled and control.gate.timeout == DEFAULT_GATE_TIMEOUT
