"""One engine-pool simulator, served on loopback, driven over every wire a client can use.

``wire`` is parametrised over the official ``XenAPI.Session`` on ``/``, on ``/RPC2`` and on the
unix socket (``XenAPI.UDSTransport``), and raw JSON-RPC v1 and v2 with httpx. ``wire(method,
*params)`` sends exactly the given parameters (no session is added) and returns the result as
that protocol delivers it (over XML-RPC ints are strings); a failure raises ``WireFailure``
holding the error list *as received* (not converted), so tests can pin the exact rendering.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sim_engine_pool import PASSWORD, Pool, make_sim

from xapictl.sim.engine import Simulator

PROTOCOLS = ("xmlrpc /", "xmlrpc /RPC2", "xmlrpc unix", "jsonrpc v1", "jsonrpc v2")


class WireFailure(Exception):
    def __init__(self, description: list[Any]) -> None:
        super().__init__(*description)
        self.description = description


@dataclass
class Wire:
    protocol: str
    sim: Simulator
    pool: Pool
    send: Callable[[str, list[Any]], Any]

    def __call__(self, method: str, *params: Any) -> Any:
        return self.send(method, list(params))

    def fails(self, method: str, *params: Any) -> list[Any]:
        with pytest.raises(WireFailure) as caught:
            self.send(method, list(params))
        return caught.value.description

    def login(self, user: str = "root") -> str:
        if self.trusted and user != "root":
            # Every login on the unix socket is the trusted local root (XAPI's preauth), so a
            # session with a role is opened off this wire; the calls under test still use it.
            return str(self.sim.call("session.login_with_password", [user, PASSWORD]))
        return str(self("session.login_with_password", user, PASSWORD, "1.0", "wire-tests"))

    @property
    def trusted(self) -> bool:
        """The unix socket, where XAPI trusts local root without a password."""
        return self.protocol == "xmlrpc unix"

    @property
    def xml(self) -> bool:
        return self.protocol.startswith("xmlrpc")

    def int_(self, value: int) -> Any:
        """``value`` as this protocol delivers an int (XML-RPC: untyped, read as a string)."""
        return str(value) if self.xml else value


def _xenapi_sender(session: Any) -> Callable[[str, list[Any]], Any]:
    """Raw calls through the official client's ServerProxy (its own retry-on-SESSION_INVALID
    and session prepending are bypassed, so every rule is visible as sent)."""
    def send(method: str, params: list[Any]) -> Any:
        reply = getattr(session, method)(*params)
        if reply["Status"] == "Success":
            return reply["Value"]
        raise WireFailure(reply["ErrorDescription"])
    return send


def _jsonrpc_sender(client: Any, version: str) -> Callable[[str, list[Any]], Any]:
    def send(method: str, params: list[Any]) -> Any:
        body: dict[str, Any] = {"method": method, "params": params, "id": 0}
        if version == "v2":
            body["jsonrpc"] = "2.0"
        reply = client.post("/jsonrpc", json=body)
        reply.raise_for_status()
        data = reply.json()
        if version == "v2":
            if "error" in data:
                assert data["error"]["code"] == 1
                raise WireFailure([data["error"]["message"], *data["error"]["data"]])
            return data["result"]
        if data["error"] is not None:
            assert data["result"] is None
            raise WireFailure(data["error"])
        return data["result"]
    return send


@contextlib.contextmanager
def wire_to(sim: Simulator, pool: Pool, protocol: str) -> Iterator[Wire]:
    """``sim`` served on loopback (and a unix socket), spoken to over ``protocol``."""
    import httpx
    import XenAPI

    from xapictl.sim.server import SimServer

    # UDSTransport spells "/" as "_" in the URL host, so the path must have no "_".
    scratch = Path(tempfile.gettempdir()) / f"xsim{secrets.token_hex(6)}"
    scratch.mkdir()
    socket_path = scratch / "xapi.sock"
    try:
        with contextlib.ExitStack() as stack:
            server = stack.enter_context(SimServer(sim, unix_socket=socket_path))
            if protocol.startswith("jsonrpc"):
                client = stack.enter_context(httpx.Client(base_url=server.url, timeout=30))
                send = _jsonrpc_sender(client, protocol.split()[1])
            else:
                if protocol == "xmlrpc unix":
                    session = XenAPI.Session("http://" + str(socket_path).replace("/", "_")
                                             + "/", transport=XenAPI.UDSTransport())
                else:
                    session = XenAPI.Session(server.url + protocol.split()[1])
                stack.enter_context(session)
                send = _xenapi_sender(session)
            yield Wire(protocol, sim, pool, send)
    finally:
        socket_path.unlink(missing_ok=True)
        scratch.rmdir()


def _served(protocol: str) -> Iterator[Wire]:
    sim, pool = make_sim()
    try:
        with wire_to(sim, pool, protocol) as wire:
            yield wire
    finally:
        sim.close()


@pytest.fixture(name="wire", params=PROTOCOLS)
def wire_fixture(request: pytest.FixtureRequest) -> Iterator[Wire]:
    """Every protocol."""
    yield from _served(request.param)


@pytest.fixture(name="wire_pair", params=("xmlrpc /", "jsonrpc v2"))
def wire_pair_fixture(request: pytest.FixtureRequest) -> Iterator[Wire]:
    """One XML-RPC and one JSON-RPC client, for long tables of messages."""
    yield from _served(request.param)


__all__ = ["PROTOCOLS", "Wire", "WireFailure", "wire_fixture", "wire_pair_fixture", "wire_to"]
