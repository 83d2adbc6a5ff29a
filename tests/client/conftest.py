"""Fixtures for the client tests: the seed pool behind the real wire, over both protocols.

* ``control``: the simulator's control plane (latency, faults, request log) for ``sim``.
* ``protocol``: ``jsonrpc`` and ``xmlrpc`` — every test using ``conn`` runs once per protocol.
* ``transport``: the in-process door (real encoding and decoding, no sockets).
* ``fast_retry``: the client's retry policy with a fake clock: no test really waits.
* ``conn``: ``xapictl.connect`` to the seed pool's master, closed after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from client_helpers import PASSWORD

import xapictl
from xapictl.xapi.retry import RetryPolicy


@pytest.fixture
def control(sim: Any) -> Any:
    from xapictl.sim.control import Control

    return Control(sim)


@pytest.fixture(params=["jsonrpc", "xmlrpc"])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def transport(sim: Any, control: Any) -> Any:
    from xapictl.sim.inprocess import InProcessTransport

    return InProcessTransport(sim, control)


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return RetryPolicy.immediate()


@pytest.fixture
def conn(transport: Any, protocol: str, fast_retry: RetryPolicy) -> Iterator[Any]:
    with xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=transport,
                         protocol=protocol, retry=fast_retry) as connection:
        yield connection

