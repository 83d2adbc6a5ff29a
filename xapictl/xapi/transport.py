"""One HTTP channel per pool: its connections, timeouts, TLS, and the error mapping.

Both wire protocols post through ``HttpChannel.post``. It maps every failure onto the
xapictl tree according to one question, *was the request sent?*:

* nothing sent (refused, unreachable, TLS refused) → ``ConnectError`` / ``TLSError``:
  retrying is always safe;
* sent, then no answer in time → ``RequestTimeout``; sent, then the connection broke →
  ``ConnectionLost``. A read can be sent again; a write cannot (the session turns these into
  ``OutcomeUnknown``).

Requests go through ``xapictl.xapi.http11`` (the standard library's ``http.client``, kept-alive
and thread-safe) to an ``http(s)://`` pool, and through httpx when something needs more: an
injected transport (tests, the embedded simulator), a proxy named in the environment, a unix
socket. httpx is imported only then.

URLs: ``https://host[:port]``, ``http://…``, or ``unix:///path/to/socket`` for a dom0's local
socket (``/var/lib/xcp/xapi``). ``Endpoint.with_host`` re-targets to another pool member
keeping scheme and port, as ``HOST_IS_SLAVE`` asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from xapictl._batch import give_back, take_header
from xapictl.errors import ConnectError, ConnectionLost, RequestTimeout, TransportError
from xapictl.xapi.endpoint import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    Endpoint,
    HttpSettings,
    _environment_proxies,
    _host,
    _refused,
    _user_agent,
    crosses_network_in_clear,
)
from xapictl.xapi.http11 import AnswerTimeout, Http11Pool, Lost, NotSent, Origin, SendError

if TYPE_CHECKING:
    from xapictl.xapi.endpoint import HttpTransport
    from xapictl.xapi.transport_httpx import HttpxSender


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

class HttpChannel:
    """The connections of one pool (thread safe; connections are reused).

    An ``http(s)://`` pool is reached through ``xapictl.xapi.http11`` (``http.client``): one
    kept-alive connection per request in flight, each request sent in one write (on loopback,
    about a fifth of the client CPU per call of httpx's path; CHANGELOG, issue 12). An injected
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
            ssl_context = None
            if endpoint.scheme == "https":
                from xapictl.xapi.pinning import context_for  # ssl: for TLS only

                ssl_context = context_for(settings.tls, named=endpoint.host)
            self._lean = Http11Pool(
                ssl_context=ssl_context,
                connect_timeout=settings.connect_timeout,
                max_connections=settings.max_connections, user_agent=_user_agent())
        else:
            from xapictl.xapi.transport_httpx import HttpxSender

            self._httpx = HttpxSender(endpoint, settings, _user_agent())

    def post(self, url: str, body: bytes, content_type: str, *,
             read_timeout: float | None = None) -> _Answer:
        """POST and return the response (any status); failures mapped as the module says."""
        failure: TransportError
        batch = take_header()  # sent beside others: the simulator's batch gate (xapictl._batch)
        try:
            if self._lean is None:
                assert self._httpx is not None  # noqa: S101 - one of the two is set in __init__
                return self._httpx.post(
                    url, body, content_type, read_timeout=read_timeout,
                    name=url if self._socket_url is None else self._socket_url, batch=batch)
            origin, path = self._origin(url)
            timeout = self.settings.read_timeout if read_timeout is None else read_timeout
            return self._lean.post(origin, path, body, content_type, timeout, batch=batch)
        except SendError as exc:
            failure = _lean_mapped(exc, url)
        except TransportError as exc:  # httpx's path, mapped already
            failure = exc
        if isinstance(failure, ConnectError):  # nothing reached the server
            give_back(batch)
        # Raised outside the except block, the body dropped: the failed send's frames (which
        # hold the body, a login's password included) must not stay reachable from it.
        del body
        raise failure

    @property
    def pipelines(self) -> bool:
        """Whether ``post_in_order`` sends on one connection without waiting (the standard
        library's path; httpx's does not pipeline)."""
        return self._lean is not None

    def post_in_order(self, url: str, bodies: list[bytes], content_type: str, *,
                      read_timeout: float | None = None) -> list[_Answer | TransportError]:
        """POST every body on one connection, back to back (HTTP pipelining: one round
        trip; ``xapictl.xapi.http11.Http11Pool.post_in_order``): each one's response, or
        its failure mapped as ``post`` maps them. Only when ``pipelines``."""
        if self._lean is None:
            raise RuntimeError("post_in_order on a channel that does not pipeline")
        batch = take_header()
        origin, path = self._origin(url)
        timeout = self.settings.read_timeout if read_timeout is None else read_timeout
        answers = self._lean.post_in_order(origin, path, bodies, content_type, timeout,
                                           batch=batch)
        del bodies
        mapped: list[_Answer | TransportError] = [
            _lean_mapped(a, url) if isinstance(a, SendError) else a for a in answers]
        if all(isinstance(a, ConnectError) for a in mapped):  # nothing reached the server
            give_back(batch)
        return mapped

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


def _lean_mapped(exc: SendError, url: str) -> TransportError:
    host = _host(url)
    if isinstance(exc, NotSent):
        return _refused(exc, url, timeout=exc.timeout)
    if isinstance(exc, AnswerTimeout):
        return RequestTimeout(f"no answer from {host} in time", url=host)
    kind = exc.kind if isinstance(exc, Lost) else type(exc).__name__
    return ConnectionLost(f"connection to {host} lost after sending ({kind})", url=host)


__all__ = ["DEFAULT_CONNECT_TIMEOUT", "DEFAULT_READ_TIMEOUT", "ConnectionLost", "Endpoint",
           "HttpChannel", "HttpSettings", "HttpTransport", "crosses_network_in_clear"]
