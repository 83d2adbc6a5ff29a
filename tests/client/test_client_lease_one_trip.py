"""Taking a free pool's lease in one round trip (issue 12): from the pool record a run just read
(``seen``), the add goes out with ``host.get_servertime`` beside it, and the read-back is the
caller's (``read_keys``). The guarantees stay: a held lease is judged on the master's clock,
and a first record written on a clock off the master's is corrected at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

import xapictl
from xapictl.client.lease import LEASE_PREFIX, LeaseHolder, PoolLease, is_lease_key
from xapictl.errors import PoolLocked
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer
from xapictl.xapi.retry import Pacer

PW = "xapictl"


@pytest.fixture
def conn() -> Iterator[Any]:
    sim = Simulator(password=PW)
    sim.reset(scenario="seed")
    with SimServer(sim) as srv, xapictl.connect(srv.url, password=PW) as c:
        yield c
    sim.close()


class Counting:
    """The connection as the lease sees it, every call recorded; ``ahead`` shifts the master's
    clock as ``host.get_servertime`` answers it."""

    def __init__(self, conn: Any, ahead: float = 0.0) -> None:
        self.conn, self.ahead, self.calls = conn, ahead, list[str]()
        self.session = conn.session
        self.added: list[LeaseHolder] = []

    def call(self, method: str, *args: Any) -> Any:
        self.calls.append(method)
        if method == "pool.add_to_other_config":
            self.added.append(LeaseHolder.from_value(args[2]))
        answer = self.conn.call(method, *args)
        if method == "host.get_servertime" and self.ahead:
            return (answer + dt.timedelta(seconds=self.ahead)).strftime("%Y%m%dT%H:%M:%SZ")
        return answer


def seen(conn: Any) -> dict[str, Any]:
    return dict(conn.call("pool.get_record", conn.pool_ref))


def keys(conn: Any) -> dict[str, str]:
    config = conn.call("pool.get_other_config", conn.pool_ref)
    return {k: v for k, v in config.items() if is_lease_key(k)}


def test_a_free_pool_is_taken_with_one_add_the_clock_beside_it_and_the_callers_read_back(
        conn: Any) -> None:
    counting = Counting(conn)
    read_backs = []

    def read_keys() -> Any:
        read_backs.append(1)
        return conn.call("pool.get_other_config", conn.pool_ref)

    pacer, _ = Pacer.manual()
    with PoolLease(counting, conn.pool_ref, pacer=pacer, background=False, seen=seen(conn),
                   read_keys=read_keys) as lease:
        assert sorted(counting.calls) == ["host.get_servertime", "pool.add_to_other_config"]
        assert read_backs == [1] and lease.generation == 1
        assert list(keys(conn)) == [f"{LEASE_PREFIX}1"]
    assert counting.calls[-1] == "pool.remove_from_other_config" and keys(conn) == {}


def test_a_first_record_on_a_clock_off_the_masters_is_renewed_at_once(conn: Any) -> None:
    counting = Counting(conn, ahead=3600.0)  # the master's clock is an hour ahead of ours
    pacer, _ = Pacer.manual()
    with PoolLease(counting, conn.pool_ref, pacer=pacer, background=False,
                   seen=seen(conn)) as lease:
        assert lease.generation == 2 and lease.renewals == 1
        record = LeaseHolder.from_value(keys(conn)[f"{LEASE_PREFIX}2"])
        assert record == lease.me == counting.added[1]
        # the first record said this machine's clock; the renewal the master's, an hour ahead
        assert 3000 < counting.added[1].renewed - counting.added[0].renewed < 4000
    assert keys(conn) == {}


def test_a_held_lease_seen_in_the_read_is_judged_on_the_masters_clock(conn: Any) -> None:
    """The master's clock is an hour behind this machine's: on this machine's clock the
    holder's record is an hour old, on the master's it is fresh. The master's clock is read
    before judging, and the pool stays locked."""
    pacer, _ = Pacer.manual()
    with PoolLease(Counting(conn, ahead=-3600.0), conn.pool_ref, pacer=pacer, background=False):
        waiter = Counting(conn, ahead=-3600.0)
        lease = PoolLease(waiter, conn.pool_ref, pacer=pacer, background=False, timeout=0,
                          seen=seen(conn))
        with pytest.raises(PoolLocked):
            lease.acquire()
        assert waiter.calls[0] == "host.get_servertime"
        assert "pool.add_to_other_config" not in waiter.calls
