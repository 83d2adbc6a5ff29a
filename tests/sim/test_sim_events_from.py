"""event.from (§1.13): token format and errors, coalescing per object, del without snapshot,
per-object and case-insensitive subscriptions, timeouts, inject, valid_ref_counts, blocking
without stalling other calls, and the legacy register/next."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
import XenAPI
from sim_engine_pool import PASSWORD, SimPool, failure, make_sim, served, session_of
from sim_event_clock import fake_event_clock

from xapictl.sim.engine import Simulator
from xapictl.sim.values import I4

TOKEN = re.compile(r"^\d{20},\d{20}$")


@pytest.fixture
def pool() -> SimPool:
    return make_sim()


def events_from(sim: Simulator, s: str, classes: list[str], token: str,
                timeout: float = 0.5) -> dict[str, Any]:
    result: dict[str, Any] = sim.call("event.from", [s, classes, token, timeout])
    return result


def summary(batch: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(e["class"], e["operation"], e["ref"]) for e in batch["events"]]


def test_empty_token_reports_every_object_as_add_with_its_record(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        batch = events_from(sim, s, ["host", "SR"], "")
        assert TOKEN.match(batch["token"])
        adds = {(e["class"], e["ref"]) for e in batch["events"] if e["operation"] == "add"}
        assert adds == {("host", h) for h in p.hosts} | {("sr", p.sr)}
        sr_event = next(e for e in batch["events"] if e["ref"] == p.sr)
        assert sr_event["snapshot"] == sim.call("SR.get_record", [s, p.sr])
        assert sr_event["timestamp"] == "0.0"


def test_changes_of_one_object_coalesce_into_one_mod(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        token = events_from(sim, s, ["sr"], "")["token"]
        sim.call("SR.add_tags", [s, p.sr, "one"])
        sim.call("SR.add_tags", [s, p.sr, "two"])
        batch = events_from(sim, s, ["sr"], token)
        assert summary(batch) == [("sr", "mod", p.sr)]
        assert batch["events"][0]["snapshot"]["tags"] == ["two", "one"]
        assert batch["token"] > token


def test_object_created_after_the_token_is_one_add_even_when_modified(pool: SimPool) -> None:
    sim, _ = pool
    with session_of(sim) as s:
        token = events_from(sim, s, ["vm_appliance"], "")["token"]
        ref = sim.call("VM_appliance.create", [s, {"name_label": "a"}])
        sim.call("VM_appliance.set_name_label", [s, ref, "b"])
        batch = events_from(sim, s, ["vm_appliance"], token)
        assert summary(batch) == [("vm_appliance", "add", ref)]
        assert batch["events"][0]["snapshot"]["name_label"] == "b"


def test_created_and_deleted_in_the_window_is_nothing_and_keeps_the_token(
        pool: SimPool) -> None:
    sim, _ = pool
    with session_of(sim) as s:
        token = events_from(sim, s, ["vm_appliance"], "")["token"]
        ref = sim.call("VM_appliance.create", [s, {"name_label": "a"}])
        sim.call("VM_appliance.destroy", [s, ref])
        batch = events_from(sim, s, ["vm_appliance"], token, 0.2)
        assert batch["events"] == []
        assert batch["token"] == token


def test_deleting_an_older_object_is_a_del_without_snapshot(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        token = events_from(sim, s, ["vdi"], "")["token"]
        sim.call("VDI.destroy", [s, p.vdi])
        batch = events_from(sim, s, ["vdi"], token)
        assert summary(batch) == [("vdi", "del", p.vdi)]
        assert "snapshot" not in batch["events"][0]


def test_relation_changes_are_mods_of_the_other_side(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        token = events_from(sim, s, ["sr"], "")["token"]
        sim.call("VDI.destroy", [s, p.vdi])
        batch = events_from(sim, s, ["sr"], token)
        assert summary(batch) == [("sr", "mod", p.sr)]
        assert batch["events"][0]["snapshot"]["VDIs"] == []


def test_per_object_subscriptions_and_case_insensitive_class_names(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        token = events_from(sim, s, ["*"], "")["token"]
        sim.call("host.set_name_label", [s, p.hosts[1], "one"])
        sim.call("host.set_name_label", [s, p.hosts[2], "two"])
        only = events_from(sim, s, [f"host/{p.hosts[2]}"], token)
        assert summary(only) == [("host", "mod", p.hosts[2])]
        mixed = events_from(sim, s, ["HOST"], token)
        assert {e["ref"] for e in mixed["events"]} == {p.hosts[1], p.hosts[2]}
        assert events_from(sim, s, ["no_such_class"], token, 0.1)["events"] == []


def test_timeout_returns_no_events_after_waiting_the_timeout(
        pool: SimPool, monkeypatch: pytest.MonkeyPatch) -> None:
    sim, _ = pool
    with session_of(sim) as s:
        token = events_from(sim, s, ["sr"], "")["token"]
        waits = fake_event_clock(monkeypatch)
        batch = events_from(sim, s, ["sr"], token, 0.3)
        assert batch["events"] == [] and batch["token"] == token
        assert sum(waits) == pytest.approx(0.3)  # waited the whole timeout, then answered


# xapi_event.ml Token.of_string: two comma-separated parts, each Int64.of_string.
@pytest.mark.parametrize("token", ["123", "00000000000000000001", "x,y", "1,2,3", " 1,0",
                                   "1 ,0", "_1,0", "0x,0", "1,", ",0", "9223372036854775808,0",
                                   "0x10000000000000000,0"])
def test_malformed_tokens_are_token_parse_failures(pool: SimPool, token: str) -> None:
    sim, _ = pool
    with session_of(sim) as s:
        assert failure(sim.call, "event.from", [s, ["*"], token, 0.1]) == [
            "EVENT_FROM_TOKEN_PARSE_FAILURE", token]


@pytest.mark.parametrize("token", ["1,0", "00000000000000000001,0000000000000000000",
                                   "0x1,0", "0o1,0b0", "+1,-0", "0_1,0_0", "1_,0"])
def test_tokens_are_read_as_ocaml_reads_int64(pool: SimPool, token: str) -> None:
    """Short, prefixed, signed and ``_``-separated numbers are all generation 1."""
    sim, _ = pool
    with session_of(sim) as s:
        batch = events_from(sim, s, ["sr"], token, 0.0)
        canonical = events_from(sim, s, ["sr"], "00000000000000000001,00000000000000000000",
                                0.0)
        assert batch["events"] == canonical["events"]


def test_inject_touches_the_object_and_returns_a_token(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        token = events_from(sim, s, ["pool"], "")["token"]
        generation = sim.call("event.get_current_id", [s])
        injected = sim.call("event.inject", [s, "pool", p.pool])
        # xapi_event.ml inject: (the generation before the touch - 1, 0)
        assert injected == f"{generation - 1:020d},{0:020d}"
        assert summary(events_from(sim, s, ["pool"], token)) == [("pool", "mod", p.pool)]
        assert ("pool", "mod", p.pool) in summary(events_from(sim, s, ["pool"], injected))
        assert failure(sim.call, "event.inject", [s, "pool", "OpaqueRef:nope"]) == [
            "HANDLE_INVALID", "pool", "OpaqueRef:nope"]
        assert isinstance(sim.call("event.get_current_id", [s]), int)


@pytest.mark.parametrize("spelling", ["sr", "Sr", "POOL"])
def test_inject_wants_the_class_as_the_datamodel_spells_it(pool: SimPool, spelling: str) -> None:
    """xapi_event.ml inject compares the ref's table name with ``_class`` as sent."""
    sim, p = pool
    ref = p.sr if spelling.lower() == "sr" else p.pool
    with session_of(sim) as s:
        assert failure(sim.call, "event.inject", [s, spelling, ref]) == [
            "HANDLE_INVALID", spelling, ref]
        assert TOKEN.match(sim.call("event.inject", [s, "SR", p.sr]))
        assert failure(sim.call, "event.inject", [s, "SR", p.pool]) == [
            "HANDLE_INVALID", "SR", p.pool]


def test_valid_ref_counts_cover_every_table_as_i4(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        counts = events_from(sim, s, ["sr"], "")["valid_ref_counts"]
        assert counts["host"] == len(p.hosts) and isinstance(counts["host"], I4)
        assert counts["vm"] == 0 and counts["session"] == 1
        assert all(name == name.lower() for name in counts)


def test_a_blocked_event_from_does_not_stall_other_calls(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        token = events_from(sim, s, ["sr"], "")["token"]
        got: list[dict[str, Any]] = []
        waiter = threading.Thread(target=lambda: got.append(
            events_from(sim, s, ["sr"], token, 20.0)))
        waiter.start()
        sim.call("host.get_all", [s])
        sim.call("SR.add_tags", [s, p.sr, "wake"])
        waiter.join(10)
        assert not waiter.is_alive()
        assert summary(got[0]) == [("sr", "mod", p.sr)]


def test_logout_while_waiting_is_session_invalid(pool: SimPool) -> None:
    sim, _ = pool
    s = sim.call("session.login_with_password", ["root", PASSWORD])
    token = events_from(sim, s, ["sr"], "")["token"]
    errors: list[list[str]] = []
    waiter = threading.Thread(target=lambda: errors.append(
        failure(sim.call, "event.from", [s, ["sr"], token, 20.0])))
    waiter.start()
    waiter.join(0.2)  # give the waiter time to block (it fails the same way if it has not)
    other = sim.call("session.login_with_password", ["root", PASSWORD])
    sim.call("session.logout", [s])
    waiter.join(10)
    assert errors == [["SESSION_INVALID", s]]
    sim.call("session.logout", [other])


def test_legacy_next_needs_register_and_then_returns_changes(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        err = failure(sim.call, "event.next", [s])
        assert err[0] == "SESSION_NOT_REGISTERED" and err[1].startswith("trackid=")
        sim.call("event.register", [s, ["sr"]])
        sim.call("SR.add_tags", [s, p.sr, "x"])
        events = sim.call("event.next", [s])
        assert [(e["class"], e["operation"]) for e in events] == [("sr", "mod")]
        sim.call("event.unregister", [s, ["sr"]])


def test_event_from_over_the_official_client(pool: SimPool) -> None:
    sim, p = pool
    with served(sim) as server, XenAPI.Session(server.url) as xen:
        xen.login_with_password("root", PASSWORD, "1.0", "tests")
        event_from = getattr(xen.xenapi.event, "from")
        first = event_from(["sr"], "", 1.0)
        assert first["valid_ref_counts"]["host"] == 3
        xen.xenapi.SR.set_tags(p.sr, ["z"])
        batch = event_from(["sr"], first["token"], 5.0)
        assert [e["operation"] for e in batch["events"]] == ["mod"]
        assert batch["events"][0]["snapshot"]["tags"] == ["z"]
        xen.xenapi.session.logout()


def test_valid_ref_counts_go_out_as_i4_in_raw_xmlrpc(pool: SimPool) -> None:
    import httpx

    sim, _ = pool
    with served(sim) as server, session_of(sim) as s:
        body = ("<?xml version='1.0'?><methodCall><methodName>event.from</methodName><params>"
                f"<param><value>{s}</value></param>"
                "<param><value><array><data><value>pool</value></data></array></value></param>"
                "<param><value></value></param>"
                "<param><value><double>1</double></value></param></params></methodCall>")
        reply = httpx.post(server.url + "/", content=body,
                           headers={"Content-Type": "text/xml"}, timeout=10)
        text = reply.text
        assert "<name>host</name><value><i4>3</i4></value>" in text
        assert "<name>Status</name><value>Success</value>" in text
