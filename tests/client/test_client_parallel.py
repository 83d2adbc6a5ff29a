"""Bounded parallel calls: a connection's worker threads exist before its first batch is sent.

Threads started while a batch is going out stagger it (each start waits for the GIL that the
threads parsing answers hold), which showed up as an extra dependent round trip in the first
XML-RPC snapshot; these tests pin the fix.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from xapictl.xapi.parallel import WorkerPool

NAME = "test-pool-call"


def _pool_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith(NAME))


def test_the_threads_a_batch_needs_are_started_before_its_first_call_runs() -> None:
    pool = WorkerPool(6, name=NAME)
    try:
        # a batch of three: three threads, all running before any call (not the limit's six)
        assert pool.run_all([_pool_threads] * 3) == [3, 3, 3]
        # a larger batch starts the threads it lacks first; a smaller one reuses them
        assert pool.run_all([_pool_threads] * 5) == [5] * 5
        assert pool.run_all([_pool_threads] * 2) == [5, 5]
        # never more than the limit, however large the batch
        assert pool.run_all([_pool_threads] * 9) == [6] * 9
    finally:
        pool.close()
    assert _pool_threads() == 0


def test_a_batch_of_one_runs_on_the_callers_thread_and_starts_none() -> None:
    pool = WorkerPool(6, name=NAME)
    try:
        assert pool.run_all([lambda: threading.current_thread().name]) == [
            threading.current_thread().name]
        assert _pool_threads() == 0
    finally:
        pool.close()


def test_an_interrupt_inside_a_call_reaches_the_caller_and_the_workers_survive() -> None:
    pool = WorkerPool(2, name=NAME)

    def interrupted() -> int:
        raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            pool.run_all([interrupted, lambda: 1])
        assert pool.run_all([lambda: 1, lambda: 2]) == [1, 2]
        assert _pool_threads() == 2
    finally:
        pool.close()


def test_a_batch_is_in_flight_all_at_once_and_reuses_the_same_threads() -> None:
    pool = WorkerPool(8, name=NAME)
    try:
        for _ in range(3):
            gate = threading.Barrier(8, timeout=10)  # breaks unless all 8 run together
            names = pool.run_all([lambda g=gate: (g.wait(), threading.current_thread().name)[1]
                                  for _ in range(8)])
            assert len(set(names)) == 8
            assert _pool_threads() == 8
    finally:
        pool.close()
    assert _pool_threads() == 0


def test_results_keep_order_and_the_first_error_is_raised_after_all_finished() -> None:
    pool = WorkerPool(4, name=NAME)
    done: list[int] = []

    def ok(i: int) -> int:
        done.append(i)
        return i

    def boom() -> int:
        raise ValueError("planned")

    try:
        assert pool.run_all([lambda i=i: ok(i) for i in range(10)]) == list(range(10))
        done.clear()
        with pytest.raises(ValueError, match="planned"):
            pool.run_all([boom, *[lambda i=i: ok(i) for i in range(5)]])
        assert sorted(done) == list(range(5))
    finally:
        pool.close()


def test_a_batch_sent_from_inside_a_worker_does_not_deadlock() -> None:
    pool = WorkerPool(2, name=NAME)

    def nested() -> list[int]:
        return pool.run_all([lambda: 1, lambda: 2, lambda: 3])

    try:
        assert pool.run_all([nested, nested]) == [[1, 2, 3], [1, 2, 3]]
    finally:
        pool.close()


def test_a_closed_pool_still_runs_batches_on_threads_of_their_own() -> None:
    pool = WorkerPool(3, name=NAME)
    pool.run_all([lambda: 0, lambda: 0])
    pool.close()
    assert pool.run_all([lambda: 1, lambda: 2]) == [1, 2]
    assert _pool_threads() == 0


def test_closing_a_connection_stops_its_worker_threads(conn: Any) -> None:
    conn.snapshot()
    assert sum(1 for t in threading.enumerate() if t.name.startswith("xapictl-call")) >= 2
    conn.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("xapictl-call")]


def test_a_connection_never_has_more_calls_in_flight_than_its_parallel_limit(
        transport: Any, protocol: str, control: Any) -> None:
    from client_helpers import PASSWORD, InFlight

    import xapictl

    with xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=transport,
                         protocol=protocol, parallel=3) as conn:
        # held until 3 are in flight: a 4th would show in the peak
        control.before_call = counting = InFlight(control.before_call, 3, "network.get_all")
        conn.call_many([("network.get_all", ())] * 12)
    assert counting.peak == 3
