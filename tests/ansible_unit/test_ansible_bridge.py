"""What the collection's modules do, without Ansible: ``xapictl.ansible_collection.bridge``
against an in-process simulated pool (the modules only declare options and call it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import xapictl
from xapictl import errors as e
from xapictl.ansible_collection import bridge
from xapictl.sim.engine import Simulator
from xapictl.sim.inprocess import InProcessTransport

PASSWORD = "xapictl"


@pytest.fixture
def scenario() -> str:
    """The simulated pool's scenario (a test overrides it with ``parametrize``)."""
    return "seed"


@pytest.fixture
def params(monkeypatch: pytest.MonkeyPatch, scenario: str) -> Iterator[dict[str, Any]]:
    """Module parameters whose pool is an in-process simulated pool, the seed pool unless the
    test names another ``scenario`` (the library's ``connect`` given the simulator's
    transport)."""
    sim = Simulator(password=PASSWORD)
    sim.reset(scenario=scenario)
    connect = xapictl.connect

    def in_process(url: str, **options: Any) -> Any:
        return connect(url, transport=InProcessTransport(sim), **options)

    monkeypatch.setattr(xapictl, "connect", in_process)
    yield {"url": "http://127.0.0.1", "password": PASSWORD, "validate_certs": True}
    sim.close()


VLAN_105 = {"name": "VLAN 105", "vlan": 105, "device": "eth1", "state": "present"}


def test_check_mode_is_the_plan_and_apply_then_nothing_to_do(params: dict[str, Any]) -> None:
    checked = bridge.run_module("network", {**params, **VLAN_105}, check_mode=True)
    assert not checked.failed and checked.result["changed"] is True
    assert checked.result["writes"] == [] and checked.result["plan"]["summary"]["steps"] == 2
    applied = bridge.run_module("network", {**params, **VLAN_105}, check_mode=False)
    assert applied.result["changed"] is True and applied.result["verified"] is True
    assert [w["method"] for w in applied.result["writes"]] == [
        "network.create", "pool.create_VLAN_from_PIF"]
    again = bridge.run_module("network", {**params, **VLAN_105}, check_mode=False)
    assert again.result["changed"] is False and again.result["writes"] == []
    assert again.result["diff"] == [] and again.result["verified"] is None
    assert bridge.run_module("network", {**params, **VLAN_105}, check_mode=True
                             ).result["changed"] is False


def test_the_diff_is_the_plans_before_and_after() -> None:
    plan = {"changes": [
        {"action": "create", "title": "create", "subject": "network 'A'", "before": None,
         "after": {"name_label": "A", "MTU": 1500}},
        {"action": "update", "title": "set MTU", "subject": "network 'B'",
         "before": {"MTU": 1500}, "after": {"MTU": 9000}},
        {"action": "destroy", "title": "destroy", "subject": "network 'C'", "before": None,
         "after": None}]}
    assert bridge.plan_diff(plan) == [
        {"before_header": "network 'A'", "after_header": "network 'A' (create)",
         "before": "", "after": "MTU: 1500\nname_label: A\n"},
        {"before_header": "network 'B'", "after_header": "network 'B' (set MTU)",
         "before": "MTU: 1500\n", "after": "MTU: 9000\n"},
        {"before_header": "network 'C'", "after_header": "network 'C' (destroy)",
         "before": "exists: true\n", "after": ""}]


@pytest.mark.parametrize(("exc", "changed", "code"), [
    (e.UsageError("x"), False, 2), (e.DesiredStateError(["x"]), False, 2),
    (e.XapiFailure("SESSION_AUTHENTICATION_FAILED", ["root"]), False, 4),
    (e.XapiFailure("INTERNAL_ERROR"), True, 5),
    (e.ConnectError("refused"), False, 4),
    (e.VerificationError("MTU", 9000, 1500), True, 5)])
def test_each_error_has_the_clis_exit_code(exc: e.XapictlError, changed: bool,
                                           code: int) -> None:
    assert bridge.exit_code(exc, changed=changed) == code


def test_bad_input_is_refused_before_any_connection(params: dict[str, Any],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def no_connection(*_: Any, **__: Any) -> Any:
        raise AssertionError("connected")

    monkeypatch.setattr(xapictl, "connect", no_connection)
    out = bridge.run_module("network", {**params, **VLAN_105, "vlan": 5000}, check_mode=False)
    assert out.failed and out.result["exit_class"] == "bad_input"
    assert out.msg.startswith("ensure_vlan_network('VLAN 105'): vlan: 5000 is out of range")
    bond = bridge.run_module("network", {**params, "name": "x", "bond": "bond0"},
                             check_mode=False)
    assert bond.msg == "bond is the trunk of a VLAN: add vlan (a tag 0-4094)"


@pytest.mark.parametrize(("given", "message"), [
    ({}, "no pool: give url (or XAPICTL_URL) or profile (or XAPICTL_POOL)"),
    ({"url": "http://127.0.0.1"}, "no password: give password (no_log) or set "
                                  "XAPICTL_PASSWORD, or use a profile"),
    ({"url": "http://127.0.0.1", "profile": "a"}, "url and profile both name a pool: give "
                                                  "one of them")])
def test_a_module_without_a_pool_is_refused(given: dict[str, Any], message: str) -> None:
    out = bridge.run_module("pool_info", given, check_mode=False)
    assert out.failed and out.msg == message and out.result["exit_code"] == 2


def test_the_recipe_module_takes_a_file_or_a_mapping(params: dict[str, Any]) -> None:
    inline = {"version": 1, "networks": [{"name": "VLAN 7", "vlan": 7, "device": "eth1"}]}
    out = bridge.run_module("recipe", {**params, "recipe": inline}, check_mode=True)
    assert out.result["changed"] is True
    both = bridge.run_module("recipe", {**params, "recipe": inline, "src": "x.yaml"},
                             check_mode=True)
    assert both.msg == "give one of src (a recipe file) or recipe (an inline mapping)"
    missing = bridge.run_module("recipe", {**params, "src": "/nonexistent.yaml"},
                                check_mode=True)
    assert missing.result["exit_class"] == "bad_input" and "no such recipe file" in missing.msg


def test_vif_and_bond_modules_plan_through_the_library(params: dict[str, Any]) -> None:
    vif = bridge.run_module("vif", {**params, "vm": "web-01", "network": "Pool-wide network 1",
                                    "state": "present"}, check_mode=True)
    assert vif.result["changed"] is True, vif.msg
    assert vif.result["plan"]["changes"][0]["class"] == "VIF"
    bond = bridge.run_module("bond", {**params, "network": "bond0", "members": ["eth1", "eth2"],
                                      "mode": "active-backup", "state": "present"},
                             check_mode=True)
    assert bond.result["changed"] is True, bond.msg
    assert {c["class"] for c in bond.result["plan"]["changes"]} >= {"Bond"}


def test_inventory_members_carry_uuid_address_power_networks_and_vlans(
        params: dict[str, Any]) -> None:
    bridge.run_module("network", {**params, **VLAN_105}, check_mode=False)
    found = bridge.pool_inventory(params)
    assert found["pool"]["name"] == "seed-pool"
    by_name = {m["name"]: m for m in found["members"]}
    master = by_name["xcp-host-01"]
    assert master["type"] == "host" and master["master"] is True and 105 in master["vlans"]
    web = by_name["web-01"]
    assert (web["type"], web["power_state"]) == ("vm", "running") and web["address"]
    assert by_name["backup-01"]["power_state"] == "halted"


# --- private (tunnel) and SR-IOV networks -------------------------------------------------

STORAGE = "Pool-wide network 2"  # eth2: an IP on every host of the seed pool (openvswitch)
PRIVATE = {"name": "Lab private", "tunnel": {"protocol": "vxlan", "transport": STORAGE},
           "state": "present"}


def methods(out: bridge.Outcome) -> list[str]:
    return [w["method"] for w in out.result["writes"]]


def test_a_private_network_is_planned_made_then_nothing_to_do(params: dict[str, Any]) -> None:
    checked = bridge.run_module("network", {**params, **PRIVATE}, check_mode=True)
    assert not checked.failed, checked.msg
    assert checked.result["changed"] is True and checked.result["writes"] == []
    assert [c["calls"][0]["method"] for c in checked.result["plan"]["changes"]] == [
        "network.create"] + ["tunnel.create"] * 3
    assert checked.result["diff"][0]["before_header"] == "network 'Lab private'"
    applied = bridge.run_module("network", {**params, **PRIVATE}, check_mode=False)
    assert methods(applied) == ["network.create"] + ["tunnel.create"] * 3
    assert applied.result["changed"] is True and applied.result["verified"] is True
    again = bridge.run_module("network", {**params, **PRIVATE}, check_mode=False)
    assert again.result["changed"] is False and again.result["writes"] == []
    gone = bridge.run_module("network", {**params, **PRIVATE, "state": "absent"},
                             check_mode=False)
    assert methods(gone) == ["tunnel.destroy"] * 3 + ["network.destroy"]


def test_a_tunnel_without_protocol_is_gre(params: dict[str, Any]) -> None:
    out = bridge.run_module("network", {**params, **PRIVATE, "tunnel": {"transport": STORAGE}},
                            check_mode=False)
    assert methods(out) == ["network.create"] + ["tunnel.create"] * 3
    doc = bridge.run_module("network_info", {**params, "name": "Lab private"},
                            check_mode=False).result["networks"]
    assert len(doc) == 1 and "gre" in str(doc[0]) and "vxlan" not in str(doc[0])


def test_a_transport_without_ip_fails_with_the_xapi_code_before_any_write(
        params: dict[str, Any]) -> None:
    out = bridge.run_module("network", {**params, **PRIVATE, "tunnel": {
        "protocol": "gre", "transport": "Pool-wide network 1"}}, check_mode=False)
    assert out.failed and out.result["exit_class"] == "bad_input"
    assert "TRANSPORT_PIF_NOT_CONFIGURED" in out.msg and out.result["writes"] == []


@pytest.mark.parametrize("scenario", ["sriov"])
def test_an_sriov_network_is_planned_made_then_nothing_to_do(params: dict[str, Any]) -> None:
    sriov = {"name": "VF", "sriov": True, "device": "eth1", "state": "present"}
    checked = bridge.run_module("network", {**params, **sriov}, check_mode=True)
    assert checked.result["changed"] is True and checked.result["writes"] == [], checked.msg
    applied = bridge.run_module("network", {**params, **sriov}, check_mode=False)
    assert methods(applied) == ["network.create"] + ["network_sriov.create"] * 3
    again = bridge.run_module("network", {**params, **sriov}, check_mode=False)
    assert again.result["changed"] is False and again.result["writes"] == []


@pytest.mark.parametrize(("given", "message"), [
    ({"tunnel": {"transport": STORAGE}, "vlan": 5, "device": "eth1"},
     "tunnel excludes vlan, device: a private network rides on its transport network; "
     "drop vlan and device"),
    ({"tunnel": {"transport": STORAGE}, "sriov": True},
     "tunnel excludes sriov: a private network rides on its transport network; drop sriov"),
    ({"tunnel": {"protocol": "gre"}},
     "tunnel needs transport: the network whose PIFs have an IP "
     "(tunnel: {protocol: gre|vxlan, transport: NETWORK})"),
    ({"sriov": True, "device": "eth1", "vlan": 5},
     "sriov excludes vlan: an SR-IOV network is one NIC's; drop vlan"),
    ({"sriov": True}, "sriov needs its NIC: add device (eth1)")])
def test_tunnel_and_sriov_refuse_what_they_exclude_before_any_connection(
        params: dict[str, Any], monkeypatch: pytest.MonkeyPatch, given: dict[str, Any],
        message: str) -> None:
    def no_connection(*_: Any, **__: Any) -> Any:
        raise AssertionError("connected")

    monkeypatch.setattr(xapictl, "connect", no_connection)
    out = bridge.run_module("network", {**params, "name": "x", **given}, check_mode=False)
    assert out.failed and out.msg == message and out.result["exit_code"] == 2


JUMBO_110 = {"name": "VLAN 110 jumbo", "vlan": 110, "device": "eth1", "mtu": 9000,
             "state": "present"}


def test_raise_trunk_mtu_raises_the_trunk_first_and_without_it_the_vlan_is_refused(
        params: dict[str, Any]) -> None:
    refused = bridge.run_module("network", {**params, **JUMBO_110}, check_mode=False)
    assert refused.failed and refused.result["exit_code"] == 2 and refused.result["writes"] == []
    assert "MTU 9000 is above its trunk's (eth1, network 'Pool-wide network 1', MTU 1500)" \
        in refused.msg
    raised = bridge.run_module("network", {**params, **JUMBO_110, "raise_trunk_mtu": True},
                               check_mode=False)
    assert not raised.failed and raised.result["verified"] is True, raised.msg
    methods = [w["method"] for w in raised.result["writes"]]
    assert methods[0] == "network.set_MTU" and methods[-1] == "pool.create_VLAN_from_PIF"
    assert methods.count("PIF.plug") == 3


def test_replug_and_replug_management_reach_the_plan(params: dict[str, Any]) -> None:
    mgmt = {"name": "Pool-wide network 0", "device": "eth0", "mtu": 9000, "replug": True,
            "state": "present"}
    refused = bridge.run_module("network", {**params, **mgmt}, check_mode=True)
    assert refused.failed and refused.result["exit_code"] == 2
    assert "replug_management" in refused.msg
    allowed = bridge.run_module("network", {**params, **mgmt, "replug_management": True},
                                check_mode=True)
    assert not allowed.failed, allowed.msg
    assert allowed.result["plan"]["summary"]["steps"] > 1  # set_MTU and the re-plugs


@pytest.mark.parametrize(("extra", "message"), [
    ({"vlan": 7, "replug": True}, "a VLAN's trunk is raised with raise_trunk_mtu: drop replug"),
    ({"raise_trunk_mtu": True}, "raise_trunk_mtu raises the trunk of a VLAN network: add vlan")])
def test_mtu_options_where_they_mean_nothing_are_refused(params: dict[str, Any],
                                                         extra: dict[str, Any],
                                                         message: str) -> None:
    out = bridge.run_module("network", {**params, "name": "N", "device": "eth1", "mtu": 9000,
                                        "state": "present", **extra}, check_mode=True)
    assert out.failed and out.result["exit_code"] == 2 and message in out.msg


def test_the_recipe_module_moves_management_with_a_management_section(
        params: dict[str, Any]) -> None:
    """No management option on the network module: an inline recipe's ``management:``
    (the library's section) plans the move, member hosts first and the master last."""
    inline = {"version": 1, "management": {"network": "Pool-wide network 0"}}
    same = bridge.run_module("recipe", {**params, "recipe": inline}, check_mode=True)
    assert not same.failed and same.result["changed"] is False, same.msg
    elsewhere = {"version": 1, "management": {"network": "Pool-wide network 2"}}
    planned = bridge.run_module("recipe", {**params, "recipe": elsewhere}, check_mode=True)
    # eth2 of the seed pool has 198.51.100.x, which this client cannot reach: refused
    # before any write, naming it (a pool the client reaches on its new addresses moves)
    assert planned.failed and planned.result["exit_code"] == 2, planned.result
    assert "this client cannot reach 198.51.100." in planned.msg


def _example_task(name: str) -> tuple[str, dict[str, Any]]:
    """The module and arguments of the one task of ``docs/examples/ansible/NAME``."""
    from pathlib import Path

    import yaml

    path = Path(__file__).resolve().parents[2] / "docs" / "examples" / "ansible" / name
    (task,) = yaml.safe_load(path.read_text())[0]["tasks"]
    (module,) = [k for k in task if k.startswith("xapictl.xen.")]
    return module.removeprefix("xapictl.xen."), task[module]


def test_the_jumbo_vlan_example_raises_the_trunk_then_makes_the_vlan(
        params: dict[str, Any]) -> None:
    module, args = _example_task("jumbo-vlan.yml")
    done = bridge.run_module(module, {**params, "state": "present", **args}, check_mode=False)
    assert not done.failed and done.result["verified"] is True, done.msg
    assert [w["method"] for w in done.result["writes"]] == (
        ["network.set_MTU"] + ["PIF.plug"] * 3 + ["network.create", "pool.create_VLAN_from_PIF"])
    again = bridge.run_module(module, {**params, "state": "present", **args}, check_mode=False)
    assert again.result["changed"] is False and again.result["writes"] == []


@pytest.mark.parametrize("scenario", ["loopback"])
def test_the_management_example_moves_every_host_master_last(params: dict[str, Any]) -> None:
    """The ``loopback`` pool: each host's storage PIF has a loopback address (in process,
    the moved hosts answer there)."""
    module, args = _example_task("management.yml")
    checked = bridge.run_module(module, {**params, **args}, check_mode=True)
    assert checked.result["changed"] is True and checked.result["writes"] == []
    done = bridge.run_module(module, {**params, **args}, check_mode=False)
    assert not done.failed, done.msg
    assert [w["method"] for w in done.result["writes"]] == (
        ["host.management_reconfigure"] * 3 + ["pool.recover_slaves"])
    again = bridge.run_module(module, {**params, **args}, check_mode=False)
    assert again.result["changed"] is False and again.result["writes"] == []
