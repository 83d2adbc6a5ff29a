"""Plain-Xen recipes: contradictions, duplicate keys, odd numbers and interface names are input
errors naming the file and line(s) (issue 10, clauses 7 and 8); nothing reaches netlink."""

from __future__ import annotations

from pathlib import Path

import pytest

from xapictl.errors import DesiredStateError
from xapictl.local.desired import load_recipe, parse_recipe


def problems(text: str) -> list[str]:
    with pytest.raises(DesiredStateError) as info:
        parse_recipe(text, "h.yaml")
    return info.value.problems


def test_a_bridge_stated_twice_names_both_lines() -> None:
    text = ("local:\n  bridges:\n    br1: {uplink: eth1}\n"
            "    br1: {uplink: eth2, state: absent}\n")
    assert problems(text) == ["h.yaml:4: local.bridges.br1: given twice, at h.yaml:3 and "
                              "h.yaml:4; keep one (YAML would silently keep only the last)"]


def test_the_local_section_twice() -> None:
    [p] = problems("local:\n  bridges: {br1: {}}\nlocal:\n  bridges: {br2: {}}\n")
    assert p.startswith("h.yaml:3: local: given twice, at h.yaml:1 and h.yaml:3")


def test_one_name_for_a_bridge_and_a_bond() -> None:
    text = "local:\n  bridges:\n    bond0: {}\n  bonds:\n    bond0: {slaves: [eth1]}\n"
    assert problems(text) == ["h.yaml:5: local.bonds.bond0: bond0 is also stated as "
                              "local.bridges.bond0 at h.yaml:3; one interface, one entry"]


@pytest.mark.parametrize(("name", "message"), [
    ("br:1", "names are interface names: printable ASCII, no '/', ':' or spaces"),
    ("'br 1'", "names are interface names: printable ASCII, no '/', ':' or spaces"),
    ("brü", "names are interface names: printable ASCII, no '/', ':' or spaces"),
    ("'..'", "names are interface names: printable ASCII, no '/', ':' or spaces"),
    ("a234567890123456", "names are at most 15 characters"),
])
def test_bridge_names_follow_linux_interface_name_rules(name: str, message: str) -> None:
    [p] = problems(f"local:\n  bridges:\n    {name}: {{}}\n")
    assert p.startswith("h.yaml:3: local.bridges.") and p.endswith(message)


@pytest.mark.parametrize("value", ['"٣"', "0x10", "010", "1e3", "true", "9" * 5000, "[1]"])
def test_integers_are_decimal_ascii_digits(value: str) -> None:
    [p] = problems(f"local:\n  bridges:\n    br1:\n      uplink: eth1\n      vlan: {value}\n")
    assert p.startswith("h.yaml:5: local.bridges.br1.vlan: must be an integer 1-4094, got ")
    assert len(p) < 200


@pytest.mark.parametrize("value", ['"٣"', '"²"', '"5' + "5" * 20 + '"'])
def test_vif_vlan_specs_take_ascii_digits(value: str) -> None:
    [p] = problems(f"local:\n  bridges:\n    br1: {{vlan_filtering: true}}\n"
                   f"  vifs:\n    vif1.0: {{bridge: br1, vlan: {value}}}\n")
    assert p.startswith("h.yaml:5: local.vifs.vif1.0.vlan: vlan=")


def test_an_alias_is_refused() -> None:
    [p] = problems("local:\n  bridges:\n    br1: &b {}\n    br2: *b\n")
    assert p.startswith("h.yaml:4: YAML alias *b is not accepted")


def test_a_file_that_is_not_utf8_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "host.yaml"
    path.write_bytes(b"local:\n  bridges: {br\xe9: {}}\n")
    with pytest.raises(DesiredStateError, match="not UTF-8 text"):
        load_recipe(path)


def test_a_vif_on_a_bridge_the_recipe_tears_down() -> None:
    text = ("local:\n  bridges:\n    br1: {state: absent}\n"
            "  vifs:\n    vif1.0: {bridge: br1}\n")
    assert problems(text) == ["h.yaml:5: local.vifs.vif1.0.bridge: bridge br1 is torn down at "
                              "h.yaml:3 (state: absent); attach the vif elsewhere or keep the "
                              "bridge"]


def test_a_bridge_on_a_bond_the_recipe_tears_down() -> None:
    text = ("local:\n  bonds:\n    bond0: {state: absent}\n"
            "  bridges:\n    br1: {uplink: bond0}\n")
    assert problems(text) == ["h.yaml:5: local.bridges.br1.uplink: bond bond0 is torn down at "
                              "h.yaml:3 (state: absent); keep the bond or choose another uplink"]
