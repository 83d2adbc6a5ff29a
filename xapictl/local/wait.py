"""The local backend's only waiting: bounded retries, lock polling and the dead-man timer.

Tests make every wait instant through ``set_speed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # imported where a retry runs: the vif hotplug's start-up is kept lean
    import tenacity

__all__ = ["retry_until", "set_speed", "sleep"]

T = TypeVar("T")
_speed = 1.0


def set_speed(factor: float) -> None:
    """Scale every wait (0 makes them instant); for tests."""
    global _speed
    _speed = factor


def sleep(seconds: float) -> None:
    time.sleep(max(0.0, seconds * _speed))


def retry_until(check: Callable[[], T], ok: Callable[[T], bool], *, first: float = 0.02,
                cap: float = 0.4, budget: float = 1.5) -> T:
    """Call ``check`` until ``ok(result)`` or about ``budget`` s of waiting are spent; return
    the last result.

    The kernel acknowledges before every change is visible (nmstate retries the same way).
    Waits double from ``first`` up to ``cap``: a new bridge port usually forwards within tens
    of milliseconds, so a fixed 200 ms step would make every vif attach pay for it. The loop
    is tenacity's, as every retry of xapictl is."""
    import tenacity

    def last(state: tenacity.RetryCallState) -> T:
        if state.outcome is None:  # pragma: no cover - tenacity calls this after an attempt
            raise RuntimeError("retry_until: no attempt was made")
        result: T = state.outcome.result()
        return result

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_result(lambda result: not ok(result)),
        wait=tenacity.wait_exponential(multiplier=first, max=cap),
        stop=lambda state: state.idle_for >= budget,  # waits spent, not the clock's time
        sleep=sleep, retry_error_callback=last)
    return retrying(check)
