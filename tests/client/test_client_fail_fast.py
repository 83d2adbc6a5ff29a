"""Fail fast, say why (issue 10, clause 4): a pool that refuses, does not resolve or has no
route is given one short retry at the login, then the error; counted in attempts and in the
waits the retry policy asked for, never in wall time."""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import xapictl
from xapictl.errors import ConnectError
from xapictl.xapi.retry import RetryPolicy


class Clocked:
    """A policy's fake clock and sleep: every wait is recorded, none is slept."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def policy(self, deadline: float = 30.0) -> RetryPolicy:
        return RetryPolicy(deadline=deadline, sleep=self.sleep, clock=lambda: self.now)


def _failing(cause: Callable[[], BaseException], sent: list[str]) -> httpx.MockTransport:
    """A transport whose every connection fails as the OS would (the OSError under
    httpx's ConnectError, as httpcore chains it)."""

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        try:
            raise cause()
        except OSError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc

    return httpx.MockTransport(handler)


CAUSES: dict[str, Callable[[], BaseException]] = {
    "refused": lambda: ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
    "unknown host": lambda: socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
    "no route": lambda: OSError(errno.EHOSTUNREACH, "No route to host"),
}


@pytest.mark.parametrize("kind", list(CAUSES))
def test_a_dead_pool_costs_two_attempts_and_one_short_wait(kind: str) -> None:
    clock = Clocked()
    sent: list[str] = []
    with pytest.raises(ConnectError) as caught:
        xapictl.connect("https://pool.invalid", password="x", retry=clock.policy(),
                        transport=_failing(CAUSES[kind], sent))
    assert caught.value.kind == kind
    assert len(sent) == 2  # one attempt and one short retry
    assert clock.waits == [0.5]  # within 3 s of the first attempt


def test_a_connect_timeout_is_retried_until_the_deadline() -> None:
    # A host that does not answer SYNs may come up: that one waits the whole --timeout.
    clock = Clocked()
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        raise httpx.ConnectTimeout("timed out", request=request)

    with pytest.raises(ConnectError) as caught:
        xapictl.connect("https://pool.invalid", password="x", retry=clock.policy(deadline=10),
                        transport=httpx.MockTransport(handler))
    assert caught.value.kind == "timeout"
    assert len(sent) > 2
    assert sum(clock.waits) == pytest.approx(10.0)  # the deadline, and not a wait more


def test_after_login_a_refusal_is_still_waited_out(sim: Any) -> None:
    # Once logged in, "refused" is a master restarting or moving: failover and the deadline
    # handle it, as before (only the first contact fails fast).
    from xapictl.sim.inprocess import InProcessTransport

    clock = Clocked()
    inner = InProcessTransport(sim)
    refusing = [False]
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if refusing[0]:
            sent.append(str(request.url))
            raise httpx.ConnectError("refused", request=request) from ConnectionRefusedError(
                errno.ECONNREFUSED, "Connection refused")
        return inner.handle_request(request)

    with xapictl.connect("http://127.0.0.1", password="xapictl", retry=clock.policy(5),
                         transport=httpx.MockTransport(handler)) as conn:
        refusing[0] = True
        with pytest.raises(ConnectError):
            conn.networks.get_all()
        refusing[0] = False
    assert len(sent) > 2 and sum(clock.waits) == pytest.approx(5.0)


def test_each_attempt_is_logged_as_it_happens(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="xapictl")
    clock = Clocked()
    with pytest.raises(ConnectError):
        xapictl.connect("https://pool.invalid", password="x", retry=clock.policy(),
                        transport=_failing(CAUSES["refused"], []))
    said = [r.getMessage() for r in caplog.records if r.name in ("xapictl.retry",
                                                                 "xapictl.session")]
    assert said == [
        "logging in to https://pool.invalid as root",
        "attempt 1 failed: cannot connect to https://pool.invalid ([Errno 111] Connection "
        "refused); next attempt in 0.5 s",
        "attempt 2 failed: cannot connect to https://pool.invalid ([Errno 111] Connection "
        "refused); giving up",
    ]
