"""XAPI over XML-RPC, through the official ``XenAPI`` package.

``XenAPI.Session`` (a ``ServerProxy``) marshals the call; its transport is ours, so the request
goes through the pool's ``HttpChannel`` (same timeouts, TLS checks, connection reuse and
injected transport as JSON-RPC). The envelope (``Status`` / ``Value`` / ``ErrorDescription``)
is read here so that failures become typed exceptions.

XML-RPC ints are 32-bit while XAPI's are 64-bit, so ints are sent as digit strings, which
XAPI accepts (and which xen-api does too); answers carry ints as strings and the typed layer
converts them by the datamodel.
"""

from __future__ import annotations

import datetime
import threading
import xmlrpc.client
from collections.abc import Mapping, Sequence
from typing import Any
from xml.parsers.expat import ExpatError

import XenAPI

from xapictl.errors import ProtocolError, XapictlError
from xapictl.xapi.credentials import Secret
from xapictl.xapi.failures import failure_from
from xapictl.xapi.transport import Endpoint, HttpChannel

CONTENT_TYPE = "text/xml"
PATH = "/"


class _ChannelTransport(xmlrpc.client.Transport):
    """An ``xmlrpc.client`` transport that posts through the pool's httpx channel."""

    def __init__(self, channel: HttpChannel, base_url: str) -> None:
        super().__init__()
        self._channel = channel
        self._base_url = base_url
        self.read_timeout: threading.local = threading.local()

    def request(self, host: Any, handler: Any, request_body: Any,
                verbose: bool = False) -> Any:
        timeout = getattr(self.read_timeout, "value", None)
        response = self._channel.post(self._base_url + str(handler), bytes(request_body),
                                      CONTENT_TYPE, read_timeout=timeout)
        if response.status_code != 200:
            raise ProtocolError(f"{self._base_url} answered HTTP {response.status_code}",
                                url=self._base_url)
        parser, unmarshaller = self.getparser()
        try:
            parser.feed(response.content)
            parser.close()
            return unmarshaller.close()
        except (xmlrpc.client.ResponseError, ValueError, ExpatError) as exc:
            raise ProtocolError(f"{self._base_url} sent XML that is not XML-RPC ({exc})",
                                url=self._base_url) from None
        except xmlrpc.client.Fault as fault:
            raise ProtocolError(f"{self._base_url} sent an XML-RPC fault: {fault.faultString}",
                                url=self._base_url) from None


class XmlRpcWire:
    """Sends calls through ``XenAPI.Session`` proxies, one per host address."""

    name = "xmlrpc"

    def __init__(self, channel: HttpChannel) -> None:
        self._channel = channel
        self._proxies: dict[str, tuple[Any, _ChannelTransport]] = {}
        self._lock = threading.Lock()

    def _proxy(self, endpoint: Endpoint) -> tuple[Any, _ChannelTransport]:
        base = endpoint.base_url
        with self._lock:
            found = self._proxies.get(base)
            if found is None:
                transport = _ChannelTransport(self._channel, base)
                found = (XenAPI.Session(base + PATH, transport=transport), transport)
                self._proxies[base] = found
            return found

    def call(self, endpoint: Endpoint, method: str, params: Sequence[Any], *,
             read_timeout: float | None = None) -> Any:
        """Send one call; return its ``Value`` or raise the typed failure."""
        proxy, transport = self._proxy(endpoint)
        transport.read_timeout.value = read_timeout
        # ServerProxy's own dispatch (what XenAPI.Session uses for every call), bypassing its
        # login bookkeeping: the session is ours.
        send = xmlrpc.client.ServerProxy.__getattr__(proxy, method)
        try:
            envelope = send(*[_outgoing(p) for p in params])
        except XapictlError as failure:
            if any(isinstance(p, Secret) for p in params):
                # The frames below (xmlrpc.client's) hold the revealed login parameters and
                # the encoded body; the error's text already says what went wrong.
                raise failure.with_traceback(None)  # noqa: B904 - the same exception
            raise
        return _value(envelope, method, str(endpoint))


def _value(envelope: Any, method: str, where: str) -> Any:
    if isinstance(envelope, list):  # system.listMethods answers a bare array
        return envelope
    if not isinstance(envelope, dict) or "Status" not in envelope:
        raise ProtocolError(f"{where}: answer to {method} has no XAPI envelope", url=where)
    if envelope["Status"] == "Success":
        return envelope.get("Value", "")
    description = envelope.get("ErrorDescription")
    if not isinstance(description, list):
        raise ProtocolError(f"{where}: failure without ErrorDescription", url=where)
    raise failure_from(description, method=method)


def _outgoing(value: Any) -> Any:
    if isinstance(value, Secret):  # the login password, revealed for the encoder only
        return value.reveal()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return str(value)  # enums and refs go as plain text
    if isinstance(value, datetime.datetime):
        return xmlrpc.client.DateTime(value.strftime("%Y%m%dT%H:%M:%SZ"))
    if isinstance(value, Mapping):
        return {str(_outgoing(k)): _outgoing(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_outgoing(v) for v in value]
    return value


def parse_fragment(text: str) -> Any:
    """A task's ``result``: the XML-RPC ``<value>`` of the return value, as a string."""
    if not text.strip():
        return ""
    doc = f"<methodResponse><params><param>{text}</param></params></methodResponse>"
    try:
        values, _ = xmlrpc.client.loads(doc)
    except Exception as exc:  # any parse error means the same thing
        raise ProtocolError(f"task result is not an XML-RPC value ({exc})") from None
    return values[0] if values else ""


__all__ = ["XmlRpcWire", "parse_fragment"]
