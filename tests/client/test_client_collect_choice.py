"""``collect_once`` picks one ``event.from`` request or parallel reads by pool size, in one
place (``ONE_REQUEST_MAX_HOSTS``), without spending a request to learn the size; and the
login's two reads go out together on the process's kept threads, which are reused."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from client_helpers import PASSWORD

import xapictl
from xapictl.state import collect as collect_mod
from xapictl.state.snapshot import SNAPSHOT_CLASSES

READS = sorted(f"{c}.get_all_records" for c in SNAPSHOT_CLASSES)


def test_a_pool_up_to_the_threshold_is_read_in_one_request(conn: Any, control: Any,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    hosts = len(conn.session.members)
    assert hosts == 3  # the seed pool, sizes known from the login
    monkeypatch.setattr(collect_mod, "ONE_REQUEST_MAX_HOSTS", hosts)  # the boundary itself
    control.clear_log()
    snap = collect_mod.collect_once(conn)
    assert control.methods_called() == ["event.from"]
    assert len(snap.hosts) == hosts and snap.token


def test_a_pool_above_the_threshold_is_read_in_parallel(conn: Any, control: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    one = collect_mod.collect_once(conn)
    monkeypatch.setattr(collect_mod, "ONE_REQUEST_MAX_HOSTS", len(conn.session.members) - 1)
    control.clear_log()
    parallel = collect_mod.collect_once(conn)
    calls = control.methods_called()
    assert "event.from" not in calls
    assert sorted(c for c in calls if c != "event.inject") == READS
    assert calls[0] == "event.inject"  # the token, taken before the reads
    assert parallel.pifs == one.pifs and parallel.vms == one.vms and parallel.token


def test_the_default_threshold_reads_the_seed_pool_in_one_request() -> None:
    assert collect_mod.ONE_REQUEST_MAX_HOSTS >= 4  # bench_collect: one request wins there


def test_sequential_logins_reuse_the_kept_threads(transport: Any, control: Any) -> None:
    def kept() -> int:
        return sum(1 for t in threading.enumerate() if t.name.startswith("xapictl-shared"))

    with xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=transport):
        pass
    before = kept()
    assert before >= 1
    control.clear_log()
    for _ in range(20):
        with xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=transport):
            pass
    assert kept() == before  # each login found its thread idle again: none started
    assert control.methods_called().count("host.get_all_records") == 20


def test_a_failing_side_call_reaches_the_caller_and_the_thread_stays() -> None:
    from xapictl.xapi.parallel import run_beside

    def boom() -> int:
        raise SystemExit("side")

    with pytest.raises(SystemExit, match="side"):
        run_beside([lambda: 1, boom])
    assert run_beside([lambda: 1, lambda: 2]) == [1, 2]
