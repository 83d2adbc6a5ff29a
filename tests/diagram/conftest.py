"""Fixtures of the diagram tests (the pools are in diagram_pools)."""

from __future__ import annotations

from typing import Any

import pytest
from diagram_pools import build_rich


@pytest.fixture
def rich(sim: Any) -> Any:
    build_rich(sim)
    return sim
