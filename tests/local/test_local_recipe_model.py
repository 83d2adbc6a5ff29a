"""Plain-Xen recipes are validated by typed models (issue 11 item 6): the published schema is
generated from them and current, every shipped local recipe satisfies it, a value given from
Python gets the sentence a YAML value gets, and a misspelt field gets a 'did you mean'."""

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
from pydantic import ValidationError

from xapictl.errors import DesiredStateError
from xapictl.local.desired import load_recipe, parse_recipe
from xapictl.local.recipe_model import Bad, BondEntry, BridgeEntry, VifEntry, json_schema

ROOT = Path(__file__).resolve().parents[2]
LOCAL_RECIPES = sorted((ROOT / "recipes").glob("local-*.yaml"))


def test_published_schema_is_current() -> None:
    published = json.loads((ROOT / "docs" / "local-recipe.schema.json").read_text())
    assert published == json_schema(), \
        "run: python -m xapictl.local.recipe_model > docs/local-recipe.schema.json"


def test_the_documented_regeneration_command_writes_the_published_schema() -> None:
    """docs/local-backend.md's command, run as written (its output is compared)."""
    page = (ROOT / "docs" / "local-backend.md").read_text()
    [command] = re.findall(r"```shell\n(python -m xapictl\.local\.recipe_model) > "
                           r"docs/local-recipe\.schema\.json\n```", page)
    out = subprocess.run([sys.executable, *command.split()[1:]], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout == (ROOT / "docs" / "local-recipe.schema.json").read_text()


def test_the_schema_is_listed_in_the_local_backend_page() -> None:
    assert "](local-recipe.schema.json)" in (ROOT / "docs" / "local-backend.md").read_text()


@pytest.mark.parametrize("path", LOCAL_RECIPES, ids=lambda p: p.name)
def test_every_local_recipe_validates_against_the_schema_and_the_loader(path: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(json_schema())
    jsonschema.validate(yaml.safe_load(path.read_text()), json_schema())
    load_recipe(path)


def test_there_are_local_recipes_to_check() -> None:
    assert len(LOCAL_RECIPES) >= 3


@pytest.mark.parametrize("bad", [
    {"local": {"bridges": {"xenbr0": {"vlan": 5000, "uplink": "eth1"}}}},
    {"local": {"bridges": {"xenbr0": {"colour": "blue"}}}},
    {"local": {"bridges": {"xenbr0": {"uplink": None}}}},
    {"local": {"bonds": {"bond0": {"slaves": [], "mode": "lacp"}}}},
    {"local": {"vifs": {"vif1.0": {"mtu": 20}}}},
    {"local": {"bridges": {"br:0": {}}}},
    {"local": {"allow_dhcp": "yes please"}},
    {"bridges": {}},
])
def test_schema_rejects_what_the_loader_rejects(bad: dict[str, object]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, json_schema())
    with pytest.raises(DesiredStateError):
        parse_recipe(yaml.safe_dump(bad), "h.yaml")


@pytest.mark.parametrize(("model", "values", "message"), [
    (BridgeEntry, {"mtu": 20}, "must be an integer 68-65535, got '20'"),
    (BridgeEntry, {"mtu": "0x10"}, "must be an integer 68-65535, got '0x10'"),
    (BridgeEntry, {"stp": "yes"}, "must be true or false, got 'yes'"),
    (BridgeEntry, {"uplink": "eth/0"}, "must be an interface name of 1-15 characters"),
    (BridgeEntry, {"trunk_vids": [1, 5000]}, "'5000' is not a VLAN ID 1-4094 or a range 'A-B'"),
    (BondEntry, {"mode": "lacp"}, "must be one of balance-rr, active-backup"),
    (VifEntry, {"vlan": "10/20"}, "needs exactly one PVID"),
    (VifEntry, {"state": "gone"}, "must be 'present' or 'absent'"),
])
def test_python_values_get_the_yaml_sentence(model: type[BridgeEntry], values: dict[str, object],
                                             message: str) -> None:
    with pytest.raises(ValidationError) as info:
        model.model_validate(values)
    [error] = info.value.errors()
    bad = error["ctx"]["error"]
    assert isinstance(bad, Bad) and message in str(bad)


def test_python_values_build_typed_entries() -> None:
    bridge = BridgeEntry.model_validate({"uplink": "eth1", "trunk_vids": [101, "103-105"],
                                         "vlan_filtering": True, "mac": "00:16:3E:00:00:01"})
    assert (bridge.uplink, bridge.trunk_vids, bridge.mac) == (
        "eth1", (101, 103, 104, 105), "00:16:3e:00:00:01")
    assert VifEntry.model_validate({"vlan": "10p/20"}).vlan is not None


def test_a_misspelt_field_gets_a_did_you_mean_hint_at_its_line() -> None:
    text = "local:\n  bridges:\n    xenbr0:\n      uplink: eth0\n      mut: 9000\n"
    with pytest.raises(DesiredStateError) as info:
        parse_recipe(text, "h.yaml")
    assert info.value.problems == [
        "h.yaml:5: local.bridges.xenbr0.mut: unknown field (did you mean `mtu`?); allowed: "
        "uplink, vlan, vlan_filtering, trunk_vids, addresses, mtu, mac, stp, forward_delay, "
        "state"]


def test_every_bad_item_of_a_list_is_named_at_its_own_line() -> None:
    text = ("local:\n  bridges:\n    xenbr0:\n      uplink: eth0\n      vlan_filtering: true\n"
            "      trunk_vids:\n        - 5000\n        - 7\n        - x\n"
            "  probes: [192.0.2.1, gw]\n")
    with pytest.raises(DesiredStateError) as info:
        parse_recipe(text, "h.yaml")
    assert info.value.problems == [
        "h.yaml:7: local.bridges.xenbr0.trunk_vids: '5000' is not a VLAN ID 1-4094 or a range "
        "'A-B'",
        "h.yaml:9: local.bridges.xenbr0.trunk_vids: 'x' is not a VLAN ID 1-4094 or a range 'A-B'",
        "h.yaml:10: local.probes: 'gw' is not an IP address",
    ]
