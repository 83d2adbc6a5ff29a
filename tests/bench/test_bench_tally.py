"""What the benchmarks count from a request log (``benchdoc.Tally``), on synthetic logs of
writing runs: requests, the job's writes, the lease's requests and the round trips it adds
apart (``lease_trips``: by what each round trip carries). ``tests/plan/test_plan_round_trips.py``
holds the same attribution on a real run's log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from benchdoc import Tally, is_lease, lease_trips

from xapictl.sim.roundtrips import groups

T0 = dt.datetime(2026, 12, 7, 12, 0, 0, tzinfo=dt.UTC)


def entry(method: str, start_ms: float, end_ms: float, *params: Any) -> dict[str, Any]:
    end = T0 + dt.timedelta(milliseconds=end_ms)
    return {"time": end.isoformat(timespec="milliseconds"), "method": method,
            "duration_ms": end_ms - start_ms, "params": ["******", *params]}


def writing_run() -> list[dict[str, Any]]:
    return [
        entry("session.login_with_password", 0, 50),
        entry("event.inject", 55, 105),                                          # a read
        *(entry(f"{c}.get_all_records", 110, 160 + i) for i, c in
          enumerate(["pool", "host", "PIF", "network", "VLAN"])),
        entry("host.get_servertime", 170, 220),                                  # lease
        entry("pool.add_to_other_config", 225, 275, "OpaqueRef:p", "xapictl.lease.1", "{}"),
        entry("pool.get_other_config", 280, 330, "OpaqueRef:p"),                 # lease
        entry("network.create", 335, 385, {"name_label": "X"}),
        entry("pool.create_VLAN_from_PIF", 390, 440, "OpaqueRef:pif", "OpaqueRef:n", 905),
        entry("pool.add_to_other_config", 445, 495, "OpaqueRef:p", "owner", "me"),  # a write
        entry("pool.remove_from_other_config", 500, 550, "OpaqueRef:p", "xapictl.lease.1"),
        entry("session.logout", 555, 605),
    ]


def test_a_writing_run_is_counted_with_the_lease_apart() -> None:
    tally = Tally.of(writing_run())
    assert tally == Tally(requests=15, round_trips=11, writes=3, lease_requests=4,
                          lease_round_trips=4)


def test_a_lease_request_in_flight_with_the_job_costs_no_round_trip_of_its_own() -> None:
    log = [entry("session.login_with_password", 0, 50),
           entry("host.get_servertime", 55, 105), entry("pool.get_all_records", 55, 106),
           entry("session.logout", 110, 160)]
    tally = Tally.of(log)
    assert (tally.round_trips, tally.lease_requests, tally.lease_round_trips) == (3, 1, 0)


def test_only_lease_keys_make_other_config_calls_lease_calls() -> None:
    assert is_lease(entry("pool.add_to_other_config", 0, 1, "OpaqueRef:p", "xapictl.lease.7",
                          "{}"))
    assert not is_lease(entry("pool.add_to_other_config", 0, 1, "OpaqueRef:p", "xapictl.owner",
                              "x"))


def network_create() -> list[dict[str, Any]]:
    """The shape of ``network create --vlan`` under the lease (as the simulator logs it)."""
    return [
        entry("session.login_with_password", 0, 50),
        *(entry(f"{c}.get_all_records", 55, 105 + i) for i, c in
          enumerate(["pool", "host", "network", "session"])),
        entry("host.get_servertime", 110, 160), entry("event.inject", 110, 161),
        entry("pool.add_to_other_config", 110, 162, "OpaqueRef:p", "xapictl.lease.1", "{}"),
        *(entry(f"{c}.get_all_records", 165, 215 + i) for i, c in
          enumerate(["pool", "host", "network"])),                       # read under the lease
        entry("network.create", 220, 270, {"name_label": "X"}), entry("event.from", 220, 271),
        entry("pool.create_VLAN_from_PIF", 275, 325, "OpaqueRef:pif", "OpaqueRef:n", 905),
        entry("event.from", 330, 380),                                                 # verify
        entry("pool.remove_from_other_config", 330, 381, "OpaqueRef:p", "xapictl.lease.1"),
        entry("session.logout", 385, 435),
    ]


def test_the_lease_adds_its_take_and_the_read_under_it_and_its_release_rides_with_verify(
        ) -> None:
    log = network_create()
    assert lease_trips(groups(log)) == [2, 3]
    tally = Tally.of(log)
    assert (tally.round_trips, tally.lease_round_trips, tally.job_round_trips) == (8, 2, 6)
    assert (tally.writes, tally.lease_requests) == (2, 3)


def test_a_release_sent_alone_is_a_round_trip_of_the_lease() -> None:
    log = network_create()
    log[-2] = entry("pool.remove_from_other_config", 385, 435, "OpaqueRef:p", "xapictl.lease.1")
    log[-1] = entry("session.logout", 440, 490)
    assert lease_trips(groups(log)) == [2, 3, 7]


def test_without_a_lease_no_round_trip_is_the_lease_s() -> None:
    log = [e for e in network_create() if not is_lease(e)]  # the take's trip keeps its token
    tally = Tally.of(log)
    assert (tally.round_trips, tally.lease_round_trips) == (8, 0)  # the read after the token
    # is the job's own: only a take makes the next read-only round trip the lease's
