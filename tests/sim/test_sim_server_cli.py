"""``xapictl sim serve`` as a user runs it: prints the URL, serves the pool, stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import XenAPI

XAPICTL = [sys.executable, "-c", "from xapictl.cli import main; main()"]


def start_serve(*args: str, tmp_path: Path) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [*XAPICTL, "sim", "serve", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if not line.startswith("fingerprint") and "--tls" in args and len(lines) < 2:
            continue
        break
    return process, lines


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=30)
    return process.returncode, err


def test_serve_prints_the_master_url_serves_users_and_stops_cleanly_on_ctrl_c(tmp_path):
    log = tmp_path / "requests.jsonl"
    process, lines = start_serve("--user", "rita:read-only", "--password", "pw",
                                 "--request-log", str(log), tmp_path=tmp_path)
    try:
        url = lines[0]
        assert url.startswith("http://127.0.0.1:")
        with XenAPI.Session(url) as session:
            session.login_with_password("rita", "pw", "1.0", "t")
            assert len(session.xenapi.host.get_all()) == 3
            with pytest.raises(XenAPI.Failure) as failure:
                session.xenapi.network.create({"name_label": "x", "other_config": {}})
            assert failure.value.details[0] == "RBAC_PERMISSION_DENIED"
            session.xenapi.session.logout()
    finally:
        code, err = stop(process)
    assert code == 0, err
    assert "Traceback" not in err and "stopped" in err
    assert ("scenario seed; users: root (pool-admin), rita:read-only; password pw; "
            "Ctrl-C to stop") in err.splitlines()  # a sandbox: the banner says how to log in
    assert '"pw"' not in log.read_text() and "******" in log.read_text()


def test_serve_with_tls_prints_the_fingerprint_of_the_served_certificate(tmp_path):
    import hashlib
    import socket
    import ssl

    process, lines = start_serve("--tls", "--scenario", "single", tmp_path=tmp_path)
    try:
        url, fingerprint_line = lines[0], lines[1]
        assert url.startswith("https://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1])
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # we verify by pinning the fingerprint below
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                context.wrap_socket(raw) as tls:
            der = tls.getpeercert(binary_form=True)
        expected = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
        assert fingerprint_line == f"fingerprint sha256 {expected}"
        reply = httpx.post(url + "/jsonrpc", verify=False,  # the fingerprint was pinned above
                           json={"method": "session.login_with_password",
                                 "params": ["root", "xapictl"], "id": 1})
        assert reply.json()["result"].startswith("OpaqueRef:")
    finally:
        code, err = stop(process)
    assert code == 0, err


def test_serve_keeps_the_pool_in_a_state_file_across_restarts(tmp_path):
    state = tmp_path / "pool.sqlite"
    process, lines = start_serve("--state", str(state), tmp_path=tmp_path)
    try:
        with XenAPI.Session(lines[0]) as session:
            session.login_with_password("root", "xapictl", "1.0", "t")
            session.xenapi.network.create({"name_label": "survivor", "other_config": {}})
            session.xenapi.session.logout()
    finally:
        assert stop(process)[0] == 0
    process, lines = start_serve("--state", str(state), tmp_path=tmp_path)
    try:
        with XenAPI.Session(lines[0]) as session:
            session.login_with_password("root", "xapictl", "1.0", "t")
            assert session.xenapi.network.get_by_name_label("survivor")
            session.xenapi.session.logout()
    finally:
        assert stop(process)[0] == 0


def test_bad_user_spec_is_a_usage_error(tmp_path):
    done = subprocess.run([*XAPICTL, "sim", "serve", "--user",
                           "nobody"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "NAME:ROLE" in done.stderr


def test_serve_hosts_sizes_the_pool_and_members_listen(tmp_path):
    process, lines = start_serve("--hosts", "2", "--port", "0", tmp_path=tmp_path)
    try:
        url = lines[0]
        member = url.replace("127.0.0.1", "127.0.0.2")
        with XenAPI.Session(url) as session:
            session.login_with_password("root", "xapictl", "1.0", "t")
            assert len(session.xenapi.host.get_all()) == 2
            session.xenapi.session.logout()
        with XenAPI.Session(member) as session, pytest.raises(XenAPI.Failure) as failure:
            session.login_with_password("root", "xapictl", "1.0", "t")
        assert failure.value.details == ["HOST_IS_SLAVE", "127.0.0.1"]
    finally:
        assert stop(process)[0] == 0


def test_serve_with_control_token_prints_it_and_the_endpoint_wants_it(tmp_path):
    process, lines = start_serve("--control", "token", "--scenario", "single",
                                 tmp_path=tmp_path)
    try:
        url = lines[0]
        assert process.stdout is not None
        word, _, token = process.stdout.readline().strip().rpartition(" ")
        assert word == "control token" and len(token) >= 32
        body = {"action": "counters"}
        assert httpx.post(url + "/_sim/control", json=body, timeout=30).status_code == 403
        answer = httpx.post(url + "/_sim/control", json=body, timeout=30,
                            headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and "calls" in answer.json()["result"]
    finally:
        code, err = stop(process)
    assert code == 0, err
