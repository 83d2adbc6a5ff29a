"""XAPI over JSON-RPC (``POST /jsonrpc``): the default wire.

Requests are JSON-RPC 2.0; answers of both versions are read (v2 ``error`` object, v1 error
array). Ints arrive as JSON numbers. A host whose ``/jsonrpc`` is missing (404/405/501) or
answers something that is not JSON (200, or the HTML 500 of an XAPI without JSON-RPC) raises
``JsonRpcUnavailable``, on which the session falls back to XML-RPC.

Bodies are encoded and answers decoded with orjson (a snapshot's answer is hundreds of KB: the
standard library's decoder was a fifth of a pool read's client CPU). What orjson would write
differently from the standard library goes through ``_default`` as before (datetimes in XAPI's
text form, sets, dataclasses refused); what orjson refuses (a ``NaN`` in an answer, an integer
beyond 64 bits either way) goes through the standard library, so nothing it accepted before is
refused now, and a value nobody can send fails with ``_default``'s message.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

import orjson

from xapictl.errors import ProtocolError, XapiFailure
from xapictl.xapi.credentials import Secret
from xapictl.xapi.transport import Endpoint, HttpChannel

PATH = "/jsonrpc"
CONTENT_TYPE = "application/json"


class JsonRpcUnavailable(ProtocolError):
    """The host has no usable ``/jsonrpc`` endpoint (use XML-RPC)."""


class JsonRpcWire:
    """Encodes calls as JSON-RPC 2.0 and decodes either version's answer."""

    name = "jsonrpc"

    def __init__(self, channel: HttpChannel) -> None:
        self._channel = channel
        self._ids = itertools.count(1)

    def call(self, endpoint: Endpoint, method: str, params: Sequence[Any], *,
             read_timeout: float | None = None) -> Any:
        """Send one call; return its result or raise the typed failure."""
        # The body is built in the call and the response dropped once read (its .request is
        # the body): a login's password stays out of this frame's locals, which a traceback
        # keeps.
        response = self._channel.post(endpoint.base_url + PATH, self._body(method, params),
                                      CONTENT_TYPE, read_timeout=read_timeout)
        status, content = response.status_code, response.content
        del response
        return _result(endpoint, method, status, content)

    def call_in_order(self, endpoint: Endpoint, calls: Sequence[tuple[str, Sequence[Any]]],
                      *, read_timeout: float | None = None) -> list[Any]:
        """Send the calls back to back on one connection (``HttpChannel.post_in_order``):
        each one's result, or the failure (``XapiFailure``, ``TransportError``,
        ``ProtocolError``) that stands for it. Not for a login (its password)."""
        answers = self._channel.post_in_order(
            endpoint.base_url + PATH, [self._body(method, params) for method, params in calls],
            CONTENT_TYPE, read_timeout=read_timeout)
        outcomes: list[Any] = []
        for (method, _), answer in zip(calls, answers, strict=True):
            if isinstance(answer, Exception):
                outcomes.append(answer)
                continue
            try:
                outcomes.append(_result(endpoint, method, answer.status_code, answer.content))
            except (ProtocolError, XapiFailure) as failure:
                outcomes.append(failure)
        return outcomes


    def _body(self, method: str, params: Sequence[Any]) -> bytes:
        return _dumps({"jsonrpc": "2.0", "method": method, "params": list(params),
                       "id": next(self._ids)})


def _result(endpoint: Endpoint, method: str, status: int, content: bytes) -> Any:
    """A call's result from its answer, or the typed failure raised."""
    if status in (404, 405, 501):
        raise JsonRpcUnavailable(f"{endpoint} has no JSON-RPC endpoint (HTTP {status})",
                                 url=str(endpoint))
    try:
        answer = _loads(content)
    except ValueError:
        # 500: an XAPI from before JSON-RPC routes /jsonrpc to its XML-RPC handler, which
        # cannot parse the JSON body and answers with an HTML error page.
        if status in (200, 500):
            raise JsonRpcUnavailable(f"{endpoint} answered /jsonrpc with something other "
                                     f"than JSON (HTTP {status}): it does not speak "
                                     "JSON-RPC; use protocol xmlrpc",
                                     url=str(endpoint)) from None
        raise ProtocolError(f"{endpoint} answered HTTP {status} to {method}",
                            url=str(endpoint)) from None
    if not isinstance(answer, dict):
        raise ProtocolError(f"{endpoint}: JSON-RPC answer is not an object",
                            url=str(endpoint))
    error = answer.get("error")
    if error is not None:
        from xapictl.xapi.failures import failure_from  # loaded by the first failure

        raise failure_from(_description(error), method=method)
    if "result" not in answer:
        raise ProtocolError(f"{endpoint}: JSON-RPC answer without result",
                            url=str(endpoint))
    return answer["result"]


# Datetimes and dataclasses go to ``_default`` (XAPI's datetime text; no silent encoding of a
# record by its Python field names); non-str keys are written as text, as json.dumps does.
_OPTIONS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
            | orjson.OPT_NON_STR_KEYS)


def _dumps(body: dict[str, Any]) -> bytes:
    """Encode a request: orjson, else (an integer beyond 64 bits, or a value ``_default``
    refuses) the standard library, which encodes it or raises ``_default``'s own error."""
    try:
        return orjson.dumps(body, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(body, default=_default).encode()


def _loads(content: bytes) -> Any:
    """Decode an answer: orjson, else the standard library (which also reads ``NaN`` and
    integers beyond 64 bits); ``ValueError`` when neither can."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


def _description(error: Any) -> list[Any]:
    if isinstance(error, dict):  # v2: {"code": 1, "message": CODE, "data": [params]}
        data = error.get("data") or []
        return [error.get("message", "INTERNAL_ERROR"),
                *(data if isinstance(data, list) else [data])]
    if isinstance(error, list):  # v1: [CODE, params…]
        return error
    return ["INTERNAL_ERROR", str(error)]


def _default(value: Any) -> Any:
    # Enums are str subclasses already; datetimes go as XAPI's text form; a Secret (the login
    # password) is revealed here, into the body only.
    if isinstance(value, Secret):
        return value.reveal()
    if hasattr(value, "strftime"):
        return value.strftime("%Y%m%dT%H:%M:%SZ")
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot send {type(value).__name__} over JSON-RPC")


__all__ = ["JsonRpcUnavailable", "JsonRpcWire"]
