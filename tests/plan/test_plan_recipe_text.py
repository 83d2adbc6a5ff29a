"""``recipe_text``: a desired state written back as a recipe reads back as the same state."""

from __future__ import annotations

from pathlib import Path

import pytest

from xapictl.plan.desired import DesiredState, load_file, load_text
from xapictl.plan.recipe_text import recipe_text
from xapictl.recipes import ensure_mtu, ensure_network, ensure_vlan_network, ensure_vm_attached

ROOT = Path(__file__).resolve().parents[2]
STATES = [
    ensure_vlan_network("VLAN 105", 105, device="eth1", mtu=9000, description="web"),
    ensure_network("lab", present=False, adopt=True),
    ensure_network("tagged", other_config={"folder": "/lab"}, tags=["prod"], purpose=["nbd"]),
    ensure_vm_attached("web-01", "VLAN 105", device="1", locking_mode="locked",
                       ipv4_allowed=["172.21.0.10"]),
    ensure_vm_attached("web-01", "-", device="2", present=False),
    ensure_mtu("VLAN 105", 9000, vlan=105, device="eth1", replug=True),
    *[load_file(p) for p in sorted((ROOT / "docs" / "examples").glob("*.yaml"))],
]


@pytest.mark.parametrize("state", STATES, ids=lambda s: s.source)
def test_the_recipe_text_reads_back_as_the_same_state(state: DesiredState) -> None:
    assert load_text(recipe_text(state), source=state.source) == state


def test_only_stated_fields_are_written() -> None:
    text = recipe_text(ensure_vlan_network("VLAN 105", 105, device="eth1"))
    assert text == "version: 1\nnetworks:\n- name: VLAN 105\n  vlan: 105\n  device: eth1\n"
