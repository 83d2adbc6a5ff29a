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
from client_helpers import PASSWORD, host_at

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


# --- a pool whose hosts each serve their own self-signed certificate, as real pools do -----


@pytest.fixture
def pool_tls(sim: Any) -> Iterator[Any]:
    from xapictl.sim.server import SimServer

    with SimServer(sim, tls="per-host") as server:
        assert len(set(server.fingerprints.values())) == 3
        yield server


def _at(server: Any, address: str) -> str:
    return server.url.replace("127.0.0.1", address)


def test_the_pin_covers_the_named_host_only_and_an_unvouched_master_is_refused(
        pool_tls: Any, protocol: str) -> None:
    with pytest.raises(TLSError) as caught:
        _connect(_at(pool_tls, "127.0.0.2"), fingerprint=pool_tls.fingerprints["127.0.0.2"],
                 protocol=protocol)
    assert not isinstance(caught.value, FingerprintMismatch)
    assert "127.0.0.1" in str(caught.value) and "--fingerprint HOST=SHA256" in str(caught.value)
    assert {e["host"] for e in pool_tls.control.request_log()} == {"127.0.0.2"}


def test_a_pin_per_member_follows_host_is_slave(pool_tls: Any, protocol: str) -> None:
    pins = {a: pool_tls.fingerprints[a] for a in ("127.0.0.1", "127.0.0.2")}
    with _connect(_at(pool_tls, "127.0.0.2"), fingerprint=pins, protocol=protocol) as conn:
        assert conn.url == pool_tls.url
        assert conn.networks.get_all()


def test_members_are_trusted_on_first_use_beside_the_pin_and_failover_works(
        pool_tls: Any, sim: Any, tmp_path: Path, protocol: str) -> None:
    known = tmp_path / "known_hosts"
    with _connect(_at(pool_tls, "127.0.0.2"), fingerprint=pool_tls.fingerprints["127.0.0.2"],
                  known_hosts=known, protocol=protocol) as conn:
        assert conn.url == pool_tls.url
        sim.designate_master(host_at(sim, "127.0.0.3"))
        sim.set_host_live(host_at(sim, "127.0.0.1"), False)
        assert conn.networks.get_all()
        assert conn.url == _at(pool_tls, "127.0.0.3")
    learnt = dict(line.split() for line in known.read_text().splitlines())
    assert learnt == {f"127.0.0.1:{pool_tls.port}": pool_tls.fingerprints["127.0.0.1"],
                      f"127.0.0.3:{pool_tls.port}": pool_tls.fingerprints["127.0.0.3"]}
    assert sim.open_session_count() == 0


def test_a_member_whose_known_fingerprint_changed_is_refused(pool_tls: Any, tmp_path: Path,
                                                             protocol: str) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"127.0.0.1:{pool_tls.port} {OTHER}\n")
    with pytest.raises(FingerprintMismatch) as caught:
        _connect(_at(pool_tls, "127.0.0.2"), fingerprint=pool_tls.fingerprints["127.0.0.2"],
                 known_hosts=known, protocol=protocol)
    assert caught.value.actual == pool_tls.fingerprints["127.0.0.1"]
    assert {e["host"] for e in pool_tls.control.request_log()} == {"127.0.0.2"}


def test_pins_given_as_the_clis_list_and_as_a_profile_table(
        pool_tls: Any, protocol: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from xapictl.xapi.profiles import Profile

    fps = pool_tls.fingerprints
    listed = [fps["127.0.0.2"], f"127.0.0.1={fps['127.0.0.1']}"]
    with _connect(_at(pool_tls, "127.0.0.2"), fingerprint=listed, protocol=protocol) as conn:
        assert conn.networks.get_all()
    monkeypatch.setenv("POOL_PW", PASSWORD)
    profile = Profile.from_table("lab", {
        "url": _at(pool_tls, "127.0.0.2"), "password": "env:POOL_PW", "protocol": protocol,
        "fingerprint": {"127.0.0.1": fps["127.0.0.1"], "127.0.0.2": fps["127.0.0.2"]}})
    with xapictl.connect(profile.url, retry=RetryPolicy.immediate(),
                         **profile.connect_options()) as conn:
        assert conn.networks.get_all()


@pytest.mark.parametrize(("spec", "says"), [
    (["AB" * 32, "CD" * 32], "only one fingerprint may omit its host"),
    (["10.0.0.2=xyz"], "64 hex digits"),
    ([f"={'AB' * 32}"], "empty host"),
])
def test_bad_pins_are_refused_before_connecting(spec: list[str], says: str) -> None:
    from xapictl.errors import UsageError
    from xapictl.xapi.tls import parse_pins

    with pytest.raises(UsageError, match=says):
        parse_pins(spec)


def test_failover_to_an_unpinned_member_says_why_it_was_refused(pool_tls: Any, sim: Any,
                                                                protocol: str) -> None:
    with _connect(pool_tls.url, fingerprint=pool_tls.fingerprint, protocol=protocol) as conn:
        sim.designate_master(host_at(sim, "127.0.0.2"))
        sim.set_host_live(host_at(sim, "127.0.0.1"), False)
        with pytest.raises(TLSError) as caught:
            conn.networks.get_all()
    assert "is not trusted" in str(caught.value)


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
