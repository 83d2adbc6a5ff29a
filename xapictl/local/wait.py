"""The local backend's only waiting: bounded retries, lock polling and the dead-man timer.

Tests make every wait instant through ``set_speed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["retry_until", "set_speed", "sleep"]

T = TypeVar("T")
_speed = 1.0


def set_speed(factor: float) -> None:
    """Scale every wait (0 makes them instant); for tests."""
    global _speed
    _speed = factor


def sleep(seconds: float) -> None:
    time.sleep(max(0.0, seconds * _speed))


def retry_until(check: Callable[[], T], ok: Callable[[T], bool], *, attempts: int = 5,
                interval: float = 0.2) -> T:
    """Call ``check`` until ``ok(result)`` or attempts run out; return the last result.

    The kernel acknowledges before every change is visible (nmstate retries the same way)."""
    result = check()
    for _ in range(attempts - 1):
        if ok(result):
            break
        sleep(interval)
        result = check()
    return result
