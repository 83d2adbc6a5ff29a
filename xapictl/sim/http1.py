"""A faster request-head reader for the simulator's ``http.server`` handler.

``http.server`` reads headers through the ``email`` package's feed parser, which is about a
third of the server's time for a simple getter. The common request (``METHOD /path HTTP/1.x``)
takes this short path instead; anything else goes to ``http.server`` unchanged, so its checks
and error answers (400, 431, 505) stay the stdlib's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from io import BufferedIOBase

MAX_LINE = 65536  # http.client's limits, answered with the same 431
MAX_HEADERS = 100
_VERSIONS = {"HTTP/1.1": True, "HTTP/1.0": False}  # version -> keep-alive by default


class Headers(dict[str, str]):
    """Request headers by lower-case name (names are case-insensitive; the first one wins)."""

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(name.lower(), default)


# http_svr.ml response_request_timeout, sent when the head does not come in time.
REQUEST_TIMEOUT = (b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/html\r\n"
                   b"Connection: close\r\nCache-Control: no-cache, no-store\r\n"
                   b"Content-Length: 93\r\n\r\n<html><body><h1>HTTP 408 request timeout</h1>"
                   b"Timed out waiting for the request.</body></html>")


def read_headers(rfile: BufferedIOBase,
                 before_line: Callable[[], None] | None = None) -> Headers | str:
    """The header block up to the blank line, or why it is refused. ``before_line`` runs
    before each line is read (it sets the socket's timeout; it may raise TimeoutError)."""
    headers = Headers()
    last = ""
    for _ in range(MAX_HEADERS + 1):
        if before_line is not None:
            before_line()
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            return "Line too long"
        if line in (b"\r\n", b"\n", b""):
            return headers
        text = line.decode("iso-8859-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and last:  # obsolete line folding
            headers[last] = f"{headers[last]} {text.strip()}"
            continue
        name, _, value = text.partition(":")
        last = name.strip().lower()
        headers.setdefault(last, value.strip())
    return "Too many headers"


class FastHeadHandler(BaseHTTPRequestHandler):
    """``parse_request`` with the short path; the rest is ``BaseHTTPRequestHandler``'s."""

    raw_requestline: bytes  # set by handle_one_request before parse_request

    def header_timeouts(self) -> tuple[float | None, float | None]:
        """Seconds allowed for each read of the head, and for the whole head (None: no limit)."""
        return None, None

    def _head_clock(self) -> Callable[[], None] | None:
        per_read, total = self.header_timeouts()
        if per_read is None and total is None:
            return None
        deadline = time.monotonic() + total if total is not None else None

        def before_line() -> None:
            allowed = [t for t in (per_read, None if deadline is None
                                   else deadline - time.monotonic()) if t is not None]
            if min(allowed) <= 0:
                raise TimeoutError("request head not complete in time")
            self.connection.settimeout(min(allowed))

        return before_line

    def parse_request(self) -> bool:
        line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = line.split()
        keep_alive = _VERSIONS.get(words[-1]) if len(words) == 3 else None
        if keep_alive is None or words[1].startswith("//"):
            return super().parse_request()
        self.requestline = line
        self.command, self.path, self.request_version = words
        try:
            headers = read_headers(self.rfile, self._head_clock())
        except TimeoutError:
            self.close_connection = True
            self.wfile.write(REQUEST_TIMEOUT)
            return False
        if isinstance(headers, str):
            self.close_connection = True
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, headers)
            return False
        self.headers = headers  # type: ignore[assignment]
        connection = (headers.get("connection") or "").lower()
        self.close_connection = connection == "close" or (
            not keep_alive and connection != "keep-alive")
        if (self.request_version == "HTTP/1.1"
                and (headers.get("expect") or "").lower() == "100-continue"):
            return self.handle_expect_100()
        return True


__all__ = ["MAX_HEADERS", "MAX_LINE", "REQUEST_TIMEOUT", "FastHeadHandler", "Headers",
           "read_headers"]
