"""The same pool rules over real sockets (SimServer on 127.0.0.x), both protocols."""

from __future__ import annotations

import contextlib
import socket
import time
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


def test_read_timeout_retries_a_read_and_makes_a_write_outcome_unknown(sim_server: Any,
                                                                        protocol: str) -> None:
    with xapictl.connect(sim_server.url, password=PASSWORD, protocol=protocol,
                         retry=RetryPolicy.immediate(), timeout=0.3) as conn:
        control = sim_server.control
        control.inject_fault("network.get_all", "delay", delay_ms=1000, times=1)
        started = time.perf_counter()
        assert conn.networks.get_all()  # the second try answered before the first would
        assert 0.3 <= time.perf_counter() - started < 1.0
        control.inject_fault("network.create", "delay", delay_ms=1000, times=1)
        with pytest.raises(OutcomeUnknown) as caught:
            conn.networks.create(name_label="slow-write")
        assert "RequestTimeout" in str(caught.value)


def test_sequential_calls_reuse_one_kept_alive_connection(sim_server: Any, protocol: str,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    from httpcore._backends.sync import SyncBackend

    opened: list[str] = []
    connect_tcp = SyncBackend.connect_tcp

    def counting(self: Any, host: str, *args: Any, **kwargs: Any) -> Any:
        opened.append(host)
        return connect_tcp(self, host, *args, **kwargs)

    monkeypatch.setattr(SyncBackend, "connect_tcp", counting)
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
        full_backlog: str, protocol: str, deadline: float) -> None:
    connect_timeout = 0.3
    started = time.perf_counter()
    with pytest.raises(ConnectError) as caught:
        xapictl.connect(full_backlog, password=PASSWORD, protocol=protocol, timeout=30,
                        connect_timeout=connect_timeout,
                        retry=RetryPolicy(deadline=deadline, initial=0.05))
    elapsed = time.perf_counter() - started
    assert "cannot connect to http://127.0.0.1:" in str(caught.value)
    # Retried (nothing was sent) until the deadline; the last try ends its connect timeout.
    assert connect_timeout <= elapsed < deadline + connect_timeout + 0.7, elapsed


def test_a_host_that_never_answers_is_a_request_timeout_within_the_read_timeout(
        silent_server: str, protocol: str) -> None:
    started = time.perf_counter()
    with pytest.raises(RequestTimeout):
        xapictl.connect(silent_server, password=PASSWORD, protocol=protocol, timeout=0.3,
                        connect_timeout=5, retry=RetryPolicy(deadline=0.0))
    assert 0.3 <= time.perf_counter() - started < 1.0
