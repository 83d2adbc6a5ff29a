"""``learn_pool_at_login=False`` (what the CLI uses): a login is one request, and the pool's
facts (its ref, the master, the members, the API version) travel beside the first call, so they
cost no dependent round trip; asking for one before any call reads them there and then. The
default still reads them right after the login (failover from the first call on)."""

from __future__ import annotations

from typing import Any

import pytest
from client_helpers import PASSWORD

import xapictl
from xapictl.errors import XapiFailure
from xapictl.sim.roundtrips import groups, round_trips

FACTS = {"pool.get_all_records", "host.get_all_records"}


def _open(transport: Any, protocol: str, **options: Any) -> Any:
    return xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=transport,
                           protocol=protocol, **options)


def test_the_facts_go_beside_the_first_call(transport: Any, control: Any, protocol: str
                                            ) -> None:
    control.set_latency(20.0)
    control.set_batch_gate(True)  # requests sent together overlap in the log, under any load
    with _open(transport, protocol, learn_pool_at_login=False) as conn:
        assert control.methods_called() == ["session.login_with_password"]
        conn.call("network.get_all")
        conn.call("PIF.get_all")  # the facts are read once
        assert len(conn.session.members) == 3
        assert conn.api_version == (2, 21) and conn.pool_ref.startswith("OpaqueRef:")
    log = control.request_log()
    assert sorted(e["method"] for e in log) == sorted([
        "session.login_with_password", "network.get_all", *FACTS, "PIF.get_all",
        "session.logout"])
    assert round_trips(log) == 4  # login, the first call with the facts, PIF.get_all, logout
    assert {e["method"] for e in groups(log)[1]} == {"network.get_all", *FACTS}


def test_a_fact_asked_for_before_any_call_is_read_then(transport: Any, control: Any,
                                                       protocol: str) -> None:
    with _open(transport, protocol, learn_pool_at_login=False) as conn:
        master = conn.session.master_ref
        assert master.startswith("OpaqueRef:")
        assert sorted(control.methods_called()) == sorted(
            ["session.login_with_password", *FACTS])
        conn.call("network.get_all")
        assert control.methods_called()[-1] == "network.get_all"  # not read again
        assert control.methods_called().count("host.get_all_records") == 1


def test_a_failed_read_of_the_facts_is_tried_again_and_the_call_stands(
        transport: Any, control: Any, protocol: str) -> None:
    control.inject_fault("host.get_all_records", "error", error=("INTERNAL_ERROR", "boom"),
                         times=1)
    with _open(transport, protocol, learn_pool_at_login=False) as conn:
        assert conn.call("network.get_all")  # its answer is not lost to the failed beside
        assert control.methods_called().count("host.get_all_records") == 1
        assert len(conn.session.members) == 3  # read again, now that it is asked for
        assert control.methods_called().count("host.get_all_records") == 2


def test_by_default_the_facts_are_read_at_login(transport: Any, control: Any,
                                                protocol: str) -> None:
    with _open(transport, protocol):
        assert sorted(control.methods_called()) == sorted(
            ["session.login_with_password", *FACTS])


def test_a_read_of_pool_and_host_serves_for_the_facts(transport: Any, control: Any,
                                                      protocol: str) -> None:
    with _open(transport, protocol, learn_pool_at_login=False) as conn:
        records, _ = conn.read_all_with_permissions(["pool", "host", "network"])
        assert conn.session.master_ref in records["host"]
        assert len(conn.session.members) == 3 and conn.api_version == (2, 21)
        assert conn.pool_ref in records["pool"]
    called = control.methods_called()
    assert called.count("pool.get_all_records") == called.count("host.get_all_records") == 1


def test_a_scoped_read_of_hosts_does_not_serve_for_the_facts(transport: Any, control: Any,
                                                             protocol: str) -> None:
    with _open(transport, protocol, learn_pool_at_login=False) as conn:
        conn.read_all_with_permissions(["pool", "host"],
                                       where={"host": 'field "enabled" = "true"'})
        assert len(conn.session.members) == 3  # the facts were read beside, whole
    called = control.methods_called()
    assert called.count("host.get_all_records") == 1
    assert called.count("host.get_all_records_where") == 1


def test_failed_reads_leave_the_facts_to_be_read_when_asked(transport: Any, control: Any,
                                                             protocol: str) -> None:
    control.inject_fault("host.get_all_records", "error", error=("INTERNAL_ERROR", "boom"),
                         times=1)
    with _open(transport, protocol, learn_pool_at_login=False) as conn:
        with pytest.raises(XapiFailure, match="INTERNAL_ERROR"):
            conn.read_all_with_permissions(["pool", "host"])
        assert len(conn.session.members) == 3  # read now, since it is asked for
    assert control.methods_called().count("host.get_all_records") == 2
