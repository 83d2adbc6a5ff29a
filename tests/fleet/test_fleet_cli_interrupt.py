"""Ctrl-C (a real SIGINT) in the middle of ``xapictl rollout``: the run stops at a step
boundary, logs out of every pool, leaves a journal that says where it stopped, and ``rollout
resume`` finishes the job."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from xapictl.sim.control import Control
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer

RECIPE = "version: 1\nnetworks:\n  - name: VLAN 105\n    vlan: 105\n    device: eth1\n"
# The real root app, running `xapictl rollout ...` (the root parses -o wherever it is).
PROGRAM = "import sys; from xapictl.cli import app; app(['rollout', *sys.argv[1:]])"


@pytest.fixture
def slow_fleet(tmp_path: Path) -> Iterator[tuple[dict[str, Simulator], Path]]:
    sims = {f"p{i}": Simulator(scenario="seed") for i in range(3)}
    servers = {}
    for name, sim in sims.items():
        control = Control(sim)
        control.set_latency(150)  # slow enough to interrupt mid-step
        servers[name] = SimServer(sim, control=control).start()
    try:
        (tmp_path / "fleet.yaml").write_text(
            "version: 1\ndefaults:\n  credentials: env:FLEET_PW\npools:\n" + "".join(
                f"  - {{name: {n}, url: '{s.url}'}}\n" for n, s in servers.items()))
        (tmp_path / "vlan.yaml").write_text(RECIPE)
        yield sims, tmp_path
    finally:
        for s in servers.values():
            s.stop()


def _rollout(d: Path, *args: str) -> subprocess.Popen[str]:
    env = {"FLEET_PW": "xapictl", "XAPICTL_JOURNAL": str(d / "journal.sqlite"),
           "PATH": "/usr/bin:/bin"}
    return subprocess.Popen([sys.executable, "-c", PROGRAM, *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _query(d: Path, sql: str) -> dict[str, str]:
    path = d / "journal.sqlite"
    if not path.exists():
        return {}
    db = sqlite3.connect(path)
    try:
        return dict(db.execute(sql).fetchall())
    except sqlite3.OperationalError:  # the tables are being created
        return {}
    finally:
        db.close()


def _pool_states(d: Path) -> dict[str, str]:
    return _query(d, "SELECT pool, state FROM pool_runs")


def _p1_steps(d: Path) -> dict[str, str]:
    """p1's steps by index (as text) and their status."""
    return _query(d, "SELECT CAST(idx AS TEXT), status FROM steps WHERE pool = 'p1'")


def test_sigint_mid_rollout_stops_cleanly_and_resume_finishes(
        slow_fleet: tuple[dict[str, Simulator], Path]) -> None:
    sims, d = slow_fleet
    proc = _rollout(d, "run", str(d / "vlan.yaml"), "--fleet", str(d / "fleet.yaml"), "--yes",
                    "-o", "json", "--canary", "1", "--batch-size", "1", "--concurrency", "1")
    tick = threading.Event()
    # Until p1's first step of two has started: each step takes several 150 ms calls, so the
    # Ctrl-C lands before the second one starts, and p1 must stop half-way.
    for _ in range(600):
        if _p1_steps(d).get("0") == "running" or proc.poll() is not None:
            break
        tick.wait(0.02)
    assert _p1_steps(d) == {"0": "running"}, proc.communicate()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    summary = json.loads(out)
    assert summary["state"] == "stopped", err
    states = {p["pool"]: p["state"] for p in summary["pools"]}
    assert states["p0"] == "done" and states["p2"] == "skipped"
    assert states["p1"] == "stopped" and "1" not in _p1_steps(d)
    assert [p["done"] for p in summary["pools"] if p["pool"] == "p1"] == [1]
    assert proc.returncode == 5
    assert {n: s.open_session_count() for n, s in sims.items()} == dict.fromkeys(sims, 0)
    with sims["p2"].state.lock:
        assert not sims["p2"].state.find("network", name_label="VLAN 105")

    again = _rollout(d, "resume", str(summary["rollout"]), "--yes", "-o", "json")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert json.loads(out)["counts"] == {"done": 3}
    for sim in sims.values():
        with sim.state.lock:
            assert len(sim.state.find("network", name_label="VLAN 105")) == 1
        assert sim.open_session_count() == 0
