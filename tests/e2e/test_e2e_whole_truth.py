"""Issue 10, clause 6 — plan and apply see the whole truth, through the real CLI against a
simulator: work deferred for an offline host keeps `plan` (and `apply`) at exit 3 with the
reason; an unplugged VLAN PIF, trunk PIF or NIC PIF the recipe needs is plugged again (a step
with its reason) and verify checks it; `drift` and `plan` name the same objects."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_e2e_cli import CREATE_105, JUMBO_TRUNK

import xapictl
from xapictl.cli.exit_codes import ExitCode

TWO_VLANS = ("version: 1\nnetworks:\n"
             "  - name: VLAN 105\n    vlan: 105\n    device: eth1\n"
             "  - name: VLAN 106\n    vlan: 106\n    device: eth2\n")


@pytest.fixture
def pool(sim_server: Any) -> Callable[..., Any]:
    """``pool("PIF.unplug", ref)``: a write as root; ``pool()``: the snapshot."""
    def call(method: str | None = None, *args: Any) -> Any:
        with xapictl.connect(sim_server.url, username="root", password="xapictl") as conn:
            return conn.snapshot() if method is None else conn.call(method, *args)
    return call


def _pif(snap: Any, host: str, device: str, vlan: int = -1) -> str:
    return next(r for r, p in snap.pifs.items() if p.device == device and p.vlan == vlan
                and snap.hosts[p.host].name_label == host)


def test_plan_with_a_host_offline_exits_3_and_apply_says_the_work_was_deferred(
        cli, writes, sim_server) -> None:
    sim_server.control.set_host_live("xcp-host-03", False)
    applied = cli(*CREATE_105)
    assert applied.code == ExitCode.CHANGES_PENDING, applied.stderr
    assert writes() == ["network.create", "pool.create_VLAN_from_PIF"]
    assert "Verified on the live hosts" in applied.stdout
    assert ("xapictl: the pool does not match yet: 1 item(s) deferred until their host is "
            "back (exit 3); re-run then:\n  network 'VLAN 105' on xcp-host-03: xcp-host-03 is "
            "offline: VLAN 105 on eth1 is made there when it is back (re-run then)"
            ) in applied.stderr
    again = cli(*CREATE_105)
    assert again.code == ExitCode.CHANGES_PENDING, "still not converged: still exit 3"
    assert "~ deferred network 'VLAN 105' on xcp-host-03" in again.stdout
    assert writes() == ["network.create", "pool.create_VLAN_from_PIF"], "nothing more sent"
    sim_server.control.set_host_live("xcp-host-03", True)
    back = cli(*CREATE_105)
    assert back.code == ExitCode.OK, back.stderr
    assert writes()[-1] == "VLAN.create"
    assert "Verified: the pool matches" in back.stdout


def test_plan_command_exits_3_for_deferred_work_alone(cli, sim_server, tmp_path) -> None:
    recipe = tmp_path / "v.yaml"
    recipe.write_text(TWO_VLANS)
    sim_server.control.set_host_live("xcp-host-02", False)
    assert cli("apply", str(recipe), "--yes").code == ExitCode.CHANGES_PENDING
    ran = cli("plan", str(recipe))
    assert ran.code == ExitCode.CHANGES_PENDING
    assert "Nothing to do now, but the pool does not match: 2 deferred." in ran.stdout
    data = json.loads(cli("-o", "json", "plan", str(recipe)).stdout)
    assert data["changes_pending"] is True and data["changes"] == []
    assert [d["subject"] for d in data["deferred"]] == [
        "network 'VLAN 105' on xcp-host-02", "network 'VLAN 106' on xcp-host-02"]


@pytest.mark.parametrize("which", ["VLAN PIF", "trunk PIF"])
def test_an_unplugged_pif_the_recipe_needs_is_plugged_again(which: str, cli, writes, pool,
                                                             tmp_path) -> None:
    assert cli(*CREATE_105).code == ExitCode.OK
    snap = pool()
    pif = _pif(snap, "xcp-host-02", "eth1", 105 if which == "VLAN PIF" else -1)
    pool("PIF.unplug", pif)
    words = "PIF eth1 VLAN 105 on xcp-host-02" if which == "VLAN PIF" else (
        "PIF eth1 on xcp-host-02")
    planned = cli("plan", str(_recipe(tmp_path)))
    assert planned.code == ExitCode.CHANGES_PENDING, "an unplugged PIF is not 'in place'"
    assert f"+ plug {words}: unplugged, and " in planned.stdout
    assert "disruptive" not in planned.stdout, "plugging is additive"
    before = writes()
    applied = cli(*CREATE_105)  # additive: no question, no --yes needed
    assert applied.code == ExitCode.OK, applied.stderr
    assert writes()[len(before):] == ["PIF.plug"]
    assert pool().pifs[pif].currently_attached
    assert cli("plan", str(_recipe(tmp_path))).code == ExitCode.OK


def test_verify_checks_that_the_vlan_pif_is_plugged(cli, sim_server, pool) -> None:
    """Someone unplugs the VLAN PIF again right after the plug: verify says so (exit 5)."""
    assert cli(*CREATE_105).code == ExitCode.OK
    pif = _pif(pool(), "xcp-host-01", "eth1", 105)
    pool("PIF.unplug", pif)
    control = sim_server.control
    record = control.record

    def record_then_unplug(**entry: Any) -> None:
        record(**entry)
        if entry["method"] == "PIF.plug" and entry["outcome"] == "success":
            control.record = record
            sim_server.sim.state.set_field("PIF", pif, "currently_attached", False)

    control.record = record_then_unplug
    try:
        ran = cli(*CREATE_105)
    finally:
        control.record = record
    assert ran.code == ExitCode.PARTIAL
    assert ("applied, but the pool does not match the recipe: networks[0] (VLAN 105) "
            "PIF eth1 VLAN 105 on xcp-host-01.currently_attached: wanted True, found False"
            ) in ran.stderr


def _recipe(tmp_path: Path, text: str = "version: 1\nnetworks:\n  - name: VLAN 105\n"
            "    vlan: 105\n    device: eth1\n") -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    return path


def test_drift_and_plan_name_the_same_objects(cli, pool, sim_server, tmp_path) -> None:
    """An offline host lacking a VLAN, an unplugged VLAN PIF, an unplugged physical trunk:
    `drift` finds each, and `plan` has a step (or deferred work) for each, no more."""
    recipe = _recipe(tmp_path, TWO_VLANS)
    assert cli("apply", str(recipe), "--yes").code == ExitCode.OK
    snap = pool()
    vlan_105_h3 = next(v for v, r in snap.vlans.items() if r.tag == 105
                       and snap.hosts[snap.pifs[r.tagged_pif].host].name_label == "xcp-host-03")
    pool("VLAN.destroy", vlan_105_h3)
    sim_server.control.set_host_live("xcp-host-03", False)
    pool("PIF.unplug", _pif(snap, "xcp-host-02", "eth1", 105))
    pool("PIF.unplug", _pif(snap, "xcp-host-01", "eth2"))

    drift = cli("drift", "-o", "json")
    assert drift.code == ExitCode.DRIFT_FOUND
    hosts = {h.uuid: h.name_label for h in pool().hosts.values()}
    found = {(re.match(r"network '(.+)' \(", f["subject"]).group(1), hosts[h])  # type: ignore[union-attr]
             for f in json.loads(drift.stdout)["findings"] for h in f["hosts"]}

    planned = cli("-o", "json", "plan", str(recipe))
    assert planned.code == ExitCode.CHANGES_PENDING
    data = json.loads(planned.stdout)
    named = {(c["identity"]["network"], c["identity"]["host"]) for c in data["changes"]}
    named |= {re.match(r"network '(.+)' on (.+)$", d["subject"]).groups()  # type: ignore[union-attr]
              for d in data["deferred"]}
    assert found == named == {("VLAN 105", "xcp-host-03"), ("VLAN 105", "xcp-host-02"),
                              ("Pool-wide network 2", "xcp-host-01")}
    assert [c["action"] for c in data["changes"]] == ["plug", "plug"]
    assert {c["class"] for c in data["changes"]} == {"PIF"}


def test_an_unplugged_vlan_pif_and_an_mtu_change_converge_in_one_run(cli, writes, pool) -> None:
    """The plug comes after set_MTU, so it brings the PIF up with the new MTU: the re-plan
    after the apply is empty (no second re-plug left over)."""
    assert cli(*JUMBO_TRUNK, "--yes").code == ExitCode.OK
    assert cli(*CREATE_105).code == ExitCode.OK
    pif = _pif(pool(), "xcp-host-02", "eth1", 105)
    pool("PIF.unplug", pif)
    before = writes()
    ran = cli("network", "set-mtu", "VLAN 105", "9000", "--replug", "--yes")
    assert ran.code == ExitCode.OK, ran.stderr
    assert sorted(writes()[len(before):]) == ["PIF.plug"] * 3 + ["network.set_MTU"]
    snap = pool()
    vlan_pifs = [p for p in snap.pifs.values() if p.vlan == 105]
    assert [(p.currently_attached, p.mtu) for p in vlan_pifs] == [(True, 9000)] * 3
