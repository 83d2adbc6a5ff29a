"""Sessions follow the pool: HOST_IS_SLAVE, a master that moves or dies, expired sessions."""

from __future__ import annotations

import contextlib
import re
import threading
from typing import Any

import httpx
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


class ChainTransport(httpx.BaseTransport):
    """Counts dependent round trips by order, not time: a call's depth is one more than the
    deepest call whose answer was back before it was sent. ``meet`` calls hold their answers
    until all of them have arrived (or ``patience`` runs out), so sending them one after the
    other shows as a deeper chain instead of depending on a race."""

    def __init__(self, inner: httpx.BaseTransport, meet: tuple[str, ...],
                 patience: float = 2.0) -> None:
        self.inner = inner
        self.depths: list[tuple[str, int]] = []
        self._answered: list[int] = []
        self._lock = threading.Lock()
        self._gate = threading.Barrier(len(meet), timeout=patience)
        self._meet = meet

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        found = (re.search(rb"<methodName>([^<]+)</methodName>", request.read())
                 or re.search(rb'"method":\s*"([^"]+)"', request.read()))
        method = found.group(1).decode() if found else "?"
        with self._lock:
            depth = 1 + max(self._answered, default=0)
        if method in self._meet:
            # A broken gate: the other one never came while this one waited (a chain).
            with contextlib.suppress(threading.BrokenBarrierError):
                self._gate.wait()
        response = self.inner.handle_request(request)
        with self._lock:
            self.depths.append((method, depth))
            self._answered.append(depth)
        return response


def test_a_login_is_two_dependent_round_trips(transport: Any, protocol: str,
                                              control: Any) -> None:
    control.set_latency(20)
    chain = ChainTransport(transport, ("pool.get_all_records", "host.get_all_records"))
    with xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=chain,
                         protocol=protocol) as conn:
        assert conn.api_version == (2, 21)
        assert conn.session.members == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
        login = dict(chain.depths)
    assert login == {"session.login_with_password": 1, "pool.get_all_records": 2,
                     "host.get_all_records": 2}


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
