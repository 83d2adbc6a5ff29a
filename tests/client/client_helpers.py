"""Helpers shared by the client tests (a unique module name: test dirs are not packages)."""

from __future__ import annotations

from typing import Any

PASSWORD = "xapictl"


def host_at(sim: Any, address: str) -> str:
    """The host ref answering on ``address``."""
    return next(ref for ref, a in sim.host_addresses().items() if a == address)
