"""IPv6 and the primary address type in ``interfaces:`` (issue 13 item 2): planned as
``PIF.reconfigure_ipv6`` and ``PIF.set_primary_address_type`` steps with reasons,
idempotent, verified; refused before any write with the field named (a bad address, one
address for two hosts or two entries, an address another PIF has, a gateway outside the
prefix, the management interface's IPv6 address or address type)."""

from __future__ import annotations

import pytest
from recipes_simpool import SimPool

from xapictl.errors import DesiredStateError, PreflightError
from xapictl.plan.desired import load_text
from xapictl.plan.diff import diff
from xapictl.recipes import ensure_interface

V6 = """
version: 1
interfaces:
  - device: eth2
    ipv6: static
    address6_range: 2001:db8:5::11-2001:db8:5::13/64
    gateway6: 2001:db8:5::1
    dns6: [2001:db8:5::2]
    primary_address_type: ipv6
"""


def _eth(pool: SimPool, device: str) -> dict[str, tuple[object, ...]]:
    snap = pool.snapshot()
    return {snap.hosts[p.host].name_label: (p.ipv6_configuration_mode.value, tuple(p.ipv6),
                                            p.ipv6_gateway, p.dns, p.primary_address_type.value,
                                            p.ip_configuration_mode.value, p.ip)
            for p in snap.pifs.values() if p.device == device and p.vlan == -1}


def test_static_ipv6_is_planned_applied_verified_and_replans_empty() -> None:
    pool = SimPool()
    result = pool.converge(load_text(V6))
    assert result.replan is not None and result.replan.is_empty
    assert pool.writes() == ["PIF.reconfigure_ipv6", "PIF.set_primary_address_type"] * 3
    assert _eth(pool, "eth2")["xcp-host-03"] == (
        "Static", ("2001:db8:5::13/64",), "2001:db8:5::1", "2001:db8:5::2", "IPv6",
        "Static", "198.51.100.13")  # the IPv4 configuration is left alone
    pool.clear()
    again = pool.converge(load_text(V6))
    assert pool.writes() == [] and not again.applied
    assert [n.reason for n in again.plan.noops][:2] == [
        "IPv6 is already Static 2001:db8:5::12/64 gateway 2001:db8:5::1 DNS 2001:db8:5::2",
        "the primary address type is already IPv6"]


def test_the_plan_says_what_changes_and_why_the_master_last() -> None:
    plan = diff(load_text(V6), SimPool().snapshot())
    lines = [(s.subject, s.action, s.reason) for s in plan.steps]
    assert lines[:2] == [
        ("interface eth2 on xcp-host-02", "reconfigure IPv6", "IPv6 is None, the recipe says "
         "Static 2001:db8:5::12/64 gateway 2001:db8:5::1 DNS 2001:db8:5::2"),
        ("interface eth2 on xcp-host-02", "set primary address type",
         "the primary address type is IPv4, the recipe says IPv6")]
    assert [s.subject for s in plan.steps][-1] == "interface eth2 on xcp-host-01"
    assert plan.steps[0].disruptive and not plan.steps[1].disruptive


@pytest.mark.parametrize("mode", ["dhcp", "autoconf"])
def test_dhcp_and_autoconf_send_the_mode_alone_and_are_then_noops(mode: str) -> None:
    pool = SimPool()
    desired = ensure_interface(device="eth1", hosts=["xcp-host-02"], ipv6=mode)
    pool.converge(desired)
    assert pool.writes() == ["PIF.reconfigure_ipv6"]
    assert _eth(pool, "eth1")["xcp-host-02"][0] == mode.capitalize().replace("Dhcp", "DHCP")
    assert diff(desired, pool.snapshot()).is_empty


def test_ipv4_and_ipv6_dns_are_kept_apart_and_the_replan_stays_empty() -> None:
    """XAPI keeps both families in one DNS field: reconfigure_ipv6 keeps the IPv4 entries,
    reconfigure_ip the IPv6 ones; each family is compared on its own."""
    pool = SimPool()
    desired = ensure_interface(device="eth1", ipv4="static",
                               address_range="203.0.113.11-203.0.113.13/24",
                               dns=["203.0.113.2"], ipv6="static",
                               address6_range="2001:db8:6::11-2001:db8:6::13/64",
                               dns6=["2001:db8:6::2"])
    result = pool.converge(desired)
    assert result.replan is not None and result.replan.is_empty
    assert _eth(pool, "eth1")["xcp-host-01"][3] == "2001:db8:6::2,203.0.113.2"
    assert diff(desired, pool.snapshot()).is_empty


def test_an_address_written_another_way_is_the_same_address() -> None:
    pool = SimPool()
    pool.converge(ensure_interface(device="eth1", hosts=["xcp-host-02"], ipv6="static",
                                   addresses6={"xcp-host-02": "2001:db8:6::12/64"}))
    again = ensure_interface(device="eth1", hosts=["xcp-host-02"], ipv6="static",
                             addresses6={"xcp-host-02": "2001:DB8:6:0:0:0:0:12/64"})
    assert diff(again, pool.snapshot()).is_empty


def test_an_ipv6_address_another_pif_has_is_refused_before_any_write() -> None:
    pool = SimPool()
    pool.converge(ensure_interface(device="eth2", hosts=["xcp-host-01"], ipv6="static",
                                   addresses6={"xcp-host-01": "2001:db8:5::11/64"}))
    pool.clear()
    with pytest.raises(PreflightError) as caught:
        pool.converge(ensure_interface(device="eth1", hosts=["xcp-host-02"], ipv6="static",
                                       addresses6={"xcp-host-02": "2001:db8:5::11/64"}))
    assert str(caught.value).splitlines()[-1] == (
        "ensure_interface('eth1'): interfaces.addresses6.xcp-host-02: 2001:db8:5::11 is "
        "already the address of PIF eth2 on xcp-host-01; give a free address")
    assert pool.writes() == []


def test_a_management_address_of_another_host_is_refused() -> None:
    """Item 5: an address another host's management interface has (eth0, 192.0.2.12)."""
    pool = SimPool()
    with pytest.raises(PreflightError, match=r"interfaces\.addresses\.xcp-host-01: "
                       r"192\.0\.2\.12 is already the address of PIF eth0 on xcp-host-02"):
        pool.converge(ensure_interface(device="eth1", hosts=["xcp-host-01"], ipv4="static",
                                       addresses={"xcp-host-01": "192.0.2.12/24"}))
    assert pool.writes() == []


@pytest.mark.parametrize(("family", "values"), [
    ("IPv4", {"ipv4": "static", "addresses": {"xcp-host-01": "203.0.113.50/24"}}),
    ("IPv6", {"ipv6": "static", "addresses6": {"xcp-host-01": "2001:db8:7::50/64"}}),
])
def test_one_address_in_two_entries_is_refused_naming_both(family: str,
                                                           values: dict[str, object]) -> None:
    pool = SimPool()
    one = ensure_interface(device="eth1", hosts=["xcp-host-01"], **values)  # type: ignore[arg-type]
    two = ensure_interface(device="eth2", hosts=["xcp-host-01"], **values)  # type: ignore[arg-type]
    with pytest.raises(PreflightError) as caught:
        pool.converge(one.merged(two))
    address = "203.0.113.50" if family == "IPv4" else "2001:db8:7::50"
    field = "addresses" if family == "IPv4" else "addresses6"
    assert str(caught.value).splitlines()[-1].endswith(
        f"interfaces.{field}.xcp-host-01: {address} is also given by interfaces.{field}."
        "xcp-host-01 (PIF eth1 on xcp-host-01); every PIF needs its own address")
    assert pool.writes() == []


def test_ipv6_of_a_management_interface_on_ipv4_may_change_but_not_on_ipv6() -> None:
    pool = SimPool()
    plan = diff(ensure_interface(device="eth0", hosts=["xcp-host-02"], ipv6="autoconf"),
                pool.snapshot())
    assert [s.action for s in plan.steps] == ["reconfigure IPv6"]
    snap = pool.snapshot()
    eth0 = snap.pif_on(next(h for h, r in snap.hosts.items() if r.name_label == "xcp-host-02"),
                       "eth0")
    pool.sim.state.set_field("PIF", eth0, "primary_address_type", "IPv6")
    with pytest.raises(PreflightError, match=r"interfaces\.addresses6\.xcp-host-02: PIF eth0 "
                       r"on xcp-host-02 is the management interface on IPv6 \(None\); its "
                       "address is not changed in place"):
        pool.converge(ensure_interface(device="eth0", hosts=["xcp-host-02"], ipv6="autoconf"))
    assert pool.writes() == []


def test_the_management_interface_keeps_its_primary_address_type() -> None:
    pool = SimPool()
    with pytest.raises(PreflightError, match=r"interfaces\.primary_address_type: PIF eth0 on "
                       r"xcp-host-01 is the management interface; XAPI keeps its primary "
                       r"address type \(PIF_IS_MANAGEMENT_INTERFACE\)"):
        pool.converge(ensure_interface(device="eth0", hosts=["xcp-host-01"],
                                       primary_address_type="ipv6"))
    assert pool.writes() == []


@pytest.mark.parametrize(("values", "message"), [
    ({"addresses6": {"xcp-host-01": "2001:db8::11/64", "xcp-host-02": "2001:db8::11/64"}},
     "addresses6.xcp-host-02: 2001:db8::11 is also given to xcp-host-01; every host needs "
     "its own address"),
    ({"addresses6": {"xcp-host-01": "2001:db8::11/64"}, "gateway6": "2001:db9::1"},
     "gateway6: 2001:db9::1 is outside the subnet 2001:db8::/64 of the addresses; give a "
     "gateway in that subnet, or none"),
    ({"addresses6": {"xcp-host-01": "2001:db8::11"}},
     "addresses6.xcp-host-01: '2001:db8::11' is not an IPv6 address with its prefix like "
     "2001:db8:5::11/64"),
    ({"addresses6": {"xcp-host-01": "fe80::11%eth1/64"}},
     "addresses6.xcp-host-01: 'fe80::11%eth1/64' is not an IPv6 address with its prefix"),
    ({"addresses6": {"xcp-host-01": "198.51.100.11/24"}},
     "addresses6.xcp-host-01: '198.51.100.11/24' is not an IPv6 address with its prefix"),
    ({"addresses6": {"xcp-host-01": "2001:db8::11/64"}, "gateway6": "198.51.100.1"},
     "gateway6: '198.51.100.1' is not an IPv6 address like 2001:db8:5::1"),
    ({"addresses6": {"xcp-host-01": "2001:db8::11/64"}, "dns6": ["198.51.100.2"]},
     "dns6: '198.51.100.2' is not an IPv6 address like 2001:db8:5::2"),
    ({}, "addresses6: `ipv6: static` needs `addresses6: {xcp-host-01: 2001:db8:5::11/64}` or "
     "`address6_range: 2001:db8:5::11-2001:db8:5::13/64` (one of them)"),
    ({"address6_range": "2001:db8::13-2001:db8::11/64"},
     "address6_range: '2001:db8::13-2001:db8::11/64' is not an address range like "
     "2001:db8:5::11-2001:db8:5::13/64 (first to last, in one subnet)"),
])
def test_bad_ipv6_values_are_refused_naming_the_field(values: dict[str, object],
                                                      message: str) -> None:
    with pytest.raises(DesiredStateError) as caught:
        ensure_interface(device="eth1", ipv6="static", **values)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_ipv6_static_fields_without_static_and_a_primary_type_without_address() -> None:
    with pytest.raises(DesiredStateError) as caught:
        load_text("version: 1\ninterfaces:\n  - {network: Storage, ipv6: autoconf, "
                  "gateway6: 2001:db8::1}\n  - {device: eth1, ipv6: none, "
                  "primary_address_type: ipv6}\n  - {device: eth2, ipv6: static, "
                  "addresses6: {xcp-host-01: 2001:db8::1/64}, dns: [192.0.2.1]}\n")
    text = str(caught.value)
    assert "<recipe>:3: interfaces[0].gateway6: only with `ipv6: static`" in text
    assert ("<recipe>:4: interfaces[1].primary_address_type: ipv6 is the primary address "
            "type but ipv6 is none") in text
    assert "<recipe>:5: interfaces[2].dns: only with `ipv4: static`" in text


def test_a_storage_interface_may_have_ipv6_only() -> None:
    pool = SimPool()
    result = pool.converge(ensure_interface(device="eth1", ipv6="autoconf", purpose="storage"))
    assert result.replan is not None and result.replan.is_empty
    assert pool.writes() == ["PIF.reconfigure_ipv6", "PIF.add_to_other_config",
                             "PIF.set_disallow_unplug"] * 3  # eth1 is plugged already


def test_a_hosts_own_address_is_refused() -> None:
    """Item 5: where XAPI and its clients reach a host (``host.address``; on the simulator a
    loopback address) is no address for a PIF."""
    pool = SimPool()
    snap = pool.snapshot()
    address = next(h.address for h in snap.hosts.values() if h.name_label == "xcp-host-02")
    with pytest.raises(PreflightError, match=rf"interfaces\.addresses\.xcp-host-01: "
                       rf"{address.replace('.', '[.]')} is already the address of host "
                       "xcp-host-02; give a free address"):
        pool.converge(ensure_interface(device="eth1", hosts=["xcp-host-01"], ipv4="static",
                                       addresses={"xcp-host-01": f"{address}/8"}))
    assert pool.writes() == []


def test_a_static_address_beside_the_link_local_one_is_already_so() -> None:
    """XAPI writes every address of the bridge into ``PIF.IPv6`` when the PIF's IPv4 is DHCP
    (``Helpers.update_pif_address``): the static address beside a link-local one is a no-op,
    not a re-plan forever."""
    pool = SimPool()
    desired = ensure_interface(device="eth1", hosts=["xcp-host-02"], ipv6="static",
                               addresses6={"xcp-host-02": "2001:db8:6::12/64"})
    pool.converge(desired)
    snap = pool.snapshot()
    host = next(r for r, h in snap.hosts.items() if h.name_label == "xcp-host-02")
    eth1 = snap.pif_on(host, "eth1")
    pool.sim.state.set_field("PIF", eth1, "IPv6", ["fe80::1:2ff:fe03:405/64",
                                                   "2001:db8:6::12/64"])
    assert diff(desired, pool.snapshot()).is_empty
