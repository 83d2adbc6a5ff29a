"""One HTTP request in, one HTTP response out: the simulator's front door, socket-free.

Both the socket server and the in-process transports call ``handle_http``, so tests that skip
sockets still exercise the real routing, encoding and decoding. Routing is xapi's
(REFERENCE §1.1, CLIENTS §2): ``POST /jsonrpc`` is JSON-RPC, every other POST path is
XML-RPC, ``OPTIONS`` is a CORS pre-flight; unparsable requests get HTTP 500 with an HTML body.

CORS headers are XAPI's exactly (``api_server.ml`` ``callback``/``jsoncallback`` on answers,
``http_svr.ml`` ``respond_to_options`` on pre-flights). ``/_sim/control`` is the simulator's
own and sends none: it takes only ``application/json``, refuses any request that carries a
foreign ``Origin`` or a ``Host`` that is not an address (DNS rebinding), and, when
``control.token`` is set, wants ``Authorization: Bearer <token>``.

An internal bug never leaks a traceback: it is logged and answered with a generic 500, and the
server keeps serving. ``DropConnection`` (dead host, injected drop) propagates to the caller,
which closes the connection without a reply.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from xapictl._batch import HEADER as BATCH_HEADER
from xapictl.sim import wire
from xapictl.sim.control import CallPlan, Control, DropConnection, SimulatorLike
from xapictl.sim.errors import SimFailure

log = logging.getLogger("xapictl.sim")

CONTROL_PATH = "/_sim/control"

Headers = list[tuple[str, str]]
Response = tuple[int, Headers, bytes]

# api_server.ml callback / jsoncallback: on every RPC answer XAPI serialises.
_CORS: Headers = [("Access-Control-Allow-Origin", "*"),
                  ("Access-Control-Allow-Headers", "X-Requested-With")]


def _preflight(headers: Mapping[str, str]) -> Response:
    """http_svr.ml ``respond_to_options``: the asked headers echoed before X-Requested-With,
    ``Access-Control-Allow-Methods: PUT``, an empty body and no Content-Type."""
    asked = _header(headers, "Access-Control-Request-Headers")
    allow = f"{asked}, X-Requested-With" if asked is not None else "X-Requested-With"
    return 200, [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Headers", allow),
                 ("Access-Control-Allow-Methods", "PUT")], b""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    low = name.lower()
    return next((v for k, v in headers.items() if k.lower() == low), None)


def _html(status: int, title: str) -> Response:
    body = (f"<html><head><title>{status} {title}</title></head>"
            f"<body><h1>{status} {title}</h1></body></html>").encode()
    return status, [("Content-Type", "text/html")], body


def is_jsonrpc_path(path: str) -> bool:
    """xapi picks the handler by longest path prefix; only ``/jsonrpc`` is JSON-RPC."""
    path = path.split("?", 1)[0]
    return path == "/jsonrpc" or path.startswith("/jsonrpc/")


def live_by_address(sim: SimulatorLike) -> dict[str, bool]:
    """Host address → whether that host is alive (``host_metrics.live``). Every request
    asks, so the engine answers from a cache it renews after each write."""
    engine_answer = getattr(sim, "live_by_address", None)
    if callable(engine_answer):
        return dict(engine_answer())
    return dict.fromkeys(sim.host_addresses().values(), True)


def host_is_dead(sim: SimulatorLike, host_address: str) -> bool:
    """Whether the host serving ``host_address`` is marked dead."""
    return not live_by_address(sim).get(host_address, True)


def handle_http(sim: SimulatorLike, method: str, path: str, headers: Mapping[str, str],
                body: bytes, *, host_address: str, control: Control | None = None,
                preauth: bool = False, queued_since: float | None = None) -> Response:
    """Answer one HTTP request received by the host at ``host_address``. ``preauth``: it came
    through the local unix socket, where XAPI trusts root without a password.
    ``queued_since``: the ``time.perf_counter()`` at which the request was already waiting on
    its connection behind an earlier one (HTTP pipelining): its latency and its logged span
    run from then.

    Raises ``DropConnection`` when the connection must be closed without a reply.
    """
    if host_is_dead(sim, host_address):
        raise DropConnection(f"host {host_address} is dead")
    jsonrpc = is_jsonrpc_path(path) and (control is None or control.jsonrpc)
    if control is not None and path.split("?", 1)[0] == CONTROL_PATH:
        return _control(control, method, headers, body)
    if method == "OPTIONS":
        return _preflight(headers)
    if method != "POST":
        return _html(404, "Not Found")
    try:
        batch = _header(headers, BATCH_HEADER)
        if jsonrpc:
            return _jsonrpc(sim, body, host_address, control, preauth, batch, queued_since)
        return _xmlrpc(sim, body, host_address, control, preauth, batch, queued_since)
    except DropConnection:
        raise
    except Exception:
        log.exception("internal error while serving %s on %s", path, host_address)
        return _html(500, "Internal Server Error")


def _call(sim: SimulatorLike, name: str, params: list[Any], host_address: str, protocol: str,
          control: Control | None, preauth: bool = False, batch: str | None = None,
          queued_since: float | None = None) -> tuple[bool, Any]:
    """``(ok, result or error description)``, with latency, faults, the batch gate (``batch``:
    the request's ``X-Xapictl-Batch`` header) and the request log. A pipelined request
    (``queued_since``) has spent the time since then on the wire already: it is taken off its
    latency, and its logged span starts then."""
    started = time.perf_counter() if queued_since is None else queued_since
    outcome = "internal"
    try:
        if control is None:
            plan = CallPlan()
        elif queued_since is None:
            plan = control.before_call(host_address, name)
        else:
            plan = control.before_call(host_address, name,
                                       already=time.perf_counter() - queued_since)
        answer: tuple[bool, Any]
        try:
            answer = True, sim.call(name, params, host_address=host_address, protocol=protocol,
                                    preauth=preauth)
            outcome = "success"
        except SimFailure as failure:
            answer = False, failure.description
            outcome = failure.code
        if plan.drop_after is not None:
            # whatever the call did is committed; only the reply is lost
            outcome = f"dropped after {outcome}"
            Control.after_call(plan, name)
        return answer
    except SimFailure as failure:  # an injected error: the simulator never saw the call
        outcome = failure.code
        return False, failure.description
    except DropConnection:
        if not outcome.startswith("dropped"):
            outcome = "dropped"
        raise
    finally:
        if control is not None:
            extra: dict[str, Any] = {}
            if batch is not None:
                extra["batch"] = batch
                if not control.gate.wait(batch):
                    extra["batch_incomplete"] = True
            if queued_since is not None:
                extra["pipelined"] = True
            control.record(host=host_address, protocol=protocol, method=name, params=params,
                           outcome=outcome, started=started, **extra)


def _xmlrpc(sim: SimulatorLike, body: bytes, host_address: str,
            control: Control | None, preauth: bool = False, batch: str | None = None,
            queued_since: float | None = None) -> Response:
    try:
        name, params = wire.decode_xmlrpc_request(body)
    except wire.MalformedRequest as exc:
        return malformed(control, host_address, "xmlrpc", str(exc))
    ok, value = _call(sim, name, params, host_address, "xmlrpc", control, preauth, batch,
                      queued_since)
    payload = wire.xmlrpc_success(value) if ok else wire.xmlrpc_failure(value)
    return 200, [("Content-Type", wire.XML_CONTENT_TYPE), *_CORS], payload


def _jsonrpc(sim: SimulatorLike, body: bytes, host_address: str,
             control: Control | None, preauth: bool = False, batch: str | None = None,
             queued_since: float | None = None) -> Response:
    try:
        request = wire.decode_jsonrpc_request(body)
    except wire.MalformedRequest as exc:
        return malformed(control, host_address, "jsonrpc", str(exc))
    ok, value = _call(sim, request.method, request.params, host_address, "jsonrpc", control,
                      preauth, batch, queued_since)
    payload = (wire.jsonrpc_success(request, value) if ok
               else wire.jsonrpc_failure(request, value))
    return 200, [("Content-Type", wire.JSON_CONTENT_TYPE), *_CORS], payload


def malformed(control: Control | None, host_address: str, protocol: str, why: str) -> Response:
    """The answer to a request that cannot be parsed — its body, or the HTTP framing around
    it: HTTP 500 with an HTML body, as xapi sends, and a ``malformed`` line in the log."""
    if control is not None:
        control.record(host=host_address, protocol=protocol, method="", params=[],
                       outcome="malformed", started=time.perf_counter(), reason=why)
    return _html(500, "Internal Server Error")


def _json_reply(status: int, payload: Mapping[str, Any]) -> Response:
    return status, [("Content-Type", wire.JSON_CONTENT_TYPE)], \
        json.dumps(payload, default=str).encode()


def _is_address(host: str) -> bool:
    """Whether a Host/Origin host is an IP literal or ``localhost`` — never a DNS name a
    web page could point at this machine (DNS rebinding)."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _split_host(authority: str) -> str:
    if authority.startswith("["):
        return authority[1:].split("]", 1)[0]
    return authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority


def control_refusal(control: Control, method: str, headers: Mapping[str, str]) -> str | None:
    """Why a request to ``/_sim/control`` is refused (None: it may go on)."""
    if method != "POST":
        return f"{method} is not served here: POST a JSON object"
    content_type = (_header(headers, "Content-Type") or "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        return (f"Content-Type {content_type or '(none)'!r} refused: send "
                "'Content-Type: application/json'")
    host = _header(headers, "Host")
    if host is not None and not _is_address(_split_host(host.strip())):
        return f"Host {host!r} refused: address the simulator by IP (e.g. 127.0.0.1)"
    origin = _header(headers, "Origin")
    if origin is not None:
        _scheme, _, authority = origin.partition("://")
        if not authority or host is None or authority.lower() != host.strip().lower():
            return f"cross-origin request from {origin!r} refused"
    if control.token is not None:
        given = _header(headers, "Authorization") or ""
        expected = f"Bearer {control.token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return ("this simulator's control endpoint wants its token: pass --token "
                    "(or set XAPICTL_SIM_CONTROL_TOKEN) as printed by `sim serve`")
    return None


def _control(control: Control, method: str, headers: Mapping[str, str],
             body: bytes) -> Response:
    """``POST /_sim/control`` with ``{"action": …}``: 200 ``{"result": …}`` or 400
    ``{"error": …}``; 403 (405 for other methods, 415 for other content types) when the
    request is refused, with no CORS header, so a web page can neither send nor read."""
    refused = control_refusal(control, method, headers)
    if refused is not None:
        status = 405 if method != "POST" else 415 if refused.startswith("Content-Type") else 403
        return _json_reply(status, {"error": refused})
    try:
        request = json.loads(body or b"{}")
        if not isinstance(request, dict):
            raise ValueError("a control request is a JSON object")
        result = control.handle(request)
        status, payload = 200, {"result": result}
    except (ValueError, TypeError, KeyError, NotImplementedError) as exc:
        status, payload = 400, {"error": f"{type(exc).__name__}: {exc}"}
    return _json_reply(status, payload)


__all__ = ["CONTROL_PATH", "Response", "control_refusal", "handle_http", "host_is_dead",
           "is_jsonrpc_path", "live_by_address", "malformed"]
