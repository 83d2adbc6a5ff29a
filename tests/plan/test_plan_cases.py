"""The plan cases: tests/plan_cases/<case>/{desired.yaml, current.json, expected_plan.txt}.

``diff`` is pure, so each case is data. A refused plan is pinned as ``REFUSED`` followed by
the pre-flight problems. Set REGEN_PLAN_CASES=1 to rewrite the expectations (and
review the diff before committing)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from plan_pool_builder import snapshot_from_json

from xapictl.errors import PlanError
from xapictl.plan.desired import load_file
from xapictl.plan.diff import diff
from xapictl.plan.text import render_text

CASES = Path(__file__).resolve().parents[1] / "plan_cases"


def render_case(folder: Path) -> str:
    desired = load_file(folder / "desired.yaml")
    snap = snapshot_from_json((folder / "current.json").read_text())
    try:
        return render_text(diff(desired, snap))
    except PlanError as exc:
        return "REFUSED\n" + str(exc) + "\n"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_plan_case_matches_expected_plan(case: str) -> None:
    folder = CASES / case
    actual = render_case(folder).replace(str(folder) + "/", "")
    expected_file = folder / "expected_plan.txt"
    if os.environ.get("REGEN_PLAN_CASES"):
        expected_file.write_text(actual)
    assert actual == expected_file.read_text(), f"case {case}: expected\n" \
        f"{expected_file.read_text()}\nactual\n{actual}"
