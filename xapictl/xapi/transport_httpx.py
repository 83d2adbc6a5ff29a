"""httpx's path for ``HttpChannel``: an injected transport (tests, the embedded simulator), a
proxy named in the environment, or a unix socket (a dom0's ``/var/lib/xcp/xapi``).

Imported only when one of those is used: the lean client of ``xapictl.xapi.http11`` carries
every other request, so a run that needs none of them never loads httpx.
"""

from __future__ import annotations

import functools
import socket
import ssl
import sys
from collections.abc import Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpcore
from httpcore._backends.sync import SyncStream

from xapictl._batch import HEADER as BATCH_HEADER
from xapictl.errors import ConnectError, ConnectionLost, RequestTimeout, TransportError
from xapictl.xapi.endpoint import _environment_proxies, _host, _refused

if TYPE_CHECKING:
    import httpx

    from xapictl.xapi.endpoint import Endpoint, HttpSettings


def httpx_without_its_cli() -> ModuleType:
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


if not TYPE_CHECKING:
    httpx = httpx_without_its_cli()


class HttpxSender:
    """The pooled httpx client of one pool (thread safe; connections are reused).

    Requests go straight to the client's transport when no proxy is configured in the
    environment: ``httpx.Client.send`` adds cookie handling, redirect and auth machinery and
    URL merging that an XAPI call never uses. The request is the same: the client's default
    headers, the same timeouts, the same transport and connection pool. With a proxy in the
    environment (``HTTPS_PROXY``…), requests take the client's path, which routes them
    through it."""

    def __init__(self, endpoint: Endpoint, settings: HttpSettings, user_agent: str) -> None:
        self.settings = settings
        transport = settings.transport
        limits = httpx.Limits(max_connections=settings.max_connections,
                              max_keepalive_connections=settings.max_connections)
        if transport is None and endpoint.socket is not None:
            transport = _unix_transport(endpoint.socket, limits)
        proxied = transport is None and _environment_proxies()
        verify: ssl.SSLContext | bool = True
        if transport is None and endpoint.scheme == "https":
            from xapictl.xapi.pinning import context_for

            verify = context_for(settings.tls, named=endpoint.host)
        elif transport is None and not proxied:
            # Plain http (or a unix socket) never speaks TLS: re-targets keep the scheme, and
            # no proxy is in the way. httpx would still build a verifying context, loading
            # the whole CA bundle (~20 ms of CPU) for nothing.
            verify = _no_tls_context()
        if transport is None and not proxied:
            # What the client would build for itself (env proxies aside, see above).
            transport = httpx.HTTPTransport(verify=verify, limits=limits)
        self._client = httpx.Client(
            transport=transport, verify=verify, limits=limits, follow_redirects=False,
            timeout=self._timeout(None), headers={"User-Agent": user_agent})
        self._direct = transport
        self._urls: dict[str, httpx.URL] = {}
        self._headers: dict[str, list[tuple[str, str]]] = {}
        self._default_timeout = self._timeout(None).as_dict()

    def _timeout(self, read: float | None) -> httpx.Timeout:
        s = self.settings
        r = s.read_timeout if read is None else read
        return httpx.Timeout(connect=s.connect_timeout, read=r, write=r, pool=s.connect_timeout)

    def post(self, url: str, body: bytes, content_type: str, *, read_timeout: float | None,
             name: str, batch: str | None = None) -> httpx.Response:
        """POST and return the response (any status); failures mapped onto the xapictl tree
        (``name``: how they name the endpoint)."""
        try:
            if self._direct is None:
                headers = {"Content-Type": content_type, "Accept": content_type}
                if batch is not None:
                    headers[BATCH_HEADER] = batch
                return self._client.post(
                    url, content=body, timeout=self._timeout(read_timeout), headers=headers)
            return self._send_direct(self._direct, url, body, content_type, read_timeout, batch)
        except httpx.TransportError as exc:
            failure = _mapped(exc, name)
        # Raised outside the except block: the httpx exception (whose .request.content is the
        # body, a login's password included) must not stay reachable as __context__; nor
        # may the body itself, as a local of this frame in the traceback.
        del body
        raise failure

    def _send_direct(self, transport: httpx.BaseTransport, url: str, body: bytes,
                     content_type: str, read_timeout: float | None,
                     batch: str | None = None) -> httpx.Response:
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
        if batch is not None:
            headers = [*headers, (BATCH_HEADER, batch)]
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


def _mapped(exc: httpx.TransportError, url: str) -> TransportError:
    host = _host(url)
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return _refused(exc, url,
                        timeout=isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout))
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(f"no answer from {host} in time", url=host)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError
                  | httpx.CloseError):
        return ConnectionLost(f"connection to {host} lost after sending "
                              f"({type(exc).__name__})", url=host)
    return ConnectError(f"cannot reach {host}: {type(exc).__name__}", url=host)


__all__ = ["HttpxSender", "httpx_without_its_cli"]
