"""docs/examples/ci-saved-plan.sh, run as a CI job runs it: bash, the real ``jq`` and the
``xapictl`` executable, against a simulator on loopback. It applies exactly the plan it
checked, and a plan that breaks the policy (a VLAN above 4000, an MTU change on the storage
network) stops the job with nothing sent."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from xapictl.plan.audit import is_write

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "examples" / "ci-saved-plan.sh"

pytestmark = pytest.mark.skipif(
    shutil.which("jq") is None or shutil.which("bash") is None,
    reason="the example needs bash and the jq command (.ci/run installs jq)")


def _writes(sim_server: Any) -> list[str]:
    return [e["method"] for e in sim_server.control.request_log()
            if is_write(e["method"]) and e["outcome"] == "success"]


def _job(sim_server: Any, tmp_path: Path, recipe: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XAPICTL_URL": sim_server.url, "XAPICTL_PASSWORD": "xapictl",
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "TMPDIR": str(tmp_path),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(["bash", str(SCRIPT), str(recipe)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_the_job_applies_the_plan_it_checked_and_then_has_nothing_to_do(
        sim_server: Any, tmp_path: Path) -> None:
    recipe = ROOT / "recipes" / "trunk-vlans.yaml"
    ran = _job(sim_server, tmp_path, recipe)
    assert ran.returncode == 0, ran.stderr
    assert "Verified: the pool matches, and a new plan is empty." in ran.stdout
    writes = _writes(sim_server)
    assert writes.count("pool.create_VLAN_from_PIF") == 5 and writes.count("VIF.create") == 4
    again = _job(sim_server, tmp_path, recipe)
    assert again.returncode == 0 and "ci: the pool already matches" in again.stdout
    assert _writes(sim_server) == writes
    assert list(tmp_path.glob("tmp*")) == [], "the job removes its plan file"


def test_a_vlan_above_4000_stops_the_job_with_nothing_sent(sim_server: Any,
                                                           tmp_path: Path) -> None:
    recipe = tmp_path / "high.yaml"
    recipe.write_text("networks:\n  - name: VLAN 4001\n    vlan: 4001\n    device: eth1\n")
    ran = _job(sim_server, tmp_path, recipe)
    assert ran.returncode == 1
    assert "ci: policy refuses: create VLAN pool-wide network 'VLAN 4001'" in ran.stderr
    assert _writes(sim_server) == []


@pytest.mark.parametrize("case", ["renamed to Storage by the plan", "named Storage"])
def test_an_mtu_change_on_the_storage_network_stops_the_job(case: str, cli: Any,
                                                            sim_server: Any,
                                                            tmp_path: Path) -> None:
    recipe = ROOT / "recipes" / "storage-network.yaml"  # eth2's network: Storage, MTU 9000
    if case == "named Storage":
        assert cli("apply", str(recipe), "--yes").code == 0
        recipe = tmp_path / "storage-1500.yaml"
        recipe.write_text("networks:\n  - name: Storage\n    device: eth2\n    mtu: 1500\n")
    before = _writes(sim_server)
    ran = _job(sim_server, tmp_path, recipe)
    assert ran.returncode == 1
    assert "ci: policy refuses: set MTU network 'Storage'" in ran.stderr
    assert _writes(sim_server) == before
