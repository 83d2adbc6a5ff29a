"""Bounded parallel calls from plain synchronous code.

XAPI calls spend their time waiting on the network, so threads over the pooled httpx client are
enough: ``run_all`` runs callables at most ``limit`` at a time and returns their results in
order (the first exception is raised once every call has finished, so no call is left running
behind the caller's back); ``run_each`` returns each result or exception instead, for work
across several pools where one pool failing must not hide the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

DEFAULT_LIMIT = 16


def run_each(calls: Sequence[Callable[[], T]], *, limit: int = DEFAULT_LIMIT
             ) -> list[T | BaseException]:
    """Run every call (at most ``limit`` at once); each result or the exception it raised."""
    if not calls:
        return []
    if len(calls) == 1 or limit <= 1:
        return [_capture(call) for call in calls]
    with ThreadPoolExecutor(max_workers=min(limit, len(calls)),
                            thread_name_prefix="xapictl-call") as pool:
        return list(pool.map(_capture, calls))


def run_all(calls: Sequence[Callable[[], T]], *, limit: int = DEFAULT_LIMIT) -> list[T]:
    """Run every call; the results in order, or the first exception (after all finished)."""
    results = run_each(calls, limit=limit)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]  # no exceptions left in it


def _capture(call: Callable[[], T]) -> T | BaseException:
    try:
        return call()
    except Exception as exc:  # handed back to the caller, who decides
        return exc


__all__ = ["DEFAULT_LIMIT", "run_all", "run_each"]
