"""Messages (XAPI's alerts) and the message generation of event tokens (§1.13): the second
part of a token counts message changes, stays 0 unless ``message`` is subscribed, and
``message`` events are read against it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sim_engine_pool import SimPool, failure, make_sim, served, session_of, xenapi_login

from xapictl.sim.engine import Simulator


@pytest.fixture
def pool() -> SimPool:
    return make_sim()


def events_from(sim: Simulator, s: str, classes: list[str], token: str,
                timeout: float = 0.3) -> dict[str, Any]:
    result: dict[str, Any] = sim.call("event.from", [s, classes, token, timeout])
    return result


def parts(token: str) -> tuple[int, int]:
    db, msg = token.split(",")
    return int(db), int(msg)


def host_uuid(sim: Simulator, p: Any) -> str:
    return str(sim.transact(lambda: sim.state.get("host", p.hosts[1])["uuid"]))


def test_message_create_names_an_existing_object_and_is_readable(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        before = dt.datetime.now(dt.UTC).replace(microsecond=0)  # XAPI stamps whole seconds
        ref = sim.call("message.create", [s, "HOST_OFFLINE", "3", "Host", host_uuid(sim, p),
                                          "host1 is down"])
        after = dt.datetime.now(dt.UTC)
        record = sim.call("message.get_record", [s, ref])
        assert (record["name"], record["priority"], record["cls"], record["body"]) == (
            "HOST_OFFLINE", 3, "Host", "host1 is down")
        assert before <= record["timestamp"] <= after  # stamped when it was created
        assert failure(sim.call, "message.create", [s, "X", 1, "VM", "no-such-uuid", ""]) == [
            "UUID_INVALID", "VM", "no-such-uuid"]


def test_get_since_and_get_filter_by_time_and_object(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
        uuid = host_uuid(sim, p)
        ref = sim.call("message.create", [s, "HOST_OFFLINE", 3, "Host", uuid, ""])
        assert set(sim.call("message.get_since", [s, before])) == {ref}
        assert sim.call("message.get", [s, "Host", uuid, before]).keys() == {ref}
        assert sim.call("message.get", [s, "Host", "other", before]) == {}
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
        assert sim.call("message.get_since", [s, later]) == {}


def test_destroy_and_destroy_many_remove_messages(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        uuid = host_uuid(sim, p)
        a, b = (sim.call("message.create", [s, n, 1, "Host", uuid, ""]) for n in "ab")
        sim.call("message.destroy", [s, a])
        assert failure(sim.call, "message.destroy", [s, a]) == ["HANDLE_INVALID", "message", a]
        sim.call("message.destroy_many", [s, [b, a]])
        assert sim.call("message.get_all", [s]) == [p.message]


def test_only_pool_operators_and_up_create_messages(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim, "vera") as s:  # vm-admin
        err = failure(sim.call, "message.create", [s, "X", 1, "Host", host_uuid(sim, p), ""])
        assert err[:2] == ["RBAC_PERMISSION_DENIED", "message.create"]


def test_the_message_generation_is_zero_unless_message_is_subscribed(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        token = events_from(sim, s, ["host"], "")["token"]
        assert parts(token)[1] == 0
        sim.call("message.create", [s, "X", 1, "Host", host_uuid(sim, p), ""])
        assert events_from(sim, s, ["host"], token)["token"] == token  # nothing for host
        with_messages = events_from(sim, s, ["host", "message"], "")["token"]
        assert parts(with_messages)[1] > 0


def test_message_events_are_read_against_the_message_generation(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        token = events_from(sim, s, ["message", "host"], "")["token"]
        db, msg = parts(token)
        ref = sim.call("message.create", [s, "X", 1, "Host", host_uuid(sim, p), "b"])
        batch = events_from(sim, s, ["message", "host"], token)
        assert [(e["class"], e["operation"], e["ref"]) for e in batch["events"]] == [
            ("message", "add", ref)]
        assert batch["events"][0]["snapshot"]["body"] == "b"
        new_db, new_msg = parts(batch["token"])
        assert new_db == db and new_msg > msg  # only the message part moved
        sim.call("host.add_tags", [s, p.hosts[0], "x"])
        sim.call("message.destroy", [s, ref])
        batch = events_from(sim, s, ["message", "host"], batch["token"])
        ops = [(e["class"], e["operation"]) for e in batch["events"]]
        assert ops == [("host", "mod"), ("message", "del")]
        assert "snapshot" not in batch["events"][1]
        assert parts(batch["token"])[0] > new_db and parts(batch["token"])[1] > new_msg


def test_a_token_with_an_old_message_part_replays_only_messages(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        start = events_from(sim, s, ["message", "host"], "")["token"]
        ref = sim.call("message.create", [s, "X", 1, "Host", host_uuid(sim, p), ""])
        sim.call("host.add_tags", [s, p.hosts[0], "x"])
        now = events_from(sim, s, ["message", "host"], start)["token"]
        db_now, _ = parts(now)
        mixed = f"{db_now:020d},{parts(start)[1]:020d}"  # host part current, message part old
        batch = events_from(sim, s, ["message", "host"], mixed)
        assert [(e["class"], e["ref"]) for e in batch["events"]] == [("message", ref)]


def test_the_official_client_creates_a_message_and_waits_for_it(pool: SimPool) -> None:
    sim, p = pool
    with served(sim) as server, xenapi_login(server.url) as session:
        token = session.xenapi.event_from(["message"], "", 0.1)["token"]
        ref = session.xenapi.message.create("HOST_OFFLINE", "3", "Host", host_uuid(sim, p), "x")
        batch = session.xenapi.event_from(["message"], token, 5.0)
        assert [(e["operation"], e["ref"]) for e in batch["events"]] == [("add", ref)]
        assert batch["events"][0]["snapshot"]["priority"] == "3"  # an int, as XML-RPC text
