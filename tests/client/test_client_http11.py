"""The lean HTTP/1.1 client (xapictl.xapi.http11) against a scripted loopback server: every
answer shape it reads, what each failure is called, and that a connection the host closed
while idle is dropped, never written to."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from xapictl.errors import ConnectError, ConnectionLost, RequestTimeout
from xapictl.xapi.http11 import Http11Pool, Lost, Origin
from xapictl.xapi.transport import Endpoint, HttpChannel, HttpSettings

Script = Callable[[socket.socket, int], None]
"""What the server does with its n-th accepted connection (it reads the requests itself)."""

TIMEOUT = 10.0  # a safety net only: every exchange below is answered or closed at once


def read_request(sock: socket.socket) -> bytes:
    """One request (head and Content-Length body), or b"" if the client closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest


class Server:
    def __init__(self, script: Script) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.script = script
        self.accepted = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            sock, _ = self.listener.accept()
            if self.stopping:
                sock.close()
                return
            with sock:
                sock.settimeout(TIMEOUT)
                self.accepted += 1
                self.script(sock, self.accepted)

    def close(self) -> None:
        self.stopping = True
        socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT).close()  # wakes accept
        self.thread.join(TIMEOUT)
        self.listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Script], Server]]:
    servers: list[Server] = []

    def start(script: Script) -> Server:
        servers.append(Server(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _pool() -> Http11Pool:
    return Http11Pool(ssl_context=None, connect_timeout=TIMEOUT, max_connections=4,
                      user_agent="xapictl/test")


def _post(pool: Http11Pool, server: Server, body: bytes = b"{}") -> tuple[int, bytes]:
    answer = pool.post(Origin("http", "127.0.0.1", server.port), "/jsonrpc", body,
                       "application/json", TIMEOUT)
    return answer.status_code, answer.content


def answering(*answers: bytes, then_close: bool = True) -> Script:
    """Read one request per answer and send it; then close the connection."""

    def script(sock: socket.socket, n: int) -> None:
        for answer in answers:
            if not read_request(sock):
                return
            sock.sendall(answer)
        if not then_close:
            read_request(sock)

    return script


def test_one_request_is_one_write_with_the_headers_xapi_needs(serve: Callable[[Script], Server]
                                                              ) -> None:
    seen: list[bytes] = []

    def script(sock: socket.socket, n: int) -> None:
        seen.append(read_request(sock))
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    server = serve(script)
    pool = _pool()
    assert _post(pool, server, b'{"a": 1}') == (200, b"ok")
    pool.close()
    head, body = seen[0].split(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /jsonrpc HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}".encode() in lines
    assert b"Content-Type: application/json" in lines and b"Content-Length: 8" in lines
    assert b"User-Agent: xapictl/test" in lines and body == b'{"a": 1}'


@pytest.mark.parametrize("body", [b'{"method": "VM.get_all_records"}', b""])
def test_the_head_and_the_body_go_out_in_one_write(serve: Callable[[Script], Server],
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   body: bytes) -> None:
    seen: list[bytes] = []

    class Counting(socket.socket):
        def sendall(self, data: Any, *args: Any) -> None:
            seen.append(bytes(data))
            super().sendall(data, *args)

        def send(self, data: Any, *args: Any) -> int:
            seen.append(bytes(data))
            return super().send(data, *args)

    real = socket.create_connection

    def counted(address: Any, timeout: Any = None, *args: Any) -> socket.socket:
        plain = real(address, timeout, *args)
        made = Counting(fileno=plain.detach())
        made.settimeout(timeout)
        return made

    monkeypatch.setattr(socket, "create_connection", counted)
    server = serve(answering(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    pool = _pool()
    assert _post(pool, server, body) == (200, b"ok")
    pool.close()
    assert len(seen) == 1 and seen[0].startswith(b"POST /jsonrpc HTTP/1.1\r\n")
    assert seen[0].endswith(b"\r\n\r\n" + body)


def test_kept_alive_connections_are_reused(serve: Callable[[Script], Server]) -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = serve(answering(ok, ok, ok, then_close=False))
    pool = _pool()
    for _ in range(3):
        assert _post(pool, server) == (200, b"ok")
    pool.close()
    assert server.accepted == 1


@pytest.mark.parametrize(("answer", "content"), [
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n", b"abcde"),
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", b"x"),
    (b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
     b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\ny", b"y"),  # any 1xx; names any case
    (b"HTTP/1.1 204 No Content\r\n\r\n", b""),
    (b"HTTP/1.1 500 Internal Error\r\nContent-Length: 4\r\n\r\n<h1>", b"<h1>"),
    (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
     % (len(gzip.compress(b"zipped", mtime=0)), gzip.compress(b"zipped", mtime=0)),
     b"zipped"),  # mtime=0: the same bytes, so the same test id, in every xdist worker
])
def test_answer_shapes(serve: Callable[[Script], Server], answer: bytes, content: bytes
                       ) -> None:
    server = serve(answering(answer))
    pool = _pool()
    status, got = _post(pool, server)
    pool.close()
    assert got == content and status in (200, 204, 500)


def test_an_answer_ended_by_the_close_or_from_http_1_0_is_read_whole_and_not_kept(
        serve: Callable[[Script], Server]) -> None:
    answers = {1: b"HTTP/1.1 200 OK\r\n\r\nuntil the end",
               2: b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n1.0",
               3: b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nc"}

    def script(sock: socket.socket, n: int) -> None:
        read_request(sock)
        sock.sendall(answers.get(n, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        # then closes: the client must not have kept the connection for a next request

    server = serve(script)
    pool = _pool()
    got = [_post(pool, server) for _ in range(4)]
    pool.close()
    assert got == [(200, b"until the end"), (200, b"1.0"), (200, b"c"), (200, b"ok")]
    assert server.accepted == 4


def test_a_connection_the_host_closed_while_idle_is_dropped_not_written_to(
        serve: Callable[[Script], Server]) -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    closed = threading.Event()

    def script(sock: socket.socket, n: int) -> None:
        read_request(sock)
        sock.sendall(ok)
        if n == 1:  # an idle timeout: the host closes after its answer
            sock.shutdown(socket.SHUT_RDWR)
            closed.set()
        else:
            read_request(sock)

    server = serve(script)
    pool = _pool()
    assert _post(pool, server) == (200, b"ok")
    assert closed.wait(TIMEOUT)
    assert _post(pool, server) == (200, b"ok")  # not ConnectionLost: a fresh connection
    pool.close()
    assert server.accepted == 2


@pytest.mark.parametrize(("answer", "kind"), [
    (b"", "RemoteProtocolError"),                                     # closed, no answer
    (b"SSH-2.0-OpenSSH\r\n\r\n", "RemoteProtocolError"),              # not HTTP
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "RemoteProtocolError"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "RemoteProtocolError"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "RemoteProtocolError"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "RemoteProtocolError"),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "RemoteProtocolError"),
    (b"HTTP/1.1 200 OK\r\nContent-Le", "RemoteProtocolError"),            # cut in the head
    (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
     "DecodingError"),
])
def test_a_broken_answer_is_lost_after_sending(serve: Callable[[Script], Server],
                                              answer: bytes, kind: str) -> None:
    server = serve(answering(answer))
    pool = _pool()
    with pytest.raises(Lost) as caught:
        _post(pool, server)
    pool.close()
    assert caught.value.kind == kind


def test_the_channel_maps_each_failure_by_whether_the_request_was_sent(
        serve: Callable[[Script], Server]) -> None:
    answered = threading.Event()

    def silent(sock: socket.socket, n: int) -> None:
        read_request(sock)
        answered.wait(TIMEOUT)  # no answer until the client has given up

    server = serve(silent)
    channel = HttpChannel(Endpoint.parse(f"http://127.0.0.1:{server.port}"),
                          HttpSettings(read_timeout=0.2))
    with pytest.raises(RequestTimeout, match="no answer from"):
        channel.post(f"http://127.0.0.1:{server.port}/jsonrpc", b"{}", "application/json")
    answered.set()
    channel.close()

    lost = serve(answering(b""))
    channel = HttpChannel(Endpoint.parse(f"http://127.0.0.1:{lost.port}"), HttpSettings())
    with pytest.raises(ConnectionLost, match=r"lost after sending \(RemoteProtocolError\)"):
        channel.post(f"http://127.0.0.1:{lost.port}/jsonrpc", b"{}", "application/json")
    channel.close()

    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nothing listens there now
    channel = HttpChannel(Endpoint.parse(f"http://127.0.0.1:{port}"), HttpSettings())
    with pytest.raises(ConnectError) as refused:
        channel.post(f"http://127.0.0.1:{port}/jsonrpc", b"{}", "application/json")
    channel.close()
    assert refused.value.kind == "refused"
    assert str(refused.value) == (f"cannot connect to http://127.0.0.1:{port} "
                                  "([Errno 111] Connection refused)")


def test_requests_beyond_the_limit_wait_for_a_free_connection(
        serve: Callable[[Script], Server]) -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    release = threading.Event()
    first_in = threading.Event()

    def script(sock: socket.socket, n: int) -> None:
        while read_request(sock):
            first_in.set()
            release.wait(TIMEOUT)
            sock.sendall(ok)

    server = serve(script)
    pool = Http11Pool(ssl_context=None, connect_timeout=TIMEOUT, max_connections=1,
                      user_agent="t")
    results: list[tuple[int, bytes]] = []
    first = threading.Thread(target=lambda: results.append(_post(pool, server)))
    first.start()
    assert first_in.wait(TIMEOUT)
    second = threading.Thread(target=lambda: results.append(_post(pool, server)))
    second.start()
    release.set()
    first.join(TIMEOUT)
    second.join(TIMEOUT)
    pool.close()
    assert results == [(200, b"ok"), (200, b"ok")]
    assert server.accepted == 1  # the second waited for the first's connection


@pytest.mark.parametrize(("env", "lean"), [
    ({}, True), ({"no_proxy": "*"}, True), ({"HTTPS_PROXY": ""}, True),
    ({"HTTPS_PROXY": "http://proxy:3128"}, False), ({"all_proxy": "http://proxy:3128"}, False),
    ({"http_proxy": "http://proxy:3128"}, False),
])
def test_a_proxy_in_the_environment_takes_httpx_s_path(monkeypatch: pytest.MonkeyPatch,
                                                       env: dict[str, str], lean: bool) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    channel = HttpChannel(Endpoint.parse("http://127.0.0.1:1"), HttpSettings())
    try:
        assert (channel._lean is not None) is lean and (channel._httpx is None) is lean
    finally:
        channel.close()


def test_a_unix_socket_or_an_injected_transport_takes_httpx_s_path() -> None:
    import httpx

    for endpoint, settings in (
            (Endpoint.parse("unix:///nonexistent/xapi"), HttpSettings()),
            (Endpoint.parse("http://127.0.0.1:1"),
             HttpSettings(transport=httpx.MockTransport(lambda request: httpx.Response(200))))):
        channel = HttpChannel(endpoint, settings)
        assert channel._lean is None and channel._httpx is not None
        channel.close()
