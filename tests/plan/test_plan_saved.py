"""Saved plans as pure functions (``xapictl.plan.saved``): a plan saved from a snapshot passes
its check on the same snapshot, and any change to an object it relies on, to the plan made
now, to its age, its pool or its text is refused, naming what changed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from plan_pool_builder import snapshot_from_json

from xapictl.errors import SavedPlanError, StalePlanError, UsageError
from xapictl.plan.desired import load_file
from xapictl.plan.diff import diff
from xapictl.plan.saved import check_saved, dumps, load_saved, parse_age, save_plan

CASES = Path(__file__).resolve().parents[1] / "plan_cases"
NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _case(name: str) -> tuple[Any, Any, Any, Any]:
    folder = CASES / name
    desired = load_file(folder / "desired.yaml")
    snap = snapshot_from_json((folder / "current.json").read_text())
    plan = diff(desired, snap)
    doc = save_plan(plan, snap, pool_url="https://pool", now=NOW, recipe_source="r.yaml",
                    recipe_text=(folder / "desired.yaml").read_text())
    return desired, snap, plan, load_saved(dumps(doc), "plan.json")


def test_a_saved_plan_passes_on_the_pool_it_was_made_from() -> None:
    _, snap, plan, doc = _case("mtu_change_replug")
    assert doc.saved is not None and doc.saved.fingerprints
    assert {f.class_ for f in doc.saved.fingerprints} >= {"network", "PIF", "VIF"}
    check_saved(doc, snap, plan, now=NOW + HOUR / 2, max_age=HOUR, source="plan.json")


def test_a_changed_object_is_named_with_how_it_changed() -> None:
    desired, snap, _, doc = _case("mtu_change_replug")
    ref, net = next((r, n) for r, n in snap.networks.items() if n.name_label == "VLAN 105")
    changed = dataclasses.replace(
        snap, networks={**snap.networks, ref: dataclasses.replace(net, mtu=1600)})
    with pytest.raises(StalePlanError) as err:
        check_saved(doc, changed, diff(desired, changed), now=NOW, max_age=HOUR,
                    source="plan.json")
    assert f"network 'VLAN 105' (uuid {net.uuid}): MTU 1500 -> 1600" in err.value.changes


def test_a_gone_object_is_named() -> None:
    _, snap, _, doc = _case("vif_move_and_settings")
    assert doc.saved is not None
    vif = next(f for f in doc.saved.fingerprints if f.class_ == "VIF")
    gone = dataclasses.replace(snap, vifs={r: v for r, v in snap.vifs.items() if r != vif.ref})
    with pytest.raises(StalePlanError) as err:
        check_saved(doc, gone, None, now=NOW, max_age=HOUR, source="plan.json")
    assert any(c.endswith("no longer exists") and vif.identity.uuid in c
               for c in err.value.changes)


def test_expired_and_other_pool_and_altered() -> None:
    _, snap, plan, doc = _case("create_vlan_network")
    with pytest.raises(StalePlanError, match="has expired: made 2026-01-02T03:04:05"):
        check_saved(doc, snap, plan, now=NOW + 2 * HOUR, max_age=HOUR, source="p")
    other = dataclasses.replace(snap, pools={
        r: dataclasses.replace(p, uuid="other") for r, p in snap.pools.items()})
    with pytest.raises(SavedPlanError, match="made for another pool"):
        check_saved(doc, other, plan, now=NOW, max_age=HOUR, source="p")
    data = json.loads(dumps(doc))
    data["changes"][0]["calls"][0]["params"][0]["MTU"] = 1500
    with pytest.raises(SavedPlanError, match="altered after it was written"):
        load_saved(json.dumps(data), "p")
    data = json.loads(dumps(doc))
    data["saved"]["recipe"]["text"] += "\n# edited"
    with pytest.raises(SavedPlanError, match="altered after it was written"):
        load_saved(json.dumps(data), "p")


@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 90), ("90s", 90), ("30m", 1800), ("1h", 3600), ("2d", 172800), ("1.5h", 5400)])
def test_max_age_durations(text: str, seconds: int) -> None:
    assert parse_age(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0", "soon", "-1h", "1w", "inf", "nan", "400d"])
def test_bad_max_age_is_bad_input(text: str) -> None:
    with pytest.raises(UsageError, match=r"--max-age: .* is not a duration"):
        parse_age(text)
