"""One HTTP channel per pool: the httpx client, its timeouts, TLS, and the error mapping.

Both wire protocols post through ``HttpChannel.post``. It maps every httpx failure onto the
xapictl tree according to one question, *was the request sent?*:

* nothing sent (refused, unreachable, TLS refused) → ``ConnectError`` / ``TLSError``:
  retrying is always safe;
* sent, then no answer in time → ``RequestTimeout``; sent, then the connection broke →
  ``ConnectionLost``. A read can be sent again; a write cannot (the session turns these into
  ``OutcomeUnknown``).

URLs: ``https://host[:port]``, ``http://…``, or ``unix:///path/to/socket`` for a dom0's local
socket (``/var/lib/xcp/xapi``). ``Endpoint.with_host`` re-targets to another pool member
keeping scheme and port, as ``HOST_IS_SLAVE`` asks.
"""

from __future__ import annotations

import errno
import functools
import socket
import ssl
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpcore
from httpcore._backends.sync import SyncStream

from xapictl.errors import (
    ConnectError,
    ConnectionLost,
    FingerprintMismatch,
    RequestTimeout,
    TLSError,
    TransportError,
    UsageError,
)
from xapictl.xapi.tls import PinMismatchError, TLSSettings, UnpinnedHostError


def _httpx_without_its_cli() -> ModuleType:
    """``import httpx``, minus the package's command-line tool.

    httpx's ``__init__`` imports ``httpx._main`` (click, rich and pygments: about 40 ms, a
    fifth of a CLI run's client CPU) and falls back to a stub ``main`` when that import fails.
    The import is made to fail, once, while httpx loads; the entry is removed afterwards, so a
    later ``import httpx._main`` (or ``python -m httpx``) works as usual. When httpx is
    already loaded this is plain ``import httpx``."""
    blocked = "httpx" not in sys.modules and "httpx._main" not in sys.modules
    if blocked:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]  # "not importable"
    try:
        import httpx
    finally:
        if blocked and "httpx._main" in sys.modules and sys.modules.get("httpx._main") is None:
            del sys.modules["httpx._main"]
    return httpx


if TYPE_CHECKING:
    import httpx
else:
    httpx = _httpx_without_its_cli()

HttpTransport = httpx.BaseTransport
"""What ``transport=`` takes (tests, the embedded simulator): layers above the wire name it
through here, not through httpx."""

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
    """The pooled httpx client of one pool (thread safe; connections are reused).

    Requests go straight to the client's transport when no proxy is configured in the
    environment: ``httpx.Client.send`` adds cookie handling, redirect and auth machinery and
    URL merging that an XAPI call never uses, and that cost a third of a request's client
    CPU (a fleet export makes five requests per pool). The request is the same: the client's
    default headers, the same timeouts, the same transport and connection pool. With a proxy
    in the environment (``HTTPS_PROXY``…), requests take the client's path, which routes them
    through it."""

    def __init__(self, endpoint: Endpoint, settings: HttpSettings) -> None:
        self.settings = settings
        transport = settings.transport
        limits = httpx.Limits(max_connections=settings.max_connections,
                              max_keepalive_connections=settings.max_connections)
        if transport is None and endpoint.socket is not None:
            transport = _unix_transport(endpoint.socket, limits)
        proxied = transport is None and _environment_proxies()
        verify: ssl.SSLContext | bool = True
        if transport is None and endpoint.scheme == "https":
            verify = settings.tls.ssl_context(named=endpoint.host)
        elif transport is None and not proxied:
            # Plain http (or a unix socket) never speaks TLS: re-targets keep the scheme, and
            # no proxy is in the way. httpx would still build a verifying context, loading
            # the whole CA bundle (~20 ms of CPU, per pool of a fleet) for nothing.
            verify = _no_tls_context()
        if transport is None and not proxied:
            # What the client would build for itself (env proxies aside, see above).
            transport = httpx.HTTPTransport(verify=verify, limits=limits)
        self._client = httpx.Client(
            transport=transport, verify=verify, limits=limits, follow_redirects=False,
            timeout=self._timeout(None), headers={"User-Agent": _user_agent()})
        self._direct = transport
        self._socket_url = str(endpoint) if endpoint.socket is not None else None
        """``unix:///path``: how failures name a unix-socket endpoint (not its _path_ URL)."""
        self._urls: dict[str, httpx.URL] = {}
        self._headers: dict[str, list[tuple[str, str]]] = {}
        self._default_timeout = self._timeout(None).as_dict()

    def _timeout(self, read: float | None) -> httpx.Timeout:
        s = self.settings
        r = s.read_timeout if read is None else read
        return httpx.Timeout(connect=s.connect_timeout, read=r, write=r, pool=s.connect_timeout)

    def post(self, url: str, body: bytes, content_type: str, *,
             read_timeout: float | None = None) -> httpx.Response:
        """POST and return the response (any status); failures mapped as the module says."""
        try:
            if self._direct is None:
                return self._client.post(
                    url, content=body, timeout=self._timeout(read_timeout),
                    headers={"Content-Type": content_type, "Accept": content_type})
            return self._send_direct(self._direct, url, body, content_type, read_timeout)
        except httpx.TransportError as exc:
            failure = _mapped(exc, url if self._socket_url is None else self._socket_url)
        # Raised outside the except block: the httpx exception (whose .request.content is the
        # body, a login's password included) must not stay reachable as __context__; nor
        # may the body itself, as a local of this frame in the traceback.
        del body
        raise failure

    def _send_direct(self, transport: httpx.BaseTransport, url: str, body: bytes,
                     content_type: str, read_timeout: float | None) -> httpx.Response:
        parsed = self._urls.get(url)
        if parsed is None:
            parsed = self._urls[url] = httpx.URL(url)
        headers = self._headers.get(content_type)
        if headers is None:
            merged = httpx.Headers(self._client.headers)
            merged["Content-Type"] = content_type
            merged["Accept"] = content_type
            headers = self._headers[content_type] = list(merged.items())
        timeout = (self._default_timeout if read_timeout is None
                   else self._timeout(read_timeout).as_dict())
        request = httpx.Request("POST", parsed, content=body, headers=headers,
                                extensions={"timeout": timeout})
        response = transport.handle_request(request)
        try:
            response.read()
        finally:
            response.close()
        return response

    def close(self) -> None:
        self._client.close()


class _ClosingUnixBackend(httpcore.SyncBackend):
    """httpcore's backend, but a unix-socket connect that fails closes its socket: httpcore
    1.0 leaves it open (a ``ResourceWarning`` per attempt for a missing socket file)."""

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(timeout)
            sock.connect(path)
        except TimeoutError as exc:
            sock.close()
            raise httpcore.ConnectTimeout(exc) from exc
        except OSError as exc:
            sock.close()
            raise httpcore.ConnectError(exc) from exc
        return SyncStream(sock)


def _unix_transport(path: str, limits: httpx.Limits) -> httpx.HTTPTransport:
    """httpx's transport to a unix socket, with the backend above (httpx takes no backend
    argument: it is set on the connection pool it made)."""
    transport = httpx.HTTPTransport(uds=path, limits=limits)
    pool = transport._pool
    if isinstance(getattr(pool, "_network_backend", None), httpcore.SyncBackend):
        pool._network_backend = _ClosingUnixBackend()
    return transport


@functools.cache  # one for every channel: it is never used to connect
def _no_tls_context() -> ssl.SSLContext:
    """The context handed to httpx for a channel that never speaks TLS (nothing loaded)."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _environment_proxies() -> bool:
    """Whether the environment names any proxy (what ``httpx.Client`` would route through)."""
    import urllib.request

    return bool(urllib.request.getproxies())


def _mapped(exc: httpx.TransportError, url: str) -> TransportError:
    host = _host(url)
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return _refused(exc, url)
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(f"no answer from {host} in time", url=host)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError
                  | httpx.CloseError):
        return ConnectionLost(f"connection to {host} lost after sending "
                              f"({type(exc).__name__})", url=host)
    return ConnectError(f"cannot reach {host}: {type(exc).__name__}", url=host)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def _refused(exc: httpx.TransportError, url: str) -> TransportError:
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
    kind = _kind(exc)
    return ConnectError(f"cannot connect to {host} ({_reason(exc)})", url=host,
                        kind=kind)


_NO_ROUTE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN,
                       errno.EHOSTDOWN, errno.EADDRNOTAVAIL})


def _closed_in_handshake(cause: BaseException) -> bool:
    if isinstance(cause, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return True
    return isinstance(cause, ssl.SSLError) and cause.reason == "UNEXPECTED_EOF_WHILE_READING"


def _kind(exc: httpx.TransportError) -> str:
    """Why a connection failed, from the OS error under httpx's (see ``ConnectError.kind``)."""
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return "timeout"
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
