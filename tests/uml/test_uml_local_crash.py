"""Issue 16 item 2 on a real 802.1Q kernel: the trunk recipe's apply killed at every step is
rolled back by the dead-man timer armed before its first step."""

from __future__ import annotations

from pathlib import Path

import pytest
from local_netns_helpers import snapshot_of, veth
from test_local_crash import _await_timer, _kill_apply_at

from xapictl.local.apply import undo_path
from xapictl.local.desired import load_recipe
from xapictl.local.planner import plan

pytestmark = [pytest.mark.uml, pytest.mark.requires_root]

TRUNK = Path(__file__).resolve().parents[2] / "recipes" / "local-trunk-vlans.yaml"


def test_trunk_apply_killed_at_every_step_is_rolled_back_by_the_timer(namespaces):
    switch, dom0 = namespaces("sw"), namespaces("dom0")
    veth(dom0, "eth1", switch, "lan1", mac="00:16:3e:00:00:11")
    before = snapshot_of(dom0)
    steps = len(plan(load_recipe(TRUNK), before).steps)
    assert steps >= 20  # five VLAN devices and five bridges
    for step in range(steps):
        pid = _kill_apply_at(step, "SIGKILL", dom0, confirm=0.5, recipe=TRUNK)
        _await_timer(pid)
        assert snapshot_of(dom0).fingerprint() == before.fingerprint(), f"killed at {step}"
        assert not undo_path(dom0).exists(), f"killed at {step}"
