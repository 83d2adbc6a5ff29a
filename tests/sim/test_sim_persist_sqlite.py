"""Persistence (SQLite): the state survives restarts with exact values, another simulator on
the same file sees each commit, and concurrent processes do not lose or corrupt writes."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
import threading
from pathlib import Path

from sim_engine_pool import PASSWORD, build_pool, failure, persist_writer

from xapictl.sim.engine import Simulator
from xapictl.sim.persist import decode, encode


def persisted(path: Path) -> Simulator:
    return Simulator(password=PASSWORD, state_file=path)


def test_values_round_trip_through_the_encoding() -> None:
    value = {"when": dt.datetime(2024, 1, 31, 12, 34, 56, tzinfo=dt.UTC),
             "ints": {1: 0.5, 2: 1.5}, "set": ["b", "a"], "$odd": {"$dt": "x"}}
    assert decode(encode(value)) == value


def test_state_survives_a_restart_with_refs_sessions_and_datetimes(tmp_path: Path) -> None:
    path = tmp_path / "pool.db"
    first = persisted(path)
    pool = first.transact(lambda: build_pool(first.state))
    s = first.call("session.login_with_password", ["root", PASSWORD])
    first.call("SR.add_to_other_config", [s, pool.sr, "k", "v"])
    before = first.call("session.get_record", [s, s])
    generation = first.state.generation
    first.close()

    second = persisted(path)
    assert second.state.generation == generation
    assert second.call("session.get_record", [s, s]) == before
    assert isinstance(before["last_active"], dt.datetime)
    assert second.call("SR.get_other_config", [s, pool.sr])["k"] == "v"
    assert second.call("VDI.get_virtual_size", [s, pool.vdi]) == 10 << 30
    assert second.master_address() == "127.0.0.1"
    second.call("session.logout", [s])
    second.close()
    third = persisted(path)
    assert failure(third.call, "SR.get_all", [s]) == ["SESSION_INVALID", s]
    third.close()


def test_a_second_simulator_on_the_file_sees_every_commit(tmp_path: Path) -> None:
    path = tmp_path / "pool.db"
    a, b = persisted(path), persisted(path)
    pool = a.transact(lambda: build_pool(a.state))
    s = b.call("session.login_with_password", ["root", PASSWORD])
    assert b.call("SR.get_all", [s]) == [pool.sr]
    a_session = a.call("session.login_with_password", ["root", PASSWORD])
    a.call("VDI.destroy", [a_session, pool.vdi])
    assert b.call("VDI.get_all", [s]) == []
    assert b.open_session_count() == 2
    a.close()
    b.close()


def test_reset_rewrites_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "pool.db"
    a = persisted(path)
    a.transact(lambda: build_pool(a.state))
    a.reset()
    a.close()
    b = persisted(path)
    assert b.open_session_count() == 0
    assert b.host_addresses() == {}
    b.close()


def test_concurrent_processes_do_not_lose_or_corrupt_writes(tmp_path: Path) -> None:
    path = tmp_path / "pool.db"
    seed = persisted(path)
    seed.transact(lambda: build_pool(seed.state))
    seed.close()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as workers:
        done = workers.starmap(persist_writer, [(str(path), "p1", 15), (str(path), "p2", 15)])
    assert done == [15, 15]
    check = persisted(path)
    s = check.call("session.login_with_password", ["root", PASSWORD])
    names = {r["name_label"] for r in check.call("VM_appliance.get_all_records", [s]).values()}
    assert names == {f"p{n}-{i}" for n in (1, 2) for i in range(15)}
    (vdi,) = check.call("VDI.get_all", [s])
    assert len(check.call("VDI.get_tags", [s, vdi])) == 32  # 30 added + the 2 from the pool
    assert check.open_session_count() == 1
    check.close()
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()


def test_event_from_sees_writes_of_another_simulator_on_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pool.db"
    watcher, writer = persisted(path), persisted(path)
    pool = watcher.transact(lambda: build_pool(watcher.state))
    s = watcher.call("session.login_with_password", ["root", PASSWORD])
    token = watcher.call("event.from", [s, ["sr", "vdi"], "", 0.1])["token"]
    w = writer.call("session.login_with_password", ["root", PASSWORD])
    writer.call("SR.add_tags", [w, pool.sr, "from-elsewhere"])
    writer.call("VDI.destroy", [w, pool.vdi])
    batch = watcher.call("event.from", [s, ["sr", "vdi"], token, 10.0])
    seen = {(e["class"], e["operation"], e["ref"]) for e in batch["events"]}
    assert seen == {("sr", "mod", pool.sr), ("vdi", "del", pool.vdi)}
    sr = next(e for e in batch["events"] if e["class"] == "sr")
    assert sr["snapshot"]["tags"] == ["from-elsewhere"]

    # A watcher already blocked picks up a later write by polling the file.
    def write_later() -> None:
        threading.Event().wait(0.3)
        writer.call("SR.add_tags", [w, pool.sr, "later"])
    late = threading.Thread(target=write_later)
    late.start()
    batch = watcher.call("event.from", [s, ["sr"], batch["token"], 10.0])
    late.join()
    assert [e["snapshot"]["tags"] for e in batch["events"]] == [["later", "from-elsewhere"]]
    watcher.close()
    writer.close()
