"""The same pool rules over real sockets (SimServer on 127.0.0.x), both protocols."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from client_helpers import PASSWORD, host_at

import xapictl
from xapictl.errors import ConnectError, OutcomeUnknown, RequestTimeout
from xapictl.xapi.retry import RetryPolicy


def _connect(url: str, protocol: str) -> Any:
    return xapictl.connect(url, password=PASSWORD, protocol=protocol,
                           retry=RetryPolicy.immediate(), timeout=10)


def test_member_url_failover_and_lost_write_over_sockets(sim_server: Any, sim: Any,
                                                         protocol: str) -> None:
    member = sim_server.url.replace("127.0.0.1", "127.0.0.3")
    with _connect(member, protocol) as conn:
        assert conn.url == sim_server.url  # HOST_IS_SLAVE followed, port kept
        assert conn.session.members == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]

        sim_server.control.inject_fault("network.create", "drop_after", times=1)
        with pytest.raises(OutcomeUnknown):
            conn.networks.create(name_label="lost-answer")
        assert len(conn.networks.get_by_name_label("lost-answer")) == 1

        sim.designate_master(host_at(sim, "127.0.0.2"))
        sim.set_host_live(host_at(sim, "127.0.0.1"), False)
        assert conn.networks.get_all()
        assert conn.url == sim_server.url.replace("127.0.0.1", "127.0.0.2")
    assert sim.open_session_count() == 0


def test_official_xenapi_and_xapictl_see_the_same_networks(sim_server: Any,
                                                           xenapi_session: Any) -> None:
    theirs = xenapi_session.xenapi.network.get_all_records()
    with _connect(sim_server.url, "jsonrpc") as conn:
        ours = conn.call("network.get_all_records")
    assert set(theirs) == set(ours)
    for ref, record in theirs.items():
        assert int(record["MTU"]) == ours[ref]["MTU"]


class Counted:
    """A RetryPolicy on a fake clock that counts what it is asked to do: each retry is one
    sleep; each connect attempt (``socket.create_connection``, which httpx and http.client
    both use) is recorded with its timeout and moves the fake clock on by that timeout."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, **policy: Any) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.connects: list[float | None] = []
        self.policy = RetryPolicy(sleep=self._sleep, clock=lambda: self.now, **policy)
        real = socket.create_connection

        def create_connection(address: Any, timeout: Any = None, *args: Any, **kw: Any) -> Any:
            self.connects.append(timeout)
            try:
                return real(address, timeout, *args, **kw)
            finally:
                self.now += timeout if isinstance(timeout, int | float) else 0.0

        monkeypatch.setattr(socket, "create_connection", create_connection)

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_read_timeout_retries_a_read_and_makes_a_write_outcome_unknown(
        sim_server: Any, protocol: str, monkeypatch: pytest.MonkeyPatch) -> None:
    counted = Counted(monkeypatch)
    with xapictl.connect(sim_server.url, password=PASSWORD, protocol=protocol,
                         retry=counted.policy, timeout=0.3) as conn:
        control = sim_server.control
        control.inject_fault("network.get_all", "delay", delay_ms=1000, times=1)
        assert conn.networks.get_all()  # the second try answered before the first would
        assert len(counted.sleeps) == 1  # exactly one retry: the read timed out once
        control.inject_fault("network.create", "delay", delay_ms=1000, times=1)
        with pytest.raises(OutcomeUnknown) as caught:
            conn.networks.create(name_label="slow-write")
        assert "RequestTimeout" in str(caught.value)
        assert len(counted.sleeps) == 1  # and the write was never re-sent


def test_sequential_calls_reuse_one_kept_alive_connection(sim_server: Any, protocol: str,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    from xapictl.xapi.http11 import Http11Pool, Origin

    opened: list[str] = []
    connect = Http11Pool._connect

    def counting(self: Http11Pool, origin: Origin) -> Any:
        opened.append(origin.host)
        return connect(self, origin)

    monkeypatch.setattr(Http11Pool, "_connect", counting)
    with _connect(sim_server.url, protocol) as conn:
        # The login's two pool reads go together, so they may need a second connection.
        assert opened in (["127.0.0.1"], ["127.0.0.1", "127.0.0.1"])
        opened.clear()
        for _ in range(30):
            conn.networks.get_all()
        conn.call("pool.get_all")
    assert opened == []  # 31 calls and the logout: on the connections the login opened


@pytest.fixture
def full_backlog() -> Iterator[str]:
    """A loopback listener that never accepts, its backlog filled: new connects get no
    answer at all (the kernel drops their SYNs), as a host that is up but stuck."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    with pytest.raises(TimeoutError):  # the precondition: a plain connect times out too
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for sock in [*fillers, listener]:
            sock.close()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback listener whose connections are made (by the kernel) but never answered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


@pytest.mark.parametrize("deadline", [0.0, 1.0])
def test_a_host_that_accepts_nothing_is_a_connect_error_within_the_timeouts(
        full_backlog: str, protocol: str, deadline: float,
        monkeypatch: pytest.MonkeyPatch) -> None:
    connect_timeout = 0.3
    counted = Counted(monkeypatch, deadline=deadline, initial=0.05)
    with pytest.raises(ConnectError) as caught:
        xapictl.connect(full_backlog, password=PASSWORD, protocol=protocol, timeout=30,
                        connect_timeout=connect_timeout, retry=counted.policy)
    assert "cannot connect to http://127.0.0.1:" in str(caught.value)
    # Each try waits the connect timeout, not the 30 s one; retried (nothing was sent) while
    # the deadline allows, on the policy's clock: no new try starts after it.
    assert counted.connects and set(counted.connects) == {connect_timeout}
    if deadline == 0.0:
        assert len(counted.connects) == 1 and counted.sleeps == []
    else:
        assert len(counted.connects) >= 2
        assert len(counted.connects) * connect_timeout + sum(counted.sleeps) <= (
            deadline + connect_timeout)


def test_a_host_that_never_answers_is_a_request_timeout_within_the_read_timeout(
        silent_server: str, protocol: str, monkeypatch: pytest.MonkeyPatch) -> None:
    counted = Counted(monkeypatch, deadline=0.0)
    with pytest.raises(RequestTimeout) as caught:
        xapictl.connect(silent_server, password=PASSWORD, protocol=protocol, timeout=0.3,
                        connect_timeout=5, retry=counted.policy)
    # one connection (made at once), one request, no retry: the read timeout ended it
    assert len(counted.connects) == 1 and counted.sleeps == []
    assert str(caught.value) == f"no answer from {silent_server} in time"


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.2.11", True), ("::1", True), ("[::1]", True),
    ("::ffff:127.0.2.11", True), ("::ffff:7f00:20b", True), ("localhost", True),
    ("::ffff:192.0.2.11", False), ("192.0.2.11", False), ("2001:db8::1", False),
    ("xcp-host-01", False)])
def test_ipv4_mapped_loopback_addresses_are_loopback(host: str, loopback: bool) -> None:
    """``::ffff:127.x.y.z`` travels over IPv4 loopback: this machine (Python 3.13's
    ``is_loopback`` agrees); the simulator serves it, and a client on loopback probes it."""
    from xapictl.sim.classes.host import is_loopback
    from xapictl.xapi.endpoint import crosses_network_in_clear, is_loopback_address

    assert is_loopback_address(host) is loopback
    bare = host.strip("[]")
    url = f"http://[{bare}]:80" if ":" in bare else f"http://{bare}:80"
    assert crosses_network_in_clear(url) is not loopback
    if host not in ("localhost", "xcp-host-01", "[::1]"):
        assert is_loopback(host) is loopback
