"""Socket-free doors into a simulator that still speak the real wire format.

``InProcessTransport`` is an ``httpx.BaseTransport``; ``XmlRpcInProcessTransport`` plugs into
``XenAPI.Session(url, transport=…)``. Both hand the encoded request to ``handle_http`` — the
same routing, decoding, control plane and encoding as the socket server — and decode the
bytes it returns, so a test on them exercises everything but TCP.

The URL's host selects the receiving pool host (``http://127.0.0.2`` is the second host, so
``HOST_IS_SLAVE`` is real); a host name the pool does not know is taken as the master. A dead
host refuses the connection; an injected drop surfaces as the error a real client gets when the
server closes the connection without replying.
"""

from __future__ import annotations

import http.client
import xmlrpc.client
from typing import Any

import httpx

from xapictl.sim.app import handle_http, host_is_dead
from xapictl.sim.control import Control, DropConnection, SimulatorLike


def _host_address(sim: SimulatorLike, host: str) -> str:
    return host if host in sim.host_addresses().values() else sim.master_address()


class InProcessTransport(httpx.BaseTransport):
    """``httpx.Client(transport=InProcessTransport(sim))``: HTTP without sockets."""

    def __init__(self, sim: SimulatorLike, control: Control | None = None) -> None:
        self.sim = sim
        self.control = control

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        address = _host_address(self.sim, request.url.host)
        if host_is_dead(self.sim, address):
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        try:
            status, headers, body = handle_http(
                self.sim, request.method, request.url.raw_path.decode("ascii"),
                dict(request.headers.items()), request.read(), host_address=address,
                control=self.control)
        except DropConnection:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.",
                                            request=request) from None
        headers.append(("Content-Length", str(len(body))))
        return httpx.Response(status, headers=headers, content=body, request=request)


class XmlRpcInProcessTransport(xmlrpc.client.Transport):
    """``XenAPI.Session("http://127.0.0.1", transport=XmlRpcInProcessTransport(sim))``."""

    def __init__(self, sim: SimulatorLike, control: Control | None = None) -> None:
        super().__init__()
        self.sim = sim
        self.control = control

    def request(self, host: Any, handler: str, request_body: Any, verbose: bool = False) -> Any:
        name = str(host).rsplit("@", 1)[-1]
        name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
        address = _host_address(self.sim, name.strip("[]"))
        if host_is_dead(self.sim, address):
            raise ConnectionRefusedError(111, "Connection refused")
        body = request_body if isinstance(request_body, bytes) else str(request_body).encode()
        try:
            status, headers, payload = handle_http(
                self.sim, "POST", handler, {"Content-Type": "text/xml"}, body,
                host_address=address, control=self.control)
        except DropConnection:
            raise http.client.RemoteDisconnected(
                "Remote end closed connection without response") from None
        if status != 200:
            raise xmlrpc.client.ProtocolError(f"{host}{handler}", status, "error", dict(headers))
        parser, unmarshaller = self.getparser()
        parser.feed(payload)
        parser.close()
        return unmarshaller.close()


__all__ = ["InProcessTransport", "XmlRpcInProcessTransport"]
