"""The local backend's only retry loop: fast first, bounded in total."""

from __future__ import annotations

import pytest

from xapictl.local import wait


@pytest.fixture
def slept(monkeypatch):
    naps: list[float] = []
    monkeypatch.setattr(wait.time, "sleep", naps.append)
    return naps


def test_retry_stops_at_the_first_good_result_and_starts_with_a_short_wait(slept):
    results = iter([["eth0 not forwarding"], ["eth0 not forwarding"], []])
    assert wait.retry_until(lambda: next(results), lambda found: not found) == []
    assert slept == [0.02, 0.04]


def test_retry_gives_up_after_its_budget_and_returns_the_last_result(slept):
    calls = []
    last = wait.retry_until(lambda: calls.append(1) or len(calls), lambda n: False)
    assert slept == [0.02, 0.04, 0.08, 0.16, 0.32, 0.4, 0.4, 0.4]
    assert 1.5 <= sum(slept) < 1.9 and last == len(calls) == 9
