"""Recipe validation: every problem names the file, the line and the field, and says how to
fix it; nothing is guessed; the published JSON Schema is current and agrees with the loader."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from xapictl.errors import DesiredStateError
from xapictl.plan.desired import load_file, load_text
from xapictl.plan.recipe_model import json_schema

ROOT = Path(__file__).resolve().parents[2]


def problems(text: str) -> list[str]:
    with pytest.raises(DesiredStateError) as info:
        load_text(text, source="r.yaml")
    return info.value.problems


def test_unstated_fields_mean_leave_alone() -> None:
    state = load_text("networks:\n  - name: App\n")
    net = state.networks[0]
    assert (net.mtu, net.description, net.tags, net.other_config) == (None, None, None, None)


def test_problem_names_file_line_field_and_fix() -> None:
    [p] = problems("version: 1\nnetworks:\n  - name: App\n    mtu: big\n")
    assert p.startswith("r.yaml:4: networks[0].mtu: must be a whole number")
    assert "e.g. `mtu: 9000`" in p


def test_unknown_field_suggests_the_close_one() -> None:
    [p] = problems("networks:\n  - name: App\n    vlna: 5\n")
    assert "r.yaml:3: networks[0].vlna: unknown field (did you mean `vlan`?)" in p


def test_every_problem_is_reported_at_once() -> None:
    found = problems("networks:\n  - name: A\n    mtu: 1\n  - vlan: 9999\nbonds: 3\n")
    assert len(found) == 4


def test_vlan_tag_range_is_0_to_4094() -> None:
    assert load_text("networks:\n  - {name: a, vlan: 0, device: eth1}\n").networks[0].vlan == 0
    [p] = problems("networks:\n  - {name: a, vlan: 4095, device: eth1}\n")
    assert "4095 is out of range 0-4094" in p


def test_vlan_needs_a_trunk() -> None:
    [p] = problems("networks:\n  - {name: a, vlan: 5}\n")
    assert "a VLAN needs its trunk" in p


def test_yaml_syntax_error_names_the_line() -> None:
    [p] = problems("networks:\n  - name: [unclosed\n")
    assert p.startswith("r.yaml:3: not valid YAML")


def test_duplicate_network_names_are_refused() -> None:
    [p] = problems("networks:\n  - {name: a}\n  - {name: a}\n")
    assert "already stated at r.yaml:2" in p


def test_nic_network_cannot_be_removed() -> None:
    [p] = problems("networks:\n  - {name: a, device: eth2, present: false}\n")
    assert "cannot be removed" in p


def test_vif_device_is_a_number_0_to_15_or_auto() -> None:
    assert load_text("vifs:\n  - {vm: a, network: b, device: 15}\n").vifs[0].device == "15"
    assert load_text("vifs:\n  - {vm: a, network: b}\n").vifs[0].device == "auto"
    [p] = problems("vifs:\n  - {vm: a, network: b, device: 16}\n")
    assert "device number 0-15" in p


def test_plain_xen_recipe_is_pointed_to_the_local_backend() -> None:
    [p] = problems("local:\n  bridges: []\n")
    assert "xapictl local apply" in p


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DesiredStateError, match="no such recipe file"):
        load_file(tmp_path / "nope.yaml")


def test_the_documented_regeneration_command_writes_the_published_schema() -> None:
    """docs/recipes.md's command, run as written (its output, not the file, is compared)."""
    page = (ROOT / "docs" / "recipes.md").read_text()
    [command] = re.findall(r"```sh\n(python -m xapictl\.plan\.recipe_model) > "
                           r"docs/recipe\.schema\.json\n```", page)
    out = subprocess.run([sys.executable, *command.split()[1:]], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout == (ROOT / "docs" / "recipe.schema.json").read_text()


def test_published_schema_is_current() -> None:
    published = json.loads((ROOT / "docs" / "recipe.schema.json").read_text())
    assert published == json_schema(), \
        "run: python -m xapictl.plan.recipe_model > docs/recipe.schema.json"


@pytest.mark.parametrize("path", sorted(p for p in (ROOT / "recipes").glob("*.yaml")
                                        if not p.name.startswith("local-")),
                         ids=lambda p: p.name)
def test_every_recipe_file_validates_against_the_schema(path: Path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text()), json_schema())
    load_file(path)


def test_schema_rejects_what_the_loader_rejects() -> None:
    bad = {"networks": [{"name": "a", "vlan": 5000, "device": "eth1"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, json_schema())


def test_problems_are_structured_field_path_and_message_with_field_references() -> None:
    from xapictl.errors import FieldRef

    with pytest.raises(DesiredStateError) as info:
        load_text("networks:\n  - {name: a, vlan: 5}\n", source="r.yaml")
    [p] = info.value.details
    assert (p.where, p.field) == ("r.yaml:2", "networks[0].vlan")
    assert FieldRef("device", "eth1") in p.parts
    assert p.message(lambda ref: f"<{ref.field}>") == ("a VLAN needs its trunk: add <device> "
                                                        "or <bond>")
    assert info.value.problems == [str(p)]
