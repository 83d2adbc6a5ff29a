"""The CLI end to end against a simulator on loopback: idempotent commands, plan/apply, every
exit code, and the pre-flight checks as an operator meets them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from xapictl.cli.exit_codes import ExitCode

ROOT = Path(__file__).resolve().parents[2]
CREATE_105 = ("network", "create", "--name", "VLAN 105", "--vlan", "105", "--device", "eth1")
JUMBO_TRUNK = ("network", "set-mtu", "Pool-wide network 1", "9000", "--replug")
"""eth1's network at MTU 9000 (its PIFs re-plugged), so VLAN 105 on it may go to 9000."""


def test_network_create_is_idempotent_and_the_second_run_writes_nothing(cli, writes) -> None:
    first = cli(*CREATE_105)
    assert first.code == ExitCode.OK
    assert writes() == ["network.create", "pool.create_VLAN_from_PIF"]
    second = cli(*CREATE_105)
    assert second.code == ExitCode.OK
    assert "already in place" in second.stdout
    assert writes() == ["network.create", "pool.create_VLAN_from_PIF"], "no new write"


def test_network_create_from_the_real_executable(xapictl_exe, writes) -> None:
    ran = xapictl_exe(*CREATE_105)
    assert ran.code == 0, ran.stderr
    assert "done: create VLAN pool-wide network 'VLAN 105'" in ran.stdout
    assert xapictl_exe(*CREATE_105).stdout.count("already in place") == 1


def test_plan_exit_code_says_whether_changes_are_pending(cli) -> None:
    recipe = str(ROOT / "recipes" / "trunk-vlans.yaml")
    pending = cli("plan", recipe)
    assert pending.code == ExitCode.CHANGES_PENDING
    assert "+ create network 'VLAN 101'" in pending.stdout
    assert cli("apply", recipe, "--yes").code == ExitCode.OK
    clean = cli("plan", recipe)
    assert clean.code == ExitCode.OK
    assert "Nothing to do" in clean.stdout


def test_apply_without_a_terminal_needs_yes_and_sends_nothing(cli, writes) -> None:
    ran = cli("apply", str(ROOT / "recipes" / "storage-network.yaml"))
    assert ran.code == ExitCode.BAD_INPUT
    assert "pass --yes" in ran.stderr
    assert writes() == []


def test_apply_on_a_terminal_asks_first_and_a_no_sends_nothing(cli, writes, monkeypatch
                                                               ) -> None:
    monkeypatch.setattr("xapictl.cli.run.interactive", lambda: True)
    recipe = str(ROOT / "recipes" / "storage-network.yaml")
    declined = cli("apply", recipe, input="n\n")
    assert declined.code == ExitCode.CHANGES_PENDING, "declined: the changes are still pending"
    assert "Apply these 6 step(s), 5 of them disruptive?" in declined.stdout
    assert "Not applied." in declined.stdout
    assert writes() == []
    accepted = cli("apply", recipe, input="y\n")
    assert accepted.code == ExitCode.OK
    assert "Verified: the pool matches" in accepted.stdout
    assert writes()[:1] == ["network.set_name_label"]


def test_embedded_pool_is_used_without_a_pool_and_keeps_its_state(tmp_path) -> None:
    from typer.testing import CliRunner

    from xapictl.cli import app

    env = {"XAPICTL_EMBEDDED_STATE": str(tmp_path / "pool.sqlite"),
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    first = CliRunner().invoke(app, list(CREATE_105), env=env)
    assert first.exit_code == 0
    assert "embedded simulated pool" in first.stderr
    again = CliRunner().invoke(app, list(CREATE_105), env=env)
    assert "already in place" in again.stdout, "state kept between invocations"


def test_plan_json_output_lists_steps_and_calls(cli) -> None:
    ran = cli("-o", "json", "plan", str(ROOT / "recipes" / "storage-network.yaml"))
    data = json.loads(ran.stdout)
    assert data["kind"] == "Plan" and data["changes_pending"] is True
    first = data["changes"][0]
    assert [c["method"] for c in first["calls"]] == ["network.set_name_label"]
    assert first["action"] == "update" and first["class"] == "network"
    assert first["after"]["name_label"] == first["calls"][0]["params"][1]


def test_invalid_recipe_exits_2_with_file_line_field_and_sends_nothing(cli, writes,
                                                                       tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("networks:\n  - name: x\n    vlan: 5000\n    device: eth1\n")
    ran = cli("apply", str(bad), "--yes")
    assert ran.code == ExitCode.BAD_INPUT
    assert f"{bad}:3: networks[0].vlan: 5000 is out of range" in ran.stderr
    assert writes() == []


def test_bad_cli_value_exits_2_and_sends_nothing(cli, writes) -> None:
    ran = cli("network", "create", "--name", "x", "--vlan", "9999", "--device", "eth1")
    assert ran.code == ExitCode.BAD_INPUT
    assert "--vlan: 9999 is out of range 0-4094; e.g. `--vlan 105`" in ran.stderr
    assert writes() == []


def test_bad_cli_values_name_the_option_and_its_fix(cli, writes) -> None:
    ran = cli("vif", "attach", "web-01", "Pool-wide network 1",
              "--mac", "zz", "--device", "20", "--locking-mode", "lockd")
    assert ran.code == ExitCode.BAD_INPUT
    assert "--mac: 'zz' is not a MAC address" in ran.stderr
    assert "--device: must be a device number 0-15" in ran.stderr
    assert "--locking-mode: 'lockd' is not one of" in ran.stderr
    assert "did you mean `locked`" in ran.stderr
    assert cli("network", "set-mtu", "VLAN 105", "50").stderr.startswith(
        "xapictl: MTU: 50 is out of range 68-65535")
    assert writes() == []


def test_unknown_vm_is_named_with_where_to_look_and_sends_nothing(cli, writes) -> None:
    ran = cli("vif", "attach", "no-such-vm", "Pool-wide network 1")
    assert ran.code == ExitCode.BAD_INPUT
    assert "no VM named 'no-such-vm' (nor with that uuid); check `xapictl vif list`" in ran.stderr
    assert writes() == []


def test_wrong_password_exits_4_naming_the_user_and_where_the_password_comes_from(
        cli, sim_server) -> None:
    ran = cli(*CREATE_105, extra_env={"XAPICTL_PASSWORD": "not-the-password"})
    assert ran.code == ExitCode.FAILURE
    assert "SESSION_AUTHENTICATION_FAILED ['root'" in ran.stderr
    assert "--password-file, XAPICTL_PASSWORD" in ran.stderr
    assert "not-the-password" not in ran.stderr + ran.stdout
    sent = [e["method"] for e in sim_server.control.request_log()]
    assert sent == ["session.login_with_password"]


def test_pool_that_stops_answering_mid_apply_exits_5_and_a_rerun_finishes(
        cli, sim_server, writes, monkeypatch) -> None:
    """After network.create the pool accepts connections but answers nothing in time."""
    control = sim_server.control
    record = control.record

    def record_then_hang(**entry):
        record(**entry)
        if entry["method"] == "network.create":
            control.inject_fault("*", "delay", delay_ms=3000)

    monkeypatch.setattr(control, "record", record_then_hang)
    ran = cli("--timeout", "0.5", *CREATE_105)
    assert ran.code == ExitCode.PARTIAL
    assert "done  create network 'VLAN 105'" in ran.stderr
    assert "in time" in ran.stderr
    assert "Run the same command again" in ran.stderr
    monkeypatch.setattr(control, "record", record)
    control.clear_faults()
    again = cli(*CREATE_105)
    assert again.code == ExitCode.OK, again.stderr
    assert writes().count("network.create") == 1, "never a second network"


def test_xapi_failure_exits_4(cli, sim_server) -> None:
    sim_server.control.inject_fault("network.create", "error",
                                    error=("INTERNAL_ERROR", "disk full"))
    ran = cli(*CREATE_105)
    assert ran.code == ExitCode.FAILURE
    assert "INTERNAL_ERROR" in ran.stderr
    assert "not run" in ran.stderr


def test_partial_apply_exits_5_with_done_failed_not_run(cli, sim_server) -> None:
    sim_server.control.inject_fault("pool.create_VLAN_from_PIF", "error",
                                    error=("INTERNAL_ERROR", "boom"))
    ran = cli(*CREATE_105)
    assert ran.code == ExitCode.PARTIAL
    assert "done  create network 'VLAN 105'" in ran.stderr
    assert "failed  create VLAN pool-wide" in ran.stderr


def test_unreachable_pool_exits_4(cli) -> None:
    ran = cli("--timeout", "0.5", *CREATE_105, extra_env={"XAPICTL_URL": "http://127.0.0.1:9"})
    assert ran.code == ExitCode.FAILURE


def test_preflight_device_missing_names_the_device(cli, writes) -> None:
    ran = cli("network", "create", "--name", "V7", "--vlan", "7", "--device", "eth9")
    assert ran.code == ExitCode.BAD_INPUT
    assert "device eth9 is missing on host(s) xcp-host-01, xcp-host-02, xcp-host-03" in ran.stderr
    assert writes() == []


def test_preflight_tag_used_by_another_network(cli, jsonrpc, writes) -> None:
    session = jsonrpc("session.login_with_password", "root", "xapictl", "2.21", "t")
    net = jsonrpc("network.create", session, {"name_label": "by hand", "other_config": {}})
    pifs = jsonrpc("PIF.get_all_records", session)
    eth1 = next(r for r, p in pifs.items() if p["device"] == "eth1" and p["VLAN"] == -1)
    jsonrpc("VLAN.create", session, eth1, 105, net)
    sim_before = writes()
    ran = cli(*CREATE_105)
    assert ran.code == ExitCode.BAD_INPUT
    assert "VLAN 105 on eth1 is already carried by network 'by hand' (uuid " in ran.stderr
    assert "(`xapictl network delete 'by hand'`)" in ran.stderr
    assert writes() == sim_before
    same_name = cli("network", "create", "--name", "by hand", "--vlan", "105", "--device", "eth1")
    assert same_name.code == ExitCode.BAD_INPUT and "--adopt" in same_name.stderr
    assert writes() == sim_before


def test_bonding_the_management_nic_moves_management_and_the_plan_says_so(cli, writes,
                                                                         sim_server) -> None:
    recipe = ROOT / "docs" / "examples" / "bond-management.yaml"
    ran = cli("apply", str(recipe), "--yes")
    assert ran.code == ExitCode.OK, ran.stderr
    assert ran.stdout.count("XAPI moves onto the bond: the management interface (from eth0)"
                            "; the IP configuration Static 192.0.2.1") == 3
    assert writes() == ["network.create"] + ["Bond.create"] * 3
    state = sim_server.sim.state
    masters = {state.get("Bond", b)["master"] for b in state.refs("Bond")}
    assert {p for p in state.refs("PIF") if state.get("PIF", p)["management"]} == masters
    again = cli("apply", str(recipe), "--yes")
    assert again.code == ExitCode.OK and "Nothing to do" in again.stdout


def test_drift_finds_a_half_bonded_pool_exit_6(cli, sim_server, jsonrpc) -> None:
    recipe = ROOT / "docs" / "examples" / "bond-management.yaml"
    assert cli("apply", str(recipe), "--yes").code == ExitCode.OK
    assert cli("drift").code == ExitCode.OK
    state = sim_server.sim.state
    host = next(h for h in state.refs("host")
                if state.get("host", h)["name_label"] == "xcp-host-03")
    bond = next(b for b in state.refs("Bond")
                if state.get("PIF", state.get("Bond", b)["master"])["host"] == host)
    session = jsonrpc("session.login_with_password", "root", "xapictl", "2.21", "t")
    jsonrpc("Bond.destroy", session, bond)  # by hand, as `xe bond-destroy` would
    ran = cli("drift")
    assert ran.code == ExitCode.DRIFT_FOUND
    assert "[bond-missing] network 'Bond eth0+eth1'" in ran.stdout
    assert "but not on xcp-host-03" in ran.stdout
    fixed = cli("apply", str(recipe), "--yes")
    assert fixed.code == ExitCode.OK and cli("drift").code == ExitCode.OK


def test_preflight_role_too_weak(cli) -> None:
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer

    sim = Simulator(password="xapictl", users={"olive": "vm-operator"})
    sim.reset(scenario="seed")
    with SimServer(sim) as server:
        ran = cli(*CREATE_105, extra_env={"XAPICTL_USER": "olive", "XAPICTL_URL": server.url})
        sent = [e["method"] for e in server.control.request_log()]
    assert ran.code == ExitCode.BAD_INPUT
    assert "network.create (needs vm-admin or above)" in ran.stderr
    assert "pool.create_VLAN_from_PIF (needs pool-operator or above)" in ran.stderr
    assert not [m for m in sent if m in ("network.create", "pool.create_VLAN_from_PIF")]


def test_preflight_hotplug_without_pv_drivers(cli, writes) -> None:
    ran = cli("vif", "attach", "win-app-01", "Pool-wide network 1")
    assert ran.code == ExitCode.BAD_INPUT
    assert "without PV drivers" in ran.stderr
    assert writes() == []


def test_preflight_mac_already_used_on_network(cli, writes) -> None:
    net = "Pool-wide network 1"
    assert cli("vif", "attach", "web-01", net, "--mac", "02:00:00:00:00:07").code == 0
    before = writes()
    ran = cli("vif", "attach", "web-02", net, "--mac", "02:00:00:00:00:07")
    assert ran.code == ExitCode.BAD_INPUT
    assert "MAC 02:00:00:00:00:07 is already used" in ran.stderr
    assert writes() == before


def test_vif_attach_move_detach(cli, writes) -> None:
    cli(*CREATE_105)
    assert cli("vif", "attach", "web-01", "VLAN 105", "--device", "4").code == 0
    assert cli("vif", "move", "web-01", "4", "Pool-wide network 1", "--yes").code == 0
    assert writes()[-1] == "VIF.move"
    listed = cli("-o", "json", "vif", "list", "--vm", "web-01")
    rows = json.loads(listed.stdout)["items"]
    assert {r["device"]: r["network"] for r in rows}[4] == "Pool-wide network 1"
    assert cli("vif", "detach", "web-01", "4", "--yes").code == 0
    assert writes()[-2:] == ["VIF.unplug", "VIF.destroy"]


def test_network_delete_refuses_while_vifs_are_plugged_naming_the_vms(cli, writes) -> None:
    cli(*CREATE_105)
    cli("vif", "attach", "web-01", "VLAN 105")
    before = writes()
    ran = cli("network", "delete", "VLAN 105")
    assert ran.code == ExitCode.BAD_INPUT and "VM 'web-01'" in ran.stderr
    assert writes() == before


def test_set_mtu_lists_then_replugs(cli, writes) -> None:
    cli(*JUMBO_TRUNK, "--yes")
    cli(*CREATE_105)
    listed = cli("network", "set-mtu", "VLAN 105", "9000", "--yes")
    assert "still carries MTU 1500 until re-plugged" in listed.stdout
    cli("network", "set-mtu", "VLAN 105", "9000", "--replug", "--yes")
    assert writes()[-3:] == ["PIF.plug"] * 3


def test_listing_commands_render_tables_json_and_yaml(cli) -> None:
    for group in (("network", "list"), ("vlan", "list"), ("pif", "list"), ("host", "list"),
                  ("pool", "show"), ("vif", "list")):
        assert cli(*group).code == 0, group
        json.loads(cli("-o", "json", *group).stdout)
    assert "xcp-host-01" in cli("-o", "yaml", "host", "list").stdout
    shown = cli("network", "show", "Pool-wide network 0")
    assert "xenbr0" in shown.stdout


def test_ambiguous_network_name_lists_every_candidate(cli, jsonrpc) -> None:
    session = jsonrpc("session.login_with_password", "root", "xapictl", "2.21", "t")
    for _ in range(2):
        jsonrpc("network.create", session, {"name_label": "twin", "other_config": {}})
    ran = cli("network", "show", "twin")
    assert ran.code == ExitCode.BAD_INPUT
    assert ran.stderr.count("network 'twin' (uuid") == 2


def test_version_and_help(cli) -> None:
    assert cli("--version").stdout.startswith("xapictl ")
    assert "network" in cli("--help").stdout


def test_pool_profile_gives_url_user_and_password_source(cli, sim_server, tmp_path) -> None:
    config = tmp_path / "pools.toml"
    config.write_text(f'[pools.lab]\nurl = "{sim_server.url}"\nusername = "root"\n'
                      'password = "env:LAB_PW"\n')
    ran = cli("--pool", "lab", "host", "list", extra_env={
        "XAPICTL_CONFIG": str(config), "LAB_PW": "xapictl", "XAPICTL_URL": "",
        "XAPICTL_PASSWORD": ""})
    assert ran.code == 0, ran.stderr
    assert "xcp-host-01" in ran.stdout


def test_password_file_and_tls_fingerprint(cli, tmp_path) -> None:
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer

    sim = Simulator(password="xapictl")
    sim.reset(scenario="single")
    secret = tmp_path / "pw"
    secret.write_text("xapictl\n")
    with SimServer(sim, tls=True) as server:
        env = {"XAPICTL_URL": server.url, "XAPICTL_PASSWORD": ""}
        pinned = cli("--password-file", str(secret), "--fingerprint", server.fingerprint,
                     "host", "list", extra_env=env)
        unverified = cli("--password-file", str(secret), "--timeout", "2", "host", "list",
                         extra_env=env)
    assert pinned.code == 0, pinned.stderr
    assert unverified.code == ExitCode.FAILURE, "an unknown self-signed certificate is refused"


def test_bonding_a_member_carrying_vlans_moves_them_then_the_nic_is_refused(cli, writes
                                                                            ) -> None:
    """VLAN 105 on eth1, then eth1+eth2 bonded: XAPI moves VLAN 105 onto the bond (named in
    the plan); a VLAN stated on eth1 afterwards is refused before any write, naming the
    bond to use instead (it used to fail half-way with CANNOT_PLUG_BOND_SLAVE)."""
    assert cli(*CREATE_105).code == 0
    ran = cli("apply", str(ROOT / "recipes" / "bonded-trunk.yaml"), "--yes")
    assert ran.code == ExitCode.OK, ran.stderr
    assert ran.stdout.count("VLAN(s) 105 (from eth1: re-created on the bond") == 3
    before = writes()
    again = cli("network", "create", "--name", "VLAN 106", "--vlan", "106", "--device", "eth1")
    assert again.code == ExitCode.BAD_INPUT
    assert ("eth1 is a member of the bond on network 'Bond eth1+eth2' on xcp-host-01, "
            "xcp-host-02, xcp-host-03: XAPI refuses VLANs on a bond member "
            "(CANNOT_ADD_VLAN_TO_BOND_SLAVE); put the VLAN on the bond (`bond: Bond "
            "eth1+eth2`, or --bond 'Bond eth1+eth2')") in again.stderr
    assert writes() == before
    on_bond = cli("network", "create", "--name", "VLAN 106", "--vlan", "106", "--bond",
                  "Bond eth1+eth2")
    assert on_bond.code == ExitCode.OK, on_bond.stderr


def test_network_delete_never_removes_the_network_of_a_nic(cli, writes) -> None:
    for extra in ((), ("--adopt",)):
        ran = cli("network", "delete", "Pool-wide network 1", *extra)
        assert ran.code == ExitCode.BAD_INPUT
        assert "is the network of NIC eth1" in ran.stderr
    assert writes() == []


def _vlan105_by_hand(jsonrpc, name: str) -> None:
    session = jsonrpc("session.login_with_password", "root", "xapictl", "2.21", "t")
    net = jsonrpc("network.create", session, {"name_label": name, "other_config": {}})
    pifs = jsonrpc("PIF.get_all_records", session)
    eth1 = next(r for r, p in pifs.items() if p["device"] == "eth1" and p["VLAN"] == -1)
    jsonrpc("VLAN.create", session, eth1, 105, net)


def test_drift_between_plan_and_apply_exits_4_writes_nothing_and_adopt_converges(
        cli, jsonrpc, writes, monkeypatch) -> None:
    """VLAN 105 made by hand after the plan was shown: nothing written, no orphan network."""
    import xapictl.cli.run as run

    show_plan = run.show_plan

    def show_then_meddle(opts, plan) -> None:
        show_plan(opts, plan)
        monkeypatch.setattr(run, "show_plan", show_plan)
        _vlan105_by_hand(jsonrpc, "VLAN 105")

    monkeypatch.setattr(run, "show_plan", show_then_meddle)
    ran = cli(*CREATE_105)
    assert ran.code == ExitCode.FAILURE
    assert "drift  create VLAN pool-wide network 'VLAN 105'" in ran.stderr
    assert "not run  create network 'VLAN 105'" in ran.stderr
    assert ("the pool changed since the plan was made; nothing was written:\n"
            "  create VLAN pool-wide network 'VLAN 105': VLAN 105 appeared on the trunk since "
            "planning") in ran.stderr
    assert writes() == ["network.create", "VLAN.create"], "only the hand-made ones"
    refused = cli(*CREATE_105)
    assert refused.code == ExitCode.BAD_INPUT and "--adopt" in refused.stderr
    adopted = cli(*CREATE_105, "--adopt")
    assert adopted.code == ExitCode.OK, adopted.stderr
    assert writes().count("network.create") == 1, "no duplicate network"
    assert cli(*CREATE_105).stdout.count("already in place") == 1


def _after_write(sim_server, monkeypatch, method: str, meddle) -> None:
    """Run ``meddle(state)`` once, right after ``method`` was committed and logged."""
    control = sim_server.control
    record = control.record

    def record_then_meddle(**entry):
        record(**entry)
        if entry["method"] == method and entry["outcome"] == "success":
            monkeypatch.setattr(control, "record", record)
            meddle(sim_server.sim.state)

    monkeypatch.setattr(control, "record", record_then_meddle)


def test_pool_that_does_not_verify_after_apply_exits_5(cli, sim_server, monkeypatch) -> None:
    """Someone sets the MTU back right after network.create: verify reads twice, then says
    what differs."""
    def mtu_back(state) -> None:
        ref = next(r for r, n in state.all("network").items() if n["name_label"] == "Jumbo")
        state.set_field("network", ref, "MTU", 1500)

    _after_write(sim_server, monkeypatch, "network.create", mtu_back)
    ran = cli("network", "create", "--name", "Jumbo", "--mtu", "9000")
    assert ran.code == ExitCode.PARTIAL
    assert ("applied, but the pool does not match the recipe: networks[0] (Jumbo).MTU: "
            "wanted 9000, found 1500") in ran.stderr


def test_replan_not_empty_after_apply_exits_5(cli, sim_server, monkeypatch) -> None:
    """The allowed IPs are cleared behind xapictl's back after the plug: verify does not
    look at them, the re-plan does, and it is not empty."""
    def clear_allowed(state) -> None:
        ref = next(r for r, v in state.all("VIF").items() if v["ipv4_allowed"])
        state.set_field("VIF", ref, "ipv4_allowed", [])

    _after_write(sim_server, monkeypatch, "VIF.plug", clear_allowed)
    ran = cli("vif", "attach", "web-01", "Pool-wide network 1",
              "--locking-mode", "locked", "--allow-ip", "10.0.0.5")
    assert ran.code == ExitCode.PARTIAL
    assert "after apply the plan is not empty: " in ran.stderr
    assert "10.0.0.5" in ran.stderr


@pytest.mark.parametrize("name", ["bonded-trunk.yaml", "vm-attachments.yaml"])
def test_recipe_plan_apply_plan_through_the_cli(cli, writes, name: str) -> None:
    """The seed pool's eth1+eth2 carry no VLAN, so the bonded trunk applies as it stands."""
    sys.path.insert(0, str(ROOT / "tests" / "recipes"))
    from recipes_simpool import EXPECTED_WRITES

    recipe = str(ROOT / "recipes" / name)
    pending = cli("plan", recipe)
    assert pending.code == ExitCode.CHANGES_PENDING, pending.stderr
    assert writes() == []
    applied = cli("apply", recipe, "--yes")
    assert applied.code == ExitCode.OK, applied.stderr
    assert "Verified: the pool matches, and a new plan is empty." in applied.stdout
    assert writes() == EXPECTED_WRITES[name]
    clean = cli("plan", recipe)
    assert clean.code == ExitCode.OK and "Nothing to do" in clean.stdout
    assert writes() == EXPECTED_WRITES[name], "plan writes nothing"


def test_vif_attach_allow_ipv6_locks_the_vif_to_that_address(cli, sim_server) -> None:
    ran = cli("vif", "attach", "web-01", "Pool-wide network 1", "--locking-mode", "locked",
              "--allow-ipv6", "2001:db8::5", "--allow-ipv6", "2001:db8::6")
    assert ran.code == ExitCode.OK, ran.stderr
    state = sim_server.sim.state
    [vif] = [v for v in state.all("VIF").values() if v["ipv6_allowed"]]
    assert sorted(vif["ipv6_allowed"]) == ["2001:db8::5", "2001:db8::6"]
    again = cli("vif", "attach", "web-01", "Pool-wide network 1", "--locking-mode", "locked",
                "--allow-ipv6", "2001:db8::6", "--allow-ipv6", "2001:db8::5")
    assert again.code == ExitCode.OK and "Nothing to do" in again.stdout
    bad = cli("vif", "attach", "web-01", "Pool-wide network 1", "--locking-mode", "locked",
              "--allow-ipv6", "10.0.0.5")
    assert bad.code == ExitCode.BAD_INPUT and "--allow-ipv6" in bad.stderr


def test_vif_attach_qos_on_a_plugged_vif_warns_or_replugs(cli, writes) -> None:
    ran = cli("vif", "attach", "web-01", "Pool-wide network 0", "--device", "0",
              "--qos-kbps", "10240", "--yes")
    assert ran.code == ExitCode.OK, ran.stderr
    assert "the new rate limit applies at its next plug" in ran.stdout
    assert "VIF.unplug" not in writes()
    now = cli("vif", "attach", "web-01", "Pool-wide network 0", "--device", "0",
              "--qos-kbps", "2048", "--replug", "--yes")
    assert now.code == ExitCode.OK, now.stderr
    assert writes()[-3:] == ["VIF.set_qos_algorithm_params", "VIF.unplug", "VIF.plug"]


def test_network_create_vlan_above_its_trunk_needs_raise_trunk_mtu(cli, writes) -> None:
    """Refused (exit 2, nothing sent) naming --raise-trunk-mtu; with it the trunk goes first;
    the flag and --replug-management are refused where they mean nothing."""
    jumbo = (*CREATE_105, "--mtu", "9000")
    refused = cli(*jumbo, "--yes")
    assert refused.code == ExitCode.BAD_INPUT and "or add raise_trunk_mtu: true " \
        "(--raise-trunk-mtu)" in refused.stderr
    assert writes() == []
    ran = cli(*jumbo, "--raise-trunk-mtu", "--yes")
    assert ran.code == ExitCode.OK, ran.stderr
    assert writes() == (["network.set_MTU"] + ["PIF.plug"] * 3
                        + ["network.create", "pool.create_VLAN_from_PIF"])
    assert cli(*jumbo, "--raise-trunk-mtu", "--yes").code == ExitCode.OK
    assert len(writes()) == 6, "the re-run sends nothing"
    bare = cli("network", "create", "--name", "X", "--raise-trunk-mtu")
    assert bare.code == ExitCode.BAD_INPUT and "add --vlan TAG and --mtu N" in bare.stderr
    unasked = cli("network", "create", "--name", "X", "--vlan", "9", "--device", "eth1",
                  "--mtu", "1500", "--replug-management")
    assert unasked.code == ExitCode.BAD_INPUT and "add --raise-trunk-mtu" in unasked.stderr
    assert len(writes()) == 6


def test_drift_finds_a_vlan_above_its_trunks_mtu_and_raise_trunk_mtu_clears_it(
        cli, sim_server, jsonrpc) -> None:
    assert cli(*CREATE_105).code == ExitCode.OK
    state = sim_server.sim.state
    vlan_net = next(n for n in state.refs("network")
                    if state.get("network", n)["name_label"] == "VLAN 105")
    session = jsonrpc("session.login_with_password", "root", "xapictl", "2.21", "t")
    jsonrpc("network.set_MTU", session, vlan_net, "9000")  # by hand: XAPI checks nothing
    ran = cli("drift")
    assert ran.code == ExitCode.DRIFT_FOUND, ran.stderr
    assert ("[vlan-mtu-above-trunk] network 'VLAN 105' (" in ran.stdout
            and "MTU 9000 above its trunk's (eth1, network 'Pool-wide network 1' (xenbr1), "
                "MTU 1500) on xcp-host-01, xcp-host-02, xcp-host-03" in ran.stdout), ran.stdout
    doc = json.loads(cli("drift", "-o", "json").stdout)
    kinds = [f["kind"] for f in doc["findings"]]
    assert kinds == ["vlan-mtu-above-trunk"] and len(doc["findings"][0]["hosts"]) == 3
    fixed = cli("network", "set-mtu", "VLAN 105", "9000", "--raise-trunk-mtu", "--yes")
    assert fixed.code == ExitCode.OK, fixed.stderr
    assert cli("drift").code == ExitCode.OK
