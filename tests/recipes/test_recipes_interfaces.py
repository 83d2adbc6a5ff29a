"""IP configuration of PIFs (issue 13 item 2): the ``interfaces`` section and
``ensure_interface``: planned as ``PIF.reconfigure_ip`` steps with reasons, idempotent,
verified, and refused before any write with the field named."""

from __future__ import annotations

import pytest
from recipes_simpool import SimPool

from xapictl.errors import DesiredStateError, PreflightError
from xapictl.plan.desired import load_text
from xapictl.plan.diff import diff
from xapictl.recipes import ensure_interface

STORAGE = """
version: 1
interfaces:
  - device: eth1
    ipv4: static
    addresses: {xcp-host-01: 203.0.113.11/24, xcp-host-02: 203.0.113.12/24,
                xcp-host-03: 203.0.113.13/24}
    gateway: 203.0.113.1
    dns: [203.0.113.2]
    purpose: storage
"""


def _eth1(pool: SimPool) -> dict[str, tuple[object, ...]]:
    snap = pool.snapshot()
    return {snap.hosts[p.host].name_label: (p.ip_configuration_mode.value, p.ip, p.netmask,
                                            p.gateway, p.dns, dict(p.other_config),
                                            p.disallow_unplug, p.currently_attached)
            for p in snap.pifs.values() if p.device == "eth1" and p.vlan == -1}


def test_a_storage_interface_is_addressed_marked_and_replans_empty() -> None:
    pool = SimPool()
    result = pool.converge(load_text(STORAGE))
    assert result.replan is not None and result.replan.is_empty
    assert pool.writes() == ["PIF.reconfigure_ip", "PIF.add_to_other_config",
                             "PIF.set_disallow_unplug"] * 3
    assert _eth1(pool)["xcp-host-02"] == (
        "Static", "203.0.113.12", "255.255.255.0", "203.0.113.1", "203.0.113.2",
        {"management_purpose": "Storage"}, True, True)
    pool.clear()
    pool.converge(load_text(STORAGE))
    assert pool.writes() == []


def test_the_plan_says_what_changes_and_why_the_master_last() -> None:
    pool = SimPool()
    plan = diff(load_text(STORAGE), pool.snapshot())
    lines = [(s.subject, s.reason) for s in plan.steps if s.action == "reconfigure IP"]
    assert lines == [
        (f"interface eth1 on xcp-host-0{n}", "IPv4 is None, the recipe says Static "
         f"203.0.113.1{n}/24 gateway 203.0.113.1 DNS 203.0.113.2") for n in (2, 3, 1)]


def test_a_range_is_allotted_in_host_name_order() -> None:
    pool = SimPool()
    pool.converge(ensure_interface(device="eth1", ipv4="static",
                                   address_range="203.0.113.21-203.0.113.23/24"))
    assert {h: v[1] for h, v in _eth1(pool).items()} == {
        "xcp-host-01": "203.0.113.21", "xcp-host-02": "203.0.113.22",
        "xcp-host-03": "203.0.113.23"}


def test_a_range_too_short_is_refused_naming_it() -> None:
    pool = SimPool()
    with pytest.raises(PreflightError, match=r"interfaces\.address_range: "
                       r"203\.0\.113\.21-203\.0\.113\.22/24 holds 2 addresses for 3 hosts"):
        pool.converge(ensure_interface(device="eth1", ipv4="static",
                                       address_range="203.0.113.21-203.0.113.22/24"))
    assert pool.writes() == []


def test_dhcp_on_one_host_only_touches_that_host() -> None:
    pool = SimPool()
    pool.converge(ensure_interface(device="eth1", hosts=["xcp-host-02"], ipv4="dhcp"))
    assert pool.writes() == ["PIF.reconfigure_ip"]
    assert {h: v[0] for h, v in _eth1(pool).items()} == {
        "xcp-host-01": "None", "xcp-host-02": "DHCP", "xcp-host-03": "None"}


def test_an_address_another_pif_has_is_refused_before_any_write() -> None:
    """The seed's storage NICs (eth2) hold 198.51.100.11-13: eth1 cannot take them."""
    pool = SimPool()
    with pytest.raises(PreflightError) as caught:
        pool.converge(ensure_interface(device="eth1", hosts=["xcp-host-01"], ipv4="static",
                                       addresses={"xcp-host-01": "198.51.100.11/24"}))
    assert str(caught.value).splitlines()[-1] == (
        "ensure_interface('eth1'): interfaces.addresses.xcp-host-01: 198.51.100.11 is "
        "already the address of PIF eth2 on xcp-host-01; give a free address")
    assert pool.writes() == []


def test_the_management_interface_is_not_readdressed_in_place() -> None:
    pool = SimPool()
    with pytest.raises(PreflightError, match=r"interfaces\.addresses\.xcp-host-01: PIF eth0 "
                       r"on xcp-host-01 is the management interface \(Static "
                       r"192\.0\.2\.11/24 gateway 192\.0\.2\.1 DNS "
                       r"192\.0\.2\.53,192\.0\.2\.54\); its address is not changed in place"):
        pool.converge(ensure_interface(device="eth0", hosts=["xcp-host-01"], ipv4="static",
                                       addresses={"xcp-host-01": "192.0.2.99/24"}))
    assert pool.writes() == []


def test_an_unchanged_management_interface_is_a_noop() -> None:
    pool = SimPool()
    plan = diff(ensure_interface(device="eth0", hosts=["xcp-host-01"], ipv4="static",
                                 addresses={"xcp-host-01": "192.0.2.11/24"}),
                pool.snapshot())
    assert not plan.steps
    assert [n.reason for n in plan.noops] == [
        "IPv4 is already Static 192.0.2.11/24 gateway 192.0.2.1 DNS 192.0.2.53,192.0.2.54"]


def test_an_unstated_gateway_and_dns_are_kept_when_the_address_changes() -> None:
    pool = SimPool()
    plan = diff(ensure_interface(device="eth2", hosts=["xcp-host-01"], ipv4="static",
                                 addresses={"xcp-host-01": "198.51.100.21/24"}),
                pool.snapshot())
    before = next(p for p in pool.snapshot().pifs.values() if p.device == "eth2")
    step = plan.steps[0]
    assert (step.gateway, step.dns) == (before.gateway, before.dns)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("values", "message"), [
    ({"addresses": {"xcp-host-01": "203.0.113.11/24", "xcp-host-02": "203.0.113.11/24"}},
     "addresses.xcp-host-02: 203.0.113.11 is also given to xcp-host-01; every host needs its "
     "own address"),
    ({"addresses": {"xcp-host-01": "203.0.113.11/24"}, "gateway": "198.51.100.1"},
     "gateway: 198.51.100.1 is outside the subnet 203.0.113.0/24 of the addresses; give a "
     "gateway in that subnet, or none"),
    ({"addresses": {"xcp-host-01": "203.0.113.11"}},
     "addresses.xcp-host-01: '203.0.113.11' is not an IPv4 address with its prefix like "
     "198.51.100.11/24"),
    ({}, "addresses: `ipv4: static` needs `addresses: {xcp-host-01: 198.51.100.11/24}` or "
     "`address_range: 198.51.100.11-198.51.100.13/24` (one of them)"),
    ({"address_range": "203.0.113.13-203.0.113.11/24"},
     "address_range: '203.0.113.13-203.0.113.11/24' is not an address range like "
     "198.51.100.11-198.51.100.13/24 (first to last, in one subnet)"),
])
def test_bad_static_values_are_refused_naming_the_field(values: dict[str, object],
                                                        message: str) -> None:
    with pytest.raises(DesiredStateError) as caught:
        ensure_interface(device="eth1", ipv4="static", **values)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_static_fields_without_static_and_storage_without_address_are_refused() -> None:
    with pytest.raises(DesiredStateError) as caught:
        load_text("version: 1\ninterfaces:\n  - {network: Storage, ipv4: dhcp, "
                  "gateway: 203.0.113.1}\n  - {device: eth1, ipv4: none, purpose: storage}\n")
    text = str(caught.value)
    assert "<recipe>:3: interfaces[0].gateway: only with `ipv4: static`" in text
    assert "<recipe>:4: interfaces[1].purpose: a storage interface needs an address" in text


def test_unknown_hosts_and_missing_networks_are_named() -> None:
    pool = SimPool()
    with pytest.raises(PreflightError, match=r"interfaces\.addresses\.xcp-host-09: no host "
                       "xcp-host-09 in the pool"):
        pool.converge(ensure_interface(device="eth1", ipv4="static",
                                       addresses={"xcp-host-09": "203.0.113.19/24"}))
    with pytest.raises(PreflightError, match="network 'Nowhere' does not exist"):
        pool.converge(ensure_interface("Nowhere", ipv4="dhcp"))
    assert pool.writes() == []
