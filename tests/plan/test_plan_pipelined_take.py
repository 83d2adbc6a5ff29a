"""Over a real HTTP connection (the standard library's path, JSON-RPC), the write lease's add,
an event token and the pre-write read go back to back on one connection (HTTP pipelining,
``XapiSession.call_in_order``): XAPI serves them in that order, so the read is the lease's
read-back and is made under the lease, in one round trip instead of two. Counted from the
simulator's request log, never timed; the refusals and failures of that round trip keep the
lease's rules (never a lease left behind, never a write without it)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "recipes"))
from recipes_simpool import PASSWORD, SimPool

import xapictl
from xapictl.client.lease import LEASE_PREFIX, is_lease_call
from xapictl.errors import XapiFailure
from xapictl.plan.apply import converge
from xapictl.plan.backend import XapiBackend
from xapictl.recipes import ensure_vlan_network
from xapictl.sim.errors import SimFailure
from xapictl.sim.roundtrips import groups, round_trips
from xapictl.sim.server import SimServer

VLAN105 = ensure_vlan_network("VLAN 105", 105, device="eth1")
PRE_WRITE_READS = {"PIF.get_all_records_where", "VLAN.get_all_records_where",
                   "network.get_all_records", "host.get_all_records"}


@pytest.fixture
def served() -> Iterator[tuple[SimPool, str]]:
    pool = SimPool("big", {"hosts": 4, "nics": 2, "vms": 4, "vlans": 2, "vifs": 4})
    pool.control.set_latency(20.0)
    pool.control.set_batch_gate(True)
    with SimServer(pool.sim, control=pool.control) as server:
        yield pool, server.url


def run(pool: SimPool, url: str, *, closing: bool = False) -> Any:
    pool.clear()
    with xapictl.connect(url, password=PASSWORD, learn_pool_at_login=False) as conn:
        assert conn.pipelines
        return converge(VLAN105, XapiBackend(conn, closing=closing))


def sessions(pool: SimPool) -> int:
    return len(pool.sim.state.refs("session"))


def lease_keys(pool: SimPool) -> list[str]:
    state = pool.sim.state
    pool_ref = next(iter(state.refs("pool")))
    return [k for k in state.get("pool", pool_ref)["other_config"] if k.startswith(LEASE_PREFIX)]


def test_the_add_and_the_pre_write_read_take_one_round_trip(served: tuple[SimPool, str]) -> None:
    pool, url = served
    result = run(pool, url)
    assert result.replan is not None and result.replan.is_empty
    assert pool.writes() == ["network.create", "pool.create_VLAN_from_PIF"]
    log = pool.control.request_log()
    trips = [{e["method"] for e in trip} for trip in groups(log)]
    take = next(t for t in trips if "pool.add_to_other_config" in t)
    assert take >= PRE_WRITE_READS and "event.inject" in take
    pipelined = [e["method"] for e in log if e.get("pipelined")]
    assert "pool.add_to_other_config" not in pipelined  # it leads; the rest wait behind it
    assert set(pipelined) >= PRE_WRITE_READS
    # login, plan read, take + pre-write read, create (+ re-check), VLAN, verify + release,
    # logout: one fewer than without pipelining (tests/plan/test_plan_round_trips.py)
    assert round_trips(log) == 7
    assert lease_keys(pool) == []
    again = run(pool, url)
    assert again.plan.is_empty
    assert round_trips(pool.control.request_log()) == 3
    assert pool.writes() == []


def test_an_add_refused_by_a_racing_run_waits_and_takes_the_lease_after_it(
        served: tuple[SimPool, str]) -> None:
    pool, url = served
    pool.control.inject_fault("pool.add_to_other_config", "error",
                              error=["MAP_DUPLICATE_KEY", "(Map)", "xapictl.lease.1", "x"],
                              times=1)
    result = run(pool, url)
    assert result.replan is not None and result.replan.is_empty
    assert pool.writes() == ["network.create", "pool.create_VLAN_from_PIF"]
    adds = [e for e in pool.control.request_log() if e["method"] == "pool.add_to_other_config"]
    assert [e["outcome"] for e in adds] == ["MAP_DUPLICATE_KEY", "success"]
    assert lease_keys(pool) == []


def test_a_pre_write_read_that_fails_after_the_add_leaves_no_lease_and_writes_nothing(
        served: tuple[SimPool, str]) -> None:
    pool, url = served
    before_call = pool.control.before_call
    seen: list[str] = []

    def fail_the_read_back(host_address: str, method: str, **kw: Any) -> Any:
        if method == "pool.add_to_other_config":
            seen.append(method)
        elif seen and method == "VLAN.get_all_records_where":
            seen.append(method)  # the read-back, pipelined behind the add
            raise SimFailure("INTERNAL_ERROR", "injected")
        return before_call(host_address, method, **kw)

    pool.control.before_call = fail_the_read_back  # type: ignore[method-assign]
    with pytest.raises(XapiFailure, match="INTERNAL_ERROR"):
        run(pool, url)
    assert seen == ["pool.add_to_other_config", "VLAN.get_all_records_where"]
    assert pool.writes() == []
    assert lease_keys(pool) == []
    lease_calls = [e["method"] for e in pool.control.request_log()
                   if is_lease_call(e["method"], e["params"])]
    assert lease_calls == ["pool.add_to_other_config", "pool.remove_from_other_config"]


def test_a_closing_run_sends_verify_the_release_and_the_logout_in_one_round_trip(
        served: tuple[SimPool, str]) -> None:
    pool, url = served
    before = sessions(pool)
    result = run(pool, url, closing=True)
    assert result.replan is not None and result.replan.is_empty
    log = pool.control.request_log()
    trips = [{e["method"] for e in trip} for trip in groups(log)]
    assert trips[-1] == {"event.from", "pool.remove_from_other_config", "session.logout"}
    # login, plan read, take + pre-write read, create (+ re-check), VLAN, the last one:
    # the budget of 6 with the lease's requests riding along
    assert round_trips(log) == 6
    assert [e["method"] for e in log].count("session.logout") == 1
    assert lease_keys(pool) == [] and sessions(pool) == before


def test_a_token_refused_at_the_end_is_read_whole_in_a_new_session(
        served: tuple[SimPool, str]) -> None:
    pool, url = served
    before_call = pool.control.before_call
    froms: list[int] = []

    def refuse_the_last_event_from(host_address: str, method: str, **kw: Any) -> Any:
        if method == "event.from":
            froms.append(1)
            if len(froms) == 2:  # the first is step 2's re-check; the second verify's read
                raise SimFailure("EVENTS_LOST")
        return before_call(host_address, method, **kw)

    pool.control.before_call = refuse_the_last_event_from  # type: ignore[method-assign]
    before = sessions(pool)
    result = run(pool, url, closing=True)
    assert result.replan is not None and result.replan.is_empty
    methods = [e["method"] for e in pool.control.request_log()]
    assert methods.count("session.login_with_password") == 2  # verify read in a new session
    assert methods.count("session.logout") == 2
    assert lease_keys(pool) == [] and sessions(pool) == before


def test_a_lost_answer_at_the_end_sends_the_release_again_and_reads_whole(
        served: tuple[SimPool, str]) -> None:
    pool, url = served
    before_call = pool.control.before_call
    froms: list[int] = []

    def drop_the_last_event_from(host_address: str, method: str, **kw: Any) -> Any:
        if method == "event.from":
            froms.append(1)
            if len(froms) == 2:  # verify's: the release and the logout are behind it
                pool.control.inject_fault("event.from", "drop_after", times=1)
        return before_call(host_address, method, **kw)

    pool.control.before_call = drop_the_last_event_from  # type: ignore[method-assign]
    before = sessions(pool)
    result = run(pool, url, closing=True)
    assert result.replan is not None and result.replan.is_empty
    log = pool.control.request_log()
    assert [e["outcome"] for e in log if e["method"] == "pool.remove_from_other_config"] == [
        "success"]  # never run behind the drop, then sent again on its own
    assert lease_keys(pool) == [] and sessions(pool) == before
