"""The xl ``vlan=`` parser (xl-network-configuration(5))."""

from __future__ import annotations

import pytest

from xapictl.errors import UsageError
from xapictl.local.xl_vif import VifVlans, parse_vlan_spec


@pytest.mark.parametrize(
    ("spec", "pvid", "untagged", "tagged"),
    [
        ("10", 10, {10}, set()),
        ("10p", 10, {10}, set()),
        ("10p/20", 10, {10}, {20}),
        ("10p/20u", 10, {10, 20}, set()),
        ("10p/100+10x4", 10, {10}, {100, 110, 120, 130}),
        ("10p/100+10x4u", 10, {10, 100, 110, 120, 130}, set()),
        ("5p/20-23", 5, {5}, {20, 21, 22, 23}),
        ("5p/20-22u/30", 5, {5, 20, 21, 22}, {30}),
        ("4094p/1", 4094, {4094}, {1}),
    ],
)
def test_valid_specs_give_pvid_untagged_and_tagged_sets(spec, pvid, untagged, tagged):
    v = parse_vlan_spec(spec)
    assert v == VifVlans(pvid, frozenset(untagged), frozenset(tagged))
    assert parse_vlan_spec(v.spec()) == v  # the canonical form reads back the same


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("10/20", "exactly one PVID"),
        ("10p/20p", "exactly one PVID"),
        ("0", "outside 1-4094"),
        ("4095p", "outside 1-4094"),
        ("10p/30-20", "runs backwards"),
        ("10p/10", "appears twice"),
        ("10p/5-12", "appears twice"),
        ("abc", "cannot read term"),
        ("10p/100+0x4", "STEP and COUNT"),
        ("10-12p", "only a single VID can be the PVID"),
        ("10p/4090+2x4", "outside 1-4094"),
    ],
)
def test_invalid_specs_are_rejected_with_the_reason(spec, message):
    with pytest.raises(UsageError, match=message):
        parse_vlan_spec(spec)
