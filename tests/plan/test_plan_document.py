"""The plan as a document (``xapictl.plan.document``): the human text is rendered from it, so
the two cannot disagree; it validates against its generated JSON Schema; every step says
what it does as data (action, class, identity, before/after, calls with parameters).

Checked over every tests/plan_cases fixture, over hypothesis-made recipes, and over the
plans of every recipes/*.yaml on the seed and big simulated scenarios."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_pool_builder import PoolBuilder, snapshot_from_json

from xapictl.errors import DesiredStateError, PlanError
from xapictl.plan.core import Plan
from xapictl.plan.desired import load_file, load_text
from xapictl.plan.diff import diff
from xapictl.plan.document import (
    PlanDocument,
    plan_document,
    plan_document_schema,
    render_document,
    to_json,
)
from xapictl.plan.steps import XapiStep
from xapictl.plan.steps.facts import ACTIONS, MASK, masked
from xapictl.plan.text import render_text

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "plan_cases"
VALIDATOR = jsonschema.Draft202012Validator(plan_document_schema())


def check_document(plan: Plan, snap: Any) -> dict[str, Any]:
    """The checks every plan must pass; returns the document's JSON data."""
    data = json.loads(json.dumps(to_json(plan_document(plan, snap))))
    VALIDATOR.validate(data)
    # The text is the document's: rendered from the JSON read back, it is the plan's text.
    reread = PlanDocument.model_validate(data)
    assert render_document(reread) == render_text(plan) == render_text(plan, snap)
    assert len(data["changes"]) == len(plan.steps)
    for step, change in zip(plan.steps, data["changes"], strict=True):
        assert change["action"] in ACTIONS
        assert change["reason"] == step.reason and change["subject"] == step.subject
        assert change["disruptive"] is step.disruptive
        assert change["disruption"] == step.disruption
        assert isinstance(step, XapiStep)
        # The calls are the step's, in order, each with its parameters.
        assert [c["method"] for c in change["calls"]] == list(step.calls)
        # every call but pool.recover_slaves, which takes only the session
        assert all(c["params"] for c in change["calls"] if c["method"] != "pool.recover_slaves")
        assert change["class"], step
        if change["action"] == "create":
            assert change["before"] is None and change["after"]
        if change["action"] == "delete":
            assert change["after"] is None
        if change["action"] in ("update", "move", "replug", "plug", "unplug"):
            assert change["after"], step
            # An object that exists has its uuid; one this plan creates, its placeholder.
            assert change["identity"].get("uuid") or change["identity"]["ref"].startswith(
                "<"), step
            if change["class"] == "VIF":
                assert {"vm", "vm_uuid", "device"} <= set(change["identity"]), step
    summary = data["summary"]
    assert summary["steps"] == len(plan.steps)
    assert summary["calls"] == sum(len(s.calls) for s in plan.steps if isinstance(s, XapiStep))
    assert data["changes_pending"] is plan.pending
    assert [w["message"] for w in data["warnings"]] == list(plan.warnings)
    assert all(w["code"] and w["code"] != "warning" for w in data["warnings"])
    return data


PLANNED = sorted(p.name for p in CASES.iterdir() if p.is_dir()
                 and not (p / "expected_plan.txt").read_text().startswith("REFUSED"))


@pytest.mark.parametrize("case", PLANNED)
def test_every_plan_case_document_validates_and_renders_its_text(case: str) -> None:
    folder = CASES / case
    snap = snapshot_from_json((folder / "current.json").read_text())
    plan = diff(load_file(folder / "desired.yaml"), snap)
    check_document(plan, snap)
    expected = (folder / "expected_plan.txt").read_text()
    assert render_text(plan).replace(str(folder) + "/", "") == expected


def test_a_document_names_objects_by_uuid_host_and_tag_and_shows_typed_values() -> None:
    folder = CASES / "mtu_change_replug"
    snap = snapshot_from_json((folder / "current.json").read_text())
    data = check_document(diff(load_file(folder / "desired.yaml"), snap), snap)
    set_mtu = next(c for c in data["changes"] if c["calls"][0]["method"] == "network.set_MTU")
    assert set_mtu["action"] == "update" and set_mtu["class"] == "network"
    assert set_mtu["before"] == {"MTU": 1500} and set_mtu["after"] == {"MTU": 9000}
    assert set_mtu["identity"]["uuid"] == snap.networks[set_mtu["calls"][0]["params"][0]].uuid
    pif = next(c for c in data["changes"] if c["class"] == "PIF")
    assert pif["action"] == "replug" and pif["after"] == {"MTU": 9000}
    assert {"host", "host_uuid", "device", "tag", "uuid"} <= set(pif["identity"])
    assert isinstance(pif["identity"]["tag"], int)


def test_refs_of_objects_the_plan_creates_are_placeholders() -> None:
    folder = CASES / "create_vlan_network"
    snap = snapshot_from_json((folder / "current.json").read_text())
    data = check_document(diff(load_file(folder / "desired.yaml"), snap), snap)
    create, vlan = data["changes"][:2]
    placeholder = create["identity"]["ref"]
    assert placeholder.startswith("<") and create["identity"]["name"] == "VLAN 105"
    method, params = vlan["calls"][0]["method"], vlan["calls"][0]["params"]
    assert method == "pool.create_VLAN_from_PIF" and params[1] == placeholder
    assert params[2] == 105 and vlan["identity"]["tag"] == 105


def test_secrets_in_call_parameters_are_masked() -> None:
    assert masked({"password": "hunter2", "other": {"token": "x", "mtu": 9000}}) == {
        "password": MASK, "other": {"token": MASK, "mtu": 9000}}


def test_the_schema_is_generated_draft_2020_12_with_class_as_the_key() -> None:
    schema = plan_document_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    change = schema["$defs"]["Change"]
    assert "class" in change["properties"] and "class_" not in change["properties"]
    assert set(change["properties"]["action"]["enum"]) == set(ACTIONS)


SNAP = PoolBuilder().snapshot()
network_entries = st.fixed_dictionaries(
    {"name": st.sampled_from(["A", "B", "VLAN 5", "Pool-wide network associated with eth1"])},
    optional={"vlan": st.integers(0, 4094),
              "device": st.sampled_from(["eth0", "eth1", "eth2", "eth3"]),
              "mtu": st.integers(68, 65535), "present": st.booleans(),
              "adopt": st.booleans(), "replug": st.booleans(), "rename": st.booleans(),
              "description": st.text(max_size=8)})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(network_entries, max_size=4))
def test_any_plan_document_validates_and_renders_the_same_text(nets: list[dict[str, Any]]
                                                               ) -> None:
    try:
        plan = diff(load_text(yaml.safe_dump({"networks": nets})), SNAP)
    except (DesiredStateError, PlanError):
        return
    check_document(plan, SNAP)


def _pool_with_vms() -> Any:
    b = PoolBuilder()
    b.vm("web01", running=True, host=1)
    b.vm("db01")
    net = b.network("VLAN 105", owned_as="vlan/eth1/105")
    b.vlan(net, "eth1", 105, hosts=[1, 2])
    b.vif("web01", "VLAN 105", "0", attached=True)
    b.vif("db01", "VLAN 105", "1")
    return b.snapshot()


VM_SNAP = _pool_with_vms()
vif_entries = st.fixed_dictionaries(
    {"vm": st.sampled_from(["web01", "db01"]),
     "network": st.sampled_from(["VLAN 105", "B", "VLAN 7"])},
    optional={"device": st.sampled_from(["0", "1", "2", "auto"]), "present": st.booleans(),
              "mtu": st.integers(68, 9000), "locking_mode": st.sampled_from(
                  ["locked", "unlocked", "network_default", "disabled"]),
              "ipv4_allowed": st.lists(st.sampled_from(["10.0.0.1", "10.0.0.2"]),
                                       max_size=2, unique=True)})
bond_entries = st.fixed_dictionaries(
    {"network": st.sampled_from(["Bond A", "VLAN 105"]),
     "members": st.sampled_from([["eth2", "eth3"], ["eth1", "eth2"]])},
    optional={"mode": st.sampled_from(["balance-slb", "active-backup", "lacp"]),
              "present": st.booleans()})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({}, optional={
           "mtu": st.integers(68, 9000), "replug": st.booleans(),
           "description": st.text(max_size=5)}), max_size=1),
       st.lists(vif_entries, max_size=3, unique_by=lambda v: (v["vm"], v.get("device"))),
       st.lists(bond_entries, max_size=1, unique_by=lambda b: b["network"]))
def test_any_plan_with_vifs_and_bonds_renders_from_its_document(
        nets: list[dict[str, Any]], vifs: list[dict[str, Any]],
        bonds: list[dict[str, Any]]) -> None:
    recipe = {"networks": [{"name": "B", "device": "eth2", "rename": True, **net}
                           for net in nets[:1]] + [
                  {"name": "VLAN 105", "vlan": 105, "device": "eth1"},
                  {"name": "VLAN 7", "vlan": 7, "device": "eth1"}],
              "vifs": vifs, "bonds": bonds}
    try:
        plan = diff(load_text(yaml.safe_dump(recipe)), VM_SNAP)
    except (DesiredStateError, PlanError):
        return
    check_document(plan, VM_SNAP)


def _scenario_snapshot(scenario: str, **params: Any) -> Any:
    import xapictl
    import xapictl.state.collect  # teaches connections to snapshot
    from xapictl.sim.engine import Simulator
    from xapictl.sim.inprocess import InProcessTransport

    sim = Simulator(password="pw")
    sim.reset(scenario=scenario, **params)
    with xapictl.connect("http://127.0.0.1", username="root", password="pw",
                         transport=InProcessTransport(sim)) as conn:
        return conn.snapshot()


@pytest.mark.parametrize(("scenario", "params"), [
    ("seed", {}), ("big", {"hosts": 6, "nics": 4, "vms": 12, "vlans": 12, "vifs": 24})])
def test_the_documents_of_every_recipe_on_the_scenarios_validate(scenario: str,
                                                                 params: dict[str, Any]) -> None:
    snap = _scenario_snapshot(scenario, **params)
    vms = sorted(v.name_label for v in snap.vms.values() if not v.is_a_template
                 and not v.is_control_domain)[:3]
    mine = load_text(yaml.safe_dump({
        "networks": [{"name": "VLAN 3999", "vlan": 3999, "device": "eth1", "mtu": 9000},
                     {"name": "Trunk", "device": "eth1", "rename": True, "mtu": 9000,
                      "replug": True},  # a VLAN's MTU is never above its trunk's
                     {"name": "Storage", "device": "eth2", "rename": True, "mtu": 9000,
                      "replug": True}],
        "vifs": [{"vm": vm, "network": "VLAN 3999", "locking_mode": "locked",
                  "ipv4_allowed": ["10.0.0.9"]} for vm in vms]}))
    plans = [diff(mine, snap)]
    for recipe in sorted((ROOT / "recipes").glob("*.yaml")):
        if recipe.name.startswith("local-"):
            continue  # plain-Xen recipes: another backend
        try:
            plans.append(diff(load_file(recipe), snap))
        except PlanError:
            continue  # a recipe naming VMs this scenario does not have
    for plan in plans:
        check_document(plan, snap)
    assert len(plans[0].steps) >= 6


def test_the_change_shown_in_the_concepts_page_is_what_the_code_prints() -> None:
    page = (ROOT / "docs" / "concepts.md").read_text()
    section = page.split("\n## The plan as data\n", 1)[1].split("\n## ", 1)[0]
    shown = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    folder = CASES / "mtu_change_replug"
    snap = snapshot_from_json((folder / "current.json").read_text())
    data = check_document(diff(load_file(folder / "desired.yaml"), snap), snap)
    assert shown in data["changes"]


def test_every_xapi_step_class_describes_itself() -> None:
    """No step falls back to the base class's facts (an empty class, a plain update)."""
    import xapictl.plan.steps as steps

    classes = [getattr(steps, n) for n in steps.__all__]
    step_classes = [c for c in classes if isinstance(c, type) and issubclass(c, XapiStep)
                    and c is not XapiStep]
    assert len(step_classes) >= 18
    for cls in step_classes:
        assert cls.facts is not XapiStep.facts, cls
