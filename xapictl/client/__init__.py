"""Typed XAPI clients: ``connect()`` gives a ``Connection`` with one client per class.

See ``xapictl.client.connection`` for the facade and ``xapictl.client.base`` for what every
class client offers.
"""

from __future__ import annotations

from xapictl.client.base import ClassClient
from xapictl.client.connection import Connection, connect, connect_profile

__all__ = ["ClassClient", "Connection", "connect", "connect_profile"]
