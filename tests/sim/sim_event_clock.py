"""``event.from`` / ``event.next`` waits on a fake clock: each wait is recorded and advances
the clock by what was asked, so a test asserts how long the simulator *chose* to wait (its
logic), never how long the machine took (a loaded machine is slow, not wrong)."""

from __future__ import annotations

import types
from typing import Any

import pytest

from xapictl.sim.classes import event


def fake_event_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Patch the event module's clock and waits; return the list of waits it makes."""
    now = [1000.0]
    waits: list[float] = []

    def wait(_state: Any, seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(event, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(event, "_wait", wait)
    return waits


__all__ = ["fake_event_clock"]
