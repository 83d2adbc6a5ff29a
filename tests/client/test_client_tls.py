"""TLS: verified by default, a CA bundle, a pinned fingerprint, trust on first use, insecure."""

from __future__ import annotations

import ssl
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from client_helpers import PASSWORD

import xapictl
from xapictl.errors import FingerprintMismatch, TLSError
from xapictl.xapi.retry import RetryPolicy
from xapictl.xapi.tls import InsecureTLSWarning

OTHER = "AA:" * 31 + "AA"


@pytest.fixture
def tls_server(sim: Any) -> Iterator[Any]:
    from xapictl.sim.server import SimServer

    with SimServer(sim, tls=True) as server:
        yield server


def _connect(url: str, **options: Any) -> Any:
    return xapictl.connect(url, password=PASSWORD, retry=RetryPolicy.immediate(), **options)


def test_the_simulators_self_signed_certificate_is_refused_by_default(tls_server: Any,
                                                                      protocol: str) -> None:
    with pytest.raises(TLSError) as caught:
        _connect(tls_server.url, protocol=protocol)
    assert not isinstance(caught.value, FingerprintMismatch)
    assert tls_server.control.request_log() == []


def test_its_certificate_given_as_ca_bundle_is_verified(tls_server: Any, tmp_path: Path,
                                                        protocol: str) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(tls_server.cert_pem)
    with _connect(tls_server.url, ca=bundle, protocol=protocol) as conn:
        assert conn.networks.get_all()


def test_a_pinned_fingerprint_is_trusted_across_pool_members(tls_server: Any,
                                                             protocol: str) -> None:
    member = tls_server.url.replace("127.0.0.1", "127.0.0.2")
    with _connect(member, fingerprint=tls_server.fingerprint, protocol=protocol) as conn:
        assert conn.url.startswith("https://127.0.0.1:")
        assert conn.networks.get_all()


def test_a_changed_fingerprint_is_refused_before_anything_is_sent(tls_server: Any,
                                                                  protocol: str) -> None:
    with pytest.raises(FingerprintMismatch) as caught:
        _connect(tls_server.url, fingerprint=OTHER, protocol=protocol)
    assert caught.value.actual == tls_server.fingerprint and caught.value.expected == OTHER
    assert "Refusing" in str(caught.value)
    assert tls_server.control.request_log() == []  # the login never reached the host


def test_trust_on_first_use_remembers_and_then_refuses_a_change(tls_server: Any,
                                                                tmp_path: Path,
                                                                protocol: str) -> None:
    known = tmp_path / "known_hosts"
    with _connect(tls_server.url, known_hosts=known, protocol=protocol) as conn:
        conn.networks.get_all()
    assert tls_server.fingerprint in known.read_text()
    with _connect(tls_server.url, known_hosts=known, protocol=protocol) as conn:
        conn.networks.get_all()
    hostport = known.read_text().split()[0]
    known.write_text(f"{hostport} {OTHER}\n")
    with pytest.raises(FingerprintMismatch):
        _connect(tls_server.url, known_hosts=known, protocol=protocol)


def test_insecure_works_and_warns_every_time(tls_server: Any, protocol: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()  # Python's defaults: a UserWarning shows once per place
        for _ in range(3):
            with _connect(tls_server.url, insecure=True, protocol=protocol) as conn:
                assert conn.networks.get_all()
    insecure = [w for w in caught if issubclass(w.category, InsecureTLSWarning)]
    assert len(insecure) == 3
    assert {w.filename for w in insecure} == {__file__}  # the caller's line, not xapictl's


def test_the_insecure_warning_obeys_the_users_ignore_filter(tls_server: Any) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore", InsecureTLSWarning)
        with _connect(tls_server.url, insecure=True) as conn:
            assert conn.networks.get_all()
    assert caught == []


# --- a certificate from a real CA (trustme) ------------------------------------------------


@pytest.fixture
def ca_server(sim: Any) -> Iterator[tuple[str, Any]]:
    trustme = pytest.importorskip("trustme")
    from xapictl.sim.app import handle_http

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, headers, payload = handle_http(sim, "POST", self.path, dict(self.headers),
                                                   body, host_address="127.0.0.1")
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", ca
    finally:
        server.shutdown()
        server.server_close()


def test_a_ca_signed_certificate_is_verified_with_the_ca_bundle(ca_server: Any, tmp_path: Path,
                                                               protocol: str) -> None:
    url, ca = ca_server
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with _connect(url, ca=bundle, protocol=protocol) as conn:
        assert conn.networks.get_all()


def test_a_ca_signed_certificate_from_an_unknown_ca_is_refused(ca_server: Any, tmp_path: Path,
                                                              protocol: str) -> None:
    trustme = pytest.importorskip("trustme")
    url, _ = ca_server
    bundle = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    with pytest.raises(TLSError, match="not trusted"):
        _connect(url, ca=bundle, protocol=protocol)
