"""XAPI's one request shape over a socket: ``POST``, read.

``HttpChannel`` sends through this when nothing asks for more (no injected transport, no proxy
in the environment, no unix socket), and through httpx otherwise. It reads what an HTTP/1.1
answer can be (``Content-Length``, chunked, ended by the close, 1xx interim answers, HTTP/1.0)
and adds what an XAPI pool needs around it: kept-alive connections shared by threads up to a
limit, TLS with the pool's context, each request sent in one write (head and body together:
no Nagle/delayed-ACK stall), gzip answers, and failures named by whether the request was sent.
It loads the standard library's ``socket`` alone: httpx, httpcore, h11, anyio and certifi were
a fifth of a CLI run's start-up, and ``http.client`` (which was used here before) brought
``email``'s parser and ``ssl`` into every run, also one over plain HTTP (issue 12). ``ssl`` is
loaded by the first TLS connection (``xapictl.xapi.pinning``).

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

import select
import socket
import threading
import zlib
from collections.abc import Sequence
from dataclasses import field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

from xapictl._batch import HEADER as BATCH_HEADER
from xapictl._frozen import Frozen, frozen


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


@frozen
class Response(Frozen):
    """What ``post`` returns: what the wire modules read of an httpx response."""

    status_code: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)


@frozen
class Origin(Frozen):
    """Where requests go: scheme, host and port (one kept connection each)."""

    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


class _Cut(Exception):
    """The connection ended inside an answer (``partial``: what had come of it)."""

    def __init__(self, partial: bytes = b"") -> None:
        super().__init__()
        self.partial = partial


class _NoAnswer(Exception):
    """The connection ended before any byte of an answer."""


class _NotHttp(Exception):
    """What came is not an HTTP answer (a status line, header or chunk that cannot be)."""


_MAX_LINE = 65536  # as http.client: a status line, header or chunk size line
_MAX_HEADERS = 100


class _Conn:
    """One kept-alive connection: its socket and what was read of it past the last answer."""

    __slots__ = ("buf", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock: socket.socket | None = sock
        self.buf = bytearray()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _fill(self) -> bool:
        """One read into ``buf``; False at the end of the stream."""
        assert self.sock is not None  # noqa: S101 - only an open connection is read
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def line(self) -> bytes:
        """The next line, its end included; ``_Cut`` if the stream ends first."""
        start = 0
        while True:
            end = self.buf.find(b"\n", start)
            if end >= 0:
                found = bytes(self.buf[:end + 1])
                del self.buf[:end + 1]
                return found
            if len(self.buf) > _MAX_LINE:
                raise _NotHttp("line too long")
            start = len(self.buf)
            if not self._fill():
                raise _Cut(bytes(self.buf))

    def exactly(self, size: int) -> bytes:
        """The next ``size`` bytes; ``_Cut`` if the stream ends first."""
        have = len(self.buf)
        if have >= size:
            found = bytes(self.buf[:size])
            del self.buf[:size]
            return found
        assert self.sock is not None  # noqa: S101 - only an open connection is read
        out = bytearray(size)
        out[:have] = self.buf
        self.buf.clear()
        view = memoryview(out)
        while have < size:
            got = self.sock.recv_into(view[have:])
            if not got:
                raise _Cut(bytes(out[:have]))
            have += got
        return bytes(out)

    def rest(self) -> bytes:
        """Everything until the host closes the connection."""
        while self._fill():
            pass
        found = bytes(self.buf)
        self.buf.clear()
        return found


def _head(conn: _Conn) -> tuple[bytes, int, dict[str, str]]:
    """The final answer's version, status and headers (names lower case; repeated ones
    joined by ", "), after any 1xx interim answers."""
    while True:
        try:
            status_line = conn.line()
        except _Cut as cut:
            if cut.partial:
                raise _NotHttp(f"status line {cut.partial!r:.40}") from None
            raise _NoAnswer from None
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit() or \
                len(parts[1]) != 3:
            raise _NotHttp(f"status line {status_line!r:.40}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for _ in range(_MAX_HEADERS + 1):
            line = conn.line()
            if line in (b"\r\n", b"\n"):
                break
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon or not name.strip():
                raise _NotHttp(f"header line {line!r:.40}")
            key = name.strip().lower()
            text = value.strip()
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        else:
            raise _NotHttp(f"more than {_MAX_HEADERS} headers")
        if not 100 <= status < 200:
            return parts[0], status, headers


def _chunked(conn: _Conn) -> bytes:
    """A chunked body (chunk extensions and trailers read and dropped)."""
    chunks: list[bytes] = []
    while True:
        size_line = conn.line().split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise _NotHttp(f"chunk size {size_line!r:.40}") from None
        if size < 0:
            raise _NotHttp(f"chunk size {size_line!r:.40}")
        if size == 0:
            while conn.line() not in (b"\r\n", b"\n"):  # the trailer
                pass
            return b"".join(chunks)
        chunks.append(conn.exactly(size))
        conn.exactly(2)  # the chunk's CRLF


def _answer(conn: _Conn) -> tuple[int, bytes, dict[str, str], bool]:
    """Read one answer: status, body, headers, and whether the connection can carry
    another request (HTTP/1.1 not closing, HTTP/1.0 keep-alive); the caller also checks that
    nothing is left unread."""
    version, status, headers = _head(conn)
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    keep = "keep-alive" in tokens if version == b"HTTP/1.0" else "close" not in tokens
    if status in (204, 304):
        content = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        content = _chunked(conn)
    elif "content-length" in headers:
        text = headers["content-length"].split(",")[0].strip()
        if not text.isdigit():
            raise _NotHttp(f"Content-Length {text!r:.40}")
        content = conn.exactly(int(text))
    else:
        content, keep = conn.rest(), False
    return status, content, headers, keep


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
        answer, = self.post_in_order(origin, path, [body], content_type, read_timeout,
                                     batch=batch)
        if isinstance(answer, SendError):
            raise answer
        return answer

    def post_in_order(self, origin: Origin, path: str, bodies: Sequence[bytes],
                      content_type: str, read_timeout: float, *, batch: str | None = None
                      ) -> list[Response | SendError]:
        """Send every body as a ``POST`` on one connection in one write, without waiting for
        the answers in between (HTTP pipelining), then read the answers in order. XAPI's
        server reads one request at a time and answers it before reading the next, so they
        are served in this order. Each request gets its answer, or the failure that ended
        the connection before its answer came (``NotSent`` for all of them when connecting
        failed; after a broken write or answer, ``Lost`` or ``AnswerTimeout``: sent, the
        outcome unknown)."""
        conn = self._checkout(origin)
        if conn is None:
            try:
                conn = self._connect(origin)
            except NotSent as exc:
                self._release_slot()
                return [exc] * len(bodies)
            except BaseException:
                self._release_slot()
                raise
        reusable = False
        answers: list[Response | SendError] = []
        try:
            self._send(conn, b"".join(
                self._request(origin, path, body, content_type,
                              batch if index == 0 else None)
                for index, body in enumerate(bodies)), read_timeout)
            for _ in bodies:
                response, reusable = self._receive(conn)
                answers.append(response)
                if not reusable:
                    break
        except SendError as exc:
            reusable = False
            return [*answers, *[exc] * (len(bodies) - len(answers))]
        finally:
            self._checkin(origin, conn, reusable and not conn.buf)
        if len(answers) < len(bodies):  # the host closed after an answer: the rest are lost
            lost = Lost("the host closed the connection before answering", "RemoteProtocolError")
            answers += [lost] * (len(bodies) - len(answers))
        return answers

    def _request(self, origin: Origin, path: str, body: bytes, content_type: str,
                 batch: str | None) -> bytes:
        head = [f"POST {path} HTTP/1.1", f"Host: {origin.host_header}",
                f"Accept: {content_type}", f"Content-Type: {content_type}",
                f"Content-Length: {len(body)}", f"User-Agent: {self._user_agent}"]
        if batch is not None:
            head.append(f"{BATCH_HEADER}: {batch}")
        return _encoded("\r\n".join(head)) + b"\r\n\r\n" + body

    @staticmethod
    def _send(conn: _Conn, data: bytes, read_timeout: float) -> None:
        assert conn.sock is not None  # noqa: S101 - connected by _connect, kept only while open
        conn.sock.settimeout(read_timeout)
        try:
            conn.sock.sendall(data)
        except TimeoutError as exc:
            raise AnswerTimeout("timed out writing the request") from exc
        except OSError as exc:
            raise Lost(str(exc), "WriteError") from exc

    @staticmethod
    def _receive(conn: _Conn) -> tuple[Response, bool]:
        """The next answer on ``conn``, and whether the host keeps the connection open."""
        try:
            status, content, headers, keep = _answer(conn)
        except TimeoutError as exc:
            raise AnswerTimeout("timed out") from exc
        except _NoAnswer as exc:
            raise Lost("Remote end closed connection without response",
                       "RemoteProtocolError") from exc
        except _Cut as exc:
            raise Lost(_BODY_CUT, "RemoteProtocolError") from exc
        except _NotHttp as exc:  # not HTTP: bad status line, header, chunk
            raise Lost(f"not a valid HTTP answer: {exc!s:.80}", "RemoteProtocolError") from exc
        except OSError as exc:
            raise Lost(str(exc), "ReadError") from exc
        encoding = headers.get("content-encoding", "").lower()
        if encoding in ("gzip", "deflate"):
            try:
                content = zlib.decompress(content, 16 + zlib.MAX_WBITS if encoding == "gzip" else 0)
            except zlib.error:
                raise Lost(f"answer is not valid {encoding}", "DecodingError") from None
        return Response(status, content, headers), keep

    def _connect(self, origin: Origin) -> _Conn:
        sock: socket.socket | None = None
        try:
            # An ASCII name goes as the bytes the idna codec would make of it: given a str,
            # getaddrinfo encodes it with that codec, which loads encodings.idna, stringprep
            # and unicodedata (~0.9 ms of every run's CPU, issue 12). create_connection passes
            # the host to getaddrinfo, which takes bytes (its stub says str only).
            host = origin.host.encode("ascii") if origin.host.isascii() else origin.host
            sock = socket.create_connection(
                (host, origin.port), self._connect_timeout)  # type: ignore[arg-type]
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if origin.scheme == "https":
                if self._ssl is None:  # pragma: no cover - the channel always gives one
                    raise NotSent("no TLS context for an https origin")
                # the handshake, and the pin check inside it (xapictl.xapi.pinning)
                sock = self._ssl.wrap_socket(sock, server_hostname=origin.host)
        except TimeoutError as exc:
            if sock is not None:
                sock.close()
            raise NotSent(str(exc) or "timed out", timeout=True) from exc
        except OSError as exc:  # ssl.SSLError (a pin refusal too) is an OSError
            if sock is not None:
                sock.close()
            raise NotSent(str(exc)) from exc
        except BaseException:
            if sock is not None:
                sock.close()
            raise
        return _Conn(sock)


def _encoded(head: str) -> bytes:
    """A request head as bytes (a host name beyond ASCII in its IDNA form)."""
    try:
        return head.encode("ascii")
    except UnicodeEncodeError:
        host = next(line for line in head.split("\r\n") if line.startswith("Host: "))
        idna = "Host: " + host[6:].encode("idna").decode("ascii")
        return head.replace(host, idna).encode("latin-1")


_BODY_CUT = "peer closed connection without sending complete message body"


def _readable(sock: socket.socket | None) -> bool:
    """Whether an idle connection has something to read: the host closed it (EOF) or sent
    what nobody asked for; either way it must not carry a request."""
    if sock is None:
        return True
    pending = getattr(sock, "pending", None)  # a TLS socket: decrypted bytes not yet read
    if pending is not None and pending():
        return True
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


__all__ = ["AnswerTimeout", "Http11Pool", "Lost", "NotSent", "Origin", "Response", "SendError"]
