"""Sessions follow the pool: HOST_IS_SLAVE, a master that moves or dies, expired sessions."""

from __future__ import annotations

from typing import Any

import pytest
from client_helpers import PASSWORD, host_at

import xapictl
from xapictl.errors import ConnectError
from xapictl.xapi.failures import SessionAuthenticationFailed
from xapictl.xapi.retry import RetryPolicy


def test_login_sets_originator_and_reads_api_version_once(conn: Any, sim: Any,
                                                           control: Any) -> None:
    sessions = sim.state.all("session")
    assert [s["originator"] for s in sessions.values()] == [f"xapictl/{xapictl.__version__}"]
    assert conn.api_version == (2, 21)
    conn.networks.get_all()
    conn.networks.get_all()
    assert control.methods_called().count("host.get_all_records") == 1


def test_connecting_to_a_member_follows_host_is_slave_keeping_scheme_and_port(
        transport: Any, protocol: str, control: Any) -> None:
    with xapictl.connect("http://127.0.0.2:8080", password=PASSWORD, transport=transport,
                         protocol=protocol) as conn:
        assert conn.url == "http://127.0.0.1:8080"
        assert conn.networks.get_all()
    hosts = [entry["host"] for entry in control.request_log()]
    assert hosts[0] == "127.0.0.2" and set(hosts[1:]) == {"127.0.0.1"}


def test_master_moved_while_connected_is_followed(conn: Any, sim: Any) -> None:
    before = len(conn.networks.get_all())
    sim.designate_master(host_at(sim, "127.0.0.2"))
    assert len(conn.networks.get_all()) == before
    assert conn.url.startswith("http://127.0.0.2")


def test_dead_master_fails_over_to_the_member_that_became_master(conn: Any, sim: Any) -> None:
    old, new = host_at(sim, "127.0.0.1"), host_at(sim, "127.0.0.3")
    sim.designate_master(new)
    sim.set_host_live(old, False)
    assert conn.pools.get_all()
    assert conn.url.startswith("http://127.0.0.3")


def test_dead_master_is_waited_for_until_a_member_is_designated(
        transport: Any, protocol: str, sim: Any) -> None:
    old, new = host_at(sim, "127.0.0.1"), host_at(sim, "127.0.0.2")
    pauses: list[float] = []

    def sleep(seconds: float) -> None:  # the third pause is when the pool elects a master
        pauses.append(seconds)
        if len(pauses) == 3:
            sim.designate_master(new)

    clock = iter(range(1000))
    retry = RetryPolicy(deadline=60, sleep=sleep, clock=lambda: float(next(clock)))
    with xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=transport,
                         protocol=protocol, retry=retry) as conn:
        sim.set_host_live(old, False)
        assert conn.networks.get_all()
        assert conn.url.startswith("http://127.0.0.2")
    assert len(pauses) == 3


def test_dead_master_without_a_successor_fails_at_the_deadline(conn: Any, sim: Any) -> None:
    sim.set_host_live(host_at(sim, "127.0.0.1"), False)
    with pytest.raises(ConnectError):
        conn.networks.get_all()


def test_expired_session_is_replaced_and_the_call_goes_through(conn: Any, sim: Any,
                                                                control: Any) -> None:
    first = conn.session.ref
    sim.expire_sessions()
    assert conn.networks.get_all()
    assert conn.session.ref != first
    assert control.methods_called().count("session.login_with_password") == 2


def test_wrong_password_is_a_typed_failure_and_leaves_no_session(
        transport: Any, protocol: str, sim: Any) -> None:
    with pytest.raises(SessionAuthenticationFailed) as caught:
        xapictl.connect("http://127.0.0.1", password="not-it", transport=transport,
                        protocol=protocol)
    assert caught.value.code == "SESSION_AUTHENTICATION_FAILED"
    assert sim.open_session_count() == 0


def test_session_is_logged_out_on_error_and_on_ctrl_c(transport: Any, protocol: str,
                                                     sim: Any) -> None:
    for interrupt in (RuntimeError("boom"), KeyboardInterrupt()):
        with (pytest.raises(type(interrupt)),
              xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=transport,
                              protocol=protocol)):
            assert sim.open_session_count() == 1
            raise interrupt
        assert sim.open_session_count() == 0
