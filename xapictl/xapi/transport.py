"""One HTTP channel per pool: its connections, timeouts, TLS, and the error mapping.

Both wire protocols post through ``HttpChannel.post``. It maps every failure onto the
xapictl tree according to one question, *was the request sent?*:

* nothing sent (refused, unreachable, TLS refused) → ``ConnectError`` / ``TLSError``:
  retrying is always safe;
* sent, then no answer in time → ``RequestTimeout``; sent, then the connection broke →
  ``ConnectionLost``. A read can be sent again; a write cannot (the session turns these into
  ``OutcomeUnknown``).

Requests go through ``xapictl.xapi.http11`` (a lean HTTP/1.1 client, standard library only)
to an ``http(s)://`` pool, and through httpx when something needs more: an injected transport
(tests, the embedded simulator), a proxy named in the environment, a unix socket. httpx is
imported only then.

URLs: ``https://host[:port]``, ``http://…``, or ``unix:///path/to/socket`` for a dom0's local
socket (``/var/lib/xcp/xapi``). ``Endpoint.with_host`` re-targets to another pool member
keeping scheme and port, as ``HOST_IS_SLAVE`` asks.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from xapictl.errors import (
    ConnectError,
    ConnectionLost,
    FingerprintMismatch,
    RequestTimeout,
    TLSError,
    TransportError,
    UsageError,
)
from xapictl.xapi.http11 import AnswerTimeout, Http11Pool, Lost, NotSent, Origin, SendError
from xapictl.xapi.tls import PinMismatchError, TLSSettings, UnpinnedHostError

if TYPE_CHECKING:
    import httpx

    from xapictl.xapi.transport_httpx import HttpxSender

    HttpTransport = httpx.BaseTransport
    """What ``transport=`` takes (tests, the embedded simulator): layers above the wire name it
    through here, not through httpx."""


def __getattr__(name: str) -> Any:
    # ``HttpTransport`` at run time: httpx.BaseTransport, loaded when first named.
    if name == "HttpTransport":
        from xapictl.xapi.transport_httpx import httpx_without_its_cli

        return httpx_without_its_cli().BaseTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Answer(Protocol):
    """What the wire modules read of an answer (an httpx response or an http11 one)."""

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0


@dataclass(frozen=True)
class Endpoint:
    """Where one host of the pool answers. ``socket`` is set for a unix-socket URL."""

    scheme: str
    host: str
    port: int | None = None
    socket: str | None = None

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """``https://10.0.0.1``, ``http://h:8080/``, ``unix:///var/lib/xcp/xapi``, or a bare
        host (https is assumed, as xen-api does)."""
        text = url.strip()
        if "://" not in text:
            text = f"https://{text}"
        usage = "use https://host[:port], http://host[:port] or unix:///path"
        if any(c.isspace() or ord(c) < 32 for c in text):
            raise UsageError(f"not an XAPI URL: {url!r} has spaces or control characters; "
                             f"{usage}")
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535"
            raise UsageError(f"not an XAPI URL: {url!r} ({exc}); {usage}") from None
        if parts.scheme == "unix":
            if not parts.path:
                raise UsageError(f"unix URL without a socket path: {url!r}")
            return cls("unix", "localhost", None, parts.path)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"not an XAPI URL: {url!r} ({usage})")
        if parts.username or parts.password:
            raise UsageError("credentials do not belong in the URL; use a profile or prompt")
        if port == 0:
            raise UsageError(f"not an XAPI URL: {url!r} (port 0); {usage}")
        return cls(parts.scheme, parts.hostname, port)

    def with_host(self, host: str) -> Endpoint:
        """The same scheme and port on another host (a pool member's address)."""
        return replace(self, host=host)

    @property
    def base_url(self) -> str:
        """The http(s) URL requests go to (a unix socket gets XenAPI's ``_path_`` host)."""
        if self.socket is not None:
            return f"http://{self.socket.replace('/', '_')}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{host}{port}"

    def __str__(self) -> str:
        return f"unix://{self.socket}" if self.socket is not None else self.base_url


def crosses_network_in_clear(url: str) -> bool:
    """Whether ``url`` is plain ``http://`` to anything but this machine's loopback
    (``127.0.0.0/8``, ``::1``, ``localhost``): a login there sends the password in clear text
    over a network."""
    import ipaddress

    endpoint = Endpoint.parse(url)
    if endpoint.scheme != "http" or endpoint.socket is not None:
        return False
    if endpoint.host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(endpoint.host).is_loopback
    except ValueError:
        return True


@dataclass(frozen=True)
class HttpSettings:
    """Timeouts, TLS and an optional injected transport (tests, the embedded simulator)."""

    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    tls: TLSSettings = field(default_factory=TLSSettings)
    transport: HttpTransport | None = None
    max_connections: int = 32


class HttpChannel:
    """The connections of one pool (thread safe; connections are reused).

    An ``http(s)://`` pool is reached through ``xapictl.xapi.http11``: one kept-alive
    connection per request in flight, each request sent in one write (on loopback, about a
    sixth of the client CPU per call of httpx's path; CHANGELOG, issue 12). An injected
    transport, a proxy in the environment (``HTTPS_PROXY``…) or a unix socket take httpx's
    path (``xapictl.xapi.transport_httpx``), which supports them."""

    def __init__(self, endpoint: Endpoint, settings: HttpSettings) -> None:
        self.settings = settings
        self._socket_url = str(endpoint) if endpoint.socket is not None else None
        """``unix:///path``: how failures name a unix-socket endpoint (not its _path_ URL)."""
        self._lean: Http11Pool | None = None
        self._httpx: HttpxSender | None = None
        self._origins: dict[str, tuple[Origin, str]] = {}
        if (settings.transport is None and endpoint.socket is None
                and not _environment_proxies()):
            self._lean = Http11Pool(
                ssl_context=(settings.tls.ssl_context(named=endpoint.host)
                             if endpoint.scheme == "https" else None),
                connect_timeout=settings.connect_timeout,
                max_connections=settings.max_connections, user_agent=_user_agent())
        else:
            from xapictl.xapi.transport_httpx import HttpxSender

            self._httpx = HttpxSender(endpoint, settings, _user_agent())

    def post(self, url: str, body: bytes, content_type: str, *,
             read_timeout: float | None = None) -> _Answer:
        """POST and return the response (any status); failures mapped as the module says."""
        failure: TransportError
        try:
            if self._lean is None:
                assert self._httpx is not None  # noqa: S101 - one of the two is set in __init__
                return self._httpx.post(
                    url, body, content_type, read_timeout=read_timeout,
                    name=url if self._socket_url is None else self._socket_url)
            origin, path = self._origin(url)
            timeout = self.settings.read_timeout if read_timeout is None else read_timeout
            return self._lean.post(origin, path, body, content_type, timeout)
        except SendError as exc:
            failure = _lean_mapped(exc, url)
        except TransportError as exc:  # httpx's path, mapped already
            failure = exc
        # Raised outside the except block, the body dropped: the failed send's frames (which
        # hold the body, a login's password included) must not stay reachable from it.
        del body
        raise failure

    def _origin(self, url: str) -> tuple[Origin, str]:
        found = self._origins.get(url)
        if found is None:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            found = self._origins[url] = (Origin(parts.scheme, parts.hostname or "", port),
                                          parts.path or "/")
        return found

    def close(self) -> None:
        if self._lean is not None:
            self._lean.close()
        if self._httpx is not None:
            self._httpx.close()


def _environment_proxies() -> bool:
    """Whether the environment names a proxy httpx would route through (``HTTP_PROXY``,
    ``HTTPS_PROXY``, ``ALL_PROXY``, any case); elsewhere than Linux, what urllib finds (the
    system's settings too)."""
    if sys.platform != "linux":
        import urllib.request

        return bool(set(urllib.request.getproxies()) - {"no"})
    return any(value and key.lower() in ("http_proxy", "https_proxy", "all_proxy")
               for key, value in os.environ.items())


def _lean_mapped(exc: SendError, url: str) -> TransportError:
    host = _host(url)
    if isinstance(exc, NotSent):
        return _refused(exc, url, timeout=exc.timeout)
    if isinstance(exc, AnswerTimeout):
        return RequestTimeout(f"no answer from {host} in time", url=host)
    kind = exc.kind if isinstance(exc, Lost) else type(exc).__name__
    return ConnectionLost(f"connection to {host} lost after sending ({kind})", url=host)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def _refused(exc: Exception, url: str, *, timeout: bool) -> TransportError:
    """What a connection that was never made means (``timeout``: connecting timed out, or no
    connection of the pool came free in time)."""
    host = _host(url)
    for cause in _causes(exc):
        if isinstance(cause, PinMismatchError):
            return FingerprintMismatch(
                f"certificate of {cause.host} changed: SHA-256 is {cause.actual}, expected "
                f"{cause.expected}. Refusing to connect. If the host's certificate was "
                "replaced on purpose, update the pin or forget the known host.",
                url=host, expected=cause.expected, actual=cause.actual)
        if isinstance(cause, UnpinnedHostError):
            return TLSError(
                f"certificate of {cause.host} (SHA-256 {cause.actual}) is not trusted: only "
                "the host you named is pinned, and each pool member has its own certificate. "
                f"Pin this one too (fingerprint={{'{cause.host.rsplit(':', 1)[0]}': ...}}, "
                "--fingerprint HOST=SHA256) or trust members on first use (known_hosts=).",
                url=host)
        if isinstance(cause, ssl.SSLCertVerificationError):
            return TLSError(f"certificate of {host} is not trusted ({cause.verify_message}). "
                            "Give the pool's CA bundle or pin its fingerprint.", url=host)
        if _closed_in_handshake(cause):
            # The host hung up before a certificate was seen (a master going down, stunnel
            # with no xapi behind it): a connection failure, retried and failed over as one,
            # not a question of trust.
            return ConnectError(f"cannot connect to {host} (it closed the connection during "
                                "the TLS handshake)", url=host)
        if isinstance(cause, ssl.SSLError):
            return TLSError(f"TLS handshake with {host} failed ({cause.reason})", url=host)
    kind = "timeout" if timeout else _kind(exc)
    return ConnectError(f"cannot connect to {host} ({_reason(exc)})", url=host,
                        kind=kind)


_NO_ROUTE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN,
                       errno.EHOSTDOWN, errno.EADDRNOTAVAIL})


def _closed_in_handshake(cause: BaseException) -> bool:
    if isinstance(cause, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return True
    return isinstance(cause, ssl.SSLError) and cause.reason == "UNEXPECTED_EOF_WHILE_READING"


def _kind(exc: Exception) -> str:
    """Why a connection failed, from the OS error under the client's (see
    ``ConnectError.kind``)."""
    for cause in _causes(exc):
        if isinstance(cause, socket.gaierror):
            return "unknown host"
        if isinstance(cause, ConnectionRefusedError):
            return "refused"
        if isinstance(cause, FileNotFoundError):  # a unix socket file that is not there:
            return "refused"                      # nothing listens, as for a refused port
        if isinstance(cause, OSError) and cause.errno in _NO_ROUTE:
            return "no route"
        if isinstance(cause, TimeoutError | socket.timeout):
            return "timeout"
    return ""


def _reason(exc: BaseException) -> str:
    text = str(exc)
    return text if text else type(exc).__name__


def _host(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return url
    return f"{parts.scheme}://{parts.netloc}"


def _user_agent() -> str:
    from xapictl._version import __version__

    return f"xapictl/{__version__}"


__all__ = ["ConnectionLost", "Endpoint", "HttpChannel", "HttpSettings", "HttpTransport",
           "crosses_network_in_clear"]
