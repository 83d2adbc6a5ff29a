"""Where a pool answers, how its HTTP channel is set up, and what a connection that was never
made means: what both HTTP paths share (``transport`` with the lean client of ``http11``,
``transport_httpx`` with httpx). ``xapictl.xapi.transport`` re-exports the public names.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import field, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from xapictl._frozen import Frozen, frozen
from xapictl.errors import (
    ConnectError,
    FingerprintMismatch,
    TLSError,
    TransportError,
    UsageError,
)
from xapictl.xapi.tls import TLSSettings

if TYPE_CHECKING:
    import httpx

    HttpTransport = httpx.BaseTransport
    """What ``transport=`` takes (tests, the embedded simulator): layers above the wire name it
    through ``xapictl.xapi.transport``, not through httpx."""


DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0


@frozen
class Endpoint(Frozen):
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
    endpoint = Endpoint.parse(url)
    if endpoint.scheme != "http" or endpoint.socket is not None:
        return False
    return not is_loopback_address(endpoint.host)


def is_loopback_address(host: str) -> bool:
    """``127.0.0.0/8``, ``::1`` or ``localhost``, and an IPv4-mapped loopback address
    (``::ffff:127.0.2.11``: the kernel carries it over IPv4 loopback; Python 3.13's
    ``is_loopback`` says so too)."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.lower() == "localhost"
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


@frozen
class HttpSettings(Frozen):
    """Timeouts, TLS and an optional injected transport (tests, the embedded simulator)."""

    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    tls: TLSSettings = field(default_factory=TLSSettings)
    transport: HttpTransport | None = None
    max_connections: int = 32


def _environment_proxies() -> bool:
    """Whether the environment names a proxy httpx would route through (``HTTP_PROXY``,
    ``HTTPS_PROXY``, ``ALL_PROXY``, any case); elsewhere than Linux, what urllib finds (the
    system's settings too)."""
    if sys.platform != "linux":
        import urllib.request

        return bool(set(urllib.request.getproxies()) - {"no"})
    # keys first: reading every value decoded the whole environment, for each connection
    return any(key.lower() in _PROXY_NAMES and os.environ[key] for key in os.environ)


_PROXY_NAMES = frozenset({"http_proxy", "https_proxy", "all_proxy"})


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
        refusal = _tls_refusal(cause, host)
        if refusal is not None:
            return refusal
    kind = "timeout" if timeout else _kind(exc)
    return ConnectError(f"cannot connect to {host} ({_reason(exc)})", url=host,
                        kind=kind)


def _tls_refusal(cause: BaseException, host: str) -> TransportError | None:
    """What a failed TLS handshake means, or ``None`` when ``cause`` is no TLS failure. None
    can be before ``ssl`` was loaded (``xapictl.xapi.pinning``, by the first TLS
    connection): a run that reaches its pool over plain HTTP never loads it."""
    if "ssl" not in sys.modules:
        return None
    import ssl

    from xapictl.xapi.pinning import PinMismatchError, UnpinnedHostError

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
    return None


_NO_ROUTE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN,
                       errno.EHOSTDOWN, errno.EADDRNOTAVAIL})


def _closed_in_handshake(cause: BaseException) -> bool:
    import ssl

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


__all__ = ["DEFAULT_CONNECT_TIMEOUT", "DEFAULT_READ_TIMEOUT", "Endpoint", "HttpSettings",
           "crosses_network_in_clear"]
