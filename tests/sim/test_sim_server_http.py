"""The socket server: routing, content types, envelopes, keep-alive, concurrency, hosts, TLS,
unix socket. Driven by a stub engine (tests/sim/sim_wire_stub.py) so only the HTTP layer is
under test; the real engine is exercised through the same server in test_sim_server_engine."""

from __future__ import annotations

import hashlib
import http.client
import json
import secrets
import socket
import ssl
import tempfile
import threading
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import XenAPI
from sim_wire_stub import SESSION, StubSim

from xapictl.sim.server import SimServer


@pytest.fixture
def stub() -> StubSim:
    return StubSim()


@pytest.fixture
def server(stub):
    with SimServer(stub) as running:
        yield running


def xml_call(url: str, path: str, method: str, *params) -> httpx.Response:
    body = xmlrpc.client.dumps(params, method)
    return httpx.post(url + path, content=body, headers={"Content-Type": "text/xml"})


@pytest.mark.parametrize("path", ["/", "/RPC2", "/xmlrpc", "/json", "/anything/else"])
def test_every_post_path_but_jsonrpc_is_xmlrpc(server, path):
    reply = xml_call(server.url, path, "test.echo", SESSION, "hello")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/xml"
    assert xmlrpc.client.loads(reply.text)[0][0] == {"Status": "Success", "Value": "hello"}


def test_xmlrpc_response_is_compact(server):
    reply = xml_call(server.url, "/", "test.echo", SESSION, {"a": [1, 2], "b": {"c": True}})
    assert "\n" not in reply.text and "> <" not in reply.text


def test_jsonrpc_content_type_is_exact_and_ints_are_numbers(server):
    reply = httpx.post(server.url + "/jsonrpc",
                       json={"jsonrpc": "2.0", "method": "test.echo", "params": [SESSION, 1500],
                             "id": 0})
    assert reply.headers["content-type"] == "application/json"
    assert reply.content == b'{"jsonrpc":"2.0","result":1500,"id":0}'


def test_jsonrpc_v1_failure_shape_over_http(server):
    reply = httpx.post(server.url + "/jsonrpc",
                       json={"method": "network.get_record", "params": [SESSION, "OpaqueRef:x"],
                             "id": "abc"})
    assert reply.json() == {"result": None, "error": ["HANDLE_INVALID", "network", "OpaqueRef:x"],
                            "id": "abc"}


@pytest.mark.parametrize(("path", "body"), [
    ("/jsonrpc", b'{"method":"test.echo","params":[]}'),
    ("/jsonrpc", b'{"jsonrpc":"3.0","method":"test.echo","params":[],"id":1}'),
    ("/jsonrpc", b"{not json"),
    ("/", b"<methodCall><methodName>test.echo</methodName></methodCall>"),
    ("/RPC2", b"garbage"),
])
def test_malformed_bodies_get_http_500_with_html(server, path, body):
    reply = httpx.post(server.url + path, content=body)
    assert reply.status_code == 500
    assert reply.headers["content-type"] == "text/html"
    assert reply.text.startswith("<html>")
    assert xml_call(server.url, "/", "test.echo", SESSION, "still serving").status_code == 200


def test_an_internal_bug_is_a_generic_500_without_traceback_and_serving_goes_on(
        server, caplog):
    reply = xml_call(server.url, "/", "test.boom", SESSION)
    assert reply.status_code == 500
    assert "Traceback" not in reply.text and "secret" not in reply.text
    assert "a bug with a secret traceback" in caplog.text  # logged, not sent
    assert xml_call(server.url, "/", "test.echo", SESSION, "ok").status_code == 200


@pytest.mark.parametrize("path", ["/", "/jsonrpc", "/json"])
def test_options_is_a_cors_preflight(server, path):
    """http_svr.ml respond_to_options: no Content-Type, Allow-Methods PUT, the asked headers
    echoed before X-Requested-With."""
    reply = httpx.options(server.url + path)
    assert reply.status_code == 200 and reply.content == b""
    assert reply.headers["access-control-allow-origin"] == "*"
    assert reply.headers["access-control-allow-headers"] == "X-Requested-With"
    assert reply.headers["access-control-allow-methods"] == "PUT"
    assert "content-type" not in reply.headers
    asked = httpx.options(server.url + path,
                          headers={"Access-Control-Request-Headers": "content-type, x-a"})
    assert asked.headers["access-control-allow-headers"] == "content-type, x-a, X-Requested-With"


def test_system_list_methods_is_a_bare_array(server):
    reply = xml_call(server.url, "/", "system.listMethods")
    assert xmlrpc.client.loads(reply.text)[0][0] == ["session.login_with_password", "test.echo"]


def test_http11_keep_alive_reuses_one_connection_with_content_length(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    sockets = []
    try:
        for word in ("one", "two", "three"):
            conn.request("POST", "/", xmlrpc.client.dumps((SESSION, word), "test.echo"),
                         {"Content-Type": "text/xml"})
            sockets.append(conn.sock)
            reply = conn.getresponse()
            body = reply.read()
            assert reply.version == 11
            assert int(reply.getheader("Content-Length")) == len(body)
            assert xmlrpc.client.loads(body.decode())[0][0]["Value"] == word
        assert sockets[0] is not None
        assert all(sock is sockets[0] for sock in sockets)  # never reopened
    finally:
        conn.close()


def test_a_waiting_call_does_not_block_other_clients(server, stub):
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(xml_call, server.url, "/", "test.wait", SESSION)
        assert stub.waiting.wait(5)
        for n in range(5):  # other calls finish while the first one still waits
            assert xml_call(server.url, "/", "test.echo", SESSION, n).status_code == 200
        assert not waiting.done()
        stub.release.set()
        assert xmlrpc.client.loads(waiting.result(10).text)[0][0]["Value"] == "released"


def test_many_concurrent_clients_all_get_their_own_answer(server):
    def one(n: int) -> str:
        return xmlrpc.client.loads(xml_call(server.url, "/", "test.echo", SESSION,
                                            f"n{n}").text)[0][0]["Value"]

    with ThreadPoolExecutor(16) as pool:
        assert list(pool.map(one, range(64))) == [f"n{n}" for n in range(64)]


def test_members_listen_on_the_next_loopback_address_on_the_same_port(server, stub):
    assert server.urls == {"OpaqueRef:host-1": f"http://127.0.0.1:{server.port}",
                           "OpaqueRef:host-2": f"http://127.0.0.2:{server.port}"}
    reply = xml_call(server.urls["OpaqueRef:host-2"], "/", "test.where", SESSION)
    assert xmlrpc.client.loads(reply.text)[0][0]["Value"] == {"host": "127.0.0.2",
                                                              "protocol": "xmlrpc"}
    with XenAPI.Session(server.urls["OpaqueRef:host-2"]) as member, \
            pytest.raises(XenAPI.Failure) as failure:
        member.login_with_password("root", "xapictl", "1.0", "t")
    assert failure.value.details == ["HOST_IS_SLAVE", "127.0.0.1"]


@pytest.mark.parametrize("suffix", ["", "/"])  # no path → /RPC2; trailing slash → /
def test_official_xenapi_client_logs_in_and_gets_failures(server, stub, suffix):
    with XenAPI.Session(server.url + suffix) as session:
        session.login_with_password("root", "xapictl", "2.21", "t")
        assert session.xenapi.test.echo("x") == "x"
        with pytest.raises(XenAPI.Failure) as failure:
            session.xenapi.network.get_record("OpaqueRef:nope")
        assert failure.value.details == ["HANDLE_INVALID", "network", "OpaqueRef:nope"]
        session.xenapi.session.logout()
    assert stub.calls[0][:2] == ("session.login_with_password", ["root", "xapictl", "2.21", "t"])


def test_unix_socket_serves_xenapi_udstransport(stub):
    # UDSTransport spells "/" as "_" in the URL host, so the path must have no "_"
    scratch = Path(tempfile.gettempdir()) / f"xsim{secrets.token_hex(6)}"
    scratch.mkdir()
    path = scratch / "xapi.sock"
    with SimServer(stub, unix_socket=path), \
            XenAPI.Session("http://" + str(path).replace("/", "_") + "/",
                           transport=XenAPI.UDSTransport()) as session:
        session.login_with_password("root", "xapictl", "1.0", "t")
        assert session.xenapi.test.where() == {"host": "127.0.0.1", "protocol": "xmlrpc"}
    assert not path.exists()
    scratch.rmdir()


def test_tls_serves_the_certificate_whose_fingerprint_it_reports(stub):
    with SimServer(stub, tls=True) as server:
        assert server.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cadata=server.cert_pem.decode())
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            der = tls.getpeercert(binary_form=True)
        expected = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
        assert server.fingerprint == expected
        reply = httpx.post(server.url + "/jsonrpc", verify=context,
                           json={"method": "test.echo", "params": [SESSION, "s"], "id": 1})
        assert reply.json()["result"] == "s"
        with XenAPI.Session(server.url, ignore_ssl=True) as session:
            session.login_with_password("root", "xapictl", "1.0", "t")
            assert session.xenapi.test.echo("tls") == "tls"


def test_stop_closes_listeners_and_idle_keep_alive_connections(stub):
    server = SimServer(stub).start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/", xmlrpc.client.dumps((SESSION, 1), "test.echo"))
    conn.getresponse().read()
    server.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
    conn.close()


def test_control_endpoint_speaks_json(server):
    reply = httpx.post(server.url + "/_sim/control",
                       json={"action": "fault", "method": "test.echo",
                             "error": ["VLAN_TAG_INVALID", "5000"], "times": 1})
    assert reply.status_code == 200 and reply.json()["result"]["times"] == 1
    failed = xml_call(server.url, "/", "test.echo", SESSION, "x")
    assert xmlrpc.client.loads(failed.text)[0][0]["ErrorDescription"] == ["VLAN_TAG_INVALID",
                                                                         "5000"]
    counters = httpx.post(server.url + "/_sim/control", json={"action": "counters"}).json()
    assert counters["result"]["calls"] == {"test.echo": 1}
    bad = httpx.post(server.url + "/_sim/control", json={"action": "nope"})
    assert bad.status_code == 400 and "unknown control action" in bad.json()["error"]


def test_concurrent_keep_alive_connections_are_independent(server):
    results: list[str] = []

    def worker(n: int) -> None:
        with httpx.Client(base_url=server.url) as client:
            for i in range(10):
                reply = client.post("/jsonrpc", content=json.dumps(
                    {"method": "test.echo", "params": [SESSION, f"{n}-{i}"], "id": i}))
                results.append(reply.json()["result"])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == sorted(f"{n}-{i}" for n in range(8) for i in range(10))


XAPI_500 = (b"<html><body><h1>HTTP 500 internal server error</h1>An unexpected error "
            b"occurred; please wait a while and try again. If the problem persists, please "
            b"contact your support representative.<h1> Additional information </h1>")


def test_chunked_request_bodies_are_refused_as_xapi_does(server):
    """http_svr.ml read_body: no Content-Length, no body (a chunked one included). The answer
    comes after the head alone, so the test sends only the head: a body sent after it would
    race the server's close (a broken pipe on a loaded machine)."""
    received = raw_exchange(server.port, b"POST / HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n")
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 500 Internal Error\r\n")
    assert b"\r\nConnection: close" in head
    assert body == XAPI_500 + (b"Failure(&quot;We require a content-length: HTTP "
                               b"header&quot;)</body></html>")


def test_a_post_without_content_length_is_refused(server):
    received = raw_exchange(server.port, b"POST /jsonrpc HTTP/1.1\r\nHost: x\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 500 Internal Error\r\n")
    assert received.endswith(b"Failure(&quot;We require a content-length: HTTP "
                             b"header&quot;)</body></html>")


def test_the_rpc_body_limit_is_xapis_300k(server):
    """constants.ml http_limit_max_rpc_size: 300 KiB; one byte more is refused unread."""
    def call_of(size: int) -> bytes:
        echo = "x" * (size - len(xmlrpc.client.dumps((SESSION, ""), "test.echo").encode()))
        body = xmlrpc.client.dumps((SESSION, echo), "test.echo").encode()
        assert len(body) == size
        return body

    at_limit = httpx.post(server.url + "/", content=call_of(300 * 1024), timeout=30,
                          headers={"Content-Type": "text/xml"})
    assert at_limit.status_code == 200
    over = raw_exchange(server.port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: "
                        + str(300 * 1024 + 1).encode() + b"\r\n\r\n")  # no body sent
    assert over.startswith(b"HTTP/1.1 500 Internal Error\r\n")
    assert over.endswith(XAPI_500 + b"Http_svr.Client_requested_size_over_limit</body></html>")


def test_connection_close_is_honoured(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        body = xmlrpc.client.dumps((SESSION, "bye"), "test.echo").encode()
        raw.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: "
                    + str(len(body)).encode() + b"\r\n\r\n" + body)
        received = b""
        while chunk := raw.recv(65536):
            received += chunk  # ends because the server closes
    assert b"Connection: close" in received and received.endswith(b"</methodResponse>")


def raw_exchange(port: int, request: bytes) -> bytes:
    """Everything the server sends back on one connection until it closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(request)
        received = b""
        while chunk := raw.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize("framing", [b"Content-Length: abc", b"Content-Length: -5",
                                     b"Transfer-Encoding: chunked\r\n\r\nzz"])
def test_a_request_without_a_usable_length_gets_500_and_serving_goes_on(server, caplog,
                                                                        framing):
    received = raw_exchange(server.port, b"POST / HTTP/1.1\r\nHost: x\r\n" + framing
                            + b"\r\n\r\n<methodCall/>")
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 500 ")
    assert b"Content-Type: text/html" in head and b"Connection: close" in head
    assert body.startswith(b"<html>")
    assert "Traceback" not in caplog.text
    assert xml_call(server.url, "/", "test.echo", SESSION, "still serving").status_code == 200
