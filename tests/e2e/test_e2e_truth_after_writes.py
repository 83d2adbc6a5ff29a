"""Issue 10, clause 5, for one pool: after the first write, any interruption or failure exits 5
and says what was done, what failed or was interrupted and what did not run; "Nothing was sent"
only when nothing was; the audit log is written ahead (intent, then outcome) and names the
pool, the user and the host."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from test_e2e_cli import CREATE_105

from xapictl.cli.exit_codes import ExitCode
from xapictl.client.lease import is_lease_call
from xapictl.plan.audit import is_write

ROOT = Path(__file__).resolve().parents[2]
TRUNK = str(ROOT / "recipes" / "trunk-vlans.yaml")


def _interrupt_at_write(monkeypatch: pytest.MonkeyPatch, n: int) -> list[str]:
    """Ctrl-C right after the pool answered the ``n``-th write (it took effect; the answer
    never reached the apply): the KeyboardInterrupt is raised in the CLI's own thread, as a
    real SIGINT would be. Returns the write methods sent, in order."""
    from xapictl.client.connection import Connection

    sent: list[str] = []
    call = Connection.call

    def call_then_interrupt(self: Connection, method: str, *args: Any) -> Any:
        result = call(self, method, *args)
        if is_write(method) and not is_lease_call(method, args):  # the pool lease's own
            sent.append(method)
            if len(sent) == n:
                raise KeyboardInterrupt
        return result

    monkeypatch.setattr(Connection, "call", call_then_interrupt)
    return sent


def _audit(cli: Any) -> list[dict[str, Any]]:
    path = Path(cli.env["XAPICTL_AUDIT_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()]


def _successes(sim_server: Any, method: str) -> int:
    return sum(1 for e in sim_server.control.request_log()
               if e["method"] == method and e["outcome"] == "success")


def test_ctrl_c_at_the_third_write_exits_5_listing_done_interrupted_not_run(
        cli, sim_server, monkeypatch) -> None:
    sent = _interrupt_at_write(monkeypatch, 3)
    ran = cli("apply", TRUNK, "--yes")
    assert ran.code == ExitCode.PARTIAL, ran.stderr
    assert sent == ["network.create", "pool.create_VLAN_from_PIF", "network.create"]
    assert "apply interrupted. What happened:" in ran.stderr
    assert "     done  create network 'VLAN 101'" in ran.stderr
    assert "     done  create VLAN pool-wide" in ran.stderr
    assert "interrupted  create network 'VLAN 102'" in ran.stderr
    assert "whether it took effect is unknown" in ran.stderr
    assert "  not run  create VLAN pool-wide" in ran.stderr
    assert "Run the same command again" in ran.stderr
    assert "Nothing was sent" not in ran.stderr

    # The audit log has the third write's intent, and its outcome as unknown.
    third = [r for r in _audit(cli) if r["write"] == 3]
    assert [r["outcome"] for r in third] == ["intent", "unknown"]
    assert third[1]["error"] == ["KeyboardInterrupt"]

    # A re-run reads the pool: the interrupted write took effect and is not sent again.
    monkeypatch.undo()
    again = cli("apply", TRUNK, "--yes")
    assert again.code == ExitCode.OK, again.stderr
    assert _successes(sim_server, "network.create") == 5
    assert _successes(sim_server, "pool.create_VLAN_from_PIF") == 5
    assert cli("plan", TRUNK).code == ExitCode.OK


def test_ctrl_c_before_any_write_exits_130_and_says_nothing_was_sent(
        cli, sim_server, monkeypatch) -> None:
    from xapictl.state.collect import PoolConnection

    def interrupted(self: PoolConnection, *classes: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(PoolConnection, "snapshot", interrupted)
    # a plan reads just the classes its recipe touches, the permissions alongside
    monkeypatch.setattr(PoolConnection, "read_all_with_permissions", interrupted)
    ran = cli("apply", TRUNK, "--yes")
    assert ran.code == ExitCode.INTERRUPTED == 130
    assert ran.stderr.strip() == ("xapictl: interrupted (Ctrl-C) before any write: nothing was "
                                  "sent, nothing changed.")
    assert not [e for e in sim_server.control.request_log() if is_write(e["method"])]


def test_pool_dying_during_verify_after_writes_exits_5_and_never_says_nothing_was_sent(
        cli, sim_server, monkeypatch) -> None:
    control = sim_server.control
    record = control.record

    def record_then_die(**entry: Any) -> None:
        record(**entry)
        if entry["method"] == "pool.create_VLAN_from_PIF" and entry["outcome"] == "success":
            control.inject_fault("*", "drop_before")  # every later request: no answer

    monkeypatch.setattr(control, "record", record_then_die)
    ran = cli("--timeout", "0.5", *CREATE_105)
    assert ran.code == ExitCode.PARTIAL, ran.stderr
    assert "done  create network 'VLAN 105'" in ran.stderr
    assert "done  create VLAN pool-wide" in ran.stderr
    assert "every step was done, then the pool could not be read to verify" in ran.stderr
    assert "Nothing was sent" not in ran.stderr and "nothing was written" not in ran.stderr


def test_connect_error_after_writes_names_the_writes_instead_of_nothing_sent(
        cli, sim_server, monkeypatch) -> None:
    """The pool refuses connections while verifying (the master went down): still exit 5, and
    a connect error met anywhere after a write never claims nothing was sent."""
    from xapictl.errors import ConnectError
    from xapictl.state.collect import PoolConnection

    read_all, events = PoolConnection.read_all, PoolConnection.events
    read_all_after = PoolConnection.read_all_after
    events_then_logout = PoolConnection.events_then_logout
    reads = []

    def refused(self: PoolConnection) -> None:
        reads.append(1)
        # apply's fresh read (the lease's read-back) and the second step's re-check pass;
        # verify's does not (the plan's read carries the permissions: another method; the
        # re-check and verify read the changes since the fresh read: event.from)
        if len(reads) > 2:
            raise ConnectError(f"{self.url}: connection refused")

    def refuse_after_writes(self: PoolConnection, classes: Any, **scope: Any) -> Any:
        refused(self)
        return read_all(self, classes, **scope)

    def refuse_events_after_writes(self: PoolConnection, *args: Any) -> Any:
        refused(self)
        return events(self, *args)

    def refuse_after_writes_behind(self: PoolConnection, first: Any, classes: Any,
                                   *scope: Any) -> Any:  # the lease's read-back, pipelined
        refused(self)
        return read_all_after(self, first, classes, *scope)

    monkeypatch.setattr(PoolConnection, "read_all", refuse_after_writes)
    def refuse_last_events(self: PoolConnection, *args: Any) -> Any:  # verify, pipelined
        refused(self)
        return events_then_logout(self, *args)

    monkeypatch.setattr(PoolConnection, "read_all_after", refuse_after_writes_behind)
    monkeypatch.setattr(PoolConnection, "events_then_logout", refuse_last_events)
    monkeypatch.setattr(PoolConnection, "events", refuse_events_after_writes)
    ran = cli(*CREATE_105)
    assert ran.code == ExitCode.PARTIAL, ran.stderr
    assert "connection refused" in ran.stderr and "Nothing was sent" not in ran.stderr


def test_unreachable_pool_still_says_nothing_was_sent(cli) -> None:
    ran = cli("--timeout", "0.5", *CREATE_105, extra_env={"XAPICTL_URL": "http://127.0.0.1:9"})
    assert ran.code == ExitCode.FAILURE
    assert ran.stderr.rstrip().endswith("Nothing was sent.")


def test_audit_records_are_written_ahead_and_name_pool_user_host(cli, sim_server) -> None:
    ran = cli(*CREATE_105)
    assert ran.code == ExitCode.OK, ran.stderr
    records = _audit(cli)
    assert [(r["method"], r["outcome"]) for r in records] == [
        ("network.create", "intent"), ("network.create", "ok"),
        ("pool.create_VLAN_from_PIF", "intent"), ("pool.create_VLAN_from_PIF", "ok")]
    for r in records:
        assert r["pool"] == sim_server.url and r["user"] == "root"
        assert r["host"] == sim_server.url  # pool-wide calls: the master they went through
        assert "@" in r["client"] and r["run"] == records[0]["run"]


def test_audit_names_the_embedded_pool(tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from xapictl.cli import app

    log = tmp_path / "audit.jsonl"
    env = {"XAPICTL_EMBEDDED_STATE": str(tmp_path / "pool.sqlite"),
           "XAPICTL_AUDIT_LOG": str(log)}
    result = CliRunner().invoke(app, list(CREATE_105), env=env)
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records and {r["pool"] for r in records} == {"embedded"}


def test_real_sigint_while_a_write_is_in_flight_exits_5_and_a_rerun_sends_it_never_again(
        sim_server, tmp_path) -> None:
    """The real executable, a real SIGINT: the pool holds its answer to network.create (which
    took effect) until the signal has been sent."""
    control = sim_server.control
    record = control.record
    held, release = threading.Event(), threading.Event()

    def record_and_hold(**entry: Any) -> None:
        record(**entry)
        if entry["method"] == "network.create" and not held.is_set():
            held.set()
            release.wait(60)  # safety net only: the test releases it right after SIGINT

    control.record = record_and_hold  # type: ignore[method-assign]
    exe = Path(sys.executable).with_name("xapictl")
    env = {**os.environ, "XAPICTL_URL": sim_server.url, "XAPICTL_PASSWORD": "xapictl",
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    try:
        proc = subprocess.Popen([str(exe), *CREATE_105], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert held.wait(60), "network.create never arrived"
        proc.send_signal(signal.SIGINT)
        # The answer goes only once the Ctrl-C is taken (the CLI then logs out, or exits):
        # however loaded the machine, it lands while the write is in flight.
        tick = threading.Event()
        for _ in range(3000):  # a safety net only
            if proc.poll() is not None or "session.logout" in control.methods_called():
                break
            tick.wait(0.02)
    finally:
        release.set()
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        control.record = record  # type: ignore[method-assign]
    assert proc.returncode == ExitCode.PARTIAL, err
    assert "interrupted  create network 'VLAN 105'" in err
    assert "not run  create VLAN pool-wide" in err
    again = subprocess.run([str(exe), *CREATE_105], env=env, text=True, capture_output=True,
                           timeout=120, check=False)
    assert again.returncode == ExitCode.OK, again.stderr
    assert _successes(sim_server, "network.create") == 1


def test_a_transport_error_after_a_write_exits_5_and_counts_the_writes(capsys) -> None:
    """Whatever command meets a connect error after its writes: exit 5 (not 4), and the hint
    says how many writes were sent instead of "Nothing was sent"."""
    import typer

    from xapictl.cli import run
    from xapictl.errors import ConnectError
    from xapictl.plan.audit import AuditLog

    audit = AuditLog()
    with pytest.raises(typer.Exit) as stopped, run.exit_codes():
        run._AUDITS.get().append(audit)  # type: ignore[union-attr]
        number = audit.intent("network.create", ({},))
        audit.write("network.create", ({},), "ok", write=number)
        raise ConnectError("http://127.0.0.1:9: connection refused")
    assert stopped.value.exit_code == ExitCode.PARTIAL
    err = capsys.readouterr().err
    assert "Nothing was sent" not in err
    assert "1 write(s) had been sent before this: `xapictl plan` shows what is left." in err


def _section_example(page: str, heading: str) -> list[tuple[list[str], list[str]]]:
    """The console block of one section of a docs page: each ``$ xapictl`` command (argv
    without ``xapictl``) with the lines shown after it."""
    import re
    import shlex

    text = (ROOT / "docs" / page).read_text().split(f"## {heading}\n", 1)[1].split("\n## ")[0]
    (body,) = re.findall(r"^```console\n(.*?)^```$", text, flags=re.S | re.M)
    out: list[tuple[list[str], list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            argv = shlex.split(line[2:], comments=True)
            assert argv[0] == "xapictl"
            out.append((argv[1:], []))
        else:
            out[-1][1].append(line)
    return out


def _assert_shown(shown: list[str], actual: str) -> None:
    """Every shown line (``…`` is any text; a lone ``…`` any lines) matches an actual line, in
    order."""
    import re

    lines, at = actual.splitlines(), 0
    for want in shown:
        if want.strip() == "…":
            continue
        pattern = re.compile(".*?".join(re.escape(p) for p in want.split("…")))
        while at < len(lines) and not pattern.fullmatch(lines[at]):
            at += 1
        assert at < len(lines), f"the page shows {want!r}; the command printed:\n{actual}"
        at += 1


def test_the_running_unattended_example_is_what_the_cli_prints(cli, monkeypatch) -> None:
    (interrupted, shown), (rerun, shown_again) = _section_example(
        "unattended.md", "Exit codes and messages after writes")
    monkeypatch.chdir(ROOT)
    with monkeypatch.context() as patched:
        _interrupt_at_write(patched, 3)
        ran = cli(*interrupted)
    assert ran.code == ExitCode.PARTIAL
    _assert_shown(shown, ran.stderr)
    again = cli(*rerun)
    assert again.code == ExitCode.OK
    _assert_shown(shown_again, again.stdout)


def test_kill_9_mid_write_leaves_its_intent_in_the_audit_log(sim_server, tmp_path) -> None:
    """The audit log is written ahead: killed while the pool holds its answer to
    pool.create_VLAN_from_PIF (committed), the log still has that write, as an intent with no
    outcome; the re-run reads the pool and sends nothing twice."""
    control = sim_server.control
    record = control.record
    held, release = threading.Event(), threading.Event()

    def record_and_hold(**entry: Any) -> None:
        record(**entry)
        if entry["method"] == "pool.create_VLAN_from_PIF" and not held.is_set():
            held.set()
            release.wait(60)  # safety net only: released right after the kill

    control.record = record_and_hold  # type: ignore[method-assign]
    exe = Path(sys.executable).with_name("xapictl")
    log = tmp_path / "audit.jsonl"
    env = {**os.environ, "XAPICTL_URL": sim_server.url, "XAPICTL_PASSWORD": "xapictl",
           "XAPICTL_AUDIT_LOG": str(log)}
    try:
        proc = subprocess.Popen([str(exe), *CREATE_105], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert held.wait(60), "pool.create_VLAN_from_PIF never arrived"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        release.set()
        control.record = record  # type: ignore[method-assign]
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["method"], r["outcome"], r["write"]) for r in records] == [
        ("network.create", "intent", 1), ("network.create", "ok", 1),
        ("pool.create_VLAN_from_PIF", "intent", 2)]
    assert records[-1]["pool"] == sim_server.url and records[-1]["user"] == "root"
    again = subprocess.run([str(exe), *CREATE_105], env=env, text=True, capture_output=True,
                           timeout=120, check=False)
    assert again.returncode == ExitCode.OK, again.stderr
    assert _successes(sim_server, "network.create") == 1
    assert _successes(sim_server, "pool.create_VLAN_from_PIF") == 1


def test_a_rerun_after_kill_9_takes_the_dead_runs_lease_over_at_once(sim_server,
                                                                     tmp_path) -> None:
    """Killed once network.create took effect (the VLANs still to make), the write lease it
    held stays in the pool. The re-run on this machine sees that the holder's process is gone
    and takes the lease over at once: with --lock-timeout 0 (no wait at all) it finishes the
    work, exit 0, and sends network.create only once in all."""
    control = sim_server.control
    record = control.record
    held, release = threading.Event(), threading.Event()

    def record_and_hold(**entry: Any) -> None:
        record(**entry)
        if entry["method"] == "network.create" and not held.is_set():
            held.set()
            release.wait(60)  # safety net only: released right after the kill

    control.record = record_and_hold  # type: ignore[method-assign]
    exe = Path(sys.executable).with_name("xapictl")
    env = {**os.environ, "XAPICTL_URL": sim_server.url, "XAPICTL_PASSWORD": "xapictl",
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    try:
        proc = subprocess.Popen([str(exe), *CREATE_105], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert held.wait(60), "network.create never arrived"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        release.set()
        control.record = record  # type: ignore[method-assign]
    assert _successes(sim_server, "pool.create_VLAN_from_PIF") == 0
    again = subprocess.run([str(exe), "--lock-timeout", "0", *CREATE_105], env=env, text=True,
                           capture_output=True, timeout=120, check=False)
    assert again.returncode == ExitCode.OK, again.stderr
    assert _successes(sim_server, "network.create") == 1
    assert _successes(sim_server, "pool.create_VLAN_from_PIF") == 1
