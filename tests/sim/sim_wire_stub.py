"""A tiny stand-in for the simulator engine, so wire and server tests pin the HTTP layer alone.

It honours contract 1's surface (``call``, ``host_addresses``, ``master_address``) and knows
a handful of methods whose behaviour the tests rely on.
"""

from __future__ import annotations

import threading
from typing import Any

from xapictl.sim.errors import SimFailure
from xapictl.sim.values import Bare

MASTER = "OpaqueRef:host-1"
MEMBER = "OpaqueRef:host-2"
SESSION = "OpaqueRef:session-1"


class StubSim:
    def __init__(self) -> None:
        self.addresses = {MASTER: "127.0.0.1", MEMBER: "127.0.0.2"}
        self.master = MASTER
        self.release = threading.Event()
        self.waiting = threading.Event()
        self.calls: list[tuple[str, list[Any], str, str]] = []
        self.lock = threading.Lock()

    def host_addresses(self) -> dict[str, str]:
        return dict(self.addresses)

    def master_address(self) -> str:
        return self.addresses[self.master]

    def open_session_count(self) -> int:
        return 1

    def call(self, method: str, params: list[Any], *, host_address: str = "127.0.0.1",
             protocol: str = "xmlrpc", preauth: bool = False) -> Any:
        with self.lock:
            self.calls.append((method, list(params), host_address, protocol))
        if method == "session.login_with_password":
            if host_address != self.master_address():
                raise SimFailure("HOST_IS_SLAVE", self.master_address())
            if params[:2] != ["root", "xapictl"]:
                raise SimFailure("SESSION_AUTHENTICATION_FAILED", params[0], "bad password")
            return SESSION
        if method == "session.logout":
            return None
        if method == "system.listMethods":
            return Bare(["session.login_with_password", "test.echo"])
        if method == "test.echo":
            return params[1] if len(params) > 1 else None
        if method == "test.where":
            return {"host": host_address, "protocol": protocol}
        if method == "test.wait":
            self.waiting.set()
            return "released" if self.release.wait(10) else "timeout"
        if method == "test.boom":
            raise RuntimeError("a bug with a secret traceback")
        if method == "network.get_record":
            raise SimFailure("HANDLE_INVALID", "network", params[1])
        raise SimFailure("MESSAGE_METHOD_UNKNOWN", method)
