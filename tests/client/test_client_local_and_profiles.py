"""The dom0 unix socket, named profiles with password sources, and calls across pools."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from client_helpers import PASSWORD

import xapictl
from xapictl.client import connect_profile
from xapictl.errors import ConfigError
from xapictl.xapi.credentials import PasswordSource, Secret
from xapictl.xapi.parallel import run_each
from xapictl.xapi.profiles import Profile, load_profiles, save_profile


def test_the_local_unix_socket_speaks_xmlrpc(sim: Any, tmp_path: Path) -> None:
    from xapictl.sim.server import SimServer

    socket_path = tmp_path / "xapi"
    with SimServer(sim, unix_socket=socket_path) as server, \
            xapictl.connect(f"unix://{socket_path}", password=PASSWORD) as conn:
        assert conn.session.wire_protocol == "xmlrpc"
        assert conn.networks.get_all()
        assert {e["protocol"] for e in server.control.request_log()} == {"xmlrpc"}


def test_profiles_round_trip_and_never_hold_the_password(tmp_path: Path) -> None:
    path = tmp_path / "pools.toml"
    save_profile(Profile("lab", "https://10.0.0.1", password=PasswordSource.parse("env:PW"),
                         fingerprint="AB:" * 31 + "AB", protocol="xmlrpc"), path)
    save_profile(Profile("prod", "https://10.1.0.1", tofu=True), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    profiles = load_profiles(path)
    assert profiles["lab"].password == PasswordSource("env", "PW")
    assert profiles["lab"].protocol == "xmlrpc" and profiles["prod"].tofu
    assert 'password = "env:PW"' in path.read_text()


USER_FILE = """\
# my pools, by hand
embedded = "never"   # never the simulated pool

[pools.zeta]   # listed first on purpose
url = "https://10.9.0.1"
password = "env:ZETA_PW"   # from the CI secret
timeout = 30

# the lab, rebuilt every week
[pools.lab]
url = "https://10.0.0.1"
password = "prompt"
"""


def test_saving_a_profile_keeps_the_users_comments_order_and_settings(tmp_path: Path) -> None:
    path = tmp_path / "pools.toml"
    path.write_text(USER_FILE)
    lab = load_profiles(path)["lab"]
    save_profile(Profile("lab", lab.url, password=lab.password, protocol="xmlrpc"), path)
    save_profile(Profile("new", "https://10.2.0.1", fingerprint={"h1": "AB", "h2": "CD"}), path)
    text = path.read_text()
    assert text.startswith(USER_FILE.split("[pools.lab]")[0])  # untouched up to lab's table
    assert "# the lab, rebuilt every week\n[pools.lab]" in text
    assert text.index("[pools.zeta]") < text.index("[pools.lab]") < text.index("[pools.new]")
    profiles = load_profiles(path)
    assert profiles["lab"].protocol == "xmlrpc" and profiles["zeta"].timeout == 30
    assert profiles["new"].fingerprint == {"h1": "AB", "h2": "CD"}
    from xapictl.xapi.profiles import config_setting, remove_profile

    assert config_setting("embedded", "auto", path)[0] == "never"
    remove_profile("new", path)
    save_profile(Profile("lab", lab.url, password=lab.password), path)
    # back to the user's own bytes, with the one key the profile adds
    assert path.read_text() == USER_FILE + 'username = "root"\n'
    with pytest.raises(ConfigError, match="no pool profile named 'gone'"):
        remove_profile("gone", path)


def test_a_literal_password_in_a_profile_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "pools.toml"
    path.write_text('[pools.lab]\nurl = "https://h"\npassword = "hunter2"\n')
    with pytest.raises(ConfigError) as caught:
        load_profiles(path)
    assert "hunter2" not in str(caught.value)


def test_password_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text("from-file\n")
    monkeypatch.setenv("XPW", "from-env")
    assert PasswordSource.parse(f"file:{secret_file}").resolve() == Secret("from-file")
    assert PasswordSource.parse("env:XPW").resolve() == Secret("from-env")
    command = f"{sys.executable} -c \"print('from-command')\""
    assert PasswordSource.parse(f"command:{command}").resolve() == Secret("from-command")
    monkeypatch.setattr("getpass.getpass", lambda prompt: "from-prompt")
    assert PasswordSource.parse("prompt").resolve() == Secret("from-prompt")
    with pytest.raises(ConfigError, match="NOPE"):
        PasswordSource.parse("env:NOPE").resolve()


def test_keyring_source(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring = pytest.importorskip("keyring")
    monkeypatch.setattr(keyring, "get_password",
                        lambda service, key: "from-keyring" if (service, key) == (
                            "xapictl", "root@lab") else None)
    assert PasswordSource.parse("keyring").resolve(username="root", pool="lab") == \
        Secret("from-keyring")
    with pytest.raises(ConfigError):
        PasswordSource.parse("keyring:other").resolve(username="root", pool="lab")


def test_connect_with_a_profile(transport: Any, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "pools.toml"
    save_profile(Profile("sim", "http://127.0.0.1", password=PasswordSource("env", "SIMPW")),
                 path)
    monkeypatch.setenv("SIMPW", PASSWORD)
    with connect_profile("sim", config=path, transport=transport) as conn:
        assert conn.networks.get_all()
    monkeypatch.setenv("XAPICTL_CONFIG", str(path))
    with connect_profile("sim", transport=transport) as conn:
        assert conn.pools.get_all()


def test_parallel_calls_across_pools_report_each_pool(sim: Any, transport: Any) -> None:
    def count(password: str) -> int:
        with xapictl.connect("http://127.0.0.1", password=password,
                             transport=transport) as conn:
            return len(conn.networks.get_all())

    results = run_each([lambda: count(PASSWORD), lambda: count("wrong"),
                        lambda: count(PASSWORD)], limit=3)
    assert isinstance(results[0], int) and results[0] == results[2]
    assert isinstance(results[1], xapictl.errors.XapiFailure)
    assert sim.open_session_count() == 0


@pytest.mark.skipif(os.name != "posix", reason="unix sockets")
def test_unix_url_needs_a_path() -> None:
    with pytest.raises(xapictl.errors.UsageError):
        xapictl.connect("unix://", password="x")


def test_connect_takes_a_password_source(transport: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POOL_PW", PASSWORD)
    with xapictl.connect("http://127.0.0.1", password=PasswordSource.parse("env:POOL_PW"),
                         transport=transport) as conn:
        assert conn.hosts.get_all()
