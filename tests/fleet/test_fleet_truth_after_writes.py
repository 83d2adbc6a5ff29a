"""Issue 10, clause 5, for rollouts: the journal and the audit are written ahead, so after
``kill -9`` at any moment ``rollout status`` shows the truth (what is in doubt, as such) and
``rollout resume`` settles it by reading the pools, never by re-sending a write that took
effect; states are exact (refused is not done, finished pools are not pending); a Ctrl-C of a
rollout that changed a pool exits 5.

Each kill is deterministic: the simulator holds one request (before or after committing it)
on an event; the test kills the real ``xapictl rollout`` process while it waits for the answer,
then lets the request go."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fleet_docs_harness import assert_shown_in, commands
from test_fleet_docs_rollouts import DOUBT
from typer.testing import CliRunner

from xapictl.fleet.journal import Journal
from xapictl.sim.control import Control, DropConnection
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer

RECIPE = "version: 1\nnetworks:\n  - name: VLAN 105\n    vlan: 105\n    device: eth1\n"
EXE = Path(sys.executable).with_name("xapictl")


@dataclass
class Fleet:
    sims: dict[str, Simulator]
    controls: dict[str, Control]
    dir: Path
    urls: dict[str, str]

    def env(self) -> dict[str, str]:
        return {**os.environ, "FLEET_PW": "xapictl",
                "XAPICTL_JOURNAL": str(self.dir / "journal.sqlite")}

    def run(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([str(EXE), "rollout", *args], env=self.env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def cli(self, *args: str) -> tuple[int, str, str]:
        from xapictl.cli import app

        result = CliRunner().invoke(app, ["rollout", *args], env=self.env(),
                                    catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    def successes(self, pool: str, method: str) -> int:
        return sum(1 for e in self.controls[pool].request_log()
                   if e["method"] == method and e["outcome"] == "success")

    def networks(self, pool: str) -> int:
        sim = self.sims[pool]
        with sim.state.lock:
            return len(sim.state.find("network", name_label="VLAN 105"))

    def vlans(self, pool: str) -> int:
        sim = self.sims[pool]
        with sim.state.lock:
            return sum(1 for v in sim.state.all("VLAN").values() if int(v["tag"]) == 105)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    sims = {name: Simulator(scenario="seed", password="xapictl") for name in ("par1", "par2")}
    controls = {name: Control(sim) for name, sim in sims.items()}
    servers = {name: SimServer(sims[name], control=controls[name]).start() for name in sims}
    try:
        (tmp_path / "fleet.yaml").write_text(
            "version: 1\ndefaults:\n  credentials: env:FLEET_PW\npools:\n" + "".join(
                f"  - {{name: {n}, url: '{s.url}'}}\n" for n, s in servers.items()))
        (tmp_path / "vlan.yaml").write_text(RECIPE)
        yield Fleet(sims, controls, tmp_path, {n: s.url for n, s in servers.items()})
    finally:
        for s in servers.values():
            s.stop()


class Hold:
    """Holds one request of pool ``par1`` in the simulator until ``release``."""

    def __init__(self) -> None:
        self.held = threading.Event()
        self.release = threading.Event()

    def wait(self) -> None:
        self.held.set()
        self.release.wait(60)  # safety net only: the test releases it right after the kill


def _after_commit(control: Control, method: str, hold: Hold) -> None:
    """``method`` is committed (it took effect); its answer is held."""
    record = control.record

    def record_and_hold(**entry: Any) -> None:
        record(**entry)
        if entry["method"] == method and not hold.held.is_set():
            hold.wait()

    control.record = record_and_hold  # type: ignore[method-assign]


def _before_commit(control: Control, method: str, hold: Hold) -> None:
    """``method`` is held before the pool sees it, then dropped: it never takes effect."""
    before = control.before_call

    def hold_then_drop(host_address: str, name: str, **kw: Any) -> Any:
        if name == method and not hold.held.is_set():
            hold.wait()
            raise DropConnection("held, then dropped: it never reached the pool")
        return before(host_address, name, **kw)

    control.before_call = hold_then_drop  # type: ignore[method-assign]


def _at_step_boundary(control: Control, hold: Hold) -> None:
    """Step 2's re-check read is held: step 1 is done, step 2 started (the test waits for the
    journal to say so), nothing of it was sent. That read (PIFs and VLANs) goes beside
    network.create (``read_ahead``), so it is the third read of PIFs or VLANs (the plan's
    read, the fresh read under the lease, then it), whichever arrives first."""
    before = control.before_call
    reads: Counter[str] = Counter()
    lock = threading.Lock()

    def hold_read(host_address: str, name: str, **kw: Any) -> Any:
        if name in ("PIF.get_all_records", "VLAN.get_all_records"):
            with lock:
                reads[name] += 1
                third = reads[name] == 3 and not hold.held.is_set()
            if third:
                hold.wait()
        return before(host_address, name, **kw)

    control.before_call = hold_read  # type: ignore[method-assign]


def _step_running(fleet: Fleet, idx: int) -> bool:
    """Whether the runner journaled step ``idx`` of ``par1`` as started."""
    with Journal(fleet.dir / "journal.sqlite") as journal:
        return any(s["idx"] == idx and s["status"] == "running"
                   for s in journal.steps(1, "par1"))


def _kill_while_held(fleet: Fleet, hold: Hold, ready: Callable[[], bool] | None = None
                     ) -> None:
    """Run the rollout and kill it once a request is held (and ``ready()``: what the runner
    journals meanwhile, waited for)."""
    proc = fleet.run("run", str(fleet.dir / "vlan.yaml"), "--fleet",
                     str(fleet.dir / "fleet.yaml"), "--yes", "--quiet", "--canary", "1",
                     "--batch-size", "1", "--concurrency", "1")
    try:
        assert hold.held.wait(60), proc.communicate(timeout=60)
        pause = threading.Event()
        for _ in range(1200):  # a safety net only: the runner gets there at once
            if ready is None or ready():
                break
            pause.wait(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        hold.release.set()
    assert proc.returncode == -signal.SIGKILL


POINTS: dict[str, tuple[Callable[[Control, Hold], None], str, str]] = {
    # name: (how p0 is held, status of its step 2, outcome of its write in doubt)
    "after the write took effect": (
        lambda c, h: _after_commit(c, "pool.create_VLAN_from_PIF", h), "in doubt", "in doubt"),
    "before the write reached the pool": (
        lambda c, h: _before_commit(c, "pool.create_VLAN_from_PIF", h), "in doubt", "in doubt"),
    "between two steps": (_at_step_boundary, "interrupted", ""),
}


@pytest.mark.parametrize("point", list(POINTS))
def test_kill_9_leaves_a_journal_that_tells_the_truth_and_resume_converges(
        fleet: Fleet, point: str) -> None:
    arrange, step_status, write_outcome = POINTS[point]
    hold = Hold()
    arrange(fleet.controls["par1"], hold)
    # Between two steps: step 2's re-check read, sent beside step 1's write, is held; step 1
    # is recorded done, and step 2 started, when step 1's answer is in.
    _kill_while_held(fleet, hold, (lambda: _step_running(fleet, 1)) if point == (
        "between two steps") else None)
    create_vlan_before = fleet.successes("par1", "pool.create_VLAN_from_PIF")

    code, out, err = fleet.cli("status", "1", "-o", "json")
    assert code == 0, err
    status = json.loads(out)
    assert status["state"] == "running" and status["runner_gone"] is True
    pools = {p["pool"]: p for p in status["pools"]}
    assert (pools["par1"]["state"], pools["par1"]["done"], pools["par1"]["planned"]) == (
        "in doubt", 1, 2)
    assert pools["par2"]["state"] == "planned"  # never started: not skipped, not done
    p0_steps = {s["idx"]: s["status"] for s in status["steps"] if s["pool"] == "par1"}
    assert p0_steps == {0: "done", 1: step_status}
    doubt = [(w["pool"], w["call"], w["outcome"]) for w in status["writes_in_doubt"]]
    assert doubt == ([("par1", "pool.create_VLAN_from_PIF", write_outcome)]
                     if write_outcome else [])

    assert "its process is gone: `xapictl rollout resume 1`" in fleet.cli("list")[1]
    code, text, _ = fleet.cli("status", "1")
    if point == "after the write took effect":  # the page's example is this very case
        (cmd,) = commands(DOUBT.text)
        assert cmd.argv == ["xapictl", "rollout", "status", "1"]
        assert_shown_in(cmd.shown, text)
    assert "its process" in text and "is gone" in text
    assert "par1                 in doubt" in text
    assert f"step 2 {step_status}: create VLAN pool-wide network 'VLAN 105'" in text

    # The audit has every write sent, the one in flight with no outcome, and who sent it.
    code, out, _ = fleet.cli("audit", "1")
    rows = json.loads(out)
    assert [(r["pool"], r["call"], r["outcome"]) for r in rows] == [
        ("par1", "network.create", "ok")] + [(p, c, o) for p, c, o in doubt]
    assert all(r["user"] == "root" and r["host"] and r["sent"] for r in rows)
    assert all(r["url"].startswith("http://127.0.0.1:") for r in rows)

    # The killed run's pool lease is taken over at once (its process, on this machine, is
    # gone): no `pool unlock`, no wait (--lock-timeout 0 would refuse a live holder).
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XAPICTL_LOCK_TIMEOUT", "0")
        code, out, err = fleet.cli("resume", "1", "--yes", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["counts"] == {"done": 2}
    for pool in ("par1", "par2"):
        assert (fleet.networks(pool), fleet.vlans(pool)) == (1, 3), pool
        assert fleet.successes(pool, "network.create") == 1, pool
        assert fleet.successes(pool, "pool.create_VLAN_from_PIF") == 1, pool
    # A write that took effect was not sent again; one that never reached the pool was.
    resent = fleet.successes("par1", "pool.create_VLAN_from_PIF") - create_vlan_before
    assert resent == (0 if point == "after the write took effect" else 1)

    code, out, _ = fleet.cli("status", "1", "-o", "json")
    after = json.loads(out)
    assert after["state"] == "done" and after["runner_gone"] is False
    assert {p["pool"]: p["state"] for p in after["pools"]} == {"par1": "done", "par2": "done"}
    # What the killed run left in flight stays recorded as such.
    assert [(w["call"], w["outcome"]) for w in json.loads(fleet.cli("audit", "1")[1])
            if w["outcome"] not in ("ok",)] == [(c, o) for _, c, o in doubt]


def test_a_rollout_refused_for_a_missing_yes_is_refused_not_done(fleet: Fleet) -> None:
    code, _, err = fleet.cli("run", str(fleet.dir / "vlan.yaml"), "--fleet",
                             str(fleet.dir / "fleet.yaml"), "--quiet")
    assert code == 2 and "give --yes" in err
    code, out, _ = fleet.cli("status", "1", "-o", "json")
    status = json.loads(out)
    assert status["state"] == "refused"
    assert {p["pool"]: p["state"] for p in status["pools"]} == {"par1": "refused",
                                                                 "par2": "refused"}
    code, out, _ = fleet.cli("list")
    assert "refused=2" in out and "done" not in out
    assert [fleet.successes(p, "network.create") for p in ("par1", "par2")] == [0, 0]


def test_a_pool_refused_by_a_preflight_check_is_refused(fleet: Fleet) -> None:
    (fleet.dir / "eth9.yaml").write_text(RECIPE.replace("eth1", "eth9"))
    code, out, err = fleet.cli("run", str(fleet.dir / "eth9.yaml"), "--fleet",
                               str(fleet.dir / "fleet.yaml"), "--yes", "-o", "json",
                               "--max-failures", "5")
    assert code == 2, err  # every pool refused before any write: bad input
    pools = {p["pool"]: p for p in json.loads(out)["pools"]}
    assert {n: p["state"] for n, p in pools.items()} == {"par1": "refused", "par2": "refused"}
    assert "refused before any change" in pools["par1"]["error"]
    assert "eth9" in pools["par1"]["error"]


def test_resume_and_status_show_finished_pools_as_finished(fleet: Fleet) -> None:
    from xapictl.cli.rollout import _rows_now
    from xapictl.fleet.journal import Journal, PoolState

    hold = Hold()
    _after_commit(fleet.controls["par2"], "network.create", hold)
    proc = fleet.run("run", str(fleet.dir / "vlan.yaml"), "--fleet",
                     str(fleet.dir / "fleet.yaml"), "--yes", "--quiet", "--canary", "1",
                     "--batch-size", "1", "--concurrency", "1")
    try:
        assert hold.held.wait(60), proc.communicate(timeout=60)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        hold.release.set()
    with Journal(fleet.dir / "journal.sqlite") as journal:
        rows = _rows_now(journal, 1)
        assert rows == {"par1": ("done", 2, 2), "par2": ("in doubt", 0, 2)}
        assert journal.pool_runs_now(1)[0].state is PoolState.DONE
    code, text, _ = fleet.cli("status", "1")
    assert "par1                 done     canary   2/2 steps" in text

    # The live table resume draws (its last frame, off a terminal) starts from the journal:
    # par1, finished before the kill, is done 2/2, not pending 0/0.
    import re

    with pytest.MonkeyPatch.context() as env:  # the killed run's lease: taken over at once
        env.setenv("XAPICTL_LOCK_TIMEOUT", "0")
        code, _, err = fleet.cli("resume", "1", "--yes")
    assert code == 0, err
    assert re.search(r"par1\s*│\s*done\s*│\s*2/2", err), err
    # par2's network.create took effect before the kill: the resume had one step left.
    assert re.search(r"par2\s*│\s*done\s*│\s*1/1", err), err
    assert "pending" not in err and "rollout 1: done" in err
    assert fleet.successes("par2", "network.create") == 1
    assert fleet.successes("par1", "network.create") == 1  # the finished pool was left alone


def _reason(fleet: Fleet) -> str:
    """The rollout's reason as the journal has it now (read by another process)."""
    import sqlite3

    db = sqlite3.connect(fleet.dir / "journal.sqlite")
    try:
        rows = db.execute("SELECT reason FROM rollouts WHERE id = 1").fetchall()
    except sqlite3.OperationalError:  # busy, or not made yet
        return ""
    finally:
        db.close()
    return str(rows[0][0]) if rows else ""


def _until_stopping(fleet: Fleet, proc: subprocess.Popen[str]) -> None:
    """Wait until the rollout has journaled that it took the Ctrl-C."""
    from xapictl.fleet.rollout import STOPPING

    tick = threading.Event()
    for _ in range(3000):  # a safety net only: it comes as soon as the process runs
        if _reason(fleet) == STOPPING or proc.poll() is not None:
            break
        tick.wait(0.02)
    assert _reason(fleet) == STOPPING


def test_ctrl_c_of_a_rollout_that_changed_a_pool_exits_5(fleet: Fleet) -> None:
    """SIGINT while the canary's first step is in flight: the canary stops after that step,
    no pool is done, and yet a pool was changed: exit 5, not 4."""
    hold = Hold()
    _after_commit(fleet.controls["par1"], "network.create", hold)
    proc = fleet.run("run", str(fleet.dir / "vlan.yaml"), "--fleet",
                     str(fleet.dir / "fleet.yaml"), "--yes", "-o", "json", "--canary", "1",
                     "--batch-size", "1", "--concurrency", "1")
    try:
        assert hold.held.wait(60), proc.communicate(timeout=60)
        proc.send_signal(signal.SIGINT)
        # The step goes on only once the rollout has taken the Ctrl-C (it journals that at
        # once), so the stop is seen at the boundary after it, however loaded the machine.
        _until_stopping(fleet, proc)
    finally:
        hold.release.set()  # the step finishes; the rollout stops at the boundary after it
    out, err = proc.communicate(timeout=60)
    summary = json.loads(out)
    assert summary["state"] == "stopped", err
    assert [(p["pool"], p["state"], p["done"]) for p in summary["pools"]] == [
        ("par1", "stopped", 1), ("par2", "skipped", 0)]
    assert proc.returncode == 5, err


def test_ctrl_c_of_a_rollout_before_any_write_exits_130(fleet: Fleet) -> None:
    """SIGINT while the pools are being planned (par1's login held): nothing was changed, so
    the shell's code for an interrupt, as a single-pool command gives."""
    hold = Hold()
    before = fleet.controls["par1"].before_call

    def hold_first(host_address: str, name: str, **kw: Any) -> Any:
        if not hold.held.is_set():
            hold.wait()
        return before(host_address, name, **kw)

    fleet.controls["par1"].before_call = hold_first  # type: ignore[method-assign]
    proc = fleet.run("run", str(fleet.dir / "vlan.yaml"), "--fleet",
                     str(fleet.dir / "fleet.yaml"), "--yes", "-o", "json", "--concurrency", "1")
    try:
        assert hold.held.wait(60), proc.communicate(timeout=60)
        proc.send_signal(signal.SIGINT)
        _until_stopping(fleet, proc)  # planning goes on only once the Ctrl-C is taken
    finally:
        hold.release.set()
    out, err = proc.communicate(timeout=60)
    assert json.loads(out)["state"] == "stopped", err
    assert proc.returncode == 130, err
    assert [fleet.successes(p, "network.create") for p in ("par1", "par2")] == [0, 0]


def test_a_journal_from_an_older_xapictl_gains_the_new_columns(tmp_path: Path) -> None:
    import sqlite3

    from xapictl.fleet.journal import AuditRow, Journal, now

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE rollouts (id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, "
        "updated TEXT NOT NULL, recipe TEXT NOT NULL, fleet TEXT NOT NULL, selection TEXT, "
        "options TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '');"
        "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, rollout INTEGER, "
        "pool TEXT NOT NULL, host TEXT NOT NULL, call TEXT NOT NULL, args TEXT NOT NULL, "
        "result TEXT NOT NULL, ok INTEGER NOT NULL, at TEXT NOT NULL);"
        "INSERT INTO rollouts (created, updated, recipe, fleet, options, state) VALUES "
        "('t', 't', 'r.yaml', 'f.yaml', '{}', 'running');"
        "INSERT INTO audit (rollout, pool, host, call, args, result, ok, at) VALUES "
        "(1, 'p', 'h', 'network.create', '[]', '\"OpaqueRef:x\"', 1, 't');")
    db.commit()
    db.close()
    with Journal(path) as journal:
        assert journal.rollout(1).runner == ""
        assert journal.gone(1)  # running, and no process named: nobody runs it now
        assert [(r.call, r.outcome, r.user) for r in journal.audit(1)] == [
            ("network.create", "", "")]
        journal.record_write(AuditRow(1, "p", "h", "VLAN.create", [], None, False, now(),
                                      "intent", "root", "step", now()))
        assert [r.outcome for r in journal.audit(1)] == ["", "in doubt"]
