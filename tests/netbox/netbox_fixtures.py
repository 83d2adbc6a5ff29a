"""What the tests of tests/netbox share: the server they talk to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NetBoxServer:
    url: str
    token: str
