"""Issue 10, clauses 1, 4 and 9 through the real CLI (docs/unattended.md): choosing a pool is
never silent, a dead pool fails fast and says why, and trust and secrets hold.

Every refusal here is checked for its exit code, its one line naming the option and the fix,
and for sending nothing (the simulator's request log stays empty; the embedded pool's state
file is never created)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xapictl.cli.exit_codes import ExitCode

LIST = ("network", "list")
APPLY_TRUNK = ("apply", str(Path(__file__).resolve().parents[2] / "recipes" / "trunk-vlans.yaml"),
               "--yes")


def _run(args: list[str] | tuple[str, ...], env: dict[str, str]) -> Any:
    from xapictl.cli import app

    done = CliRunner().invoke(app, list(args), env=env)
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        raise done.exception
    return done


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An environment with no pool configured; the embedded pool's file under tmp_path."""
    return {"XAPICTL_EMBEDDED_STATE": str(tmp_path / "embedded" / "pool.sqlite"),
            "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- clause 1: choosing a pool is never silent ---------------------------------------------


def test_with_nothing_configured_the_embedded_pool_serves_and_says_so_even_quiet(
        home: dict[str, str], tmp_path: Path) -> None:
    done = _run(["-q", *LIST], home)
    assert done.exit_code == 0, done.stderr
    assert "using the embedded simulated pool in" in done.stderr
    assert "XAPICTL_EMBEDDED=never turns it off" in done.stderr
    assert (tmp_path / "embedded" / "pool.sqlite").exists()


@pytest.mark.parametrize("how", [["--pool", "embedded"], ["XAPICTL_POOL=embedded"]])
def test_the_embedded_pool_can_be_named(home: dict[str, str], how: list[str]) -> None:
    env = dict(home)
    args = list(LIST)
    if how[0].startswith("XAPICTL_"):
        env["XAPICTL_POOL"] = "embedded"
    else:
        args = [*how, *args]
    done = _run(args, env)
    assert done.exit_code == 0, done.stderr
    assert "xapictl: --pool embedded: using the embedded simulated pool" in done.stderr


CREDENTIALS = {
    "--user": (["--user", "admin"], {}),
    "--password-file": (["--password-file", "PW"], {}),
    "XAPICTL_USER": ([], {"XAPICTL_USER": "admin"}),
    "XAPICTL_PASSWORD": ([], {"XAPICTL_PASSWORD": "secret"}),
    "--ca": (["--ca", "/etc/passwd"], {}),
    "--fingerprint": (["--fingerprint", "AB" * 32], {}),
    "--insecure": (["--insecure"], {}),
}
COMMANDS = {
    "network list": LIST,
    "network create": ("network", "create", "--name", "VLAN 105", "--vlan", "105",
                       "--device", "eth1"),
    "apply": APPLY_TRUNK,
    "plan": ("plan", APPLY_TRUNK[1]),
    "drift": ("drift",),
    "vif list": ("vif", "list"),
    "inventory export": ("inventory", "export"),
}


@pytest.mark.parametrize("given", list(CREDENTIALS))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_credential_or_tls_option_without_a_pool_is_refused(
        given: str, command: str, home: dict[str, str], tmp_path: Path) -> None:
    # The cron job that lost its URL: never "success" on the simulator.
    options, variables = CREDENTIALS[given]
    pw = tmp_path / "pw"
    pw.write_text("secret\n")
    options = [str(pw) if o == "PW" else o for o in options]
    done = _run([*options, *COMMANDS[command]], {**home, **variables})
    assert done.exit_code == ExitCode.BAD_INPUT, done.stderr
    line = _one_line(done.stderr)
    assert line == (f"xapictl: {given} given but no pool: give --url URL (or "
                    "XAPICTL_URL) or --pool PROFILE (or XAPICTL_POOL). Credentials and TLS "
                    "options never go to the embedded simulated pool")
    assert not (tmp_path / "embedded").exists()


def test_the_issue_s_cron_job_is_refused_not_verified(home: dict[str, str],
                                                     tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("secret\n")
    done = _run(["--password-file", str(pw), "--user", "admin", *APPLY_TRUNK], home)
    assert done.exit_code == ExitCode.BAD_INPUT
    assert "--user, --password-file given but no pool" in done.stderr
    assert "Verified" not in done.stdout


@pytest.mark.parametrize("where", ["variable", "config"])
def test_the_embedded_pool_can_be_turned_off(where: str, home: dict[str, str],
                                             tmp_path: Path) -> None:
    env = dict(home)
    if where == "variable":
        env["XAPICTL_EMBEDDED"] = "never"
        said = "(XAPICTL_EMBEDDED=never)"
    else:
        config = tmp_path / "pools.toml"
        config.write_text('embedded = "never"\n')
        env["XAPICTL_CONFIG"] = str(config)
        said = f'(embedded = "never" in {config})'
    done = _run(list(LIST), env)
    assert done.exit_code == ExitCode.BAD_INPUT
    assert _one_line(done.stderr) == (
        f"xapictl: no pool chosen and the embedded simulated pool is turned off "
        f"{said}: give --url URL (or XAPICTL_URL) or --pool PROFILE (or XAPICTL_POOL)")
    named = _run(["--pool", "embedded", *LIST], env)
    assert named.exit_code == ExitCode.BAD_INPUT and "turned off" in named.stderr
    assert not (tmp_path / "embedded").exists()


def test_a_bad_embedded_setting_is_refused(home: dict[str, str]) -> None:
    done = _run(list(LIST), {**home, "XAPICTL_EMBEDDED": "sometimes"})
    assert done.exit_code == ExitCode.BAD_INPUT
    assert "XAPICTL_EMBEDDED=sometimes: 'sometimes' is not a setting of the embedded pool; " \
           "use auto or never" in _one_line(done.stderr)


def test_profiles_defined_but_none_chosen_is_refused(home: dict[str, str],
                                                     tmp_path: Path) -> None:
    config = tmp_path / "pools.toml"
    config.write_text('[pools.lab]\nurl = "https://10.0.0.1"\n')
    done = _run(list(LIST), {**home, "XAPICTL_CONFIG": str(config)})
    assert done.exit_code == ExitCode.BAD_INPUT
    assert "defines lab: give --pool PROFILE" in _one_line(done.stderr)


def test_the_chosen_pool_is_exposed_as_pool_label(sim_server: Any, home: dict[str, str],
                                                  tmp_path: Path) -> None:
    from xapictl.cli.connection import choose_pool, open_pool
    from xapictl.cli.options import GlobalOptions

    assert choose_pool(GlobalOptions()).label == "embedded"
    opts = GlobalOptions(url=sim_server.url)
    assert opts.pool_label is None
    os.environ["XAPICTL_PASSWORD"] = "xapictl"
    try:
        with open_pool(opts):
            assert opts.pool_label == sim_server.url
    finally:
        del os.environ["XAPICTL_PASSWORD"]
    config = tmp_path / "pools.toml"
    config.write_text(f'[pools.lab]\nurl = "{sim_server.url}"\n')
    os.environ["XAPICTL_CONFIG"] = str(config)
    try:
        choice = choose_pool(GlobalOptions(pool="lab"))
    finally:
        del os.environ["XAPICTL_CONFIG"]
    assert (choice.kind, choice.label, choice.profile) == ("profile", sim_server.url, "lab")


def test_a_profile_and_a_url_at_the_same_level_are_refused_else_the_command_line_wins(
        sim_server: Any, home: dict[str, str], tmp_path: Path) -> None:
    from xapictl.cli.connection import choose_pool
    from xapictl.cli.options import GlobalOptions

    config = tmp_path / "pools.toml"
    config.write_text('[pools.lab]\nurl = "https://10.0.0.1"\n')
    env = {**home, "XAPICTL_CONFIG": str(config), "XAPICTL_PASSWORD": "xapictl"}
    both = _run(["--pool", "lab", "--url", sim_server.url, *LIST], env)
    assert both.exit_code == ExitCode.BAD_INPUT
    assert _one_line(both.stderr) == ("xapictl: --pool and --url both name a "
                                      "pool: give one of them")
    url_wins = _run(["--url", sim_server.url, *LIST], {**env, "XAPICTL_POOL": "lab"})
    assert url_wins.exit_code == ExitCode.OK, url_wins.stderr
    os.environ["XAPICTL_CONFIG"] = str(config)
    try:
        profile_wins = choose_pool(GlobalOptions(pool="lab", url=sim_server.url,
                                                 sources={"url": "XAPICTL_URL"}))
    finally:
        del os.environ["XAPICTL_CONFIG"]
    assert profile_wins.profile == "lab" and profile_wins.label == "https://10.0.0.1"


# --- clause 4: fail fast, say why ------------------------------------------------------------


def test_a_refused_pool_fails_after_two_attempts_and_v_says_each(home: dict[str, str]) -> None:
    env = {**home, "XAPICTL_URL": "http://127.0.0.1:1", "XAPICTL_PASSWORD": "x"}
    done = _run(["-v", *LIST], env)
    assert done.exit_code == ExitCode.FAILURE
    lines = done.stderr.splitlines()
    assert lines[0] == "xapictl: logging in to http://127.0.0.1:1 as root"
    attempts = [line for line in lines if "attempt" in line]
    assert len(attempts) == 2, done.stderr
    assert attempts[0].startswith("xapictl: attempt 1 failed: cannot connect to "
                                  "http://127.0.0.1:1 (")
    assert attempts[0].endswith("); next attempt in 0.5 s")
    assert attempts[1].endswith("); giving up")
    assert "Nothing was sent." in done.stderr
    quiet = _run(list(LIST), env)
    assert quiet.exit_code == ExitCode.FAILURE and "attempt" not in quiet.stderr


# --- clause 9: trust and secrets -------------------------------------------------------------


@pytest.fixture
def tls_server(sim: Any) -> Iterator[Any]:
    from xapictl.sim.server import SimServer

    with SimServer(sim, tls=True) as server:
        yield server


def test_insecure_does_not_drop_a_pin(tls_server: Any, home: dict[str, str]) -> None:
    env = {**home, "XAPICTL_URL": tls_server.url, "XAPICTL_PASSWORD": "xapictl"}
    wrong = _run(["--insecure", "--fingerprint", "AB" * 32, *LIST], env)
    assert wrong.exit_code == ExitCode.FAILURE, wrong.stderr
    assert "changed: SHA-256 is" in wrong.stderr and "Refusing to connect" in wrong.stderr
    assert tls_server.control.request_log() == []  # refused in the handshake: nothing sent
    right = _run(["--insecure", "--fingerprint", tls_server.fingerprint, *LIST], env)
    assert right.exit_code == ExitCode.OK, right.stderr
    assert "xapictl: warning: TLS certificate checks are OFF" in right.stderr


def test_plain_http_to_another_machine_warns_once(sim_server: Any, home: dict[str, str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import xapictl.xapi.transport as transport

    env = {**home, "XAPICTL_URL": sim_server.url, "XAPICTL_PASSWORD": "xapictl"}
    local = _run(list(LIST), env)
    assert local.exit_code == 0 and "warning" not in local.stderr  # loopback: no wire crossed
    monkeypatch.setattr(transport, "crosses_network_in_clear", lambda url: True)  # as if remote
    remote = _run(list(LIST), env)
    assert remote.exit_code == 0
    warnings = [line for line in remote.stderr.splitlines() if "warning" in line]
    assert warnings == [f"xapictl: warning: {sim_server.url} is plain http://: the password "
                        "and everything sent cross the network unencrypted; use https:// "
                        "(with --ca or --fingerprint)"]


def _private(path: Path) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path, oct(path.stat().st_mode))
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, path.parent


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_files_with_pool_data_are_private(umask_022: None, sim_server: Any, tmp_path: Path
                                          ) -> None:
    from xapictl.fleet.journal import Journal
    from xapictl.plan.audit import AuditLog
    from xapictl.sim.engine import Simulator
    from xapictl.xapi.profiles import Profile, save_profile
    from xapictl.xapi.tls import KnownHosts

    # Through the CLI: the embedded pool's state and the audit log of an apply.
    env = {"XAPICTL_EMBEDDED_STATE": str(tmp_path / "embedded" / "pool.sqlite"),
           "XAPICTL_AUDIT_LOG": str(tmp_path / "state" / "audit.jsonl")}
    done = _run(["network", "create", "--name", "VLAN 105", "--vlan", "105", "--device",
                 "eth1"], env)
    assert done.exit_code == 0, done.stderr
    for name in ("pool.sqlite", "pool.sqlite-wal", "pool.sqlite-shm"):
        if (tmp_path / "embedded" / name).exists() or name == "pool.sqlite":
            _private(tmp_path / "embedded" / name)
    _private(tmp_path / "state" / "audit.jsonl")
    # The library's other files: journal, simulator --state, known hosts, profiles.
    with Journal(tmp_path / "journal" / "rollouts.sqlite"):
        pass
    _private(tmp_path / "journal" / "rollouts.sqlite")
    Simulator(state_file=tmp_path / "simstate" / "state.sqlite", scenario="seed").close()
    _private(tmp_path / "simstate" / "state.sqlite")
    KnownHosts(tmp_path / "known" / "known_hosts").remember("h:443", "AB" * 32)
    _private(tmp_path / "known" / "known_hosts")
    save_profile(Profile("lab", "https://10.0.0.1"), tmp_path / "config" / "pools.toml")
    _private(tmp_path / "config" / "pools.toml")
    AuditLog(tmp_path / "audit2" / "a.jsonl").close()
    _private(tmp_path / "audit2" / "a.jsonl")
    # `inventory watch --state`: the checkpoint holds the pools' inventory.
    from xapictl.inventory.checkpoint import CheckpointFile

    (tmp_path / "watch").mkdir(mode=0o700)
    CheckpointFile(tmp_path / "watch" / "state.json", None).flush()
    _private(tmp_path / "watch" / "state.json")


def test_an_existing_loose_file_is_tightened(umask_022: None, tmp_path: Path) -> None:
    from xapictl.plan.audit import AuditLog

    path = tmp_path / "audit.jsonl"
    path.write_text("")
    path.chmod(0o644)
    AuditLog(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- clause 8 in this area: connection options never trace back ------------------------------


def _latin1(tmp_path: Path) -> str:
    path = tmp_path / "latin1"
    path.write_bytes("p\xe4ss\n".encode("latin-1"))
    return str(path)


def _empty(tmp_path: Path) -> str:
    path = tmp_path / "empty"
    path.write_text("")
    return str(path)


BAD_OPTIONS: dict[str, tuple[Any, int, str]] = {
    "--timeout inf": (["--timeout", "inf"], 2, "Invalid value for '--timeout': inf is not a "
                      "number of seconds from 0.1 to 86400; e.g. --timeout 30"),
    "--timeout 1e400": (["--timeout", "1e400"], 2, "inf is not a number of seconds"),
    "--timeout nan": (["--timeout", "nan"], 2, "nan is not a number of seconds"),
    "--timeout 0": (["--timeout", "0"], 2, "0.0 is not a number of seconds"),
    "--timeout -1": (["--timeout", "-1"], 2, "-1.0 is not a number of seconds"),
    "--url http://[::1": (["--url", "http://[::1"], 2, "--url: not an XAPI URL: 'http://[::1' "
                          "(Invalid IPv6 URL); use https://host[:port]"),
    "--url :99999": (["--url", "http://127.0.0.1:99999"], 2,
                     "(Port out of range 0-65535); use https://host[:port]"),
    "--url ftp://": (["--url", "ftp://127.0.0.1"], 2, "--url: not an XAPI URL: "
                     "'ftp://127.0.0.1' (use https://host[:port], http://host[:port] or "
                     "unix:///path)"),
    "--url with a space": (["--url", "http://127.0.0.1 x"], 2, "has spaces or control "
                           "characters"),
    "a Latin-1 --password-file": (["--password-file", _latin1], 2, "is not UTF-8 text: give a "
                                  "readable UTF-8 file whose first line is the password"),
    "an empty --password-file": (["--password-file", _empty], 2, "is empty (or its first "
                                 "line is)"),
    "a directory as --password-file": (["--password-file", lambda p: str(p)], 2,
                                       "(Is a directory): give a readable UTF-8 file"),
    "--ca /nonexistent": (["--url", "https://127.0.0.1:1", "--ca", "/nonexistent"], 2,
                          "CA bundle /nonexistent does not exist: give the pool's CA "
                          "certificate(s) as a PEM file (--ca PATH)"),
    "--ca /etc/passwd": (["--url", "https://127.0.0.1:1", "--ca", "/etc/passwd"], 2,
                         "CA bundle /etc/passwd holds no PEM certificate"),
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_bad_connection_options_are_one_line_and_send_nothing(case: str, sim_server: Any,
                                                              home: dict[str, str],
                                                              tmp_path: Path) -> None:
    options, code, message = BAD_OPTIONS[case]
    args = [o(tmp_path) if callable(o) else o for o in options]
    env = {**home, "XAPICTL_URL": sim_server.url}
    if "--password-file" not in args:
        env["XAPICTL_PASSWORD"] = "xapictl"
    done = _run([*args, *LIST], env)
    assert done.exit_code == code, done.stderr
    assert "Traceback" not in done.stderr
    assert message in done.stderr
    if not case.startswith("--timeout"):  # typer's own usage lines precede its Error: line
        _one_line(done.stderr)
    assert sim_server.control.request_log() == []


def test_keyring_without_a_backend_is_one_line(sim_server: Any, home: dict[str, str],
                                               tmp_path: Path) -> None:
    config = tmp_path / "pools.toml"
    config.write_text(f'[pools.lab]\nurl = "{sim_server.url}"\npassword = "keyring"\n')
    env = {**home, "XAPICTL_CONFIG": str(config),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    done = _run(["--pool", "lab", *LIST], env)
    assert done.exit_code == ExitCode.BAD_INPUT
    assert "the keyring cannot be read (NoKeyringError: no usable backend?): set one up, or " \
           "use another password source" in _one_line(done.stderr)
    assert sim_server.control.request_log() == []


@pytest.mark.parametrize("text", [
    b"[pools.lab\nurl = 1\n",                                   # not TOML
    b"x = " + b"[" * 2000 + b"]" * 2000 + b"\n",                # nested beyond reason
    b'[pools.lab]\nurl = "caf\xe9"\n',                          # not UTF-8
    b"[pools]\nlab = 3\n",                                      # a profile that is no table
    b'[pools.lab]\nurl = "http://127.0.0.1"\ntimeout = "soon"\n',
])
def test_a_broken_pools_toml_is_one_line(text: bytes, home: dict[str, str],
                                         tmp_path: Path) -> None:
    config = tmp_path / "pools.toml"
    config.write_bytes(text)
    done = _run(["--pool", "lab", *LIST], {**home, "XAPICTL_CONFIG": str(config)})
    assert done.exit_code == ExitCode.BAD_INPUT, done.stderr
    line = _one_line(done.stderr)
    assert str(config) in line or "profile 'lab'" in line, line


@pytest.mark.parametrize("option", [["--insecure"], ["--user", "admin"], ["--url", "URL"],
                                    ["--fingerprint", "AB" * 32]])
@pytest.mark.parametrize("command", [["network", "list", "--fleet", "FLEET"],
                                     ["inventory", "export", "--fleet", "FLEET"],
                                     ["plan", APPLY_TRUNK[1], "--fleet", "FLEET"]])
def test_single_pool_options_are_refused_by_fleet_commands(
        option: list[str], command: list[str], sim_server: Any, home: dict[str, str],
        tmp_path: Path) -> None:
    # A fleet file names each pool's URL, user, credentials and trust: an option meant for one
    # pool is refused, never silently ignored.
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(f"pools:\n  - name: a\n    url: {sim_server.url}\n"
                     "    credentials: env:FLEET_PW\n")
    args = [sim_server.url if o == "URL" else o for o in option]
    args += [str(fleet) if c == "FLEET" else c for c in command]
    done = _run(args, {**home, "FLEET_PW": "xapictl"})
    assert done.exit_code == ExitCode.BAD_INPUT, done.stderr
    assert _one_line(done.stderr) == (
        f"xapictl: {option[0]} cannot apply to a fleet: the fleet file names "
        "each pool's URL or profile, user, credentials and TLS trust; drop the option")
    assert sim_server.control.request_log() == []
