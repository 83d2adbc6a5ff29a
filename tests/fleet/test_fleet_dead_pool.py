"""One dead pool costs a fleet run one short retry, not the whole deadline (issue 10, clause
4): the other pools are read, the dead one fails after two attempts and one 0.5 s wait."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from xapictl.fleet.connect import PoolConnector
from xapictl.fleet.each import for_each_pool
from xapictl.fleet.fleetfile import FleetPool
from xapictl.xapi.credentials import PasswordSource
from xapictl.xapi.retry import RetryPolicy


def test_a_dead_pool_among_live_ones_fails_after_one_short_retry(
        sim_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = threading.Lock()
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # recorded, not slept
        with lock:
            waits.append(seconds)

    credentials = PasswordSource.parse("env:FLEET_PW")
    pools = [FleetPool("live", url=sim_server.url, credentials=credentials),
             FleetPool("dead", url="http://127.0.0.1:1", credentials=credentials)]
    monkeypatch.setenv("FLEET_PW", "xapictl")
    # The fake clock advances by the waits asked for: a policy that retried until the
    # deadline would show 30 s of waits here, not hang.
    connector = PoolConnector(retry=RetryPolicy(sleep=sleep, clock=lambda: sum(waits)))
    results = for_each_pool(pools, connector, lambda pool, conn: len(conn.hosts.get_all()))
    assert results.results == {"live": 3}
    assert list(results.errors) == ["dead"]
    assert "cannot connect to http://127.0.0.1:1" in results.errors["dead"]
    assert waits == [0.5]  # the dead pool's one retry; the live pool never waited
