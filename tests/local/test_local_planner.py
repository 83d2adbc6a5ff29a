"""The pure planner and pre-flight over canned snapshots (captured from real namespaces by
``conftest.build_xen_host``, then edited per case). No root, no kernel."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from xapictl.errors import PreflightError
from xapictl.local.desired import parse_recipe
from xapictl.local.observe import Address, BridgeVlan, HostSnapshot, Link
from xapictl.local.ops import (
    AddAddress,
    BridgeVlanAdd,
    BridgeVlanDel,
    CreateLink,
    DelAddress,
    DeleteLink,
    ReplaceRoute,
    SetLink,
    op_from_dict,
)
from xapictl.local.planner import inverse_plan, plan
from xapictl.local.preflight import needed_capabilities, preflight, problems

HERE = Path(__file__).parent
XENBR0 = (HERE.parents[1] / "recipes" / "local-xenbr0.yaml").read_text()


def snap(name: str) -> HostSnapshot:
    return HostSnapshot.from_dict(json.loads((HERE / "snapshots" / f"{name}.json").read_text()))


def described(p) -> list[str]:
    return [s.describe() for s in p.steps]


FRESH_XENBR0_PLAN = [
    "create bridge xenbr0: not there yet",
    "add address bridge xenbr0: host address 192.0.2.10/24",
    "add address bridge xenbr0: host address 192.0.2.11/24",
    "add address bridge xenbr0: host address 2001:db8::10/64",
    "bring up bridge xenbr0: carry traffic",
    "enslave uplink eth0: becomes a port of xenbr0",
    "stop IPv6 autoconf on uplink eth0: a bridge port needs no IPv6 address",
    "remove address uplink eth0: the bridge has the same link-local",
    "move route default: follow the address to xenbr0",
    "move route 198.51.100.0/24: follow the address to xenbr0",
    "remove address uplink eth0: 2001:db8::10/64 now lives on xenbr0",
    "remove address uplink eth0: 192.0.2.11/24 now lives on xenbr0",
    "remove address uplink eth0: 192.0.2.10/24 now lives on xenbr0",
]


def test_fresh_host_plans_the_bridge_first_address_move():
    p = plan(parse_recipe(XENBR0), snap("fresh-host"))
    assert described(p) == FRESH_XENBR0_PLAN
    create = p.steps[0]
    assert isinstance(create, CreateLink)
    assert (create.mac, create.mtu, create.stp, create.forward_delay, create.alias) == (
        "00:16:3e:00:00:10", 1500, False, 0, "xapictl:bridge")


def test_moved_addresses_keep_labels_and_ipv6_skips_dad():
    p = plan(parse_recipe(XENBR0), snap("fresh-host"))
    added = [s.addr for s in p.steps if isinstance(s, AddAddress)]
    assert [(a.cidr, a.label, bool(a.flags & 0x02)) for a in added] == [
        ("192.0.2.10/24", "xenbr0", False),
        ("192.0.2.11/24", "xenbr0:1", False),
        ("2001:db8::10/64", None, True),
    ]


def test_static_routes_keep_gateway_and_metric_and_kernel_routes_are_left_alone():
    p = plan(parse_recipe(XENBR0), snap("fresh-host"))
    moved = [s for s in p.steps if isinstance(s, ReplaceRoute)]
    assert [(s.route.dst, s.route.oif, s.route.gateway, s.route.priority, s.old.oif)
            for s in moved] == [("default", "xenbr0", "192.0.2.1", None, "eth0"),
                                ("198.51.100.0/24", "xenbr0", "192.0.2.254", 50, "eth0")]


def test_converged_host_plans_nothing():
    p = plan(parse_recipe(XENBR0), snap("xenbr0-converged"))
    assert p.is_empty
    assert [n.describe() for n in p.noops] == ["bridge xenbr0: already as desired"]


def half_applied() -> HostSnapshot:
    """The bridge exists (ours, up) and holds the addresses; eth0 still has them too and is
    not enslaved: what a run killed after step 5 leaves."""
    fresh = snap("fresh-host")
    conv = snap("xenbr0-converged")
    links = dict(fresh.links)
    links["xenbr0"] = conv.links["xenbr0"]
    extra = tuple(a for a in conv.addresses if a.ifname == "xenbr0")
    return replace(fresh, links=links, addresses=fresh.addresses + extra)


def test_half_applied_host_plans_only_the_missing_steps():
    assert described(plan(parse_recipe(XENBR0), half_applied())) == FRESH_XENBR0_PLAN[5:]


def test_dhcp_address_is_refused_unless_allowed():
    fresh = snap("fresh-host")
    dyn = tuple(replace(a, flags=0) if a.address == "192.0.2.10" else a
                for a in fresh.addresses)
    host = replace(fresh, addresses=dyn)
    found = problems(parse_recipe(XENBR0), host)
    assert len(found) == 1 and "DHCP/SLAAC addresses 192.0.2.10/24" in found[0]
    assert "allow_dhcp: true" in found[0]
    allowed = parse_recipe(XENBR0 + "  allow_dhcp: true\n")
    assert problems(allowed, host) == []


def test_foreign_bridge_with_the_same_name_and_ports_is_refused():
    fresh = snap("fresh-host")
    links = dict(fresh.links)
    links["xenbr0"] = Link("xenbr0", 9, "bridge", up=True, stp_state=0, forward_delay=0)
    links["tap7"] = Link("tap7", 10, "tun", master="xenbr0")
    found = problems(parse_recipe(XENBR0), replace(fresh, links=links))
    assert found == ["bridge xenbr0: exists, was not made by xapictl and has ports tap7;"
                     " pick another name, or remove that bridge"]


def test_uplink_owned_by_another_master_and_name_of_another_kind_are_refused():
    fresh = snap("fresh-host")
    links = dict(fresh.links)
    links["eth0"] = replace(links["eth0"], master="br-other")
    links["br-other"] = Link("br-other", 8, "bridge")
    links["xenbr1"] = Link("xenbr1", 11, "veth")
    recipe = XENBR0 + "    xenbr1: {}\n"
    with pytest.raises(PreflightError) as info:
        preflight(parse_recipe(recipe), replace(fresh, links=links), (), lambda cap: True)
    assert info.value.problems == [
        "bridge xenbr0: eth0 is already a port of br-other; detach it there first",
        "bridge xenbr1: the name is taken by a veth device; pick another bridge name",
    ]


def test_missing_kernel_capability_is_refused_with_the_fix():
    desired = parse_recipe("local:\n  bridges:\n    xenbr105: {uplink: eth0, vlan: 105}\n")
    steps = plan(desired, snap("fresh-host")).steps
    assert needed_capabilities(steps) == {"bridge", "vlan"}
    with pytest.raises(PreflightError, match=r"no 802\.1Q VLAN devices \(CONFIG_VLAN_8021Q"):
        preflight(desired, snap("fresh-host"), steps, lambda cap: cap == "bridge")


def test_inverse_plan_is_nmstates_move_ip_to_linux_bridge_revert():
    """Undo = eth0 gets its addresses (original labels, original order) and routes back, the
    bridge goes last."""
    before = snap("fresh-host")
    undo = inverse_plan(plan(parse_recipe(XENBR0), before).steps, before)
    adds = [(s.addr.ifname, s.addr.cidr, s.addr.label) for s in undo
            if isinstance(s, AddAddress)]
    assert adds[:3] == [("eth0", "192.0.2.10/24", "eth0"), ("eth0", "192.0.2.11/24", "eth0:1"),
                        ("eth0", "2001:db8::10/64", None)]
    assert [(s.route.dst, s.route.oif) for s in undo if isinstance(s, ReplaceRoute)] == [
        ("198.51.100.0/24", "eth0"), ("default", "eth0")]
    assert SetLink("uplink eth0", "undo", "eth0", "master", None) in undo
    assert isinstance(undo[-1], DeleteLink) and undo[-1].ifname == "xenbr0"
    assert [op_from_dict(json.loads(json.dumps(s.to_dict()))) for s in undo] == undo


def _dhcpcd_host() -> HostSnapshot:
    """fresh-host as dhcpcd leaves it: the address with ``noprefixroute`` (no kernel route),
    its subnet route dhcpcd's own (proto dhcp, metric 1002), listed after the default."""
    before = snap("fresh-host")
    addresses = tuple(replace(a, flags=0x200, valid_lft=120, preferred_lft=105)
                      if a.address == "192.0.2.10" else a
                      for a in before.addresses if a.address != "192.0.2.11")
    routes = tuple(replace(r, proto=16, priority=1002) if r.dst == "192.0.2.0/24" else r
                   for r in before.routes)
    return replace(before, addresses=addresses, routes=routes)


def test_a_noprefixroute_address_moves_with_its_flag_and_its_subnet_route_first():
    """dhcpcd (issue 16): the bridge gets the address as eth0 had it, noprefixroute (no kernel
    route beside dhcpcd's), so the subnet route moves before the routes via the gateway,
    and the undo puts it back on eth0 before them too ('Network is unreachable' else)."""
    before = _dhcpcd_host()
    steps = plan(parse_recipe(XENBR0), before).steps
    (add,) = [s for s in steps if isinstance(s, AddAddress) and s.addr.family == 4]
    assert (add.addr.ifname, add.addr.flags) == ("xenbr0", 0x200)  # dynamic, noprefixroute
    assert [s.route.dst for s in steps if isinstance(s, ReplaceRoute)] == [
        "192.0.2.0/24", "default", "198.51.100.0/24"]
    undo = inverse_plan(steps, before)
    assert [(s.route.dst, s.route.oif) for s in undo if isinstance(s, ReplaceRoute)] == [
        ("192.0.2.0/24", "eth0"), ("198.51.100.0/24", "eth0"), ("default", "eth0")]
    # killed before the subnet route moved: the gateway routes' undo comes first, harmless
    # as eth0 still has it; killed after, the subnet route is back before them
    for done in range(1, len(steps) + 1):
        routes = [s.route for s in inverse_plan(steps[:done], before)
                  if isinstance(s, ReplaceRoute)]
        assert routes == sorted(routes, key=lambda r: r.gateway is not None), done
    readd = [s.addr for s in undo if isinstance(s, AddAddress) and s.addr.family == 4]
    assert [(a.ifname, a.flags) for a in readd] == [("eth0", 0x200)]


def test_teardown_from_converged_moves_everything_back_and_restores_link_local():
    desired = parse_recipe(XENBR0.replace("      stp: false", "      state: absent\n"
                                          "      stp: false"))
    p = plan(desired, snap("xenbr0-converged"))
    assert described(p) == [
        "add address NIC eth0: host address 192.0.2.10/24 goes back",
        "add address NIC eth0: host address 192.0.2.11/24 goes back",
        "add address NIC eth0: host address 2001:db8::10/64 goes back",
        "copy neighbours to NIC eth0: it sends for the host from the next step on, while"
        " still a port of xenbr0",
        "move route default: back to eth0",
        "move route 198.51.100.0/24: back to eth0",
        "remove address bridge xenbr0: 2001:db8::10/64: the bridge is going",
        "remove address bridge xenbr0: 192.0.2.11/24: the bridge is going",
        "remove address bridge xenbr0: 192.0.2.10/24: the bridge is going",
        "delete bridge xenbr0: state: absent (releases eth0)",
        "restore IPv6 autoconf on NIC eth0: a host NIC again",
        "add address NIC eth0: its link-local address back",
    ]
    assert p.steps[-1].addr.address == "fe80::216:3eff:fe00:10"
    assert p.steps[-1].addr.flags == 0x80  # as the kernel makes it: no nodad
    assert problems(desired, snap("xenbr0-converged")) == []


def test_teardown_is_nic_first_the_port_leaves_only_with_the_bridge():
    """Issue 16 item 3, the ordering that makes teardown lossless: while the NIC is still a
    port, it gets every host address, then the bridge's neighbours (it cannot resolve them
    itself while its replies reach the bridge), then the routes, and the bridge loses its
    addresses; the port leaves last, as the bridge is deleted. The old order detached the
    port first and lost echoes until the bridge's addresses were gone."""
    conv = snap("xenbr0-converged")
    desired = parse_recipe("local:\n  bridges:\n    xenbr0: {uplink: eth0, state: absent}\n")
    steps = list(plan(desired, conv).steps)
    kinds = [type(s).__name__ for s in steps]
    gone = next(i for i, s in enumerate(steps)
                if isinstance(s, DeleteLink) and s.ifname == "xenbr0")
    carried = {a.cidr for a in conv.addresses_on("xenbr0") if not a.link_local}
    first_route = kinds.index("ReplaceRoute")
    on_nic = {s.addr.cidr for s in steps[:first_route]
              if isinstance(s, AddAddress) and s.addr.ifname == "eth0"}
    assert carried and on_nic == carried
    assert kinds.index("CopyNeighbours") < first_route
    assert all(isinstance(s, ReplaceRoute) and s.route.oif == "eth0"
               for s in steps if isinstance(s, ReplaceRoute))
    off_bridge = [i for i, s in enumerate(steps) if isinstance(s, DelAddress)]
    assert {steps[i].addr.cidr for i in off_bridge} == carried
    assert max(kinds.index(k) for k in ("ReplaceRoute",)) < min(off_bridge)
    assert max(off_bridge) < gone
    assert not [s for s in steps if isinstance(s, SetLink) and s.attr == "master"]
    assert all(isinstance(s, (SetLink, AddAddress)) for s in steps[gone + 1:])
    # undo is exact: the bridge comes back with its port, addresses (flags too), routes
    undo = inverse_plan(steps, conv)
    restored = [op for op in undo if isinstance(op, AddAddress) and op.addr.ifname == "xenbr0"]
    assert {(a.addr.cidr, a.addr.flags) for a in restored} == {
        (a.cidr, a.flags) for a in conv.addresses_on("xenbr0") if not a.link_local}
    assert SetLink("bridge xenbr0", "undo: recreate as it was", "eth0", "master",
                   "xenbr0") in undo
    assert [op_from_dict(json.loads(json.dumps(s.to_dict()))) for s in steps] == steps


def test_teardown_of_a_bridge_xapictl_did_not_make_is_refused():
    conv = snap("xenbr0-converged")
    links = dict(conv.links)
    links["xenbr0"] = replace(links["xenbr0"], alias=None)
    desired = parse_recipe("local:\n  bridges:\n    xenbr0: {uplink: eth0, state: absent}\n")
    assert problems(desired, replace(conv, links=links))[0].startswith(
        "bridge xenbr0: xapictl did not create it")


def with_vif(base: HostSnapshot, **kw) -> HostSnapshot:
    links = dict(base.links)
    links["vif3.0"] = Link("vif3.0", 20, "veth", mac="9a:1b:2c:3d:4e:5f", mtu=1500, up=True, **kw)
    addrs = (*base.addresses,
             Address("vif3.0", "fe80::981b:2cff:fe3d:4e5f", 64, 6, None, 0x80, 253))
    return replace(base, links=links, addresses=addrs)


def test_vif_attach_mirrors_vif_bridge_and_then_converges():
    desired = parse_recipe(XENBR0 + "  vifs:\n    vif3.0: {bridge: xenbr0, mtu: 9000}\n")
    host = with_vif(snap("xenbr0-converged"))
    assert described(plan(desired, host)) == [
        "bring down vif vif3.0: configure while down, as vif-bridge does",
        "set MAC fe:ff:ff:ff:ff:ff on vif vif3.0: vif-bridge's dummy MAC keeps the bridge MAC",
        "stop IPv6 autoconf on vif vif3.0: a bridge port needs no IPv6 address",
        "remove address vif vif3.0: a bridge port carries no address",
        "set MTU 9000 on vif vif3.0: MTU 1500 -> 9000",
        "enslave vif vif3.0: attach to xenbr0",
        "bring up vif vif3.0: guest traffic flows",
    ]
    links = dict(host.links)
    links["vif3.0"] = replace(links["vif3.0"], mac="fe:ff:ff:ff:ff:ff", addrgenmode=1,
                              mtu=9000, master="xenbr0")
    done = replace(host, links=links,
                   addresses=tuple(a for a in host.addresses if a.ifname != "vif3.0"))
    p = plan(desired, done)
    assert p.is_empty and "vif vif3.0: already on xenbr0" in [n.describe() for n in p.noops]


def test_a_guest_mtu_never_lowers_a_bridge_that_carries_host_addresses():
    """Issue 16 item 4: mtu=1400 on a vif of xenbr0 (the host's addresses) would pull the
    bridge, and the host's own traffic, down to 1400: the vif stays at 1500, with a
    warning. On a guests-only bridge the vif gets its 1400."""
    desired = parse_recipe(XENBR0 + "  vifs:\n    vif3.0: {bridge: xenbr0, mtu: 1400}\n")
    p = plan(desired, with_vif(snap("xenbr0-converged")))
    assert not [s for s in p.steps if isinstance(s, SetLink) and s.attr == "mtu"]
    assert p.warnings == (
        "vif vif3.0: mtu 1400 would lower the MTU of xenbr0, which carries the host's"
        " addresses, from 1500: the vif stays at 1500 (set MTU 1400 inside the guest)",)
    # the same before the bridge exists: the recipe moves eth0's addresses onto it
    fresh = plan(desired, with_vif(snap("fresh-host")))
    assert fresh.warnings == p.warnings
    assert not [s for s in fresh.steps if isinstance(s, SetLink) and s.attr == "mtu"
                and s.ifname == "vif3.0"]
    guests_only = parse_recipe("local:\n  bridges:\n    xenbr9: {}\n"
                               "  vifs:\n    vif3.0: {bridge: xenbr9, mtu: 1400}\n")
    p9 = plan(guests_only, with_vif(snap("xenbr0-converged")))
    assert SetLink("vif vif3.0", "MTU 1500 -> 1400", "vif3.0", "mtu", 1400) in p9.steps
    assert p9.warnings == ()


def test_vif_without_mtu_takes_the_bridge_mtu():
    conv = snap("xenbr0-converged")
    links = dict(conv.links)
    links["xenbr0"] = replace(links["xenbr0"], mtu=9000)
    desired = parse_recipe("local:\n  vifs:\n    vif3.0: {bridge: xenbr0}\n")
    steps = plan(desired, with_vif(replace(conv, links=links))).steps
    assert SetLink("vif vif3.0", "MTU 1500 -> 9000", "vif3.0", "mtu", 9000) in steps


def test_vif_offline_detaches_only():
    host = with_vif(snap("xenbr0-converged"), master="xenbr0")
    desired = parse_recipe("local:\n  vifs:\n    vif3.0: {state: absent}\n")
    assert described(plan(desired, host)) == [
        "bring down vif vif3.0: offline",
        "detach vif vif3.0: offline: detach, netback removes the device",
    ]


VLAN_AWARE = """
local:
  bridges:
    xenbr1:
      uplink: eth1
      vlan_filtering: true
      trunk_vids: [101, "103-104"]
  vifs:
    vif3.0: {bridge: xenbr1, vlan: "103p/101"}
"""


def trunk_host() -> HostSnapshot:
    fresh = snap("fresh-host")
    links = dict(fresh.links)
    links["eth1"] = Link("eth1", 5, "veth", mac="00:16:3e:00:00:11", up=True)
    return with_vif(replace(fresh, links=links))


def test_vlan_aware_bridge_trunks_tagged_vids_and_drops_default_vid_1():
    p = plan(parse_recipe(VLAN_AWARE), trunk_host())
    create = p.steps[0]
    assert isinstance(create, CreateLink) and create.vlan_filtering
    vlan_ops = [(type(s).__name__, s.ifname, s.vid, s.pvid, s.untagged) if
                isinstance(s, BridgeVlanAdd) else (type(s).__name__, s.ifname, s.vid)
                for s in p.steps if isinstance(s, (BridgeVlanAdd, BridgeVlanDel))]
    assert vlan_ops == [
        ("BridgeVlanAdd", "eth1", 101, False, False),
        ("BridgeVlanAdd", "eth1", 103, False, False),
        ("BridgeVlanAdd", "eth1", 104, False, False),
        ("BridgeVlanDel", "eth1", 1),
        ("BridgeVlanAdd", "vif3.0", 103, True, True),
        ("BridgeVlanAdd", "vif3.0", 101, False, False),
        ("BridgeVlanDel", "vif3.0", 1),
    ]
    assert needed_capabilities(p.steps) == {"bridge", "vlan_filtering"}


def test_vlan_aware_bridge_converged_with_its_vlan_table():
    host = trunk_host()
    links = dict(host.links)
    links["xenbr1"] = Link("xenbr1", 30, "bridge", mac="00:16:3e:00:00:11", up=True,
                           alias="xapictl:bridge", stp_state=0, forward_delay=0,
                           vlan_filtering=True)
    links["eth1"] = replace(links["eth1"], master="xenbr1", addrgenmode=1)
    links["vif3.0"] = replace(links["vif3.0"], master="xenbr1", addrgenmode=1,
                              mac="fe:ff:ff:ff:ff:ff")
    vlans = {"eth1": (BridgeVlan(101), BridgeVlan(103), BridgeVlan(104)),
             "vif3.0": (BridgeVlan(103, True, True), BridgeVlan(101))}
    done = replace(host, links=links, bridge_vlans=vlans,
                   addresses=tuple(a for a in host.addresses if a.ifname != "vif3.0"))
    assert plan(parse_recipe(VLAN_AWARE), done).is_empty


def test_bridge_per_vlan_builds_the_vlan_device_under_its_own_bridge():
    desired = parse_recipe("local:\n  bridges:\n    xenbr105: {uplink: eth1, vlan: 105}\n")
    assert described(plan(desired, trunk_host())) == [
        "create VLAN device eth1.105: carries VLAN 105 of eth1 to xenbr105",
        "stop IPv6 autoconf on VLAN device eth1.105: a bridge port needs no IPv6 address",
        "bring up VLAN device eth1.105: new",
        "create bridge xenbr105: not there yet",
        "bring up bridge xenbr105: carry traffic",
        "enslave VLAN device eth1.105: becomes a port of xenbr105",
    ]


def test_bond_as_uplink_is_built_before_its_bridge():
    host = trunk_host()
    links = dict(host.links)
    links["eth2"] = Link("eth2", 6, "veth", mac="00:16:3e:00:00:12", up=True)
    desired = parse_recipe("""
local:
  bonds:
    bond0: {slaves: [eth1, eth2], mode: active-backup}
  bridges:
    xenbr2: {uplink: bond0}
""")
    steps = plan(desired, replace(host, links=links)).steps
    assert [s.describe() for s in steps][:4] == [
        "create bond bond0: not there yet",
        "stop IPv6 autoconf on bond bond0: a bridge port needs no IPv6 address",
        "bring down NIC eth1: a bond slave must be down to join",
        "enslave NIC eth1: joins bond0",
    ]
    assert steps[-1].describe() == "enslave uplink bond0: becomes a port of xenbr2"
    assert problems(desired, replace(host, links=links)) == []


def test_addresses_that_would_be_stranded_on_a_port_are_refused():
    desired = parse_recipe("local:\n  bridges:\n    xenbr0: {uplink: eth0, addresses: none}\n")
    assert problems(desired, snap("fresh-host")) == [
        "bridge xenbr0: uplink eth0 carries 192.0.2.10/24, 192.0.2.11/24, 2001:db8::10/64,"
        " which would be stranded on a bridge port; use 'addresses: from-uplink' to move them"
        " to the bridge"]


def test_vlan_aware_bridge_taking_the_host_addresses_is_refused():
    """VID 1 leaves the uplink and the bridge gets no VLAN of its own: the host's untagged
    traffic could not leave, so pre-flight refuses (LOCAL-BACKEND §5.2 VLAN-aware step 4)."""
    host = trunk_host()
    with_addr = replace(host, addresses=(*host.addresses, Address("eth1", "192.0.2.20", 24)))
    found = [p for p in problems(parse_recipe(VLAN_AWARE), with_addr) if "VLAN-aware" in p]
    assert found == ["bridge xenbr1: a VLAN-aware bridge carries only trunk_vids tagged on"
                     " eth1, so host addresses 192.0.2.20/24 on it would be cut off; set"
                     " 'addresses: none' on it and keep the host on another NIC or bridge, or"
                     " drop 'vlan_filtering'"]
    stated = VLAN_AWARE.replace("trunk_vids:", "addresses: [198.51.100.2/24]\n      trunk_vids:")
    assert [p for p in problems(parse_recipe(stated), host) if "VLAN-aware" in p]
    assert not [p for p in problems(parse_recipe(VLAN_AWARE), host) if "VLAN-aware" in p]
