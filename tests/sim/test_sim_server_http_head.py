"""The request head reader (xapictl/sim/http1.py) keeps http.server's behaviour: header names
case-insensitive with the first one winning, HTTP/1.0 closing unless asked to keep alive,
``Expect: 100-continue``, 431 past the header limits, and odd request lines left to the
stdlib's own checks. Over a raw socket on loopback."""

from __future__ import annotations

import io
import socket
import xmlrpc.client

import pytest
from sim_wire_stub import SESSION, StubSim

from xapictl.sim.http1 import MAX_HEADERS, read_headers
from xapictl.sim.server import SimServer


@pytest.fixture
def server():
    with SimServer(StubSim()) as running:
        yield running


def exchange(port: int, request: bytes, *, until_close: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(request)
        received = b""
        while chunk := raw.recv(65536):
            received += chunk
            if not until_close and b"</methodResponse>" in received:
                break
    return received


def echo(value: str) -> bytes:
    return xmlrpc.client.dumps((SESSION, value), "test.echo").encode()


def test_names_are_case_insensitive_and_the_first_one_wins() -> None:
    headers = read_headers(io.BufferedReader(io.BytesIO(
        b"content-LENGTH: 5\r\nContent-Length: 9\r\nX-Folded: a\r\n b\r\n\r\nrest")))
    assert not isinstance(headers, str)
    assert headers.get("Content-Length") == "5"
    assert headers.get("x-folded") == "a b"


def test_http_1_0_closes_unless_asked_to_keep_alive(server) -> None:
    body = echo("old")
    closed = exchange(server.port, b"POST / HTTP/1.0\r\nContent-Length: "
                      + str(len(body)).encode() + b"\r\n\r\n" + body)
    assert b"Connection: close" in closed and closed.endswith(b"</methodResponse>")
    kept = exchange(server.port, b"POST / HTTP/1.0\r\nConnection: Keep-Alive\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body,
                    until_close=False)
    assert b"Connection: close" not in kept


def test_expect_100_continue_is_answered_before_the_body(server) -> None:
    body = echo("later")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        raw.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: "
                    + str(len(body)).encode() + b"\r\n\r\n")
        assert raw.recv(65536).startswith(b"HTTP/1.1 100 ")
        raw.sendall(body)
        assert b"<value>later</value>" in raw.recv(65536)


def test_too_many_headers_is_431(server) -> None:
    many = b"".join(b"X-%d: y\r\n" % i for i in range(MAX_HEADERS + 1))
    reply = exchange(server.port, b"POST / HTTP/1.1\r\n" + many + b"\r\n")
    assert reply.startswith(b"HTTP/1.1 431 ")


@pytest.mark.parametrize(("line", "status"), [(b"POST / HTTP/2.0", b"505"),
                                              (b"POST / FTP/1.1", b"400"),
                                              (b"POST / HTTP/1.1 extra", b"400")])
def test_odd_request_lines_get_the_stdlib_answers(server, line, status) -> None:
    # The stdlib's error page (sent without a status line: the version was not understood).
    reply = exchange(server.port, line + b"\r\nContent-Length: 0\r\n\r\n")
    assert b"Error code: " + status in reply
