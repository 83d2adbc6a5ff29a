"""Lost connections and transient errors: retried when safe, never a blind re-send of a write."""

from __future__ import annotations

from typing import Any

import pytest
from client_helpers import PASSWORD, host_at

import xapictl
from xapictl.errors import OutcomeUnknown
from xapictl.xapi.failures import HandleInvalid, OtherOperationInProgress
from xapictl.xapi.retry import RetryPolicy


def _networks_named(sim: Any, name: str) -> int:
    return sum(1 for n in sim.state.all("network").values() if n["name_label"] == name)


def test_a_write_refused_before_it_was_sent_is_sent_again(transport: Any, protocol: str,
                                                         sim: Any, control: Any) -> None:
    master = host_at(sim, "127.0.0.1")
    pauses: list[float] = []

    def sleep(seconds: float) -> None:  # the master comes back after one refused attempt
        pauses.append(seconds)
        sim.set_host_live(master, True)

    retry = RetryPolicy(deadline=30, sleep=sleep)
    with xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=transport,
                         protocol=protocol, retry=retry) as conn:
        conn.session.members = []  # no failover: wait for this master
        sim.set_host_live(master, False)
        ref = conn.networks.create(name_label="retry-me")
        assert conn.networks.get_record(ref).name_label == "retry-me"
    assert len(pauses) == 1
    assert _networks_named(sim, "retry-me") == 1
    assert control.methods_called().count("network.create") == 1


def test_a_write_dropped_by_the_server_is_outcome_unknown_even_if_nothing_happened(
        conn: Any, sim: Any, control: Any) -> None:
    # The client cannot tell "dropped before processing" from "dropped after": both are a
    # connection closed with no answer, so the write is never re-sent blindly.
    control.inject_fault("network.create", "drop_before", times=1)
    with pytest.raises(OutcomeUnknown):
        conn.networks.create(name_label="never")
    assert _networks_named(sim, "never") == 0
    assert control.methods_called().count("network.create") == 1


def test_a_write_whose_answer_was_lost_raises_outcome_unknown_and_is_not_resent(
        conn: Any, sim: Any, control: Any) -> None:
    control.inject_fault("network.create", "drop_after", times=1)
    with pytest.raises(OutcomeUnknown) as caught:
        conn.networks.create(name_label="maybe")
    assert caught.value.method == "network.create"
    assert "may or may not" in str(caught.value)
    assert _networks_named(sim, "maybe") == 1  # it did happen, exactly once
    assert control.methods_called().count("network.create") == 1


def test_a_read_whose_answer_was_lost_is_retried(conn: Any, control: Any) -> None:
    control.inject_fault("network.get_all_records", "drop_after", times=2)
    assert conn.networks.get_all_records()
    assert control.methods_called().count("network.get_all_records") == 3


def test_an_async_write_whose_answer_was_lost_is_outcome_unknown(conn: Any,
                                                                 control: Any) -> None:
    control.inject_fault("Async.network.create", "drop_after", times=1)
    with pytest.raises(OutcomeUnknown):
        conn.call_async("network.create", {"name_label": "a", "other_config": {}})


def test_a_transient_xapi_error_is_retried_even_for_a_write(conn: Any, sim: Any,
                                                            control: Any) -> None:
    control.inject_fault("network.create", "error", times=2,
                         error=("OTHER_OPERATION_IN_PROGRESS", "network", "x", "{}", "{}"))
    conn.networks.create(name_label="after-busy")
    assert _networks_named(sim, "after-busy") == 1


def test_a_transient_error_that_persists_surfaces_typed_at_the_deadline(conn: Any,
                                                                       control: Any) -> None:
    control.inject_fault("network.get_all", "error",
                         error=("OTHER_OPERATION_IN_PROGRESS", "network", "x", "{}", "{}"))
    with pytest.raises(OtherOperationInProgress):
        conn.networks.get_all()


def test_a_definite_xapi_error_is_not_retried(conn: Any, control: Any) -> None:
    with pytest.raises(HandleInvalid) as caught:
        conn.networks.get_record("OpaqueRef:nope")
    assert caught.value.params == ["network", "OpaqueRef:nope"]
    assert control.methods_called().count("network.get_record") == 1


def _creates(control: Any) -> list[str]:
    """The host each ``network.create`` request reached, in order."""
    return [e["host"] for e in control.request_log() if e["method"] == "network.create"]


def test_a_write_to_a_dead_master_is_sent_once_to_the_new_master(conn: Any, sim: Any,
                                                                 control: Any) -> None:
    # Refused by the dead master, so never received there: the failover sends it on.
    sim.designate_master(host_at(sim, "127.0.0.3"))
    sim.set_host_live(host_at(sim, "127.0.0.1"), False)
    ref = conn.networks.create(name_label="after-failover")
    assert conn.networks.get_record(ref).name_label == "after-failover"
    assert conn.url.startswith("http://127.0.0.3")
    assert _creates(control) == ["127.0.0.3"]
    assert _networks_named(sim, "after-failover") == 1


def test_a_write_whose_master_dies_before_answering_is_outcome_unknown_not_resent(
        conn: Any, sim: Any, control: Any) -> None:
    # The master commits the write, then dies (and a member takes over) before its answer
    # is out: the client cannot know, so it must not send the write to the new master.
    record = control.record

    def master_dies_after_the_write(**entry: Any) -> None:
        record(**entry)
        if entry["method"] == "network.create":
            sim.designate_master(host_at(sim, "127.0.0.2"))
            sim.set_host_live(host_at(sim, "127.0.0.1"), False)

    control.record = master_dies_after_the_write
    control.inject_fault("network.create", "drop_after", times=1)
    with pytest.raises(OutcomeUnknown) as caught:
        conn.networks.create(name_label="died-mid-write")
    assert caught.value.method == "network.create"
    assert _creates(control) == ["127.0.0.1"]
    assert len(conn.networks.get_by_name_label("died-mid-write")) == 1  # re-read: it happened
    assert conn.url.startswith("http://127.0.0.2")
    assert _creates(control) == ["127.0.0.1"]


def test_injected_latency_is_paid_once_per_call(conn: Any, control: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    latency, calls = 0.1, 4
    waits: list[float] = []
    monkeypatch.setattr(control, "_sleep", waits.append)  # what the pool made us wait
    control.set_latency(latency * 1000)
    control.clear_log()
    for _ in range(calls):
        conn.networks.get_all()
    assert len(control.request_log()) == calls  # one request per call: no hidden round trip
    assert waits == [pytest.approx(latency)] * calls  # so the latency is paid once per call


def test_a_login_whose_pool_reads_fail_once_opens_only_one_session(
        transport: Any, protocol: str, sim: Any, control: Any) -> None:
    control.inject_fault("host.get_all_records", "drop_after", times=1)
    with xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=transport,
                         protocol=protocol, retry=RetryPolicy.immediate()) as conn:
        assert conn.api_version == (2, 21)
        assert sim.open_session_count() == 1
    assert control.methods_called().count("session.login_with_password") == 1
