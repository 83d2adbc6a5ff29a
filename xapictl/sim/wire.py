"""XAPI's two wire formats, both directions, exactly as xapi prints and accepts them.

XML-RPC (REFERENCE §1.2-§1.3, CLIENTS §2): responses are compact (no whitespace between tags:
Xen Orchestra's parser crashes on it), strings and ints are untyped ``<value>`` text, floats
``<double>`` with ``%.16g``, datetimes ``YYYYMMDDTHH:MM:SSZ``, and every answer is a
``Status``/``Value``/``ErrorDescription`` struct except ``system.listMethods`` (``Bare``).
Requests may use typed or untyped scalars, pretty-printed or compact.

JSON-RPC (REFERENCE §1.4): v1 and v2, auto-detected from ``"jsonrpc": "2.0"``; ids are JSON
integers (int64) or strings, as ocaml-rpc's ``jsonrpc.ml`` reads them (``0`` is a real id;
floats, booleans, null, arrays and objects are refused); ints are numbers; a void result is
``""``.

Anything that is not a well-formed request raises ``MalformedRequest``; the HTTP layer answers
it as xapi does, with a 500 and an HTML body rather than an API error.
"""

from __future__ import annotations

import functools
import json
import xml.etree.ElementTree as ET  # parses only loopback requests; expat limits entity expansion
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from xapictl.sim.values import I4, Bare

XML_CONTENT_TYPE = "text/xml"
JSON_CONTENT_TYPE = "application/json"


class MalformedRequest(Exception):
    """The body is not a request xapi could parse (answered with HTTP 500, not an API error)."""


# --- XML-RPC: encoding ----------------------------------------------------------------------

_XML_DECL = '<?xml version="1.0"?>'
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def _escape(text: str) -> str:
    # translate() is slower than a membership test on the common, clean string
    if "&" in text or "<" in text or ">" in text or '"' in text:
        return text.translate(_ESCAPES)
    return text


@functools.lru_cache(maxsize=4096)  # records repeat a few timestamps (the epoch) many times
def format_datetime(value: datetime) -> str:
    """xapi's one datetime text, for both protocols: ``20240131T12:34:56Z``."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y%m%dT%H:%M:%SZ")


# "<member><name>KEY</name>" per struct key: field names repeat in every record.
_member_heads: dict[str, str] = {}
_MEMBER_HEADS_MAX = 8192
_BOOL_MEMBERS = ("<value><boolean>0</boolean></value></member>",
                 "<value><boolean>1</boolean></value></member>")


def _member_head(key: Any) -> str:
    head = _member_heads.get(key) if type(key) is str else None
    if head is None:
        text = key if type(key) is str else _scalar_text(key)
        head = f"<member><name>{_escape(text)}</name>"
        if type(key) is str and len(_member_heads) < _MEMBER_HEADS_MAX:
            _member_heads[key] = head
    return head


def _put(value: Any, out: list[str]) -> None:
    """Append the ``<value>…</value>`` text of ``value`` to ``out``."""
    kind = type(value)
    if kind is str:
        out.append(f"<value>{_escape(value)}</value>")
    elif kind is dict:
        append = out.append
        heads = _member_heads
        append("<value><struct>")
        for key, item in value.items():
            head = heads.get(key) or _member_head(key)
            # inline the common members of a record: one call per member saved
            item_kind = type(item)
            if item_kind is str:
                append(f"{head}<value>{_escape(item)}</value></member>")
            elif item_kind is bool:
                append(head + _BOOL_MEMBERS[item])
            elif item_kind is int:
                append(f"{head}<value>{item}</value></member>")
            elif item_kind is list and not item:
                append(head + "<value><array><data></data></array></value></member>")
            elif item_kind is dict and not item:
                append(head + "<value><struct></struct></value></member>")
            else:
                append(head)
                _put(item, out)
                append("</member>")
        append("</struct></value>")
    elif kind is list:
        out.append("<value><array><data>")
        for item in value:
            _put(item, out)
        out.append("</data></array></value>")
    elif kind is bool:
        out.append("<value><boolean>1</boolean></value>" if value
                   else "<value><boolean>0</boolean></value>")
    elif kind is int:
        # int64 goes out untyped: every XML-RPC client reads it as a string (REFERENCE §1.3)
        out.append(f"<value>{value}</value>")
    else:
        _put_other(value, out)


def _put_other(value: Any, out: list[str]) -> None:
    """The rarer types and subclasses (enums, ``I4``, ``Bare``, tuples, datetimes)."""
    if value is None:
        out.append("<value></value>")
    elif isinstance(value, I4):
        out.append(f"<value><i4>{int(value)}</i4></value>")
    elif isinstance(value, bool):
        _put(bool(value), out)
    elif isinstance(value, int):
        _put(int(value), out)
    elif isinstance(value, float):
        out.append(f"<value><double>{value:.16g}</double></value>")
    elif isinstance(value, str):
        _put(str(value), out)
    elif isinstance(value, datetime):
        out.append(f"<value><dateTime.iso8601>{format_datetime(value)}</dateTime.iso8601></value>")
    elif isinstance(value, dict):
        _put(dict(value), out)
    elif isinstance(value, list | tuple | set | frozenset):
        _put(list(value), out)
    elif isinstance(value, bytes):
        _put(value.decode("utf-8", "replace"), out)
    else:
        raise TypeError(f"no XML-RPC form for {type(value).__name__}")


def _scalar_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, datetime):
        return format_datetime(key)
    return str(key)


def xmlrpc_value(value: Any) -> str:
    """The ``<value>…</value>`` fragment of ``value``: also a task's ``result`` (§1.10)."""
    out: list[str] = []
    _put(value, out)
    return "".join(out)


def xmlrpc_success(value: Any) -> bytes:
    """The whole response body for a result (bare for ``Bare`` results)."""
    out = [_XML_DECL, "<methodResponse><params><param>"]
    if isinstance(value, Bare):
        _put(list(value), out)
    else:
        out.append("<value><struct><member><name>Status</name><value>Success</value></member>"
                   "<member><name>Value</name>")
        _put(value, out)
        out.append("</member></struct></value>")
    out.append("</param></params></methodResponse>")
    return _utf8("".join(out))


def xmlrpc_failure(description: list[str]) -> bytes:
    """``Status`` = ``Failure`` with ``ErrorDescription`` = ``[code, params…]``, Status first."""
    out = [_XML_DECL, "<methodResponse><params><param><value><struct>"
           "<member><name>Status</name><value>Failure</value></member>"
           "<member><name>ErrorDescription</name>"]
    _put([str(item) for item in description], out)
    out.append("</member></struct></value></param></params></methodResponse>")
    return _utf8("".join(out))


# --- XML-RPC: decoding ----------------------------------------------------------------------

def _parse_bool(text: str) -> bool:
    if text.strip() in ("1", "0"):
        return text.strip() == "1"
    raise MalformedRequest(f"bad boolean {text!r}")


def _parse_double(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise MalformedRequest(f"bad double {text!r}") from None


def _parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise MalformedRequest(f"bad int {text!r}") from None


_SCALARS: dict[str, Callable[[str], Any]] = {
    "string": str,
    "int": _parse_int,
    "i4": _parse_int,
    "i8": _parse_int,
    "boolean": _parse_bool,
    "double": _parse_double,
    # the engine unmarshals datetimes from text, as it must for JSON-RPC anyway
    "dateTime.iso8601": lambda text: text.strip(),
    "base64": lambda text: text.strip(),
}


def _decode_value(element: ET.Element) -> Any:
    children = list(element)
    if not children:
        return element.text or ""  # untyped <value>text</value> is a string
    typed = children[0]
    tag = typed.tag
    parse = _SCALARS.get(tag)
    if parse is not None:
        return parse(typed.text or "")
    if tag == "struct":
        result: dict[str, Any] = {}
        for member in typed:
            name, value = member.find("name"), member.find("value")
            if member.tag != "member" or name is None or value is None:
                raise MalformedRequest("struct member without name or value")
            result[name.text or ""] = _decode_value(value)
        return result
    if tag == "array":
        data = typed.find("data")
        if data is None:
            raise MalformedRequest("array without data")
        return [_decode_value(item) for item in data if item.tag == "value"]
    if tag == "nil":
        return None
    raise MalformedRequest(f"unknown XML-RPC type <{tag}>")


def decode_xmlrpc_request(body: bytes) -> tuple[str, list[Any]]:
    """``(method name, params)`` of a ``<methodCall>``; ints stay as sent (int or digit text)."""
    try:
        root = ET.fromstring(body)  # noqa: S314 - the simulator only ever listens on loopback
    except ET.ParseError as exc:
        raise MalformedRequest(f"unparsable XML: {exc}") from None
    name = root.find("methodName")
    params = root.find("params")
    if root.tag != "methodCall" or name is None or not (name.text or "").strip():
        raise MalformedRequest("no methodCall/methodName")
    if params is None:
        raise MalformedRequest("no params element")
    decoded: list[Any] = []
    for param in params:
        value = param.find("value")
        if param.tag != "param" or value is None:
            raise MalformedRequest("param without value")
        decoded.append(_decode_value(value))
    return (name.text or "").strip(), decoded


def xmlrpc_request(method: str, params: list[Any]) -> bytes:
    """A compact ``<methodCall>`` (for tests and in-process clients)."""
    out = [_XML_DECL, "<methodCall><methodName>", _escape(method),
           "</methodName><params>"]
    for param in params:
        out.append("<param>")
        _put(param, out)
        out.append("</param>")
    out.append("</params></methodCall>")
    return "".join(out).encode()


# --- JSON-RPC -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class JsonRpcRequest:
    method: str
    params: list[Any]
    id: Any
    v2: bool


def decode_jsonrpc_request(body: bytes) -> JsonRpcRequest:
    """Parse and check a JSON-RPC v1/v2 request as xapi does (§1.4)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest(f"unparsable JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise MalformedRequest("request is not an object")
    v2 = False
    if "jsonrpc" in payload:
        if payload["jsonrpc"] != "2.0":
            raise MalformedRequest(f"bad jsonrpc version {payload['jsonrpc']!r}")
        v2 = True
    method = payload.get("method")
    if not isinstance(method, str):
        raise MalformedRequest("no method")
    # ocaml-rpc jsonrpc.ml version_id_and_call_of_string: the id is an Int (an int64) or
    # a String; absent or null is a notification, which xapi refuses; any other is invalid.
    request_id = payload.get("id")
    if request_id is None:
        raise MalformedRequest("no id: notifications are not supported")
    if (isinstance(request_id, bool) or not isinstance(request_id, int | str)
            or (isinstance(request_id, int) and not -(2**63) <= request_id < 2**63)):
        raise MalformedRequest(f"Invalid field 'id' in request body: {request_id!r}")
    if "params" not in payload or (v2 and payload["params"] is None):
        if not v2:
            raise MalformedRequest("no params")
        params: list[Any] = []
    elif isinstance(payload["params"], list):
        params = payload["params"]
    elif v2 and isinstance(payload["params"], dict):
        params = [payload["params"]]  # one positional param, as xapi reads it
    else:
        raise MalformedRequest("params is not an array")
    return JsonRpcRequest(method, params, request_id, v2)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"no JSON form for {type(value).__name__}")


_dumps_utf8 = json.JSONEncoder(separators=(",", ":"), default=_json_default,
                               ensure_ascii=False).encode
_dumps_ascii = json.JSONEncoder(separators=(",", ":"), default=_json_default).encode


def _dumps(payload: Any) -> bytes:
    text = _dumps_utf8(payload)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate (echoed bad input): JSON can escape it
        return _dumps_ascii(payload).encode()


def _utf8(text: str) -> bytes:
    # XML has no form for a lone surrogate (echoed bad input); never fail the whole answer
    return text.encode("utf-8", "replace")


def jsonrpc_success(request: JsonRpcRequest, value: Any) -> bytes:
    result = "" if value is None else value
    if request.v2:
        return _dumps({"jsonrpc": "2.0", "result": result, "id": request.id})
    return _dumps({"result": result, "error": None, "id": request.id})


def jsonrpc_failure(request: JsonRpcRequest, description: list[str]) -> bytes:
    code, *params = [str(item) for item in description]
    if request.v2:
        error = {"code": 1, "message": code, "data": params}
        return _dumps({"jsonrpc": "2.0", "error": error, "id": request.id})
    return _dumps({"result": None, "error": [code, *params], "id": request.id})


__all__ = [
    "JSON_CONTENT_TYPE",
    "XML_CONTENT_TYPE",
    "JsonRpcRequest",
    "MalformedRequest",
    "decode_jsonrpc_request",
    "decode_xmlrpc_request",
    "format_datetime",
    "jsonrpc_failure",
    "jsonrpc_success",
    "xmlrpc_failure",
    "xmlrpc_request",
    "xmlrpc_success",
    "xmlrpc_value",
]
