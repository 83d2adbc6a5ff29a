"""docs/exit-codes.md "What a failure looks like": every row is provoked through the CLI
against a simulator on loopback; the exit code is the row's first, and every quoted message
appears in stderr character for character."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_e2e_cli import CREATE_105, _after_write, _vlan105_by_hand
from test_e2e_saved_plans import _reseal

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "exit-codes.md"


def _rows() -> dict[str, tuple[int, list[str]]]:
    text = DOC.read_text(encoding="utf-8").split("| situation | exit | the message |", 1)[1]
    rows = {}
    for line in text.split("\n\n", 1)[0].splitlines()[2:]:
        situation, exit_code, message = (c.strip() for c in line.strip("|").split(" | "))
        quoted = [m[1].strip() for m in re.findall(r"(`+)(.+?)\1", message)]
        rows[situation] = (int(exit_code.split()[0]), quoted)
    return rows


def malformed(cli: Any, env: dict[str, Any]) -> Any:
    env["monkeypatch"].chdir(env["tmp_path"])
    Path("bad.yaml").write_text("networks:\n  - name: x\n    vlan: 5000\n    device: eth1\n")
    return cli("apply", "bad.yaml", "--yes")


def stops_answering(cli: Any, env: dict[str, Any]) -> Any:
    control = env["sim_server"].control
    record = control.record

    def record_then_hang(**entry: Any) -> None:
        record(**entry)
        if entry["method"] == "network.create":
            control.inject_fault("*", "delay", delay_ms=3000)

    env["monkeypatch"].setattr(control, "record", record_then_hang)
    return cli("--timeout", "0.5", *CREATE_105)


def drift(cli: Any, env: dict[str, Any]) -> Any:
    import xapictl.cli.run as run

    show_plan = run.show_plan

    def show_then_meddle(opts: Any, plan: Any) -> None:
        show_plan(opts, plan)
        env["monkeypatch"].setattr(run, "show_plan", show_plan)
        _vlan105_by_hand(env["jsonrpc"], "VLAN 105")

    env["monkeypatch"].setattr(run, "show_plan", show_then_meddle)
    return cli(*CREATE_105)


def not_verified(cli: Any, env: dict[str, Any]) -> Any:
    def mtu_back(state: Any) -> None:
        ref = next(r for r, n in state.all("network").items() if n["name_label"] == "Jumbo")
        state.set_field("network", ref, "MTU", 1500)

    _after_write(env["sim_server"], env["monkeypatch"], "network.create", mtu_back)
    return cli("network", "create", "--name", "Jumbo", "--mtu", "9000")


def replan_not_empty(cli: Any, env: dict[str, Any]) -> Any:
    def clear_allowed(state: Any) -> None:
        ref = next(r for r, v in state.all("VIF").items() if v["ipv4_allowed"])
        state.set_field("VIF", ref, "ipv4_allowed", [])

    _after_write(env["sim_server"], env["monkeypatch"], "VIF.plug", clear_allowed)
    return cli("vif", "attach", "web-01", "Pool-wide network 1", "--locking-mode", "locked",
               "--allow-ip", "10.0.0.5")


def _sriov_pool(env: dict[str, Any]) -> Any:
    env["sim_server"].control.reset("sriov")
    return env["sim_server"].sim.state


def _eth1_of(state: Any, name: str) -> str:
    host = next(h for h in state.refs("host") if state.get("host", h)["name_label"] == name)
    return str(next(p for p in state.get("host", host)["PIFs"]
                    if state.get("PIF", p)["device"] == "eth1"))


def sriov_two_models(cli: Any, env: dict[str, Any]) -> Any:
    state = _sriov_pool(env)
    with state.lock:
        state.update("PCI", state.get("PIF", _eth1_of(state, "xcp-host-03"))["PCI"], {
            "device_id": "1572", "device_name": "Ethernet Controller X710 for 10GbE SFP+"})
    return cli("network", "create", "--name", "VF", "--sriov", "--device", "eth1", "--yes")


def sriov_short_of_vfs(cli: Any, env: dict[str, Any]) -> Any:
    from xapictl.sim.classes import _nics

    state = _sriov_pool(env)
    for host in state.refs("host"):
        _nics.set_vf_count(state, host, "eth1", 1)
    made = cli("network", "create", "--name", "VF", "--sriov", "--device", "eth1", "--yes")
    assert made.code == 0, made.stderr
    assert cli("vif", "attach", "build-01", "VF", "--device", "1").code == 0
    return cli("vif", "attach", "build-01", "VF", "--device", "2")


ATTACH_4 = ("vif", "attach", "web-01", "Pool-wide network 1", "--device", "4")
MOVE_4 = ("vif", "move", "web-01", "4", "Pool-wide network 2")


def disruptive_off_terminal(cli: Any, env: dict[str, Any]) -> Any:
    assert cli(*ATTACH_4).code == 0
    return cli(*MOVE_4)


def declined(cli: Any, env: dict[str, Any]) -> Any:
    assert cli(*ATTACH_4).code == 0
    env["monkeypatch"].setattr("xapictl.cli.run.interactive", lambda: True)
    return cli(*MOVE_4, input="n\n")


def tag_carried(cli: Any, env: dict[str, Any]) -> Any:
    assert cli(*CREATE_105).code == 0
    return cli("network", "create", "--name", "Other 105", "--vlan", "105", "--device", "eth1")


def deferred(cli: Any, env: dict[str, Any]) -> Any:
    env["sim_server"].control.set_host_live("xcp-host-03", False)
    return cli(*CREATE_105)


def pin_mismatch(cli: Any, env: dict[str, Any]) -> Any:
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer

    sim = Simulator(password="xapictl")
    sim.reset(scenario="seed")
    try:
        with SimServer(sim, tls=True) as server:
            return cli("--insecure", "--fingerprint", "AB" * 32, *CREATE_105,
                       extra_env={"XAPICTL_URL": server.url})
    finally:
        sim.close()


def _third_bond_fails(env: dict[str, Any]) -> None:
    """The pool refuses the third Bond.create (the master's): armed after the second."""
    control = env["sim_server"].control
    record = control.record
    seen = []

    def record_then_arm(**entry: Any) -> None:
        record(**entry)
        if entry["method"] == "Bond.create" and entry["outcome"] == "success":
            seen.append(entry)
            if len(seen) == 2:
                env["monkeypatch"].setattr(control, "record", record)
                control.inject_fault("Bond.create", "error",
                                     error=("INTERNAL_ERROR", "injected"), times=1)

    env["monkeypatch"].setattr(control, "record", record_then_arm)


BOND_12 = ("bond", "create", "--members", "eth1,eth2", "--yes")


def bond_rolled_back(cli: Any, env: dict[str, Any]) -> Any:
    _third_bond_fails(env)
    return cli(*BOND_12)


def bond_stopped(cli: Any, env: dict[str, Any]) -> Any:
    _third_bond_fails(env)
    return cli(*BOND_12, "--on-failure", "stop")


def bond_under_ha(cli: Any, env: dict[str, Any]) -> Any:
    state = env["sim_server"].sim.state
    with state.lock:
        state.set_field("pool", state.refs("pool")[0], "ha_enabled", True)
    return cli("bond", "create", "--members", "eth0,eth1", "--yes")


SET_IP = ("pif", "set-ip", "xcp-host-01", "eth1", "--mode", "static")
SET_MANAGEMENT = ("host", "set-management", "--network")


def management_under_ha(cli: Any, env: dict[str, Any]) -> Any:
    state = env["sim_server"].sim.state
    with state.lock:
        state.set_field("pool", state.refs("pool")[0], "ha_enabled", True)
    return cli(*SET_MANAGEMENT, "Pool-wide network 2", "--yes")
def _on_loopback_pool(cli: Any, arm: Any, *args: str) -> Any:
    """``args`` against a pool whose hosts answer on their new loopback addresses (the
    ``loopback`` scenario, served on sockets), ``arm(control, run)`` called first (``run``
    runs a command there)."""
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer

    sim = Simulator(scenario="loopback", password="xapictl")
    try:
        with SimServer(sim) as server:
            def run(*words: str) -> Any:
                return cli(*words, extra_env={"XAPICTL_URL": server.url})

            arm(server.control, run)
            return run(*args)
    finally:
        sim.close()


def _counted_deadline(env: dict[str, Any]) -> None:
    """The retry deadline counted in attempts (``RetryPolicy.immediate``), not seconds: a
    host that never answers is given up on after as many probes on a busy machine."""
    from xapictl.xapi.retry import RetryPolicy

    env["monkeypatch"].setattr("xapictl.cli.connection._tls",
                               lambda opts: {"retry": RetryPolicy.immediate(deadline=5.0)})


def member_not_answering(cli: Any, env: dict[str, Any]) -> Any:
    _counted_deadline(env)
    return _on_loopback_pool(
        cli, lambda control, run: control.inject_fault("pool.get_all", "drop_before",
                                                  host="127.0.2.12"),
        *SET_MANAGEMENT, "Pool-wide network 2", "--yes")


def recover_slaves_refused(cli: Any, env: dict[str, Any]) -> Any:
    return _on_loopback_pool(
        cli, lambda control, run: control.inject_fault("pool.recover_slaves", "error",
                                                  error=("INTERNAL_ERROR", "x"), times=1),
        *SET_MANAGEMENT, "Pool-wide network 2", "--yes")


ADDRESS_THEN_MOVE = """version: 1
interfaces:
  - {network: Pool-wide network 2, hosts: [xcp-host-02], ipv4: static,
     addresses: {xcp-host-02: 127.0.2.22/8}}
management: {network: Pool-wide network 2, hosts: [xcp-host-02]}
"""


def undone_after_steps_without_undo(cli: Any, env: dict[str, Any]) -> Any:
    _counted_deadline(env)
    return _on_loopback_pool(
        cli, lambda control, run: control.inject_fault("pool.get_all", "drop_before",
                                                  host="127.0.2.22"),
        "apply", in_tmp(env, "move.yaml", ADDRESS_THEN_MOVE), "--yes")


def _silent_on(control: Any, monkeypatch: Any, device: Callable[[str], bool]) -> None:
    """xcp-host-02 stops answering at 127.0.0.2 while its management PIF's device is one
    ``device`` picks (a bond whose NICs are not cabled, say)."""
    from xapictl.sim.control import DropConnection

    state, before_call = control.sim.state, control.before_call

    def gated(host_address: str, method: str, **kw: Any) -> Any:
        if host_address == "127.0.0.2":
            with state.lock:
                on = [p["device"] for p in state.all("PIF").values() if p["management"]
                      and state.get("host", p["host"])["name_label"] == "xcp-host-02"]
            if on and device(on[0]):
                raise DropConnection("xcp-host-02 does not answer")
        return before_call(host_address, method, **kw)

    monkeypatch.setattr(control, "before_call", gated)


def silent_once_bonded(cli: Any, env: dict[str, Any]) -> Any:
    _counted_deadline(env)
    return _on_loopback_pool(
        cli, lambda control, run: _silent_on(control, env["monkeypatch"],
                                             lambda device: device.startswith("bond")),
        "bond", "create", "--members", "eth0,eth1", "--yes")


def silent_once_unbonded(cli: Any, env: dict[str, Any]) -> Any:
    _counted_deadline(env)

    def arm(control: Any, run: Callable[..., Any]) -> None:
        assert run("bond", "create", "--members", "eth0,eth1", "--yes").code == 0
        _silent_on(control, env["monkeypatch"], lambda device: device == "eth0")

    return _on_loopback_pool(cli, arm, "bond", "delete", "Bond eth0+eth1", "--yes")


NO_POOL = {"XAPICTL_URL": None, "XAPICTL_PASSWORD": None}


def ipv6_address_taken(cli: Any, env: dict[str, Any]) -> Any:
    v6 = ("pif", "set-ip", "{}", "eth2", "--mode6", "static", "--address6")
    first = cli(*(w.format("xcp-host-01") for w in v6), "2001:db8:5::11/64", "--yes")
    assert first.code == 0, first.stderr
    return cli(*(w.format("xcp-host-02") for w in v6), "2001:db8:5::11/64", "--yes")


def one_address_twice(cli: Any, env: dict[str, Any]) -> Any:
    recipe = env["tmp_path"] / "twice.yaml"
    recipe.write_text("version: 1\ninterfaces:\n" + "".join(
        f"  - {{device: {d}, hosts: [xcp-host-01], ipv4: static, "
        "addresses: {xcp-host-01: 203.0.113.50/24}}\n" for d in ("eth1", "eth2")))
    return cli("apply", str(recipe), "--yes")


def plant_lease(jsonrpc: Any, **holder: Any) -> None:
    """A lease record as another run on another machine holds it (renewed just now)."""
    import time

    from xapictl.client.lease import LeaseHolder

    session = jsonrpc("session.login_with_password", "root", "xapictl", "2.21", "t")
    pool = next(iter(jsonrpc("pool.get_all", session)))
    now = time.time()
    record = LeaseHolder(**{"id": "other-run", "user": "alice", "host": "ci-3", "pid": 4242,
                            "command": "xapictl apply recipes/trunk-vlans.yaml --yes",
                            "started": now, "renewed": now, **holder})
    jsonrpc("pool.add_to_other_config", session, pool, "xapictl.lease.1", record.to_value())


def locked(cli: Any, env: dict[str, Any]) -> Any:
    plant_lease(env["jsonrpc"])
    return cli("--lock-timeout", "0", *CREATE_105)


def _saved_plan(cli: Any, env: dict[str, Any], recipe: str) -> Path:
    out = env["tmp_path"] / "plan.json"
    assert cli("plan", str(ROOT / "recipes" / recipe), "--out", str(out)).code == 3
    return out


def saved_stale(cli: Any, env: dict[str, Any]) -> Any:
    plan = _saved_plan(cli, env, "storage-network.yaml")
    session = env["jsonrpc"]("session.login_with_password", "root", "xapictl", "2.21", "t")
    pifs = env["jsonrpc"]("PIF.get_all_records", session)
    eth2 = next(p["network"] for p in pifs.values() if p["device"] == "eth2" and p["VLAN"] == -1)
    env["jsonrpc"]("network.set_MTU", session, eth2, 1600)
    return cli("apply", str(plan), "--yes")


def saved_expired(cli: Any, env: dict[str, Any]) -> Any:
    import datetime as dt

    plan = _saved_plan(cli, env, "trunk-vlans.yaml")
    made = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat(timespec="seconds")
    _reseal(plan, lambda d: d["saved"].update(created=made))
    return cli("apply", str(plan), "--yes")


def saved_other_pool(cli: Any, env: dict[str, Any]) -> Any:
    plan = _saved_plan(cli, env, "trunk-vlans.yaml")
    _reseal(plan, lambda d: d.update(pool_uuid="another-pool"))
    return cli("apply", str(plan), "--yes")


def saved_altered(cli: Any, env: dict[str, Any]) -> Any:
    plan = _saved_plan(cli, env, "trunk-vlans.yaml")
    plan.write_text(plan.read_text().replace('"VLAN 101"', '"VLAN 111"'))
    return cli("apply", str(plan), "--yes")


def in_tmp(env: dict[str, Any], name: str, text: str) -> str:
    env["monkeypatch"].chdir(env["tmp_path"])
    Path(name).write_text(text, encoding="utf-8")
    return name


def key_twice(cli: Any, env: dict[str, Any]) -> Any:
    return cli("apply", in_tmp(env, "dup.yaml", "networks:\n  - name: a\nvifs: []\n"
                               "networks:\n  - name: b\n"), "--yes")


def present_and_absent(cli: Any, env: dict[str, Any]) -> Any:
    net = "Pool-wide network 1"
    return cli("apply", in_tmp(env, "churn.yaml", "version: 1\n# the issue's case\nvifs:\n"
                               f"  - {{vm: web-01, network: {net}, device: 0, present: false}}\n"
                               f"  - {{vm: web-01, network: {net}}}\n"), "--yes")


def alias_bomb(cli: Any, env: dict[str, Any]) -> Any:
    text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"{x}: &{x} [{', '.join([f'*{p}'] * 9)}]\n" for p, x in zip("abcdefgh", "bcdefghi",
                                                                     strict=True))
    return cli("inventory", "export", "--fleet", in_tmp(env, "bomb.yaml", text))


def ctrl_c_after_a_write(cli: Any, env: dict[str, Any]) -> Any:
    from test_e2e_truth_after_writes import TRUNK, _interrupt_at_write

    _interrupt_at_write(env["monkeypatch"], 3)
    return cli("apply", TRUNK, "--yes")


def ctrl_c_before_any_write(cli: Any, env: dict[str, Any]) -> Any:
    from xapictl.state.collect import PoolConnection

    def interrupted(self: Any, *classes: Any, **scope: Any) -> Any:
        raise KeyboardInterrupt

    env["monkeypatch"].setattr(PoolConnection, "snapshot", interrupted)
    # a plan reads just the classes its recipe touches, the permissions alongside
    env["monkeypatch"].setattr(PoolConnection, "read_all_with_permissions", interrupted)
    return cli(*CREATE_105)


def dies_while_verifying(cli: Any, env: dict[str, Any]) -> Any:
    control = env["sim_server"].control
    record = control.record

    def record_then_die(**entry: Any) -> None:
        record(**entry)
        if entry["method"] == "pool.create_VLAN_from_PIF" and entry["outcome"] == "success":
            control.inject_fault("*", "drop_before")

    env["monkeypatch"].setattr(control, "record", record_then_die)
    return cli("--timeout", "0.5", *CREATE_105)


def local_check_lacks(cli: Any, env: dict[str, Any]) -> Any:
    """A kernel without 802.1Q (faked: the machine's own may have it) and a trunk recipe."""
    from xapictl.local import check

    env["monkeypatch"].setattr(check, "capabilities", lambda: {
        "bridge": (True, "works"), "vlan": (False, "refused: Operation not supported")})
    return cli("local", "check", str(ROOT / "recipes" / "local-trunk-vlans.yaml"))


def local_boot_damaged(cli: Any, env: dict[str, Any]) -> Any:
    """A boot recipe edited into an invalid one (refused before netlink is opened)."""
    from xapictl.local.persist import BOOT_RECIPE

    root = env["tmp_path"] / "root"
    (root / BOOT_RECIPE).parent.mkdir(parents=True)
    (root / BOOT_RECIPE).write_text("local:\n  bridges:\n    xenbr0: {mtu: big}\n")
    return cli("local", "boot", "--root", str(root))


def vif_ip_without_firewall(cli: Any, env: dict[str, Any]) -> Any:
    """libxl's online for a vif with ip=, on a host without nft and iptables (faked), with
    xenstore faked in-process: refused before any netlink call."""
    from xapictl.local import antispoof, hotplug

    keys = {"backend/vif/7/0/bridge": "xenbr0", "backend/vif/7/0/ip": "192.0.2.20"}
    written: dict[str, str] = {}
    mp = env["monkeypatch"]
    mp.setattr(hotplug.XenStore, "read", lambda self, path: keys.get(path))
    mp.setattr(hotplug.XenStore, "read_keys", lambda self, directory, wanted: {
        k: keys[f"{directory}/{k}"] for k in wanted if f"{directory}/{k}" in keys})
    mp.setattr(hotplug.XenStore, "write", lambda self, path, value: written.update({path: value}))
    mp.setattr(antispoof, "available_tools", lambda path=None: frozenset())
    ran = cli("local", "vif-hotplug", "online", "type_if=vif", extra_env={
        "XENBUS_PATH": "backend/vif/7/0", "vif": "vif7.0",
        "XAPICTL_HOTPLUG_LOG": str(env["tmp_path"] / "vif.log")})
    assert written["backend/vif/7/0/hotplug-status"] == "error"
    return ran


def vif_ip_iptables_bypassed(cli: Any, env: dict[str, Any]) -> Any:
    """The same where only iptables is there and br_netfilter's sysctl is 0 (faked): the
    rules would guard nothing, so none is installed and the vif is not attached."""
    from xapictl.local import antispoof, hotplug

    keys = {"backend/vif/7/0/bridge": "xenbr0", "backend/vif/7/0/ip": "192.0.2.20"}
    written: dict[str, str] = {}
    ran_tools: list[list[str]] = []
    mp = env["monkeypatch"]
    mp.setattr(hotplug.XenStore, "read", lambda self, path: keys.get(path))
    mp.setattr(hotplug.XenStore, "read_keys", lambda self, directory, wanted: {
        k: keys[f"{directory}/{k}"] for k in wanted if f"{directory}/{k}" in keys})
    mp.setattr(hotplug.XenStore, "write", lambda self, path, value: written.update({path: value}))
    mp.setattr(antispoof, "available_tools", lambda path=None: frozenset({"iptables"}))
    mp.setattr(antispoof, "bridge_nf", lambda key, netns: "0")
    mp.setattr(antispoof, "_run", lambda argv, netns, stdin=None: ran_tools.append(argv))
    ran = cli("local", "vif-hotplug", "online", "type_if=vif", extra_env={
        "XENBUS_PATH": "backend/vif/7/0", "vif": "vif7.0",
        "XAPICTL_HOTPLUG_LOG": str(env["tmp_path"] / "vif.log")})
    assert written["backend/vif/7/0/hotplug-status"] == "error"
    assert ran_tools == []  # no rule written
    return ran


def no_graphviz(cli: Any, env: dict[str, Any]) -> Any:
    import graphviz

    def missing() -> Any:
        raise graphviz.ExecutableNotFound(("dot", "-V"))

    env["monkeypatch"].setattr(graphviz, "version", missing)
    return cli("pool", "diagram", "--format", "svg")


def ansible_install_on_a_file(cli: Any, env: dict[str, Any]) -> Any:
    """A regular file as --path: refused, and left as it was."""
    notes = env["tmp_path"] / "notes.txt"
    notes.write_text("notes\n")
    ran = cli("ansible", "install", "--path", str(notes))
    assert notes.read_text() == "notes\n"
    return ran


VLAN_9000 = ("network", "create", "--name", "VLAN 105", "--vlan", "105", "--device", "eth1",
             "--mtu", "9000")


def trunk_below_its_vlan(cli: Any, env: dict[str, Any]) -> Any:
    """VLAN 105 at 9000 on eth1 (the trunk raised with it), then eth1's network to 1500."""
    assert cli(*VLAN_9000, "--raise-trunk-mtu", "--yes").code == 0
    return cli("network", "set-mtu", "Pool-wide network 1", "1500", "--replug", "--yes")


def bond_below_its_vlan(cli: Any, env: dict[str, Any]) -> Any:
    """The bond of eth1+eth2 at 9000 with VLAN 203 at 9000 on it, then the bond to 1500."""
    assert cli(*BOND_12, "--mtu", "9000").code == 0
    assert cli("network", "create", "--name", "VLAN 203", "--vlan", "203", "--bond",
               "Bond eth1+eth2", "--mtu", "9000", "--yes").code == 0
    return cli(*BOND_12, "--mtu", "1500")


PROVOKE: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "a key given twice in a recipe or fleet file (a section, a field, an `other_config` key)":
        key_twice,
    "a recipe that states one object both present and absent, or twice (network, VLAN "
    "trunk+tag, bond, bond member, VIF)": present_and_absent,
    "a name over 255 bytes or with a control character (recipe or option)": lambda cli, env: cli(
        "network", "create", "--name", "red\x1b[31m"),
    "a number that is not plain ASCII decimal (`²`, `٣`, `0x10`, `010`, `1e3`, a 5000-digit "
    "number)": lambda cli, env: cli("vif", "detach", "web-01", "²"),
    "a YAML alias (`*name`: an alias bomb) in a recipe, plain-Xen recipe or fleet file":
        alias_bomb,
    "YAML nested more than 32 levels, bigger than 2 MiB, or with a tag (`!!binary`, "
    "`!!python/…`)": lambda cli, env: cli(
        "plan", in_tmp(env, "deep.yaml", "[" * 40 + "]" * 40 + "\n")),
    "`inventory diff` of a missing file, a directory, an unreadable or non-export file":
        lambda cli, env: cli("inventory", "diff", "/nonexistent", "x"),
    "a `rollout` `--journal` (or `XAPICTL_JOURNAL`) that cannot hold a journal: a directory, "
    "`''`, a path under a regular file, a file that is not a journal": lambda cli, env: cli(
        "rollout", "list", "--journal", "/tmp"),
    "`rollout status`, `resume` or `audit` of a rollout ID the journal does not have (any "
    "number, beyond 64 bits too)": lambda cli, env: cli(
        "rollout", "status", "--journal", str(env["tmp_path"] / "journal.sqlite"), "--",
        "99999999999999999999"),
    "a malformed recipe": malformed,
    "`--vlan 4095` (or any bad option value)": lambda cli, env: cli(
        "network", "create", "--name", "x", "--vlan", "4095", "--device", "eth1"),
    "a VM (or network, device) that does not exist": lambda cli, env: cli(
        "vif", "attach", "x", "Pool-wide network 1"),
    "a pre-flight check (tag taken, device missing, role too weak …)": lambda cli, env: cli(
        "network", "create", "--name", "V7", "--vlan", "7", "--device", "eth9"),
    "wrong user or password": lambda cli, env: cli(
        *CREATE_105, extra_env={"XAPICTL_PASSWORD": "not-the-password"}),
    "a credential or TLS option or variable but no pool (`--user`, `--password-file`, "
    "`--ca`, `--fingerprint`, `--insecure`, `XAPICTL_USER`, `XAPICTL_PASSWORD` without a URL "
    "or profile)": lambda cli, env: cli(*CREATE_105, extra_env={"XAPICTL_URL": None}),
    "no pool chosen and the embedded pool turned off (`XAPICTL_EMBEDDED=never`)":
        lambda cli, env: cli(*CREATE_105, extra_env={**NO_POOL, "XAPICTL_EMBEDDED": "never"}),
    "a connection option that cannot work (`--url http://[::1`, an empty or non-UTF-8 "
    "password file, a `--ca` that is not PEM, a broken `pools.toml` …)": lambda cli, env: cli(
        "--url", "http://[::1", *CREATE_105),
    "the pinned fingerprint does not match (`--insecure` too)": pin_mismatch,
    "the pool cannot be reached": lambda cli, env: cli(
        "--timeout", "0.5", *CREATE_105, extra_env={"XAPICTL_URL": "http://127.0.0.1:9"}),
    "the pool's certificate is not trusted": lambda cli, env: cli(
        "--timeout", "5", *CREATE_105,
        extra_env={"XAPICTL_URL": env["sim_server"].url.replace("http://", "https://")}),
    "the pool changed between plan and apply so that a step no longer applies (drift)": drift,
    "applied, but the pool does not match the recipe when read again (twice)": not_verified,
    "applied and verified, but a new plan is not empty": replan_not_empty,
    "the pool stops answering part way through an apply": stops_answering,
    "a disruptive change (destroy, unplug, move, re-plug, rename, re-purpose) off a terminal "
    "without `--yes`": disruptive_off_terminal,
    'the question at a terminal answered "n"': declined,
    "`network create` with a VLAN tag already carried on that trunk by another network":
        tag_carried,
    "work deferred for an offline host (`apply`, or `plan` with nothing else to do)": deferred,
    "another run holds the pool's write lease past `--lock-timeout`": locked,
    "`apply PLANFILE`: an object the saved plan relies on changed since `plan --out` (stale)":
        saved_stale,
    "`apply PLANFILE`: the saved plan is older than `--max-age` (default 1h)": saved_expired,
    "`apply PLANFILE`: the saved plan was made for another pool": saved_other_pool,
    "`apply PLANFILE`: the file was edited, truncated or is not a saved plan": saved_altered,
    "a private network (`--tunnel`, `tunnel:`) whose transport network has no IP on any live "
    "host: XAPI would write each tunnel, then refuse it": lambda cli, env: cli(
        "network", "create", "--name", "Lab", "--tunnel", "gre", "--transport",
        "Pool-wide network 1"),
    "`pif scan HOST` of a host the pool does not have": lambda cli, env: cli(
        "pif", "scan", "nohost"),
    "an SR-IOV network (`--sriov`, `sriov: true`) over NICs of two models (PCI vendor and "
    "device ids): XAPI would write the first hosts', then refuse the others": sriov_two_models,
    "VIFs on an SR-IOV network needing more virtual functions (one per VIF) than any host "
    "has free": sriov_short_of_vfs,
    "`-o name` on a command that is not a list": lambda cli, env: cli(
        "pool", "show", "-o", "name"),
    "`-o json` (or yaml) on a command whose output is not a document": lambda cli, env: cli(
        "inventory", "export", "-o", "json"),
    "`--out` names a directory": lambda cli, env: cli(
        "inventory", "export", "--out", str(env["tmp_path"])),
    "an unknown document kind for `xapictl schema`": lambda cli, env: cli("schema", "Pol"),
    "one host's bond fails during `bond create` (default `--on-failure rollback`)":
        bond_rolled_back,
    "one host's bond fails during `bond create --on-failure stop`": bond_stopped,
    "`bond create` over the management NIC while HA is enabled": bond_under_ha,
    "`bond create` of NICs of which more than one has an IP configuration":
        lambda cli, env: cli("bond", "create", "--members", "eth0,eth2", "--yes"),
    "`bond delete` or `bond set-mode` of a network that carries no bond": lambda cli, env: cli(
        "bond", "delete", "Pool-wide network 1", "--yes"),
    "`pif set-ip` (or an `interfaces:` entry) with an address another PIF of the pool has":
        lambda cli, env: cli(*SET_IP, "--address", "198.51.100.12/24", "--yes"),
    "`pif set-ip` (or an `interfaces:` entry) with a gateway outside the address's subnet":
        lambda cli, env: cli(*SET_IP, "--address", "203.0.113.11/24", "--gateway",
                             "198.51.100.1", "--yes"),
    "`host set-management` (or `management:`) onto a network whose PIFs have no address":
        lambda cli, env: cli(*SET_MANAGEMENT, "Pool-wide network 1", "--yes"),
    "`host set-management` (or `management:`) onto addresses this client cannot reach":
        lambda cli, env: cli(*SET_MANAGEMENT, "Pool-wide network 2", "--yes"),
    "`host set-management` (or `management:`) while HA is enabled": management_under_ha,
    "`host set-management` (or `management:`): a member does not answer on its new address "
    "within the deadline (`--timeout`)": member_not_answering,
    "`host set-management` (or `management:`): XAPI refuses `pool.recover_slaves` once the "
    "master has moved": recover_slaves_refused,
    "a step fails after steps that have no undo: a management move undone (its member did "
    "not answer) after the `interfaces:` steps of the same recipe":
        undone_after_steps_without_undo,
    "`bond create` (or `bonds:`) over the management NICs: a member does not answer at its "
    "address once `Bond.create` moved its management interface onto the bond":
        silent_once_bonded,
    "`bond delete` (or `present: false`) of the bond carrying the management interface: a "
    "member does not answer once `Bond.destroy` moved it back onto the primary member":
        silent_once_unbonded,
    "`pif set-ip` (or an `interfaces:` entry) on the management interface": lambda cli, env: cli(
        "pif", "set-ip", "xcp-host-01", "eth0", "--mode", "dhcp", "--yes"),
    "`pif set-ip --mode6 static` (or an `interfaces:` entry) with an IPv6 address another PIF "
    "of the pool has": ipv6_address_taken,
    "two `interfaces:` entries giving one address (IPv4 or IPv6) to two PIFs": one_address_twice,
    "`pif set-ip --primary-address-type` (or `primary_address_type` in an `interfaces:` entry) "
    "on the management interface": lambda cli, env: cli(
        "pif", "set-ip", "xcp-host-01", "eth0", "--primary-address-type", "ipv6", "--yes"),
    "`pif set-ip` with none of `--mode`, `--mode6`, `--primary-address-type`":
        lambda cli, env: cli("pif", "set-ip", "xcp-host-01", "eth1", "--yes"),
    "`drift --recipe` with `--fleet` or `--from`": lambda cli, env: cli(
        "drift", "--recipe", str(ROOT / "recipes" / "host-networking.yaml"), "--from",
        str(env["tmp_path"] / "export.json")),
    "`drift --recipe` whose `interfaces:` cannot apply to the pool (a network it names is "
    "missing, an address another PIF has)": lambda cli, env: cli(
        "drift", "--recipe", str(ROOT / "recipes" / "host-networking.yaml")),
    "`network set-mtu NAME N --replug` (or `mtu` with `replug: true`) raising the MTU of the "
    "network that carries the management interface, without `--replug-management`":
        lambda cli, env: cli("network", "set-mtu", "Pool-wide network 0", "9000", "--replug",
                             "--yes"),
    "`network create --vlan N --mtu M` (or `set-mtu` of a VLAN network, a VLAN entry's "
    "`mtu`) above the MTU of its trunk's network, without `--raise-trunk-mtu`":
        lambda cli, env: cli(*VLAN_9000, "--yes"),
    "`--raise-trunk-mtu` (or `raise_trunk_mtu: true`) on a VLAN whose trunk carries the "
    "management interface, without `--replug-management`": lambda cli, env: cli(
        "network", "create", "--name", "VLAN 7", "--vlan", "7", "--device", "eth0", "--mtu",
        "9000", "--raise-trunk-mtu", "--yes"),
    "`network set-mtu` (or a NIC entry's `mtu`) lowering a trunk's network below the MTU of "
    "a VLAN network on it": trunk_below_its_vlan,
    "`bond create --mtu M` (or a bond entry's `mtu`) lowering a bond's network below the MTU "
    "of a VLAN network on it": bond_below_its_vlan,
    "Ctrl-C during an apply, after a write": ctrl_c_after_a_write,
    "Ctrl-C before any write": ctrl_c_before_any_write,
    "the pool stops answering while verifying, after every step was done": dies_while_verifying,
    "`xapictl local check [RECIPE]`: the kernel lacks a feature the local backend or the"
    " recipe needs": local_check_lacks,
    "`xapictl local boot`: the boot recipe it would re-apply is not a valid recipe (edited by"
    " hand, damaged)": local_boot_damaged,
    "`xapictl local vif-hotplug online` for a vif with `ip=` where neither `nft` nor `iptables`"
    " is installed": vif_ip_without_firewall,
    "`xapictl local vif-hotplug online` for a vif with `ip=` where `nft` is absent and bridged"
    " frames bypass iptables (`br_netfilter` off in the vif's namespace)":
        vif_ip_iptables_bypassed,
    # 192.0.2.7 (TEST-NET-1) is no address of this machine: even a broken check could not
    # listen beyond loopback (the refusal comes before any socket; tests/sim checks that).
    "`sim serve --bind` on an address that is not loopback with the default password":
        lambda cli, env: cli("sim", "serve", "--bind", "192.0.2.7",
                             extra_env={"XAPICTL_SIM_PASSWORD": None}),
    "`pool diagram --format svg\\|png` (or an `--out`/`--diagram` file ending in `.svg` or "
    "`.png`) where Graphviz's `dot` is not installed": no_graphviz,
    "a `--diagram` (or `pool diagram --out`) file whose extension names no diagram format":
        lambda cli, env: cli("plan", str(ROOT / "recipes" / "trunk-vlans.yaml"), "--diagram",
                             str(env["tmp_path"] / "plan.txt")),
    "`netbox plan` or `netbox sync` without a NetBox URL, or with an `--orphans` policy it "
    "does not know": lambda cli, env: cli("netbox", "sync", extra_env={
        "XAPICTL_NETBOX_URL": None, "XAPICTL_NETBOX_TOKEN": "nbt_x.y"}),
    "`netbox plan` or `netbox sync` with `--select` but no `--fleet`":
        lambda cli, env: cli("netbox", "plan", "--netbox-url", "http://127.0.0.1:9",
                             "--select", "tag:prod", extra_env={"XAPICTL_NETBOX_TOKEN": "nbt_x.y"}),
    "`netbox watch --state` naming something that is not a watch checkpoint (a directory, "
    "another file)": lambda cli, env: cli("netbox", "watch", "--netbox-url",
                                          "http://127.0.0.1:9", "--state", "/",
                                          extra_env={"XAPICTL_NETBOX_TOKEN": "nbt_x.y"}),
    "`netbox sync` when NetBox cannot be reached (or refuses the token: 403)":
        lambda cli, env: cli("netbox", "sync", "--netbox-url", "http://127.0.0.1:9",
                             extra_env={"XAPICTL_NETBOX_TOKEN": "nbt_x.y"}),
    "`ansible install --path` names a file, not a directory":
        ansible_install_on_a_file,
}
ROWS = _rows()


def test_every_row_of_the_table_is_provoked() -> None:
    assert set(ROWS) == set(PROVOKE)


@pytest.mark.parametrize("situation", list(PROVOKE))
def test_the_message_is_what_the_cli_prints(situation: str, cli, sim_server, jsonrpc,
                                             monkeypatch, tmp_path) -> None:
    code, quoted = ROWS[situation]
    env = {"sim_server": sim_server, "jsonrpc": jsonrpc, "monkeypatch": monkeypatch,
           "tmp_path": tmp_path}
    ran = PROVOKE[situation](cli, env)
    assert ran.code == code, ran.stderr
    assert quoted, "the row quotes at least one message"
    for text in quoted:
        assert text in ran.stderr, (text, ran.stderr)


def test_the_resume_line_after_a_stopped_bond_create_is_the_command_that_resumes(
        cli, sim_server, monkeypatch) -> None:
    """``--on-failure stop`` leaves two hosts bonded (exit 5) and prints the exact command;
    running those words makes only the master's bond, and a further run sends nothing."""
    import shlex

    _third_bond_fails({"sim_server": sim_server, "monkeypatch": monkeypatch})
    stopped = cli(*BOND_12, "--on-failure", "stop", "--mode", "active-backup")
    assert stopped.code == 5, stopped.stderr
    line = stopped.stderr.splitlines()[-1]
    assert line == ("Resume with: xapictl bond create --members eth1,eth2 --mode active-backup "
                    "--on-failure stop --yes")
    # docs/bonds.md shows the last two lines of such a run (without --mode)
    block = re.findall(r"```text\n(.*?)\n```", (ROOT / "docs" / "bonds.md").read_text(),
                       re.S)[2].splitlines()
    assert block[-2:] == [stopped.stderr.splitlines()[-2],
                          line.replace(" --mode active-backup", "")]
    words = shlex.split(line.removeprefix("Resume with: "))
    assert words[0] == "xapictl"
    control = sim_server.control
    before = len(control.request_log())
    resumed = cli(*words[1:])
    assert resumed.code == 0, resumed.stderr
    sent = [e["method"] for e in control.request_log()[before:] if e["outcome"] == "success"]
    assert sent.count("Bond.create") == 1
    state = sim_server.sim.state
    assert {state.get("Bond", b)["mode"] for b in state.refs("Bond")} == {"active-backup"}
    assert len(state.refs("Bond")) == 3
    assert "already in place" in cli(*words[1:]).stdout
