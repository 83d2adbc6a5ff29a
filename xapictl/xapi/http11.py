"""A lean HTTP/1.1 client for XAPI's one request shape: ``POST`` a body, read the answer.

``HttpChannel`` sends through this when nothing asks for more (no injected transport, no proxy
in the environment, no unix socket), and through httpx otherwise. An XAPI call needs a small
part of a general HTTP client: one ``POST`` with a ``Content-Length``, an answer with a
``Content-Length`` (or chunked, or ended by the close), kept-alive connections reused, TLS with
the pool's context. Doing just that costs a third of httpx's client CPU per request (the
request goes out in one ``send``, not a header write and a body write, and no event machinery
runs per header), and the package loads with the standard library alone (httpx, httpcore, h11,
anyio and certifi were a fifth of a CLI run's start-up).

What a failure means follows httpx's classes, which ``transport`` maps onto the xapictl tree:

* ``NotSent``: connecting (TCP, TLS handshake, pin check) failed: nothing was sent;
  ``timeout`` tells a timeout from a refusal;
* ``AnswerTimeout``: sent, and no answer (or no rest of it) in time;
* ``Lost``: sent, then the connection broke, or the answer was not HTTP; ``kind`` names it as
  httpx would (``WriteError``, ``ReadError``, ``RemoteProtocolError``).

A connection that sat idle is checked before it is reused (a host that closed it makes it
readable): it is dropped, not written to, so a host's idle timeout never turns a write into an
unknown outcome.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
import zlib
from dataclasses import dataclass, field

MAX_HEAD = 256 * 1024
"""The most bytes of status line and headers read before an answer is refused."""

_CHUNK = 256 * 1024


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


@dataclass(frozen=True, slots=True)
class Response:
    """What ``post`` returns: what the wire modules read of an httpx response."""

    status_code: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


class _Conn:
    __slots__ = ("buffer", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()


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
             read_timeout: float) -> Response:
        """Send one ``POST`` and read its answer; failures raise the classes above."""
        conn = self._checkout(origin)
        if conn is None:
            try:
                conn = _Conn(self._connect(origin))
            except BaseException:
                self._release_slot()
                raise
        reusable = False
        try:
            head = (f"POST {path} HTTP/1.1\r\nHost: {origin.host_header}\r\n"
                    f"Accept: {content_type}\r\nContent-Type: {content_type}\r\n"
                    f"Content-Length: {len(body)}\r\nUser-Agent: {self._user_agent}\r\n"
                    "\r\n").encode("latin-1")
            _send(conn.sock, head + body, read_timeout)
            response, reusable = _receive(conn, read_timeout)
            return response
        finally:
            self._checkin(origin, conn, reusable)

    def _connect(self, origin: Origin) -> socket.socket:
        try:
            sock = socket.create_connection((origin.host, origin.port),
                                            timeout=self._connect_timeout)
        except TimeoutError as exc:
            raise NotSent(str(exc) or "timed out", timeout=True) from exc
        except OSError as exc:
            raise NotSent(str(exc)) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if origin.scheme == "https":
                if self._ssl is None:  # pragma: no cover - the channel always gives one
                    raise NotSent("no TLS context for an https origin")
                return self._ssl.wrap_socket(sock, server_hostname=origin.host)
            return sock
        except BaseException as exc:
            sock.close()
            if isinstance(exc, TimeoutError):
                raise NotSent(str(exc) or "timed out", timeout=True) from exc
            if isinstance(exc, OSError):  # ssl.SSLError (a pin refusal too) is an OSError
                raise NotSent(str(exc)) from exc
            raise


def _readable(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read: the host closed it (EOF) or sent
    what nobody asked for; either way it must not carry a request."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def _send(sock: socket.socket, data: bytes, timeout: float) -> None:
    sock.settimeout(timeout)
    try:
        sock.sendall(data)
    except TimeoutError as exc:
        raise AnswerTimeout("timed out writing the request") from exc
    except OSError as exc:
        raise Lost(str(exc), "WriteError") from exc


def _recv(conn: _Conn) -> bytes:
    try:
        return conn.sock.recv(_CHUNK)
    except TimeoutError as exc:
        raise AnswerTimeout("timed out") from exc
    except OSError as exc:
        raise Lost(str(exc), "ReadError") from exc


def _receive(conn: _Conn, timeout: float) -> tuple[Response, bool]:
    """Read one answer (1xx interim answers skipped); whether the connection can be reused."""
    conn.sock.settimeout(timeout)
    while True:
        status, version, headers = _read_head(conn)
        if not 100 <= status < 200:
            break
    length = headers.get("content-length")
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if status in (204, 304):
        body = b""
    elif chunked:
        body = _read_chunked(conn)
    elif length is not None:
        try:
            size = int(length)
        except ValueError:
            raise Lost(f"bad Content-Length {length!r}", "RemoteProtocolError") from None
        body = _read_exactly(conn, size)
    else:  # ended by the close
        parts = [conn.buffer]
        conn.buffer = b""
        while data := _recv(conn):
            parts.append(data)
        body, keep = b"".join(parts), False
    encoding = headers.get("content-encoding", "").lower()
    if encoding in ("gzip", "deflate"):
        try:
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS if encoding == "gzip" else 0)
        except zlib.error:
            raise Lost(f"answer is not valid {encoding}", "DecodingError") from None
    return Response(status, body, headers), keep and not conn.buffer


def _read_until(conn: _Conn, end: bytes, what: str, eof: str) -> bytes:
    """The buffered bytes up to ``end`` (consumed with it), reading more as needed."""
    while end not in conn.buffer:
        if len(conn.buffer) > MAX_HEAD:
            raise Lost(f"{what} too large", "RemoteProtocolError")
        data = _recv(conn)
        if not data:
            raise Lost(eof, "RemoteProtocolError")
        conn.buffer += data
    found, conn.buffer = conn.buffer.split(end, 1)
    return found


_BODY_CUT = "peer closed connection without sending complete message body"


def _read_head(conn: _Conn) -> tuple[int, str, dict[str, str]]:
    head = _read_until(conn, b"\r\n\r\n", "answer headers",
                       "Server disconnected without sending a response.")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise Lost(f"not an HTTP answer: {lines[0][:80]!r}", "RemoteProtocolError")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise Lost(f"bad header line {line[:80]!r}", "RemoteProtocolError")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return int(parts[1]), parts[0], headers


def _read_exactly(conn: _Conn, size: int) -> bytes:
    parts = [conn.buffer[:size]]
    have = len(parts[0])
    conn.buffer = conn.buffer[size:]
    while have < size:
        data = _recv(conn)
        if not data:
            raise Lost(_BODY_CUT, "RemoteProtocolError")
        if have + len(data) > size:
            data, conn.buffer = data[:size - have], data[size - have:]
        parts.append(data)
        have += len(data)
    return b"".join(parts)


def _read_line(conn: _Conn) -> bytes:
    return _read_until(conn, b"\r\n", "chunk header", _BODY_CUT)


def _read_chunked(conn: _Conn) -> bytes:
    parts: list[bytes] = []
    while True:
        size_text = _read_line(conn).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise Lost(f"bad chunk size {size_text[:20]!r}", "RemoteProtocolError") from None
        if size == 0:
            while _read_line(conn):  # trailers, up to the empty line
                pass
            return b"".join(parts)
        parts.append(_read_exactly(conn, size))
        if _read_line(conn):
            raise Lost("chunk not followed by CRLF", "RemoteProtocolError")


__all__ = ["AnswerTimeout", "Http11Pool", "Lost", "NotSent", "Origin", "Response", "SendError"]
