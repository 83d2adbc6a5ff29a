"""``XapiSession.call_in_order``: calls sent back to back on one connection (HTTP
pipelining), answered in order in one round trip, each failure kept with its call; and what
the pipeline could not complete goes again the way ``call`` sends it (a read re-sent, a
lost write ``OutcomeUnknown``, an expired session renewed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import xapictl
from xapictl.errors import OutcomeUnknown, XapiFailure
from xapictl.sim.control import Control
from xapictl.sim.engine import Simulator
from xapictl.sim.roundtrips import round_trips
from xapictl.sim.server import SimServer


@pytest.fixture
def served() -> Iterator[tuple[Control, Any]]:
    sim = Simulator(scenario="seed")
    control = Control(sim)
    control.set_latency(20.0)  # keeps the spans of the log apart (roundtrips' resolution)
    with SimServer(sim, control=control) as server, \
            xapictl.connect(server.url, password="xapictl") as conn:
        conn.session.login()
        control.clear_log()
        yield control, conn


def methods(control: Control) -> list[str]:
    return [str(e["method"]) for e in control.request_log()]


def test_calls_in_order_take_one_round_trip_and_keep_each_failure(
        served: tuple[Control, Any]) -> None:
    control, conn = served
    assert conn.pipelines
    pool = conn.raw_call("pool.get_all")[0]
    control.clear_log()
    answers = conn.session.call_in_order([
        ("pool.add_to_other_config", (pool, "pipelined", "1")),
        ("network.get_record", ("OpaqueRef:nothing",)),
        ("pool.get_other_config", (pool,))])
    assert answers[0] in (None, "")
    assert isinstance(answers[1], XapiFailure) and answers[1].code == "HANDLE_INVALID"
    assert answers[2]["pipelined"] == "1"  # served after the add
    assert methods(control) == ["pool.add_to_other_config", "network.get_record",
                                "pool.get_other_config"]
    assert round_trips(control.request_log()) == 1


def test_a_read_whose_answer_was_lost_is_sent_again(served: tuple[Control, Any]) -> None:
    control, conn = served
    control.inject_fault("pool.get_all", "drop_after", times=1)
    answers = conn.session.call_in_order([("pool.get_all", ()), ("host.get_all", ())])
    assert len(answers[0]) == 1 and len(answers[1]) >= 1
    assert methods(control).count("pool.get_all") == 2
    assert methods(control).count("host.get_all") == 1  # behind the drop: never read


def test_a_write_behind_a_lost_answer_is_an_unknown_outcome(
        served: tuple[Control, Any]) -> None:
    control, conn = served
    control.inject_fault("pool.get_all", "drop_after", times=1)
    with pytest.raises(OutcomeUnknown, match=r"network\.create"):
        conn.session.call_in_order([
            ("pool.get_all", ()),
            ("network.create", ({"name_label": "maybe", "other_config": {}},))])
    assert "network.create" not in methods(control)  # never re-sent blindly


def test_an_expired_session_is_renewed_and_the_calls_sent_again(
        served: tuple[Control, Any]) -> None:
    control, conn = served
    stale = conn.session.login()
    control.sim.call("session.logout", [stale], host_address=control.sim.master_address())
    answers = conn.session.call_in_order([("pool.get_all", ()), ("host.get_all", ())])
    assert len(answers[0]) == 1 and answers[1]
    assert conn.session.login() != stale
    assert methods(control).count("session.login_with_password") == 1


def test_an_xapi_without_json_rpc_reads_in_parallel_not_one_by_one() -> None:
    sim = Simulator(scenario="seed")
    control = Control(sim)
    control.set_latency(20.0)
    control.set_batch_gate(True)
    control.set_jsonrpc(False)
    with SimServer(sim, control=control) as server, \
            xapictl.connect(server.url, password="xapictl") as conn:
        records = conn.read_all(["pool", "host", "network", "PIF"])
        assert conn.session.protocol == "xmlrpc" and not conn.pipelines
        assert all(records.values())
        log = control.request_log()
    assert not any(e.get("pipelined") for e in log)
    # JSON-RPC refused, the XML-RPC login, the pool's facts read after it, the reads at once
    assert round_trips(log) == 4


def test_the_logins_read_of_the_pools_facts_is_pipelined() -> None:
    sim = Simulator(scenario="seed")
    control = Control(sim)
    control.set_latency(20.0)
    with SimServer(sim, control=control) as server, \
            xapictl.connect(server.url, password="xapictl") as conn:
        assert len(conn.session.members) == 3 and conn.session.master_ref
        log = control.request_log()
    assert [(e["method"], e.get("pipelined", False)) for e in log] == [
        ("session.login_with_password", False), ("pool.get_all_records", False),
        ("host.get_all_records", True)]
    assert round_trips(log) == 2
