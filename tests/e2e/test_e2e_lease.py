"""One writer per pool through the real CLI: concurrent applies, a locked pool, a dead holder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from test_e2e_cli import CREATE_105
from test_e2e_exit_codes_docs import plant_lease

from xapictl.cli.exit_codes import ExitCode

ROOT = Path(__file__).resolve().parents[2]
TRUNK = str(ROOT / "recipes" / "trunk-vlans.yaml")


def _networks(jsonrpc: Any) -> Counter[str]:
    session = jsonrpc("session.login_with_password", "root", "xapictl", "2.21", "t")
    return Counter(n["name_label"] for n in jsonrpc("network.get_all_records", session).values())


def _lease_keys(jsonrpc: Any) -> list[str]:
    session = jsonrpc("session.login_with_password", "root", "xapictl", "2.21", "t")
    pool = next(iter(jsonrpc("pool.get_all", session)))
    return [k for k in jsonrpc("pool.get_other_config", session, pool)
            if k.startswith("xapictl.lease.")]


def test_four_cli_applies_started_together_make_each_network_once(
        sim_server: Any, jsonrpc: Any, tmp_path: Path) -> None:
    """Four `xapictl apply trunk-vlans.yaml --yes` processes on one pool with 100 ms per call:
    all exit 0, each network exists once, and a plan afterwards is clean."""
    sim_server.control.set_latency(100)
    exe = Path(sys.executable).with_name("xapictl")
    env = {**os.environ, "XAPICTL_URL": sim_server.url, "XAPICTL_PASSWORD": "xapictl",
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    procs = [subprocess.Popen([str(exe), "--lock-timeout", "600", "apply", TRUNK, "--yes"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outs = [p.communicate(timeout=900) for p in procs]
    sim_server.control.set_latency(0)
    assert [p.returncode for p in procs] == [0] * 4, outs
    said = [out for out, _ in outs]
    assert sum("Verified: the pool matches" in s for s in said) >= 1
    assert all("Verified: the pool matches" in s or "Nothing to do" in s for s in said), said
    names = _networks(jsonrpc)
    assert [names[f"VLAN {v}"] for v in range(101, 106)] == [1] * 5
    plan = subprocess.run([str(exe), "plan", TRUNK], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert plan.returncode == ExitCode.OK, plan.stdout + plan.stderr
    assert _lease_keys(jsonrpc) == []
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    # Two lines per write (its intent, then its outcome): count the outcomes.
    assert Counter(r["method"] for r in audit if r["outcome"] != "intent")["network.create"] == 5


def test_a_locked_pool_exits_4_naming_the_holder_and_sends_nothing(
        cli: Any, jsonrpc: Any, writes: Any) -> None:
    plant_lease(jsonrpc)
    ran = cli("--lock-timeout", "0", *CREATE_105)
    assert ran.code == ExitCode.FAILURE
    line = ran.stderr.splitlines()[0]
    assert line.startswith("xapictl: the pool is locked by another run: user alice on host "
                           "ci-3 (pid 4242), running `xapictl apply recipes/trunk-vlans.yaml "
                           "--yes`, since ")
    assert "nothing was sent" in ran.stderr
    assert writes() == []
    assert _lease_keys(jsonrpc) == ["xapictl.lease.1"]  # someone else's: left alone


def test_plan_and_listings_ignore_a_held_lease(cli: Any, jsonrpc: Any) -> None:
    plant_lease(jsonrpc)
    assert cli("plan", TRUNK).code == ExitCode.CHANGES_PENDING
    assert cli("network", "list").code == ExitCode.OK
    assert cli("drift").code == ExitCode.OK


def test_a_dead_runs_expired_lease_is_taken_over_and_the_apply_goes_on(
        cli: Any, jsonrpc: Any, writes: Any) -> None:
    long_ago = time.time() - 3600
    plant_lease(jsonrpc, started=long_ago, renewed=long_ago)
    ran = cli("--lock-timeout", "0", *CREATE_105)
    assert ran.code == ExitCode.OK, ran.stderr
    assert writes() == ["network.create", "pool.create_VLAN_from_PIF"]
    assert _lease_keys(jsonrpc) == []


def test_lock_timeout_must_be_a_number_of_seconds(cli: Any, writes: Any) -> None:
    for bad in ("inf", "nan", "-1", "soon"):
        ran = cli("--lock-timeout", bad, *CREATE_105)
        assert ran.code == ExitCode.BAD_INPUT, (bad, ran.stderr)
        assert "--lock-timeout" in ran.stderr
    assert writes() == []


def test_pool_unlock_names_the_holder_and_needs_yes_off_a_terminal(cli: Any,
                                                                   jsonrpc: Any) -> None:
    assert cli("pool", "unlock").stdout == "The pool's write lease is free: nothing to remove.\n"
    plant_lease(jsonrpc)
    refused = cli("pool", "unlock")
    assert refused.code == ExitCode.BAD_INPUT
    assert "held by user alice on host ci-3 (pid 4242)" in refused.stderr
    assert "pass --yes" in refused.stderr
    assert _lease_keys(jsonrpc) == ["xapictl.lease.1"]
    done = cli("pool", "unlock", "--yes")
    assert done.code == ExitCode.OK, done.stderr
    assert done.stdout.startswith("Removed the write lease of user alice on host ci-3")
    assert _lease_keys(jsonrpc) == []


def test_pool_unlock_asks_at_a_terminal_and_no_keeps_it(cli: Any, jsonrpc: Any,
                                                        monkeypatch: Any) -> None:
    import xapictl.cli.run as run

    monkeypatch.setattr(run, "interactive", lambda: True)
    plant_lease(jsonrpc)
    kept = cli("pool", "unlock", input="n\n")
    assert kept.code == ExitCode.CHANGES_PENDING and "not removed" in kept.stderr
    assert _lease_keys(jsonrpc) == ["xapictl.lease.1"]
    assert cli("pool", "unlock", input="y\n").code == ExitCode.OK
    assert _lease_keys(jsonrpc) == []
