"""What the benchmarks count from a request log (``benchdoc.Tally``), on a synthetic log of a
writing run: requests, the job's writes, the lease's requests and round trips apart."""

from __future__ import annotations

import datetime as dt
from typing import Any

from benchdoc import Tally, is_lease

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
