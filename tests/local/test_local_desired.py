"""Recipe validation: every problem names file, line and field, and says how to fix it."""

from __future__ import annotations

from pathlib import Path

import pytest

from xapictl.errors import DesiredStateError
from xapictl.local.desired import FROM_UPLINK, BridgeSpec, load_recipe, parse_recipe

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


@pytest.mark.parametrize("name", ["local-xenbr0", "local-trunk-vlans", "local-vlan-aware"])
def test_shipped_recipes_validate(name):
    assert load_recipe(RECIPES / f"{name}.yaml").bridges


def test_xenbr0_recipe_means_carry_addresses_and_mac():
    (br,) = load_recipe(RECIPES / "local-xenbr0.yaml").bridges
    assert br == BridgeSpec("xenbr0", uplink="eth0", addresses=FROM_UPLINK, mac=FROM_UPLINK)


def test_bridge_without_uplink_is_host_only_with_no_addresses():
    (br,) = parse_recipe("local:\n  bridges:\n    xenbr9:\n").bridges
    assert (br.uplink, br.addresses, br.mac, br.port) == (None, (), None, None)


def test_every_problem_has_file_line_field_and_fix():
    text = """local:
  bridges:
    xenbr0:
      uplink: eth0
      mtu: 20
      colour: blue
    xenbr1:
      vlan: 105
    thisnameistoolong: {}
  vifs:
    vif1.0: {bridge: xenbr0, vlan: "10/20"}
  probes: [gateway]
"""
    with pytest.raises(DesiredStateError) as info:
        parse_recipe(text, "host.yaml")
    assert info.value.problems == [
        "host.yaml:5: local.bridges.xenbr0.mtu: must be an integer 68-65535, got '20'",
        "host.yaml:6: local.bridges.xenbr0.colour: unknown field; allowed: uplink, vlan,"
        " vlan_filtering, trunk_vids, addresses, mtu, mac, stp, forward_delay, state",
        "host.yaml:8: local.bridges.xenbr1.vlan: a bridge per VLAN needs 'uplink:' (the trunk NIC)",
        "host.yaml:9: local.bridges.thisnameistoolong: names are at most 15 characters",
        "host.yaml:11: local.vifs.vif1.0.vlan: vlan='10/20': needs exactly one PVID (mark it"
        " with 'p', e.g. '10p/20'), found 0",
        "host.yaml:12: local.probes: 'gateway' is not an IP address",
    ]


def test_vlan_spec_on_a_bridge_without_vlan_filtering_is_refused_up_front():
    with pytest.raises(DesiredStateError, match="not VLAN-aware; set 'vlan_filtering: true'"):
        parse_recipe("local:\n  bridges:\n    xenbr0: {uplink: eth0}\n"
                     "  vifs:\n    vif1.0: {bridge: xenbr0, vlan: '10'}\n")


def test_one_uplink_cannot_serve_two_bridges():
    with pytest.raises(DesiredStateError, match="eth0 is already the uplink of bridge a"):
        parse_recipe("local:\n  bridges:\n    a: {uplink: eth0}\n    b: {uplink: eth0}\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("networks: {}\n", "no 'local:' key"),
        ("- 1\n", "top level must be a mapping"),
        ("local: [\n", "not valid YAML"),
        ("local:\n  bonds:\n    bond0: {mode: fast}\n", "needs 'slaves"),
        ("local:\n  bridges:\n    b: {uplink: eth0, trunk_vids: [5]}\n",
         "needs 'vlan_filtering: true'"),
        ("local:\n  bridges:\n    b: {uplink: eth0, addresses: [10.0.0.1]}\n",
         "not an address with prefix"),
        ("local:\n  bridges:\n    b: {state: gone}\n", "must be 'present' or 'absent'"),
        ("local:\n  bridges:\n    b: {addresses: from-uplink}\n", "needs an 'uplink:'"),
    ],
)
def test_bad_recipes_are_refused(text, message):
    with pytest.raises(DesiredStateError, match=message):
        parse_recipe(text)


def test_missing_file_is_bad_input(tmp_path):
    with pytest.raises(DesiredStateError, match="cannot read"):
        load_recipe(tmp_path / "nope.yaml")


def test_stp_defaults_to_the_kernels_forward_delay_and_refuses_one_it_would_change():
    on = parse_recipe("local:\n  bridges:\n    xenbr0: {uplink: eth0, stp: true}\n")
    assert on.bridges[0].forward_delay == 15
    with pytest.raises(DesiredStateError, match=r"forward_delay: with stp: true it must be"
                                                r" 2-30 \(the kernel raises 0 to 2\)"):
        parse_recipe("local:\n  bridges:\n    xenbr0: {stp: true, forward_delay: 0}\n")
