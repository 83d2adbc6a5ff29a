"""The retry policy: what is a read, what is retried, backoff inside a deadline, no real sleep."""

from __future__ import annotations

import pytest

from xapictl.errors import ConnectError, RequestTimeout, TLSError
from xapictl.xapi.failures import failure_from
from xapictl.xapi.retry import RetryPolicy, is_read, retryable
from xapictl.xapi.transport import ConnectionLost


@pytest.mark.parametrize("method", ["network.get_all_records", "VM.get_record", "pool.get_all",
                                    "event.from", "VIF.get_by_uuid", "host.get_API_version_major"])
def test_getters_and_event_calls_are_reads(method: str) -> None:
    assert is_read(method)


@pytest.mark.parametrize("method", ["VLAN.create", "Async.VLAN.create", "network.set_MTU",
                                    "VIF.plug", "pool.create_VLAN_from_PIF", "task.cancel"])
def test_everything_else_is_a_write(method: str) -> None:
    assert not is_read(method)


def test_classification() -> None:
    assert retryable(ConnectError("x"), read=False)
    assert not retryable(TLSError("x"), read=True)
    assert retryable(RequestTimeout("x"), read=True)
    assert not retryable(RequestTimeout("x"), read=False)
    assert retryable(ConnectionLost("x"), read=True)
    assert not retryable(ConnectionLost("x"), read=False)
    assert retryable(failure_from(["OTHER_OPERATION_IN_PROGRESS"]), read=False)
    assert not retryable(failure_from(["HANDLE_INVALID", "VM", "x"]), read=True)


def test_backoff_grows_is_capped_and_stops_at_the_deadline() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    policy = RetryPolicy(deadline=10.0, initial=0.5, maximum=2.0, sleep=sleep,
                         clock=lambda: now[0])
    attempts = [0]

    def refuse() -> None:
        attempts[0] += 1
        raise ConnectError("refused")

    with pytest.raises(ConnectError):
        policy.run(refuse, read=True)
    assert waits[0] < waits[2] and max(waits) <= 2.0 + 0.5
    assert now[0] <= 10.0 + 1e-9
    assert attempts[0] == len(waits) + 1


def test_a_success_after_failures_returns_its_value() -> None:
    policy = RetryPolicy.immediate()
    tries = iter([ConnectError("a"), ConnectError("b"), None])

    def flaky() -> str:
        exc = next(tries)
        if exc:
            raise exc
        return "ok"

    assert policy.run(flaky, read=False) == "ok"


def test_a_followers_backoff_doubles_to_its_cap_is_stoppable_and_resets() -> None:
    import threading

    from xapictl.xapi.retry import Backoff

    class Stop(threading.Event):
        """Set already; records how long each wait would have been."""

        def __init__(self) -> None:
            super().__init__()
            self.asked: list[float] = []
            self.set()

        def wait(self, timeout: float | None = None) -> bool:
            self.asked.append(timeout or 0.0)
            return super().wait(0)

    stop, backoff = Stop(), Backoff(initial=0.5, maximum=3.0)
    assert all(backoff.wait(stop) for _ in range(5))
    backoff.reset()
    backoff.wait(stop)
    assert stop.asked == [0.5, 1.0, 2.0, 3.0, 3.0, 0.5]
