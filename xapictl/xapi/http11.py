"""XAPI's one request shape over the standard library's ``http.client``: ``POST``, read.

``HttpChannel`` sends through this when nothing asks for more (no injected transport, no proxy
in the environment, no unix socket), and through httpx otherwise. ``http.client`` reads what an
answer can be (``Content-Length``, chunked, ended by the close, 1xx interim answers); this
module adds what an XAPI pool needs around it: kept-alive connections shared by threads up to a
limit, TLS with the pool's context, each request sent in one write (head and body together:
no Nagle/delayed-ACK stall), gzip answers, and failures named by whether the request was sent.
It loads with the standard library alone (httpx, httpcore, h11, anyio and certifi were a fifth
of a CLI run's start-up).

What a failure means follows httpx's classes, which ``transport`` maps onto the xapictl tree:

* ``NotSent``: connecting (TCP, TLS handshake, pin check) failed: nothing was sent;
  ``timeout`` tells a timeout from a refusal;
* ``AnswerTimeout``: sent, and no answer (or no rest of it) in time;
* ``Lost``: sent, then the connection broke, or the answer was not HTTP; ``kind`` names it as
  httpx would (``WriteError``, ``ReadError``, ``RemoteProtocolError``, ``DecodingError``).

A connection that sat idle is checked before it is reused (a host that closed it makes it
readable): it is dropped, not written to, so a host's idle timeout never turns a write into an
unknown outcome.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import zlib
from dataclasses import dataclass, field
from typing import Any

from xapictl._batch import HEADER as BATCH_HEADER
from xapictl._frozen import Frozen


class SendError(Exception):
    """Base of the failures below (``transport`` maps them)."""


class NotSent(SendError):
    """Nothing was sent: the connection (or a free slot in the pool) could not be had."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


class AnswerTimeout(SendError):
    """The request was sent; no answer came in time."""


class Lost(SendError):
    """The request was sent; then the connection broke or answered something not HTTP."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Response(Frozen):
    """What ``post`` returns: what the wire modules read of an httpx response."""

    status_code: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Origin(Frozen):
    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


class _OneWrite(http.client.HTTPConnection):
    """A connection that sends a request's head and body in one write.

    ``endheaders(body)`` hands ``send`` the head, then the body; sent apart they cost a second
    system call and segment per request (and, without ``TCP_NODELAY``, a delayed-ACK stall).
    ``post`` calls ``hold`` before ``endheaders`` and ``flush`` after it."""

    _held: bytes | None = None

    def hold(self) -> None:
        self._held = b""

    def send(self, data: Any) -> None:
        if self._held is None:
            super().send(data)
        elif not self._held:
            self._held = bytes(data)  # the head: wait for the body
        else:
            held, self._held = self._held, None
            super().send(held + bytes(data))

    def flush(self) -> None:
        """Send what is still held (a request with an empty body)."""
        held, self._held = self._held, None
        if held:
            super().send(held)


class _OneWriteTLS(_OneWrite, http.client.HTTPSConnection):
    """``_OneWrite`` over TLS (``HTTPSConnection``'s handshake with the pool's context)."""


_Conn = _OneWrite
"""One kept-alive connection (``_OneWriteTLS`` for an https origin)."""


class Http11Pool:
    """Kept-alive connections to the origins of one pool (thread safe).

    ``max_connections`` bounds the connections open at once across origins, as httpx's limits
    do; a request that finds none free waits for one (an idle one to another origin is closed
    to make room)."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None, connect_timeout: float,
                 max_connections: int, user_agent: str) -> None:
        self._ssl = ssl_context
        self._connect_timeout = connect_timeout
        self._max = max_connections
        self._user_agent = user_agent
        self._idle: dict[Origin, list[_Conn]] = {}
        self._open = 0
        self._closed = False
        self._cond = threading.Condition()

    # --- the pool ---------------------------------------------------------------------------

    def _checkout(self, origin: Origin) -> _Conn | None:
        """An idle connection to ``origin`` that is still good, or ``None`` once a slot for a
        new one is reserved. With every slot in use, waits for one to come free (each request
        in flight ends within its own timeouts)."""
        with self._cond:
            while True:
                if self._closed:
                    raise NotSent("the connection pool is closed")
                idle = self._idle.get(origin)
                while idle:
                    conn = idle.pop()
                    if not _readable(conn.sock):
                        return conn
                    conn.close()  # the host closed it (or sent something unasked): drop it
                    self._open -= 1
                if self._open < self._max:
                    self._open += 1
                    return None
                if not self._evict_idle_elsewhere():
                    self._cond.wait()

    def _evict_idle_elsewhere(self) -> bool:
        """Close one idle connection of another origin to make room (the caller holds the
        lock). False when every open connection is in use."""
        for conns in self._idle.values():
            if conns:
                conns.pop(0).close()
                self._open -= 1
                return True
        return False

    def _checkin(self, origin: Origin, conn: _Conn, reusable: bool) -> None:
        with self._cond:
            if reusable and not self._closed:
                self._idle.setdefault(origin, []).append(conn)
            else:
                conn.close()
                self._open -= 1
            self._cond.notify()

    def _release_slot(self) -> None:
        with self._cond:
            self._open -= 1
            self._cond.notify()

    def close(self) -> None:
        """Close every idle connection; those in use close when their answer is read."""
        with self._cond:
            self._closed = True
            for conns in self._idle.values():
                for conn in conns:
                    conn.close()
                    self._open -= 1
            self._idle.clear()
            self._cond.notify_all()

    # --- one request ------------------------------------------------------------------------

    def post(self, origin: Origin, path: str, body: bytes, content_type: str,
             read_timeout: float, *, batch: str | None = None) -> Response:
        """Send one ``POST`` and read its answer; failures raise the classes above."""
        conn = self._checkout(origin)
        if conn is None:
            try:
                conn = self._connect(origin)
            except BaseException:
                self._release_slot()
                raise
        reusable = False
        try:
            response, reusable = self._exchange(conn, path, body, content_type, read_timeout,
                                                batch)
            return response
        finally:
            self._checkin(origin, conn, reusable)

    def _exchange(self, conn: _Conn, path: str, body: bytes, content_type: str,
                  read_timeout: float, batch: str | None = None) -> tuple[Response, bool]:
        """Send on a connected ``conn`` and read the answer; whether ``conn`` can be reused."""
        assert conn.sock is not None  # noqa: S101 - connected by _connect, kept only while open
        conn.sock.settimeout(read_timeout)
        try:
            conn.putrequest("POST", path, skip_accept_encoding=True)
            conn.putheader("Accept", content_type)
            conn.putheader("Content-Type", content_type)
            conn.putheader("Content-Length", str(len(body)))
            conn.putheader("User-Agent", self._user_agent)
            if batch is not None:
                conn.putheader(BATCH_HEADER, batch)
            conn.hold()
            conn.endheaders(body)
            conn.flush()
        except TimeoutError as exc:
            raise AnswerTimeout("timed out writing the request") from exc
        except OSError as exc:
            raise Lost(str(exc), "WriteError") from exc
        answer: http.client.HTTPResponse | None = None
        try:
            try:
                answer = conn.getresponse()
                content = answer.read()
            except BaseException:
                # An answer cut short still holds the socket (http.client hands a closing
                # connection's socket to the answer): close it here, not at garbage collection.
                if answer is not None:
                    answer.close()
                raise
        except TimeoutError as exc:
            raise AnswerTimeout("timed out") from exc
        except http.client.RemoteDisconnected as exc:  # also a ConnectionResetError
            raise Lost(str(exc), "RemoteProtocolError") from exc
        except http.client.IncompleteRead as exc:
            raise Lost(_BODY_CUT, "RemoteProtocolError") from exc
        except http.client.HTTPException as exc:  # not HTTP: bad status line, header, chunk
            raise Lost(f"not a valid HTTP answer: {exc!s:.80}", "RemoteProtocolError") from exc
        except OSError as exc:
            raise Lost(str(exc), "ReadError") from exc
        headers = {name.lower(): value for name, value in answer.getheaders()}
        encoding = headers.get("content-encoding", "").lower()
        if encoding in ("gzip", "deflate"):
            try:
                content = zlib.decompress(content, 16 + zlib.MAX_WBITS if encoding == "gzip" else 0)
            except zlib.error:
                raise Lost(f"answer is not valid {encoding}", "DecodingError") from None
        # http.client closes the connection when the answer said so (or was ended by the close)
        return Response(answer.status, content, headers), conn.sock is not None

    def _connect(self, origin: Origin) -> _Conn:
        conn: _Conn
        if origin.scheme == "https":
            if self._ssl is None:  # pragma: no cover - the channel always gives one
                raise NotSent("no TLS context for an https origin")
            conn = _OneWriteTLS(origin.host, origin.port, timeout=self._connect_timeout,
                                context=self._ssl)
        else:
            conn = _OneWrite(origin.host, origin.port, timeout=self._connect_timeout)
        try:
            conn.connect()  # TCP_NODELAY set by http.client; the TLS handshake and pin check
        except TimeoutError as exc:
            conn.close()
            raise NotSent(str(exc) or "timed out", timeout=True) from exc
        except OSError as exc:  # ssl.SSLError (a pin refusal too) is an OSError
            conn.close()
            raise NotSent(str(exc)) from exc
        except BaseException:
            conn.close()
            raise
        return conn


_BODY_CUT = "peer closed connection without sending complete message body"


def _readable(sock: socket.socket | None) -> bool:
    """Whether an idle connection has something to read: the host closed it (EOF) or sent
    what nobody asked for; either way it must not carry a request."""
    if sock is None:
        return True
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


__all__ = ["AnswerTimeout", "Http11Pool", "Lost", "NotSent", "Origin", "Response", "SendError"]
