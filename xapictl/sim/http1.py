"""A faster request-head reader for the simulator's ``http.server`` handler.

``http.server`` reads headers through the ``email`` package's feed parser, which is about a
third of the server's time for a simple getter. The common request (``METHOD /path HTTP/1.x``)
takes this short path instead; anything else goes to ``http.server`` unchanged, so its checks
and error answers (400, 431, 505) stay the stdlib's.
"""

from __future__ import annotations

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


def read_headers(rfile: BufferedIOBase) -> Headers | str:
    """The header block up to the blank line, or why it is refused."""
    headers = Headers()
    last = ""
    for _ in range(MAX_HEADERS + 1):
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

    def parse_request(self) -> bool:
        line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = line.split()
        keep_alive = _VERSIONS.get(words[-1]) if len(words) == 3 else None
        if keep_alive is None or words[1].startswith("//"):
            return super().parse_request()
        self.requestline = line
        self.command, self.path, self.request_version = words
        headers = read_headers(self.rfile)
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


__all__ = ["MAX_HEADERS", "MAX_LINE", "FastHeadHandler", "Headers", "read_headers"]
