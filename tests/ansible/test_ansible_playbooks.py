"""The collection with real ansible-playbook against simulated pools on loopback: the docs'
example playbooks (docs/examples/ansible/) create the seed's VLAN 101-105 trunk, again
(nothing changed, nothing written), in check mode (changed reported, nothing written: read back
with the official XenAPI client), in diff mode, remove a VLAN, fail with the XAPI code, and
roll a recipe over three pools with Ansible's serial batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ansible_harness import PASSWORD, serve_seed_pools, vlans_on_eth1, writes

pytestmark = pytest.mark.slow  # each ansible run starts Ansible: seconds apiece

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "ansible"
TRUNK = {f"VLAN {tag}": [tag] * 3 for tag in range(101, 106)}  # 3 hosts each


def test_the_trunk_example_creates_vlans_101_to_105_on_every_host(playbook, pool, pool_env):
    ran = playbook(EXAMPLES / "vlan-trunk.yml", env=pool_env)
    assert ran.code == 0, ran.stdout + ran.stderr
    task = ran.task("VLAN networks 101-105 on eth1")
    assert task["changed"] is True
    assert [r["changed"] for r in task["results"]] == [True] * 5
    assert all(r["verified"] is True for r in task["results"])
    assert [w["method"] for w in task["results"][0]["writes"]] == [
        "network.create", "pool.create_VLAN_from_PIF"]
    assert vlans_on_eth1(pool) == TRUNK
    assert writes(pool) == ["network.create", "pool.create_VLAN_from_PIF"] * 5


def test_a_second_run_changes_nothing_and_writes_nothing(playbook, pool, pool_env):
    assert playbook(EXAMPLES / "vlan-trunk.yml", env=pool_env).code == 0
    pool.control.clear_log()
    again = playbook(EXAMPLES / "vlan-trunk.yml", env=pool_env)
    assert again.code == 0, again.stdout + again.stderr
    task = again.task("VLAN networks 101-105 on eth1")
    assert task["changed"] is False
    for result in task["results"]:
        assert result["changed"] is False and result["writes"] == []
        assert result["plan"]["summary"]["steps"] == 0 and result["plan"]["noops"]
    assert writes(pool) == []
    assert again.json()["stats"]["localhost"]["changed"] == 0


def test_check_mode_reports_the_changes_and_writes_nothing(playbook, pool, pool_env):
    ran = playbook(EXAMPLES / "vlan-trunk.yml", "--check", env=pool_env)
    assert ran.code == 0, ran.stdout + ran.stderr
    results = ran.task("VLAN networks 101-105 on eth1")["results"]
    assert [r["changed"] for r in results] == [True] * 5
    first = results[0]
    assert first["writes"] == [] and first["verified"] is None
    assert [c["calls"][0]["method"] for c in first["plan"]["changes"]] == [
        "network.create", "pool.create_VLAN_from_PIF"]
    assert vlans_on_eth1(pool) == {}  # the official client sees no VLAN
    assert writes(pool) == []


def test_diff_mode_shows_each_change_before_and_after(playbook, pool, pool_env):
    ran = playbook(EXAMPLES / "vlan-trunk.yml", "--check", "--diff", callback="default",
                   env=pool_env)
    assert ran.code == 0, ran.stdout + ran.stderr
    out = ran.stdout
    assert "--- before: network 'VLAN 101'" in out
    assert "+++ after: network 'VLAN 101' (create)" in out
    assert "+name_label: VLAN 101" in out and "+name_description: 172.21.0.0/24 - web front" in out
    assert "+++ after: network 'VLAN 105' (create VLAN pool-wide)" in out and "+tag: 105" in out
    shown = (EXAMPLES.parents[1] / "ansible.md").read_text().split("```text\n", 1)[1]
    shown = shown.split("```", 1)[0].split("\n", 1)[1]  # the docs' diff, after the task line
    assert shown in out
    assert writes(pool) == []
    # applied: a re-run in diff mode has nothing to show
    assert playbook(EXAMPLES / "vlan-trunk.yml", env=pool_env).code == 0
    again = playbook(EXAMPLES / "vlan-trunk.yml", "--diff", callback="default", env=pool_env)
    assert "--- before" not in again.stdout and "changed=0" in again.stdout


def _jumbo_trunk(server: Any) -> None:
    """eth1's network at MTU 9000, its PIFs re-plugged (so VLAN 101 on it may go to 9000)."""
    import xapictl
    from xapictl.plan.apply import converge
    from xapictl.plan.backend import XapiBackend
    from xapictl.recipes import ensure_mtu

    with xapictl.connect(server.url, username="root", password=PASSWORD) as conn:
        converge(ensure_mtu("Pool-wide network 1", 9000, device="eth1", replug=True),
                 XapiBackend(conn))


def test_diff_of_an_mtu_change_has_the_old_and_the_new_value(playbook, pool, pool_env):
    book = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: VLAN 101
      xapictl.xen.network: {name: VLAN 101, vlan: 101, device: eth1, mtu: MTU}
"""
    assert playbook(book.replace("MTU", "1500"), env=pool_env).code == 0
    _jumbo_trunk(pool)  # a VLAN's MTU is never above its trunk's
    ran = playbook(book.replace("MTU", "9000"), "--diff", callback="default", env=pool_env)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert "-MTU: 1500" in ran.stdout and "+MTU: 9000" in ran.stdout


def test_absent_removes_the_vlan_from_every_host_then_nothing_to_do(playbook, pool, pool_env):
    assert playbook(EXAMPLES / "vlan-trunk.yml", env=pool_env).code == 0
    ran = playbook(EXAMPLES / "remove-vlan.yml", env=pool_env)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert ran.task("VLAN 105 absent")["changed"] is True
    assert "VLAN 105" not in vlans_on_eth1(pool) and "VLAN 104" in vlans_on_eth1(pool)
    again = playbook(EXAMPLES / "remove-vlan.yml", env=pool_env)
    assert again.task("VLAN 105 absent")["changed"] is False


FAILING = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: VLAN
      xapictl.xen.network: {name: VLAN 105, vlan: TAG, device: eth1}
"""


def test_a_refused_login_fails_with_its_xapi_code_and_exit_class(playbook, pool, pool_env):
    wrong = {**pool_env, "XAPICTL_PASSWORD": "not-the-password"}
    ran = playbook(FAILING.replace("TAG", "105"), env=wrong)
    assert ran.code == 2  # a host failed
    task = ran.task("VLAN")
    assert task["failed"] is True
    assert task["xapi_code"] == "SESSION_AUTHENTICATION_FAILED"
    assert task["xapi_params"] == ["root", "Authentication failure"]
    assert task["msg"].endswith("check username (or XAPICTL_USER; default root) and password "
                                "(or XAPICTL_PASSWORD). Nothing was sent.")
    assert (task["exit_code"], task["exit_class"]) == (4, "failure")
    assert task["changed"] is False and task["writes"] == []
    assert "not-the-password" not in ran.stdout + ran.stderr
    assert writes(pool) == []


def test_a_refused_write_fails_with_the_code_and_params_xapi_sent(playbook, pool, pool_env):
    pool.control.inject_fault("pool.create_VLAN_from_PIF",
                              error=("PIF_IS_VLAN", "OpaqueRef:injected"), times=1)
    ran = playbook(FAILING.replace("TAG", "105"), env=pool_env)
    task = ran.task("VLAN")
    assert task["failed"] is True, task
    assert (task["xapi_code"], task["xapi_params"]) == ("PIF_IS_VLAN", ["OpaqueRef:injected"])
    assert (task["exit_code"], task["exit_class"]) == (5, "partial")  # network.create was done
    assert task["changed"] is True
    assert [(w["method"], w["outcome"]) for w in task["writes"]] == [
        ("network.create", "ok"), ("pool.create_VLAN_from_PIF", "failed")]
    # the re-run finishes the job
    assert playbook(FAILING.replace("TAG", "105"), env=pool_env).code == 0
    assert vlans_on_eth1(pool) == {"VLAN 105": [105] * 3}


def test_bad_input_fails_before_anything_is_sent(playbook, pool, pool_env):
    pool.control.clear_log()
    ran = playbook(FAILING.replace("TAG", "5000"), env=pool_env)
    task = ran.task("VLAN")
    assert (task["exit_code"], task["exit_class"]) == (2, "bad_input")
    assert "vlan" in task["msg"] and "4094" in task["msg"]
    assert pool.control.request_log() == []  # not even a login


def test_the_facts_example_reads_the_pool_and_attaches_a_vif(playbook, pool, pool_env):
    assert playbook(EXAMPLES / "vlan-trunk.yml", env=pool_env).code == 0
    ran = playbook(EXAMPLES / "facts.yml", env=pool_env)
    assert ran.code == 0, ran.stdout + ran.stderr
    facts = ran.task("The pool")["pool"]
    assert (facts["name"], facts["host_count"], facts["live_host_count"]) == ("seed-pool", 3, 3)
    found = ran.task("The networks carrying VLAN 101")["networks"]
    assert [(n["name"], n["vlans"], n["host_count"], n["owner"]) for n in found] == [
        ("VLAN 101", [101], 3, "xapictl")]
    assert {p["host"] for p in found[0]["pifs"]} == {"xcp-host-01", "xcp-host-02",
                                                     "xcp-host-03"}
    assert "seed-pool: 3 hosts; VLAN 101 on 3 hosts" in str(ran.task("Say what we found"))
    vif = ran.task("web-01 on VLAN 101, locked to its address")
    assert vif["changed"] is True and "VIF.create" in [w["method"] for w in vif["writes"]]


def test_pool_facts_are_the_document_of_pool_show(playbook, pool, pool_env):
    from typer.testing import CliRunner

    from xapictl.cli import app

    book = "- hosts: localhost\n  gather_facts: false\n  tasks:\n" \
           "    - name: The pool\n      xapictl.xen.pool_info:\n"
    facts = playbook(book, env=pool_env).task("The pool")["pool"]
    shown = CliRunner().invoke(app, ["pool", "show", "-o", "json"],
                               env={"XAPICTL_URL": pool.url, "XAPICTL_PASSWORD": PASSWORD})
    document = json.loads(shown.stdout)
    assert {k: v for k, v in document.items() if k not in ("kind", "schema_version")} == {
        **facts, "pool": pool.url}


def test_the_rollout_example_stops_after_a_failing_pool(playbook, three_pools, tmp_path):
    a, b, c = three_pools
    b.control.inject_fault("network.create", error=("OPERATION_NOT_ALLOWED",
                                                    "maintenance window closed"))
    inventory = (EXAMPLES / "pools.yml").read_text()
    for name, server in zip("abc", three_pools, strict=True):
        inventory = inventory.replace(f"https://pool-{name}.example.com", server.url)
    (tmp_path / "pools.yml").write_text(inventory)
    ran = playbook(EXAMPLES / "rollout.yml", "-i", str(tmp_path / "pools.yml"),
                   env={"XAPICTL_PASSWORD": PASSWORD})
    assert ran.code == 2, ran.stdout + ran.stderr  # a host failed
    stats = ran.json()["stats"]
    assert stats["pool-a"]["changed"] == 1 and stats["pool-a"]["failures"] == 0
    assert stats["pool-b"]["failures"] == 1
    assert "pool-c" not in stats  # max_fail_percentage 0: the third batch never ran
    failed = ran.task("Converge the pool to the recipe", host="pool-b")
    assert (failed["xapi_code"], failed["xapi_params"]) == (
        "OPERATION_NOT_ALLOWED", ["maintenance window closed"])
    assert failed["exit_class"] == "failure" and failed["changed"] is False
    assert vlans_on_eth1(a) == {"VLAN 101": [101] * 3, "VLAN 102": [102] * 3}
    assert vlans_on_eth1(b) == {} and vlans_on_eth1(c) == {}
    assert writes(c) == []


def test_the_rollout_runs_in_batches_of_one_then_a_quarter_then_the_rest(playbook,
                                                                          three_pools,
                                                                          tmp_path):
    inventory = (EXAMPLES / "pools.yml").read_text()
    for name, server in zip("abc", three_pools, strict=True):
        inventory = inventory.replace(f"https://pool-{name}.example.com", server.url)
    (tmp_path / "pools.yml").write_text(inventory)
    ran = playbook(EXAMPLES / "rollout.yml", "-i", str(tmp_path / "pools.yml"),
                   env={"XAPICTL_PASSWORD": PASSWORD})
    assert ran.code == 0, ran.stdout + ran.stderr
    plays = ran.json()["plays"]
    assert [sorted(p["tasks"][0]["hosts"]) for p in plays] == [["pool-a"], ["pool-b"],
                                                               ["pool-c"]]
    for server in three_pools:
        assert vlans_on_eth1(server) == {"VLAN 101": [101] * 3, "VLAN 102": [102] * 3}


def test_tls_is_verified_and_a_pinned_fingerprint_or_validate_certs_false_trusts_it(playbook):
    book = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Read
      xapictl.xen.pool_info: OPTIONS
"""
    for servers in serve_seed_pools(1, tls=True):
        server = servers[0]
        env = {"XAPICTL_URL": server.url, "XAPICTL_PASSWORD": PASSWORD}
        refused = playbook(book.replace("OPTIONS", "{}"), env=env).task("Read")
        assert refused["failed"] is True and refused["error_type"] == "TLSError", refused
        assert (refused["exit_code"], refused["exit_class"]) == (4, "failure")
        pin = server.fingerprint
        pinned = playbook(book.replace("OPTIONS", f"{{fingerprint: '{pin}'}}"), env=env)
        assert pinned.task("Read")["pool"]["name"] == "seed-pool", pinned.stdout
        loose = playbook(book.replace("OPTIONS", "{validate_certs: false}"), env=env)
        assert loose.task("Read")["pool"]["name"] == "seed-pool", loose.stdout
