"""Contradictions and ambiguity in a recipe are input errors (issue 10, clause 7): the same
object stated present and absent, two entries for one identity, a key given twice, names out of
bounds. Each problem names both places (FILE:LINE) and nothing is planned."""

from __future__ import annotations

import pytest

from xapictl.errors import DesiredStateError
from xapictl.plan.desired import load_text

KEPT_LAST = "keep one (YAML would silently keep only the last)"


def problems(text: str) -> list[str]:
    with pytest.raises(DesiredStateError) as info:
        load_text(text, source="r.yaml")
    return info.value.problems


@pytest.mark.parametrize(("text", "expected"), [
    ("networks:\n  - name: a\nnetworks:\n  - name: b\n",
     f"r.yaml:3: networks: given twice, at r.yaml:1 and r.yaml:3; {KEPT_LAST}"),
    ("version: 1\nversion: 1\n", f"r.yaml:2: version: given twice, at r.yaml:1 and r.yaml:2; "
                                 f"{KEPT_LAST}"),
    ("networks:\n  - name: a\n    mtu: 1500\n    mtu: 9000\n",
     f"r.yaml:4: networks[0].mtu: given twice, at r.yaml:3 and r.yaml:4; {KEPT_LAST}"),
    ("networks:\n  - name: a\n    other_config:\n      folder: /x\n      folder: /y\n",
     f"r.yaml:5: networks[0].other_config.folder: given twice, at r.yaml:4 and r.yaml:5; "
     f"{KEPT_LAST}"),
])
def test_a_key_given_twice_anywhere_names_both_lines(text: str, expected: str) -> None:
    assert problems(text) == [expected]


def test_a_network_listed_twice_by_name() -> None:
    assert problems("networks:\n  - name: a\n  - name: a\n    present: false\n") == [
        "r.yaml:3: networks[1].name: network 'a' is already stated at r.yaml:2; keep one "
        "entry per network"]


def test_two_networks_for_one_vlan_trunk_and_tag() -> None:
    [p] = problems("networks:\n  - {name: a, vlan: 5, device: eth1}\n"
                   "  - {name: b, vlan: 5, device: eth1}\n")
    assert p == "r.yaml:3: networks[1]: VLAN 5 on eth1 is already stated at r.yaml:2"


def test_a_bond_stated_twice() -> None:
    assert problems("bonds:\n  - {network: b, members: [eth2, eth3]}\n"
                    "  - {network: b, members: [eth2, eth3], present: false}\n") == [
        "r.yaml:3: bonds[1].network: the bond of network 'b' is already stated at r.yaml:2; "
        "keep one entry per bond"]


def test_a_nic_in_two_bonds() -> None:
    assert problems("bonds:\n  - {network: b, members: [eth2, eth3]}\n"
                    "  - {network: c, members: [eth3, eth4]}\n") == [
        "r.yaml:3: bonds[1].members: eth3 is already a member of the bond of 'b' at r.yaml:2; "
        "a NIC is in one bond only"]


def test_a_bond_wanted_whose_network_is_removed() -> None:
    assert problems("networks:\n  - {name: b, present: false}\n"
                    "bonds:\n  - {network: b, members: [eth2]}\n") == [
        "r.yaml:4: bonds[0].present: network 'b' is removed at r.yaml:2 and wanted here "
        "(r.yaml:4); keep one of the two"]


def test_a_vlan_on_a_bond_the_recipe_removes() -> None:
    assert problems("bonds:\n  - {network: b, members: [eth2], present: false}\n"
                    "networks:\n  - {name: v, vlan: 5, bond: b}\n") == [
        "r.yaml:4: networks[0].bond: VLAN 5 rides on the bond of 'b', which r.yaml:2 removes; "
        "keep the bond or drop the VLAN"]


def test_a_vif_removed_and_an_automatic_vif_on_the_same_network_is_refused() -> None:
    # the case: VIF 0 of web-01 was destroyed and re-created on every apply (exit 5)
    text = ("networks:\n  - {name: n}\nvifs:\n"
            "  - {vm: web-01, network: n, device: 0, present: false}\n"
            "  - {vm: web-01, network: n}\n")
    assert problems(text) == [
        "r.yaml:5: vifs[1].present: VIF 0 of VM 'web-01' on 'n' is removed at r.yaml:4, and "
        "this entry wants a VIF on that network (the VIF would be destroyed and re-created on "
        "every apply); keep one of the two"]


def test_two_vifs_for_one_vm_and_device() -> None:
    assert problems("vifs:\n  - {vm: a, network: n, device: 1}\n"
                    "  - {vm: a, network: m, device: 1, present: false}\n") == [
        "r.yaml:3: vifs[1]: VIF 1 of VM 'a' is already stated at r.yaml:2"]


def test_two_automatic_vifs_for_one_vm_and_network() -> None:
    assert problems("vifs:\n  - {vm: a, network: n}\n  - {vm: a, network: n, mtu: 9000}\n") == [
        "r.yaml:3: vifs[1]: an automatic VIF of VM 'a' on 'n' is already stated at r.yaml:2; "
        "keep one entry per VIF"]


def test_an_automatic_vif_next_to_a_numbered_one_on_the_same_network() -> None:
    [p] = problems("vifs:\n  - {vm: a, network: n, device: 2}\n  - {vm: a, network: n}\n")
    assert p.startswith("r.yaml:3: vifs[1].device: VIF 2 of VM 'a' on 'n' is stated at "
                        "r.yaml:2; an automatic VIF on the same network")


def test_a_vif_on_a_network_the_recipe_removes() -> None:
    assert problems("networks:\n  - {name: n, present: false}\nvifs:\n  - {vm: a, network: n}\n"
                    ) == ["r.yaml:4: vifs[0].network: network 'n' is removed at r.yaml:2; a "
                          "VIF cannot be attached to it"]


def test_vifs_of_different_vms_or_networks_do_not_clash() -> None:
    state = load_text("vifs:\n  - {vm: a, network: n}\n  - {vm: b, network: n}\n"
                      "  - {vm: a, network: m}\n  - {vm: a, network: n, device: 3, "
                      "present: false}\n".replace("network: n, device: 3", "network: o, "
                                                  "device: 3"))
    assert len(state.vifs) == 4


@pytest.mark.parametrize(("name", "message"), [
    ("x" * 256, "is 256 bytes long; at most 255 bytes (UTF-8)"),
    ("é" * 128, "is 256 bytes long; at most 255 bytes (UTF-8)"),
    ("red\x1b[31m", "holds the control character U+001B at position 4; remove it"),
    ("a\tb", "holds the control character U+0009 at position 2; remove it"),
    ("a\u0085b", "holds the control character U+0085 at position 2; remove it"),
])
def test_names_are_bounded_and_free_of_control_characters(name: str, message: str) -> None:
    quoted = name.encode("unicode_escape").decode().replace('"', '\\"')
    for text, path, line in (
            (f'networks:\n  - name: "{quoted}"\n', "networks[0].name", 2),
            (f'vifs:\n  - vm: "{quoted}"\n    network: n\n', "vifs[0].vm", 2),
            (f'bonds:\n  - network: "{quoted}"\n    members: [eth2]\n', "bonds[0].network", 2)):
        [p] = problems(text)
        assert p.startswith(f"r.yaml:{line}: {path}: {message}")


def test_a_name_of_255_bytes_is_fine_and_a_description_may_hold_lines() -> None:
    state = load_text(f'networks:\n  - name: "{"x" * 255}"\n    description: "a\\nb\\tc"\n')
    assert state.networks[0].description == "a\nb\tc"


def test_tags_and_other_config_are_bounded_too() -> None:
    [p] = problems('networks:\n  - name: a\n    tags: ["\\0"]\n')
    assert p.startswith("r.yaml:3: networks[0].tags: holds the control character U+0000")
    [p] = problems(f'networks:\n  - name: a\n    other_config: {{k: "{"v" * 4097}"}}\n')
    assert p.startswith("r.yaml:3: networks[0].other_config: is 4097 bytes long")


@pytest.mark.parametrize("value", ['"²"', '"٣"', '"¹⁰"', '" 5"', '"0x1"', "0x1", "1e3", "1.0",
                                   "true", "-1", "16", "9" * 5000, "[1]", "{a: 1}", '"+1"'])
def test_vif_device_numbers_are_ascii_0_to_15(value: str) -> None:
    [p] = problems(f"vifs:\n  - vm: a\n    network: n\n    device: {value}\n")
    assert p.startswith("r.yaml:4: vifs[0].device: ")
    assert len(p) < 200


@pytest.mark.parametrize("value", ['"٣"', "0x10", "010", "1_000", "1e3", "1:30", "true",
                                   "5.0", ".inf", ".nan", '"5"', "9" * 5000, "-" + "9" * 30])
def test_integer_fields_take_decimal_ascii_digits_only(value: str) -> None:
    [p] = problems(f"networks:\n  - name: a\n    vlan: {value}\n    device: eth1\n")
    assert p.startswith("r.yaml:3: networks[0].vlan: ")
    assert len(p) < 200


def test_plain_integers_still_read() -> None:
    net = load_text("networks:\n  - {name: a, vlan: 0, device: eth1, mtu: +9000}\n").networks[0]
    assert (net.vlan, net.mtu) == (0, 9000)


def test_the_recipes_page_example_gives_the_message_it_shows() -> None:
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "recipes.md").read_text()
    after = page.split("<!-- contradiction-example -->", 1)[1]
    example = after.split("```yaml\n", 1)[1].split("```", 1)[0]
    shown = re.findall(r"`` (.+?) ``", after.split("**Names are bounded.**", 1)[0], re.S)
    with pytest.raises(DesiredStateError) as caught:
        load_text(example, source="churn.yaml")
    assert [" ".join(s.split()) for s in shown] == [
        p.split(": ", 1)[1] for p in caught.value.problems]


def test_the_recipes_page_duplicate_key_message_is_real() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "recipes.md").read_text()
    text = "networks:\n  - name: a\nbonds: []\nvifs: []\nnetworks:\n  - name: b\n"
    [problem] = problems(text)
    assert problem.replace("r.yaml", "lab.yaml") in " ".join(page.split())


@pytest.mark.parametrize(("text", "number"), [("0", 0), ("15", 15), ("²", None), ("٣", None),
                                              ("", None), ("-1", None), ("9" * 5000, None)])
def test_pool_vif_devices_are_read_as_ascii_numbers_only(text: str, number: int | None) -> None:
    from xapictl.plan.diff.vif import device_number

    assert device_number(text) == number


def test_two_networks_for_one_nic() -> None:
    assert problems("networks:\n  - {name: a, device: eth1}\n  - {name: b, device: eth1}\n") == [
        "r.yaml:3: networks[1].device: the network of NIC eth1 is already stated at r.yaml:2; "
        "a NIC has one network: keep one entry"]
