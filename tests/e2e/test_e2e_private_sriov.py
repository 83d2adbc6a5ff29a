"""``network create --tunnel/--sriov``, ``pif scan``, ``pool show`` and ``network show`` for
private and SR-IOV networks, through the CLI against a simulator on loopback."""

from __future__ import annotations

import json

from xapictl.cli.exit_codes import ExitCode

STORAGE = "Pool-wide network 2"
PRIVATE = ("network", "create", "--name", "Lab", "--tunnel", "vxlan", "--transport", STORAGE)


def test_a_private_network_from_the_command_line_and_a_second_run_writes_nothing(
        cli, writes) -> None:
    assert cli(*PRIVATE).code == ExitCode.OK
    assert writes() == ["network.create"] + ["tunnel.create"] * 3
    again = cli(*PRIVATE)
    assert again.code == ExitCode.OK and "already in place" in again.stdout
    assert len(writes()) == 4
    shown = json.loads(cli("-o", "json", "network", "show", "Lab").stdout)
    assert {p["tunnel"] for p in shown["pifs"]} == {"vxlan over eth2"}
    kinds = {p["kind"] for p in json.loads(cli("-o", "json", "pif", "list").stdout)["items"]}
    assert "tunnel access" in kinds
    pool = json.loads(cli("-o", "json", "pool", "show").stdout)
    assert (pool["tunnel_count"], pool["igmp_snooping"], pool["sdn_controller"]) == (
        3, False, None)
    assert cli("network", "delete", "Lab", "--yes").code == ExitCode.OK
    assert writes()[-4:] == ["tunnel.destroy"] * 3 + ["network.destroy"]


def test_private_network_mistakes_exit_2_and_send_nothing(cli, writes) -> None:
    half = cli("network", "create", "--name", "Lab", "--tunnel", "gre")
    assert half.code == ExitCode.BAD_INPUT and "needs both --tunnel" in half.stderr
    bad = cli("network", "create", "--name", "Lab", "--tunnel", "ipip", "--transport", STORAGE)
    assert bad.code == ExitCode.BAD_INPUT
    assert "--tunnel: 'ipip' is not one of gre, vxlan" in bad.stderr
    no_ip = cli("network", "create", "--name", "Lab", "--tunnel", "gre", "--transport",
                "Pool-wide network 1")
    assert no_ip.code == ExitCode.BAD_INPUT and "TRANSPORT_PIF_NOT_CONFIGURED" in no_ip.stderr
    assert writes() == []


def test_an_sriov_network_reports_its_mode_and_is_refused_where_no_nic_can(
        cli, writes, sim_server) -> None:
    refused = cli("network", "create", "--name", "VF", "--sriov", "--device", "eth1")
    assert refused.code == ExitCode.BAD_INPUT and "capability sriov" in refused.stderr
    assert writes() == []
    sim_server.control.reset("sriov")
    asked = cli("network", "create", "--name", "VF", "--sriov", "--device", "eth1")
    assert asked.code == ExitCode.BAD_INPUT and "enables SR-IOV on a NIC in use" in asked.stderr
    assert writes() == [], "enabling SR-IOV is disruptive: --yes off a terminal"
    made = cli("network", "create", "--name", "VF", "--sriov", "--device", "eth1", "--yes")
    assert made.code == ExitCode.OK, made.stderr
    assert writes() == ["network.create"] + ["network_sriov.create"] * 3
    shown = json.loads(cli("-o", "json", "network", "show", "VF").stdout)
    assert {(p["sriov_mode"], p["requires_reboot"], p["vfs_free"], p["vfs_total"])
            for p in shown["pifs"]} == {("sysfs", False, 8, 8)}
    assert "SR-IOV sysfs, 8 of 8 VFs free" in cli("network", "show", "VF").stdout
    again = cli("network", "create", "--name", "VF", "--sriov", "--device", "eth1")
    assert again.code == ExitCode.OK
    assert "xcp-host-01: 8 of 8 VFs free (sysfs)" in again.stdout


def test_sriov_over_nics_of_two_models_exits_2_and_sends_nothing(cli, writes, sim_server
                                                                  ) -> None:
    """It failed on the first host of the other model (NETWORK_HAS_INCOMPATIBLE_SRIOV_PIFS)
    after the network and the other hosts' SR-IOV were made: exit 5."""
    sim_server.control.reset("sriov")
    state = sim_server.sim.state
    with state.lock:
        host = next(h for h in state.refs("host")
                    if state.get("host", h)["name_label"] == "xcp-host-03")
        eth1 = next(p for p in state.get("host", host)["PIFs"]
                    if state.get("PIF", p)["device"] == "eth1")
        state.update("PCI", state.get("PIF", eth1)["PCI"], {
            "device_id": "1572", "device_name": "Ethernet Controller X710 for 10GbE SFP+"})
    mixed = cli("network", "create", "--name", "VF", "--sriov", "--device", "eth1", "--yes")
    assert mixed.code == ExitCode.BAD_INPUT
    assert "NETWORK_HAS_INCOMPATIBLE_SRIOV_PIFS" in mixed.stderr
    assert writes() == []


def test_pif_scan_introduces_a_forgotten_nic_and_lists_it(cli, writes, sim_server) -> None:
    state = sim_server.sim.state
    host = next(h for h in state.refs("host")
                if state.get("host", h)["name_label"] == "xcp-host-02")
    eth1 = next(p for p in state.get("host", host)["PIFs"]
                if state.get("PIF", p)["device"] == "eth1")
    import xmlrpc.client

    with xmlrpc.client.ServerProxy(sim_server.url) as proxy:
        session = proxy.session.login_with_password("root", "xapictl")["Value"]
        assert proxy.PIF.forget(session, eth1)["Status"] == "Success"
        proxy.session.logout(session)
    found = cli("-o", "json", "pif", "scan", "xcp-host-02")
    assert found.code == ExitCode.OK, found.stderr
    items = json.loads(found.stdout)["items"]
    assert [(i["host"], i["device"], i["kind"]) for i in items] == [
        ("xcp-host-02", "eth1", "physical")]
    assert "PIF.scan" in writes()
    from pathlib import Path

    log = Path(cli.env["XAPICTL_AUDIT_LOG"]).read_text(encoding="utf-8")
    audited = [json.loads(line) for line in log.splitlines()]
    assert [r["outcome"] for r in audited if r.get("method") == "PIF.scan"] == [
        "intent", "ok"], "the scan is a write: audited ahead, under the lease"
    again = cli("-o", "json", "pif", "scan")
    assert again.code == ExitCode.OK, again.stderr
    assert json.loads(again.stdout)["items"] == []
    unknown = cli("pif", "scan", "nohost")
    assert unknown.code == ExitCode.BAD_INPUT and "no host named 'nohost'" in unknown.stderr


def test_pool_show_reports_the_recipe_s_pool_settings(cli, tmp_path) -> None:
    recipe = tmp_path / "pool.yaml"
    recipe.write_text("version: 1\npool:\n  igmp_snooping: true\n"
                      "  sdn_controller: {address: 192.0.2.200}\n")
    assert cli("apply", str(recipe), "--yes").code == ExitCode.OK
    pool = json.loads(cli("-o", "json", "pool", "show").stdout)
    assert (pool["igmp_snooping"], pool["sdn_controller"]) == (True, "ssl:192.0.2.200:6632")
    assert cli("plan", str(recipe)).code == ExitCode.OK


def test_inventory_export_names_each_sriov_nic_model_and_its_vfs(cli, sim_server) -> None:
    sim_server.control.reset("sriov")
    assert cli("network", "create", "--name", "VF", "--sriov", "--device", "eth1",
               "--yes").code == ExitCode.OK
    assert cli("vif", "attach", "build-01", "VF", "--device", "1").code == ExitCode.OK
    state = sim_server.sim.state
    with state.lock:
        vm = state.find_one("VM", name_label="build-01")
        master = state.get("pool", state.refs("pool")[0])["master"]
    import xmlrpc.client

    with xmlrpc.client.ServerProxy(sim_server.url) as proxy:
        session = proxy.session.login_with_password("root", "xapictl")["Value"]
        assert proxy.VM.start_on(session, vm, master, False, False)["Status"] == "Success"
        proxy.session.logout(session)
    exported = cli("inventory", "export", "--format", "json")
    assert exported.code == ExitCode.OK, exported.stderr
    inventory = json.loads(exported.stdout)
    assert tuple(map(int, inventory["schema_version"].split("."))) >= (1, 2)  # nic, vfs_*
    hosts = {h["uuid"]: h["name_label"] for h in inventory["hosts"]}
    rows = sorted((hosts[s["host"]], s["nic"], s["vfs_free"], s["vfs_total"])
                  for s in inventory["sriovs"])
    assert rows == [("xcp-host-01", "8086:10fb", 7, 8), ("xcp-host-02", "8086:10fb", 8, 8),
                    ("xcp-host-03", "8086:10fb", 8, 8)]
