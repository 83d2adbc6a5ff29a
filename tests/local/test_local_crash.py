"""Issue 16 item 2: the rollback guard is armed before the first step, so an apply killed at
any step (SIGKILL, SIGTERM) is rolled back by the dead-man timer alone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from local_netns_helpers import build_xen_host, snapshot_of

from xapictl.local import probe
from xapictl.local.apply import undo_path
from xapictl.local.desired import load_recipe
from xapictl.local.planner import plan

pytestmark = pytest.mark.requires_root

REPO = Path(__file__).resolve().parents[2]
XENBR0 = REPO / "recipes" / "local-xenbr0.yaml"
XENBR0_STEPS = 13

_DIE_AT = """
import os, signal, sys
from pathlib import Path
from xapictl.local import apply as apply_module
from xapictl.local.apply import apply
from xapictl.local.desired import load_recipe

step, sig, netns, recipe, confirm = sys.argv[1:6]

def die(i, op):
    if i == int(step):
        os.kill(os.getpid(), getattr(signal, sig))

verify = apply_module._verify

def die_after_the_last(ipr, desired):  # step == the number of steps: all done, then die
    verify(ipr, desired)
    os.kill(os.getpid(), getattr(signal, sig))

apply_module._verify = die_after_the_last
apply(load_recipe(Path(recipe)), netns=netns, run_probe=False, on_step=die,
      confirm_within=float(confirm) or None, crash_window=0.5)
sys.exit(3)  # never reached: the process dies at the step
"""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _kill_apply_at(step: int, sig: str, netns: str, confirm: float,
                   recipe: Path = XENBR0) -> int:
    """Run the apply in its own process, have it die at ``step`` (before it runs; the number
    of steps: after the last, once verified); returns the timer's pid."""
    died = subprocess.run([sys.executable, "-c", _DIE_AT, str(step), sig, netns, str(recipe),
                           str(confirm)], timeout=120)
    assert died.returncode == -getattr(signal, sig), died
    raw = json.loads(undo_path(netns).read_text())
    assert raw["done"] == min(step + 1, len(raw["steps"])) and not raw["pending"]
    assert _alive(raw["deadman_pid"]), "no dead-man timer guards the half-done apply"
    return int(raw["deadman_pid"])


def _await_timer(pid: int) -> None:
    """Poll (a bounded count, never a duration assertion) until the timer process is gone."""
    for _ in range(1200):  # 60 s as a safety net on a loaded machine
        if not _alive(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGTERM)
    pytest.fail("the dead-man timer did not finish")


@pytest.mark.parametrize("step", range(XENBR0_STEPS + 1))  # the last: after every step
def test_apply_killed_at_any_step_is_rolled_back_by_the_timer(namespaces, step):
    host = build_xen_host(namespaces)
    before = snapshot_of(host.dom0)
    assert len(plan(load_recipe(XENBR0), before).steps) == XENBR0_STEPS
    pid = _kill_apply_at(step, "SIGKILL", host.dom0, confirm=0.5)
    _await_timer(pid)
    assert snapshot_of(host.dom0).fingerprint() == before.fingerprint()
    assert not undo_path(host.dom0).exists()
    assert probe.reachable("192.0.2.1", netns=host.dom0)


@pytest.mark.parametrize("step", [0, 8, XENBR0_STEPS - 1])
def test_sigterm_without_confirm_within_is_rolled_back_too(namespaces, step):
    """No --confirm-within: the crash window still guards the apply while it runs."""
    host = build_xen_host(namespaces)
    before = snapshot_of(host.dom0)
    pid = _kill_apply_at(step, "SIGTERM", host.dom0, confirm=0)
    _await_timer(pid)
    assert snapshot_of(host.dom0).fingerprint() == before.fingerprint()
    assert not undo_path(host.dom0).exists()


def test_a_finished_apply_disarms_its_guard_and_leaves_no_undo_file(xen_host):
    from xapictl.local import deadman
    from xapictl.local.apply import apply

    pids: list[int] = []
    real_arm = deadman.arm

    def arm(*args: object, **kwargs: object) -> int:
        pids.append(real_arm(*args, **kwargs))  # type: ignore[arg-type]
        return pids[-1]

    deadman.arm = arm  # type: ignore[assignment]
    try:
        assert apply(load_recipe(XENBR0), netns=xen_host.dom0, run_probe=False).report.ok
    finally:
        deadman.arm = real_arm  # type: ignore[assignment]
    assert len(pids) == 1
    _await_timer(pids[0])
    assert not undo_path(xen_host.dom0).exists()
    assert "xenbr0" in snapshot_of(xen_host.dom0).links


def test_the_guard_waits_for_a_live_apply_and_then_for_confirmation(xen_host):
    """A deadline that passes while the apply still runs rolls nothing back under it: the
    timer waits for the lock, then finds the deadline moved to the confirm window."""
    from xapictl.local.apply import apply

    seen: list[int] = []

    def slow(i: int, op: object) -> None:
        if i == 0:  # hold the apply past the crash deadline, then check the timer waited
            raw = json.loads(undo_path(xen_host.dom0).read_text())
            seen.append(raw["deadman_pid"])
            for _ in range(100):
                if time.monotonic() > raw["deadline"] + 0.3:
                    break
                time.sleep(0.05)

    out = apply(load_recipe(XENBR0), netns=xen_host.dom0, run_probe=False, on_step=slow,
                confirm_within=600, crash_window=0.1)
    assert out.pending_confirmation and _alive(seen[0])
    assert "xenbr0" in snapshot_of(xen_host.dom0).links
    from xapictl.local.apply import confirm

    assert confirm(xen_host.dom0)
    _await_timer(seen[0])
    assert "xenbr0" in snapshot_of(xen_host.dom0).links


TEARDOWN_STEPS = 12


@pytest.mark.parametrize("step", range(TEARDOWN_STEPS))
def test_teardown_killed_at_any_step_is_rolled_back_by_the_timer(namespaces, tmp_path, step):
    """The teardown's guard too: the bridge comes back with its port, addresses (nodad
    flags compared) and routes, from the undo record alone."""
    from xapictl.local.apply import apply

    host = build_xen_host(namespaces)
    apply(load_recipe(XENBR0), netns=host.dom0, run_probe=False)
    before = snapshot_of(host.dom0)
    down = tmp_path / "teardown.yaml"
    down.write_text("local:\n  bridges:\n    xenbr0: {uplink: eth0, state: absent}\n")
    assert len(plan(load_recipe(down), before).steps) == TEARDOWN_STEPS
    pid = _kill_apply_at(step, "SIGKILL", host.dom0, confirm=0.5, recipe=down)
    _await_timer(pid)
    assert snapshot_of(host.dom0).fingerprint() == before.fingerprint()
    assert not undo_path(host.dom0).exists()
    assert probe.reachable("192.0.2.1", netns=host.dom0)
