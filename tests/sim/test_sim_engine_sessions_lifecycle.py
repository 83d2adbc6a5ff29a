"""Sessions over their life (REFERENCE §1.8): idle expiry, root's password change, subject
logouts that never touch the superuser or the caller."""

from __future__ import annotations

import datetime as dt
import types
from pathlib import Path

import pytest
from sim_engine_pool import PASSWORD, SimPool, failure, make_sim, served, xenapi_login

from xapictl.sim.classes import session as sessions


class Clock:
    """Stands in for the ``time`` module the session code reads the wall clock from."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(sessions, "time", types.SimpleNamespace(time=fake.time))
    return fake


@pytest.fixture
def pool() -> SimPool:
    return make_sim()


def test_an_idle_session_ends_after_the_timeout_and_its_record_goes(
        pool: SimPool, clock: Clock) -> None:
    sim, _ = pool
    sim.session_timeout = 600
    s = sim.call("session.login_with_password", ["root", PASSWORD])
    clock.now += 599
    assert sim.call("pool.get_all", [s])
    clock.now += 601
    assert failure(sim.call, "pool.get_all", [s]) == ["SESSION_INVALID", s]
    assert sim.open_session_count() == 0


def test_every_call_counts_as_activity(pool: SimPool, clock: Clock) -> None:
    sim, _ = pool
    sim.session_timeout = 600
    s = sim.call("session.login_with_password", ["root", PASSWORD])
    for _ in range(5):  # 2,500 s in all, never 600 s idle
        clock.now += 500
        assert sim.call("pool.get_all", [s])
    assert sim.open_session_count() == 1


def test_the_default_timeout_is_xapis_24_hours(pool: SimPool, clock: Clock) -> None:
    sim, _ = pool
    assert sim.session_timeout == 24 * 3600
    s = sim.call("session.login_with_password", ["root", PASSWORD])
    clock.now += 24 * 3600 - 1
    assert sim.call("pool.get_all", [s])
    clock.now += 24 * 3600 + 1
    assert failure(sim.call, "pool.get_all", [s]) == ["SESSION_INVALID", s]


def test_a_session_reloaded_from_a_state_file_is_judged_by_its_last_active(
        tmp_path: Path) -> None:
    from xapictl.sim.engine import Simulator

    state = tmp_path / "pool.sqlite"
    sim, _ = make_sim(state_file=state)
    fresh = sim.call("session.login_with_password", ["root", PASSWORD])
    old = sim.call("session.login_with_password", ["root", PASSWORD])
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)
    sim.transact(lambda: sim.state.set_field("session", old, "last_active", long_ago))
    sim.close()
    again = Simulator(password=PASSWORD, state_file=state)
    try:
        assert again.call("pool.get_all", [fresh])
        assert failure(again.call, "pool.get_all", [old]) == ["SESSION_INVALID", old]
    finally:
        again.close()


def test_the_session_timeout_is_a_control(pool: SimPool, clock: Clock) -> None:
    sim, _ = pool
    with served(sim) as server:
        server.control.handle({"action": "session_timeout", "seconds": 30})
        assert sim.session_timeout == 30
        with pytest.raises(ValueError, match="positive"):
            server.control.set_session_timeout(0)
    s = sim.call("session.login_with_password", ["root", PASSWORD])
    clock.now += 31
    assert failure(sim.call, "pool.get_all", [s]) == ["SESSION_INVALID", s]


def test_root_changes_its_password_without_the_old_one_and_sessions_stay(
        pool: SimPool) -> None:
    sim, _ = pool
    s = sim.call("session.login_with_password", ["root", PASSWORD])
    assert sim.call("session.change_password", [s, "not-the-old-one", "n3w"]) is None
    assert sim.call("pool.get_all", [s])
    assert failure(sim.call, "session.login_with_password", ["root", PASSWORD]) == [
        "SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"]
    assert sim.call("session.login_with_password", ["root", "n3w"])
    # only root's password changed; the other users keep the shared one
    assert sim.call("session.login_with_password", ["alice", PASSWORD])


def test_change_password_is_for_the_local_superuser_only(pool: SimPool) -> None:
    sim, _ = pool
    alice = sim.call("session.login_with_password", ["alice", PASSWORD])  # pool-admin
    err = failure(sim.call, "session.change_password", [alice, PASSWORD, "mine"])
    assert err[:2] == ["RBAC_PERMISSION_DENIED", "session.change_password"]
    assert sim.call("session.login_with_password", ["root", PASSWORD])


def test_change_password_over_the_official_client_with_passwords_masked(
        pool: SimPool) -> None:
    sim, _ = pool
    with served(sim) as server:
        with xenapi_login(server.url) as session:
            session.xenapi.session.change_password(PASSWORD, "rotated")
        entry = next(e for e in server.control.request_log()
                     if e["method"] == "session.change_password")
        assert entry["params"][1:] == ["******", "******"] and entry["outcome"] == "success"
    assert sim.call("session.login_with_password", ["root", "rotated"])


def test_logout_subject_identifier_spares_the_superuser_and_the_caller(
        pool: SimPool) -> None:
    sim, _ = pool
    root = sim.call("session.login_with_password", ["root", PASSWORD])
    mine = sim.call("session.login_with_password", ["alice", PASSWORD])
    other = sim.call("session.login_with_password", ["rita", PASSWORD])
    for ref in (mine, other):
        sim.transact(lambda ref=ref: sim.state.set_field("session", ref, "auth_user_sid",
                                                         "S-1-5-21-7"))
    assert sim.call("session.get_all_subject_identifiers", [root]) == ["S-1-5-21-7"]
    sim.call("session.logout_subject_identifier", [mine, "S-1-5-21-7"])
    assert failure(sim.call, "pool.get_all", [other]) == ["SESSION_INVALID", other]
    assert sim.call("pool.get_all", [mine]) and sim.call("pool.get_all", [root])
    sim.call("session.logout_subject_identifier", [root, ""])  # root's own sid is ""
    assert sim.call("pool.get_all", [root])


def test_the_idle_clock_forgets_ended_sessions_but_never_a_live_one(
        pool: SimPool, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    sim, _ = pool
    monkeypatch.setattr(sessions, "SESSION_LIMIT", 3)
    sim.session_timeout = 600
    keeper = sim.call("session.login_with_password", ["root", PASSWORD, "1.0", "keeper"])
    clock.now += 500
    assert sim.call("pool.get_all", [keeper])  # last used now, logged in 500 s ago
    for _ in range(1100):  # a leaky client: the limit ends all but its newest 3
        sim.call("session.login_with_password", ["root", PASSWORD, "1.0", "leaky"])
    assert len(sim.accounts.last_use) <= 2 * sim.open_session_count() + 1025
    assert keeper in sim.accounts.last_use
    clock.now += 500  # 1,000 s after login, 500 s after its last use
    assert sim.call("pool.get_all", [keeper])
