"""``xapictl local`` commands and their exit codes (0 ok, 2 bad input, 3 pending, 4 failed
and rolled back), in namespaces."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from local_netns_helpers import snapshot_of
from typer.testing import CliRunner

from xapictl.cli import app
from xapictl.local.apply import undo_path

pytestmark = pytest.mark.requires_root
XENBR0 = str(Path(__file__).resolve().parents[2] / "recipes" / "local-xenbr0.yaml")
runner = CliRunner()


def test_plan_exits_3_with_changes_then_0_once_applied(xen_host):
    result = runner.invoke(app, ["local", "plan", XENBR0, "--netns", xen_host.dom0])
    assert result.exit_code == 3, result.output
    assert result.output.startswith("13 change(s):\n   1. create bridge xenbr0: not there yet")
    result = runner.invoke(app, ["local", "apply", XENBR0, "--yes", "--netns", xen_host.dom0])
    assert result.exit_code == 0, result.output
    assert "applied 13 change(s)" in result.output
    result = runner.invoke(app, ["local", "plan", XENBR0, "--netns", xen_host.dom0, "-o", "json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "kind": "LocalPlan", "schema_version": 1, "pool": None,
        "steps": [], "noops": [{"subject": "bridge xenbr0", "reason": "already as desired"}],
        "warnings": [], "refusals": []}


def test_apply_without_yes_asks_and_a_no_changes_nothing(xen_host):
    before = snapshot_of(xen_host.dom0).fingerprint()
    result = runner.invoke(app, ["local", "apply", XENBR0, "--netns", xen_host.dom0], input="n\n")
    assert result.exit_code == 3
    assert "Apply these changes?" in result.output
    assert snapshot_of(xen_host.dom0).fingerprint() == before


def test_bad_recipe_exits_2_naming_file_and_line(tmp_path, xen_host):
    bad = tmp_path / "bad.yaml"
    bad.write_text("local:\n  bridges:\n    xenbr0: {uplink: eth0, mtu: big}\n")
    result = runner.invoke(app, ["local", "plan", str(bad), "--netns", xen_host.dom0])
    assert result.exit_code == 2
    assert f"{bad}:3: local.bridges.xenbr0.mtu: must be an integer 68-65535" in result.output


def test_refused_plan_exits_4_with_reasons(tmp_path, xen_host):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("local:\n  bridges:\n    xenbr0: {uplink: eth7}\n")
    result = runner.invoke(app, ["local", "apply", str(recipe), "--yes", "--netns", xen_host.dom0])
    assert result.exit_code == 4
    assert "uplink eth7 does not exist" in result.output


def test_failed_probe_exits_4_and_the_host_is_as_before(tmp_path, xen_host):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(Path(XENBR0).read_text() + "  probes: [192.0.2.77]\n")
    before = snapshot_of(xen_host.dom0).fingerprint()
    result = runner.invoke(app, ["local", "apply", str(recipe), "--yes", "--netns", xen_host.dom0])
    assert result.exit_code == 4
    assert "192.0.2.77 does not answer" in result.output and "rolled back" in result.output
    assert snapshot_of(xen_host.dom0).fingerprint() == before


def test_unknown_namespace_is_bad_input():
    result = runner.invoke(app, ["local", "plan", XENBR0, "--netns", "xlt-no-such-ns"])
    assert result.exit_code == 2
    assert "network namespace 'xlt-no-such-ns' does not exist" in result.output


def test_show_json_is_the_snapshot(xen_host):
    result = runner.invoke(app, ["local", "show", "--netns", xen_host.dom0, "-o", "json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert {lk["name"] for lk in data["links"]} == {"lo", "eth0"}
    text = runner.invoke(app, ["local", "show", "--netns", xen_host.dom0]).output
    assert "eth0" in text and "192.0.2.11/24 label=eth0:1" in text


def test_check_json_lists_kernel_xen_cpu_and_netfilter_findings():
    result = runner.invoke(app, ["local", "check", "-o", "json"])
    assert result.exit_code == 0
    names = [f["name"] for f in json.loads(result.output)["findings"]]
    assert names[:5] == ["kernel: veth", "kernel: bridge", "kernel: vlan", "kernel: bond",
                         "kernel: vlan_filtering"]
    assert {"xen dom0", "xen tools", "cpu virtualisation", "bridge netfilter"} <= set(names)


def test_confirm_keeps_a_change_made_with_confirm_within(xen_host):
    result = runner.invoke(app, ["local", "apply", XENBR0, "--yes", "--confirm-within", "30",
                                 "--netns", xen_host.dom0])
    assert result.exit_code == 0, result.output
    assert "rolls back in 30 s unless you run 'xapictl local confirm" in result.output
    raw = json.loads(undo_path(xen_host.dom0).read_text())
    assert raw["pending"] and raw["deadman_pid"]
    assert runner.invoke(app, ["local", "confirm", "--netns", xen_host.dom0]).exit_code == 0
    assert not undo_path(xen_host.dom0).exists()
    assert "xenbr0" in snapshot_of(xen_host.dom0).links
    assert runner.invoke(app, ["local", "confirm", "--netns", xen_host.dom0]).exit_code == 2


def test_unconfirmed_change_is_rolled_back_by_the_dead_man(xen_host):
    before = snapshot_of(xen_host.dom0).fingerprint()
    result = runner.invoke(app, ["local", "apply", XENBR0, "--yes", "--confirm-within", "0.5",
                                 "--netns", xen_host.dom0])
    assert result.exit_code == 0, result.output
    pid = json.loads(undo_path(xen_host.dom0).read_text())["deadman_pid"]
    # wait for the timer process itself (it is our child's child: poll its /proc entry)
    subprocess.run([sys.executable, "-c", f"""
import os, time
deadline = time.monotonic() + 20
while os.path.exists('/proc/{pid}') and time.monotonic() < deadline:
    try:
        if open('/proc/{pid}/stat').read().split()[2] == 'Z':
            break
    except OSError:
        break
    time.sleep(0.05)
"""], check=True)
    assert snapshot_of(xen_host.dom0).fingerprint() == before
    assert not undo_path(xen_host.dom0).exists()


def test_rollback_command_undoes_an_unconfirmed_change(xen_host):
    before = snapshot_of(xen_host.dom0).fingerprint()
    assert runner.invoke(app, ["local", "apply", XENBR0, "--yes", "--confirm-within", "600",
                               "--netns", xen_host.dom0]).exit_code == 0
    result = runner.invoke(app, ["local", "rollback", "--netns", xen_host.dom0])
    assert result.exit_code == 0, result.output
    assert snapshot_of(xen_host.dom0).fingerprint() == before
    assert runner.invoke(app, ["local", "rollback", "--netns", xen_host.dom0]).exit_code == 2


def test_a_change_awaiting_confirmation_blocks_the_next_apply(tmp_path, xen_host):
    assert runner.invoke(app, ["local", "apply", XENBR0, "--yes", "--confirm-within", "600",
                               "--netns", xen_host.dom0]).exit_code == 0
    recipe = tmp_path / "more.yaml"
    recipe.write_text(Path(XENBR0).read_text() + "    xenbr9: {}\n")
    result = runner.invoke(app, ["local", "apply", str(recipe), "--yes", "--netns", xen_host.dom0])
    assert result.exit_code == 4
    assert "an earlier change is not settled" in result.output
    assert "xenbr9" not in snapshot_of(xen_host.dom0).links
    assert runner.invoke(app, ["local", "confirm", "--netns", xen_host.dom0]).exit_code == 0


def test_check_reads_bridge_netfilter_inside_the_namespace_it_is_given(namespaces):
    """bridge-nf-call-iptables is per namespace: ``--netns`` reports that namespace's value."""
    ns = namespaces("nf")
    subprocess.run(["ip", "netns", "exec", ns, "sh", "-c",
                    "echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables"], check=True)
    inside = {f["name"]: f for f in json.loads(
        runner.invoke(app, ["local", "check", "--netns", ns, "-o", "json"]).output)["findings"]}
    assert inside["bridge netfilter"]["ok"], inside["bridge netfilter"]
    root_value = Path("/proc/sys/net/bridge/bridge-nf-call-iptables").read_text().strip()
    outside = {f["name"]: f for f in json.loads(
        runner.invoke(app, ["local", "check", "-o", "json"]).output)["findings"]}
    assert outside["bridge netfilter"]["ok"] == (root_value != "1")


def test_show_and_check_in_an_unknown_namespace_are_bad_input():
    for command in (["show"], ["check"]):
        result = runner.invoke(app, ["local", *command, "--netns", "xlt-no-such-ns"])
        assert result.exit_code == 2, command
        assert "network namespace 'xlt-no-such-ns' does not exist" in result.output


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_rollback_disarms_the_timer_and_an_old_timer_never_undoes_a_later_change(xen_host):
    import time

    ns = ["--netns", xen_host.dom0]
    assert runner.invoke(app, ["local", "apply", XENBR0, "--yes", "--confirm-within", "600", *ns]
                         ).exit_code == 0
    first = json.loads(undo_path(xen_host.dom0).read_text())["deadman_pid"]
    assert _alive(first)
    assert runner.invoke(app, ["local", "rollback", *ns]).exit_code == 0
    deadline = time.monotonic() + 10
    while _alive(first) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(first), "rollback left the dead-man timer running"
    # a timer that outlives its change (here: started by hand with the old token) must
    # leave the next change alone
    assert runner.invoke(app, ["local", "apply", XENBR0, "--yes", "--confirm-within", "600", *ns]
                         ).exit_code == 0
    stale = subprocess.run([sys.executable, "-m", "xapictl.local.deadman_process",
                            "--token", "not-this-change", "--netns", xen_host.dom0,
                            str(undo_path(xen_host.dom0))], timeout=60)
    assert stale.returncode == 0
    assert "xenbr0" in snapshot_of(xen_host.dom0).links
    assert runner.invoke(app, ["local", "confirm", *ns]).exit_code == 0


def test_confirm_refuses_an_interrupted_apply_and_points_to_rollback(xen_host):
    from xapictl.local.apply import apply
    from xapictl.local.desired import load_recipe

    class Crash(BaseException):
        pass

    def crash(i, op):
        if i == 6:
            raise Crash

    before = snapshot_of(xen_host.dom0).fingerprint()
    with pytest.raises(Crash):
        apply(load_recipe(Path(XENBR0)), netns=xen_host.dom0, on_step=crash)
    result = runner.invoke(app, ["local", "confirm", "--netns", xen_host.dom0])
    assert result.exit_code == 2
    assert "interrupted at step 7" in result.output and "local rollback" in result.output
    assert runner.invoke(app, ["local", "rollback", "--netns", xen_host.dom0]).exit_code == 0
    assert snapshot_of(xen_host.dom0).fingerprint() == before


MISSING_VIF = ("local:\n  bridges:\n    xenbr0: {uplink: eth0}\n"
               "  vifs:\n    vif9.0: {bridge: xenbr0}\n")


def test_a_vif_that_does_not_exist_is_refused_not_reported_as_no_changes(tmp_path, xen_host):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("local:\n  vifs:\n    vif9.0: {bridge: eth0}\n")  # eth0 exists
    before = snapshot_of(xen_host.dom0).fingerprint()
    planned = runner.invoke(app, ["local", "plan", str(recipe), "--netns", xen_host.dom0])
    assert planned.exit_code == 4, planned.output
    assert "vif vif9.0: no such device" in planned.output
    applied = runner.invoke(app, ["local", "apply", str(recipe), "--yes", "--netns", xen_host.dom0])
    assert applied.exit_code == 4, applied.output
    assert "vif vif9.0: no such device" in applied.output
    assert "No changes" not in applied.output
    assert snapshot_of(xen_host.dom0).fingerprint() == before


def test_apply_json_puts_refusals_in_the_json(tmp_path, xen_host):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(MISSING_VIF)
    result = runner.invoke(app, ["local", "apply", str(recipe), "--yes", "--netns", xen_host.dom0,
                                 "-o", "json"])
    assert result.exit_code == 4
    data = json.loads(result.stdout)
    assert data["applied"] == 0 and data["steps"]
    assert [r for r in data["refusals"] if r.startswith("vif vif9.0: no such device")]
    assert "refused before any change" not in result.stdout
    assert "xenbr0" not in snapshot_of(xen_host.dom0).links


def test_a_dead_man_timer_that_cannot_start_means_no_change_at_all(monkeypatch, xen_host):
    """The guard is armed before the first step: without it, nothing is changed."""
    import errno

    from xapictl.local import deadman

    def no_fork(*args, **kwargs):
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(deadman.os, "fork", no_fork)
    before = snapshot_of(xen_host.dom0).fingerprint()
    result = runner.invoke(app, ["local", "apply", XENBR0, "--yes", "--confirm-within", "600",
                                 "--netns", xen_host.dom0])
    assert result.exit_code == 4, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert ("xapictl: could not start the dead-man timer ([Errno 11] Resource temporarily"
            " unavailable), so nothing was changed: the host is as it was") in result.output
    assert snapshot_of(xen_host.dom0).fingerprint() == before
    assert not undo_path(xen_host.dom0).exists()


def test_local_documents_validate_against_their_schemas(xen_host, namespaces):
    """-o json of local plan, apply, show and check: documents of their kind (issue 11)."""
    import jsonschema

    from xapictl.cli.documents import schema_of

    def valid(result, kind):
        doc = json.loads(result.stdout)
        assert doc["kind"] == kind and doc["pool"] is None
        jsonschema.Draft202012Validator(schema_of(kind)).validate(doc)
        return doc

    ns = ["--netns", xen_host.dom0]
    planned = runner.invoke(app, ["-o", "json", "local", "plan", XENBR0, *ns])
    assert planned.exit_code == 3 and valid(planned, "LocalPlan")["steps"]
    applied = runner.invoke(app, ["local", "apply", XENBR0, "--yes", *ns, "-o", "json"])
    assert applied.exit_code == 0, applied.output
    assert valid(applied, "LocalApply")["applied"] > 0
    shown = runner.invoke(app, ["local", "show", *ns, "-o", "yaml"])
    assert shown.exit_code == 0
    doc = yaml.safe_load(shown.stdout)
    jsonschema.Draft202012Validator(schema_of("LocalHost")).validate(doc)
    assert "xenbr0" in {link["name"] for link in doc["links"]}
    checked = runner.invoke(app, ["local", "check", "--netns", namespaces("chk"), "-o", "json"])
    assert valid(checked, "LocalCheck")["findings"]
    refused = runner.invoke(app, ["local", "confirm", *ns, "-o", "json"])
    assert refused.exit_code == 2 and "does not apply" in refused.stderr


def test_plan_prints_the_warning_of_a_guest_mtu_kept_at_the_host_bridge(tmp_path, xen_host,
                                                                         namespaces):
    """Issue 16 item 4 through the CLI: the plan says why the vif keeps 1500."""
    from local_netns_helpers import veth

    from xapictl.local.apply import apply
    from xapictl.local.desired import load_recipe

    apply(load_recipe(Path(XENBR0)), netns=xen_host.dom0, run_probe=False)
    veth(xen_host.dom0, "vif3.0", namespaces("g3"), "eth0")
    recipe = tmp_path / "vif.yaml"
    recipe.write_text(Path(XENBR0).read_text() + "  vifs:\n    vif3.0: {bridge: xenbr0,"
                      " mtu: 1400}\n")
    result = runner.invoke(app, ["local", "apply", str(recipe), "--yes", "--netns",
                                 xen_host.dom0])
    assert result.exit_code == 0, result.output
    assert ("  warning: vif vif3.0: mtu 1400 would lower the MTU of xenbr0, which carries the"
            " host's addresses, from 1500: the vif stays at 1500 (set MTU 1400 inside the"
            " guest)") in result.output
    snap = snapshot_of(xen_host.dom0)
    assert (snap.links["vif3.0"].mtu, snap.links["xenbr0"].mtu) == (1500, 1500)
    assert snap.links["vif3.0"].master == "xenbr0"
