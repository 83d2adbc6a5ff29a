"""A simulator safe to leave running (issue 14 item 5): the control endpoint refuses what a
web page could send, CORS is XAPI's, connections are bounded and time out, a public bind needs
a password of its own, and what the simulator writes is private."""

from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from xapictl.sim.control import Control
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer, bind_refusal, is_loopback

PASSWORD = "pw"
FAULT = {"action": "fault", "method": "VLAN.create", "kind": "drop_after", "times": 1}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator(password=PASSWORD)
    simulator.reset(scenario="single")
    yield simulator
    simulator.close()


@pytest.fixture
def server(sim: Simulator) -> Iterator[SimServer]:
    with SimServer(sim) as served:
        yield served


def control_post(server: SimServer, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(server.url + "/_sim/control", content=body, headers=headers, timeout=30)


# --- the control endpoint -------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "status"), [
    ({"Content-Type": "text/plain", "Origin": "http://evil.example"}, 415),
    ({"Content-Type": "text/plain"}, 415),
    ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
    ({}, 415),
    ({"Content-Type": "application/json", "Origin": "http://evil.example"}, 403),
    ({"Content-Type": "application/json", "Origin": "null"}, 403),
    ({"Content-Type": "application/json", "Host": "evil.example"}, 403),
    ({"Content-Type": "application/json", "Host": "evil.example:80",
      "Origin": "http://evil.example:80"}, 403),  # DNS rebinding: same origin, a name
])
def test_control_refuses_what_a_web_page_could_send(server: SimServer,
                                                    headers: dict[str, str],
                                                    status: int) -> None:
    reply = control_post(server, json.dumps(FAULT).encode(), **headers)
    assert reply.status_code == status
    assert "access-control-allow-origin" not in reply.headers
    assert reply.json()["error"]
    assert server.control.faults == []  # nothing was registered


def test_control_serves_same_origin_json(server: SimServer) -> None:
    origin = server.url  # http://127.0.0.1:PORT, which is also the Host
    reply = control_post(server, json.dumps(FAULT).encode(),
                         **{"Content-Type": "application/json; charset=utf-8",
                            "Origin": origin})
    assert reply.status_code == 200 and reply.json()["result"]["method"] == "VLAN.create"
    assert "access-control-allow-origin" not in reply.headers


@pytest.mark.parametrize("method", ["OPTIONS", "GET"])
def test_control_answers_no_preflight(server: SimServer, method: str) -> None:
    reply = httpx.request(method, server.url + "/_sim/control", timeout=30,
                          headers={"Origin": "http://evil.example",
                                   "Access-Control-Request-Method": "POST"})
    assert reply.status_code == 405
    assert not any(h.startswith("access-control-") for h in reply.headers)


def test_control_token(server: SimServer) -> None:
    server.control.token = "s3cret"
    body = json.dumps({"action": "counters"}).encode()
    plain = {"Content-Type": "application/json"}
    assert control_post(server, body, **plain).status_code == 403
    assert control_post(server, body, **plain, Authorization="Bearer nope").status_code == 403
    assert "token" in control_post(server, body, **plain).json()["error"]
    assert control_post(server, body, **plain,
                        Authorization="Bearer s3cret").status_code == 200


def test_sim_control_cli_sends_the_token(server: SimServer) -> None:
    from xapictl.cli import app

    server.control.token = "tok-1"
    refused = CliRunner().invoke(app, ["sim", "control", "counters", "--url", server.url])
    assert refused.exit_code == 2 and "token" in refused.output
    sent = CliRunner().invoke(app, ["sim", "control", "counters", "--url", server.url],
                              env={"XAPICTL_SIM_CONTROL_TOKEN": "tok-1"})
    assert sent.exit_code == 0, sent.output
    assert "calls" in json.loads(sent.output)


# --- CORS as XAPI sends it ------------------------------------------------------------------

@pytest.mark.parametrize(("path", "body", "content_type"), [
    ("/jsonrpc", json.dumps({"jsonrpc": "2.0", "method": "session.login_with_password",
                             "params": ["root", PASSWORD], "id": 1}).encode(),
     "application/json"),
    ("/", b"<?xml version='1.0'?><methodCall><methodName>session.login_with_password"
          b"</methodName><params><param><value>root</value></param><param><value>pw"
          b"</value></param></params></methodCall>", "text/xml"),
])
def test_rpc_answers_carry_xapis_cors_headers(server: SimServer, path: str, body: bytes,
                                              content_type: str) -> None:
    """api_server.ml callback / jsoncallback: exactly these two, on every answer."""
    reply = httpx.post(server.url + path, content=body, timeout=30,
                       headers={"Content-Type": content_type})
    cors = {k: v for k, v in reply.headers.items() if k.startswith("access-control-")}
    assert cors == {"access-control-allow-origin": "*",
                    "access-control-allow-headers": "X-Requested-With"}


# --- connections ----------------------------------------------------------------------------

def _read_until_closed(sock: socket.socket) -> bytes:
    sock.settimeout(30)  # a safety net only: the server closes long before
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_connections_over_the_bound_get_a_clear_503(sim: Simulator) -> None:
    with SimServer(sim, max_connections=2) as server:
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=30)
                for _ in range(2)]
        try:
            for sock in held:  # both are being served (keep-alive)
                sock.sendall(b"OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n")
                assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            with socket.create_connection(("127.0.0.1", server.port), timeout=30) as third:
                answer = _read_until_closed(third)
            assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
            assert b"at most 2 connections" in answer and b"--max-connections" in answer
            assert server.stats["refused"] == 1
        finally:
            for sock in held:
                sock.close()


def test_an_idle_connection_is_closed(sim: Simulator) -> None:
    with SimServer(sim, idle_timeout=0.2) as server, \
            socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n")
        first = _read_until_closed(sock)  # the answer, then the close once idle
        assert first.startswith(b"HTTP/1.1 200 ") and first.count(b"HTTP/1.1") == 1


def test_a_head_that_does_not_come_in_time_gets_408(sim: Simulator) -> None:
    """http_svr.ml: Http.Timeout while reading the head → response_request_timeout."""
    with SimServer(sim, header_read_timeout=0.2) as server, \
            socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")  # and no blank line
        answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert answer.endswith(b"<h1>HTTP 408 request timeout</h1>Timed out waiting for the "
                           b"request.</body></html>")


def test_a_head_dribbled_past_the_total_timeout_gets_408(sim: Simulator) -> None:
    """Each line in time, the whole head not: header_total_timeout_tcp."""
    with SimServer(sim, header_read_timeout=30, header_total_timeout=0.0) as server, \
            socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")


# --- sim serve --bind -----------------------------------------------------------------------

@pytest.mark.parametrize("bind", ["0.0.0.0", "::", "192.0.2.7", "example.org", ""])
def test_a_public_bind_with_the_default_password_is_refused(bind: str) -> None:
    assert "--password" in (bind_refusal(bind, "xapictl") or "")
    assert bind_refusal(bind, "a-password-of-its-own") is None
    assert not is_loopback(bind)  # so the banner of `sim serve` does not print the password


@pytest.mark.parametrize("bind", ["127.0.0.1", "127.0.0.9", "::1", "localhost"])
def test_loopback_binds_keep_the_default_password(bind: str) -> None:
    assert bind_refusal(bind, "xapictl") is None
    assert is_loopback(bind)  # a sandbox: the banner of `sim serve` prints the password


def test_sim_serve_refuses_before_opening_any_socket(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    from xapictl.cli import app

    opened: list[Any] = []

    def no_socket(*args: Any, **kwargs: Any) -> Any:
        opened.append(args)
        raise AssertionError("a socket was opened")

    monkeypatch.delenv("XAPICTL_SIM_PASSWORD", raising=False)
    monkeypatch.setattr(socket, "socket", no_socket)
    state = tmp_path / "pool.sqlite"
    result = CliRunner().invoke(app, ["sim", "serve", "--bind", "0.0.0.0",
                                      "--state", str(state)])
    assert result.exit_code == 2, result.output
    assert "not a loopback address" in result.output and "--password" in result.output
    assert opened == [] and not state.exists()


# --- files ----------------------------------------------------------------------------------

def test_state_file_and_request_log_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        sim = Simulator(password=PASSWORD, state_file=tmp_path / "s" / "pool.sqlite")
        control = Control(sim, log_file=tmp_path / "requests.jsonl")
        sim.reset(scenario="single")
        with SimServer(sim, control=control) as server:
            httpx.post(server.url + "/jsonrpc", timeout=30, json={
                "jsonrpc": "2.0", "method": "session.login_with_password",
                "params": ["root", PASSWORD], "id": 1})
        sim.close()
    finally:
        os.umask(old)
    for path in (tmp_path / "s" / "pool.sqlite", tmp_path / "requests.jsonl"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert "******" in (tmp_path / "requests.jsonl").read_text()
