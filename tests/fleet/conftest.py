"""Fixtures of the fleet tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fleet_sim_pools import SimFleet, make_fleet


@pytest.fixture
def sim_fleet(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimFleet]:
    yield from make_fleet(6, monkeypatch)
