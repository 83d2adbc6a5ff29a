"""Fixtures of the inventory tests."""

from __future__ import annotations

import pytest
from inventory_pool_builder import PoolBuilder, seed_pool


@pytest.fixture
def pool_builder() -> PoolBuilder:
    return seed_pool()
