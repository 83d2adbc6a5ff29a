"""MTU that is safe (issue 13 item 4): a VLAN's MTU never above its trunk's, the trunk raised
first when the recipe raises it; no VIF re-plugged above a management PIF left at its MTU; a
lowered MTU re-plugs the VIFs before the PIFs.

Re-plug is ``PIF.plug`` on the attached PIF, derived from xen-api: ``Xapi_pif.plug`` always
calls ``Nm.bring_pif_up``, which hands networkd the interface config with ``determine_mtu``
("Call networkd even if currently_attached is false") and then syncs ``PIF.MTU`` from the
bridge; only the ``currently_attached``/stunnel part is skipped for a plugged PIF. No unplug
is needed, so the management PIF is never unplugged."""

from __future__ import annotations

from typing import Any

import pytest
from recipes_simpool import SimPool

from xapictl.errors import DesiredStateError, PreflightError
from xapictl.plan.desired import load_text
from xapictl.plan.diff import diff
from xapictl.plan.steps import ReplugPIF, ReplugVIF
from xapictl.recipes import ensure_mtu, ensure_vlan_network, ensure_vm_attached

VLAN_9000 = "version: 1\nnetworks:\n  - {name: VLAN 105, vlan: 105, device: eth1, mtu: 9000}\n"


def test_a_vlan_above_its_trunk_is_refused_naming_the_fix() -> None:
    pool = SimPool()
    with pytest.raises(PreflightError) as caught:
        pool.converge(load_text(VLAN_9000))
    assert str(caught.value).splitlines()[-1] == (
        "network 'VLAN 105': MTU 9000 is above its trunk's (eth1, network 'Pool-wide network "
        "1', MTU 1500): a VLAN carries no frame larger than its trunk; raise the trunk first: "
        "state networks: - {name: 'Pool-wide network 1', device: eth1, mtu: 9000, replug: "
        "true}, or add raise_trunk_mtu: true (--raise-trunk-mtu)")
    assert pool.writes() == []


def test_a_vlan_on_the_management_nic_names_the_management_confirmation() -> None:
    pool = SimPool()
    with pytest.raises(PreflightError, match="the trunk carries the management interface on "
                       "xcp-host-01, xcp-host-02, xcp-host-03: re-plugging it needs "
                       "replug_management: true"):
        pool.converge(load_text(VLAN_9000.replace("eth1", "eth0")))
    assert pool.writes() == []


def test_the_trunk_is_raised_first_whatever_the_recipe_order() -> None:
    pool = SimPool()
    desired = load_text(VLAN_9000 + "  - {name: Pool-wide network 1, device: eth1, mtu: 9000,"
                        " replug: true}\n")
    result = pool.converge(desired)
    assert result.replan is not None and result.replan.is_empty
    writes = pool.writes()
    assert writes.index("network.set_MTU") < writes.index("pool.create_VLAN_from_PIF")
    assert writes[:4] == ["network.set_MTU", "PIF.plug", "PIF.plug", "PIF.plug"]


def test_a_vlan_at_or_below_its_trunk_is_planned() -> None:
    pool = SimPool()
    plan = diff(load_text(VLAN_9000.replace("9000", "1500")), pool.snapshot())
    assert [s.action for s in plan.steps][:1] == ["create"]


def test_vifs_are_not_replugged_above_a_management_pif_left_at_its_mtu() -> None:
    """The issue's case: set-mtu 9000 --replug moved the guests' VIFs to 9000 while the
    management PIFs stayed at 1500."""
    pool = SimPool()
    with pytest.raises(PreflightError) as caught:
        pool.converge(ensure_mtu("Pool-wide network 0", 9000, device="eth0", replug=True))
    assert "would leave VIFs above their PIF's MTU; add replug_management: true" in str(
        caught.value)
    assert pool.writes() == []


def test_with_replug_management_the_pifs_come_up_before_the_vifs() -> None:
    pool = SimPool()
    plan = diff(ensure_mtu("Pool-wide network 0", 9000, device="eth0", replug=True,
                           replug_management=True), pool.snapshot())
    kinds = [type(s) for s in plan.steps if isinstance(s, ReplugPIF | ReplugVIF)]
    assert kinds[:3] == [ReplugPIF] * 3 and kinds[3:] and set(kinds[3:]) == {ReplugVIF}


def test_a_lowered_mtu_replugs_the_vifs_before_the_pifs() -> None:
    pool = SimPool()
    pool.converge(ensure_vm_attached("web-01", "Pool-wide network 2"))
    pool.converge(ensure_mtu("Pool-wide network 2", 9000, device="eth2", replug=True))
    plan = diff(ensure_mtu("Pool-wide network 2", 1500, device="eth2", replug=True),
                pool.snapshot())
    kinds = [type(s) for s in plan.steps if isinstance(s, ReplugPIF | ReplugVIF)]
    assert kinds == [ReplugVIF] + [ReplugPIF] * 3
    pool.clear()
    result = pool.converge(ensure_mtu("Pool-wide network 2", 1500, device="eth2", replug=True))
    assert result.replan is not None and result.replan.is_empty


def _network(pool: SimPool, name: str) -> Any:
    snap = pool.snapshot()
    return snap, next(r for r, n in snap.networks.items() if n.name_label == name)


def test_raise_trunk_mtu_raises_the_trunk_first_pifs_before_vifs_then_makes_the_vlan() -> None:
    pool = SimPool()
    pool.converge(ensure_vm_attached("web-01", "Pool-wide network 1"))
    pool.clear()
    desired = ensure_vlan_network("VLAN 105", 105, device="eth1", mtu=9000,
                                  raise_trunk_mtu=True)
    plan = diff(desired, pool.snapshot())
    assert plan.steps[0].reason == (
        "MTU is 1500 and network 'VLAN 105' on it says 9000 (raise_trunk_mtu): a VLAN "
        "carries no frame larger than its trunk")
    result = pool.converge(desired)
    assert result.replan is not None and result.replan.is_empty
    assert pool.writes() == (["network.set_MTU"] + ["PIF.plug"] * 3
                             + ["VIF.unplug", "VIF.plug"]
                             + ["network.create", "pool.create_VLAN_from_PIF"])
    snap, trunk = _network(pool, "Pool-wide network 1")
    _, vlan = _network(pool, "VLAN 105")
    assert snap.networks[trunk].mtu == 9000 and snap.networks[vlan].mtu == 9000
    assert sorted(snap.pifs[p].mtu for p in snap.networks[trunk].pifs) == [9000] * 3
    assert sorted(snap.pifs[p].mtu for p in snap.networks[vlan].pifs) == [9000] * 3
    assert [snap.vifs[v].mtu for v in snap.networks[trunk].vifs] == [9000]


def test_raise_trunk_mtu_on_a_set_mtu_of_an_existing_vlan() -> None:
    pool = SimPool()
    pool.converge(ensure_vlan_network("VLAN 105", 105, device="eth1"))
    pool.clear()
    without = ensure_mtu("VLAN 105", 9000, vlan=105, device="eth1", replug=True)
    with pytest.raises(PreflightError, match="MTU 9000 is above its trunk's"):
        pool.converge(without)
    result = pool.converge(ensure_mtu("VLAN 105", 9000, vlan=105, device="eth1", replug=True,
                                      raise_trunk_mtu=True))
    assert result.replan is not None and result.replan.is_empty
    writes = pool.writes()
    assert writes[:4] == ["network.set_MTU"] + ["PIF.plug"] * 3  # the trunk, first
    assert writes[4:] == ["network.set_MTU"] + ["PIF.plug"] * 3  # then the VLAN


def test_raise_trunk_mtu_refuses_to_replug_the_management_interface_unasked() -> None:
    pool = SimPool()
    with pytest.raises(PreflightError) as caught:
        pool.converge(ensure_vlan_network("VLAN 7", 7, device="eth0", mtu=9000,
                                          raise_trunk_mtu=True))
    assert str(caught.value).splitlines()[-1] == (
        "network 'VLAN 7': raising its trunk network 'Pool-wide network 0' to MTU 9000 "
        "(raise_trunk_mtu) re-plugs the management interface (PIF eth0 on xcp-host-01, PIF "
        "eth0 on xcp-host-02, PIF eth0 on xcp-host-03): add replug_management: true / "
        "--replug-management to allow it (it is re-plugged first), or keep the VLAN at MTU "
        "1500 or below")
    assert pool.writes() == []
    allowed = ensure_vlan_network("VLAN 7", 7, device="eth0", mtu=9000, raise_trunk_mtu=True,
                                  replug_management=True)
    plan = diff(allowed, pool.snapshot())
    kinds = [type(s) for s in plan.steps if isinstance(s, ReplugPIF | ReplugVIF)]
    assert kinds[:3] == [ReplugPIF] * 3 and set(kinds[3:]) == {ReplugVIF}
    result = pool.converge(allowed)
    assert result.replan is not None and result.replan.is_empty


def test_a_trunk_lowered_below_its_vlans_is_refused_naming_them() -> None:
    pool = SimPool()
    pool.converge(ensure_vlan_network("VLAN 105", 105, device="eth1", mtu=9000,
                                      raise_trunk_mtu=True))
    pool.clear()
    with pytest.raises(PreflightError) as caught:
        pool.converge(ensure_mtu("Pool-wide network 1", 1500, device="eth1", replug=True))
    assert str(caught.value).splitlines()[-1] == (
        "network 'Pool-wide network 1': MTU 1500 is below that of the VLAN networks on it "
        "('VLAN 105' (MTU 9000, VLAN 105 on eth1)): a VLAN carries no frame larger than its "
        "trunk; lower them first: state each with `mtu: 1500` (and `replug: true`) in the "
        "same recipe (the plan lowers them before the trunk), or `xapictl network set-mtu` "
        "each of them first")
    assert pool.writes() == []


def test_a_trunk_lowered_with_its_vlans_lowers_the_vlans_first() -> None:
    pool = SimPool()
    pool.converge(ensure_vlan_network("VLAN 105", 105, device="eth1", mtu=9000,
                                      raise_trunk_mtu=True))
    pool.clear()
    both = load_text(
        "version: 1\nnetworks:\n"
        "  - {name: Pool-wide network 1, device: eth1, mtu: 1500, replug: true}\n"
        "  - {name: VLAN 105, vlan: 105, device: eth1, mtu: 1500, replug: true}\n")
    result = pool.converge(both)
    assert result.replan is not None and result.replan.is_empty
    assert pool.writes() == (["network.set_MTU"] + ["PIF.plug"] * 3) * 2
    log = [e["params"] for e in pool.control.request_log()
           if e["method"] == "network.set_MTU" and e["outcome"] == "success"]
    snap = pool.snapshot()
    assert [snap.networks[p[1]].name_label for p in log] == [
        "VLAN 105", "Pool-wide network 1"]


def test_a_trunk_lowered_while_the_recipe_removes_its_vlan_is_planned() -> None:
    pool = SimPool()
    pool.converge(ensure_vlan_network("VLAN 105", 105, device="eth1", mtu=9000,
                                      raise_trunk_mtu=True))
    pool.clear()
    result = pool.converge(load_text(
        "version: 1\nnetworks:\n"
        "  - {name: Pool-wide network 1, device: eth1, mtu: 1500, replug: true}\n"
        "  - {name: VLAN 105, vlan: 105, device: eth1, present: false}\n"))
    assert result.replan is not None and result.replan.is_empty
    assert "network.destroy" in pool.writes()


def test_raise_trunk_mtu_is_refused_where_it_means_nothing_or_the_trunk_is_stated() -> None:
    with pytest.raises(DesiredStateError, match="only meaningful on a VLAN network with an "
                       "MTU"):
        load_text("version: 1\nnetworks:\n  - {name: VLAN 9, vlan: 9, device: eth1, "
                  "raise_trunk_mtu: true}\n")
    with pytest.raises(DesiredStateError, match="the recipe states the trunk's MTU at "):
        load_text("version: 1\nnetworks:\n"
                  "  - {name: VLAN 9, vlan: 9, device: eth1, mtu: 9000, raise_trunk_mtu: true}\n"
                  "  - {name: Trunk, device: eth1, mtu: 9000}\n")


def test_the_concepts_page_shows_the_jumbo_recipes_real_plan_lines() -> None:
    """docs/concepts.md's MTU section quotes the plan of recipes/jumbo-vlan.yaml; without
    raise_trunk_mtu that recipe is refused, naming the fix."""
    import re
    from pathlib import Path

    from recipes_simpool import RECIPES, recipe

    from xapictl.plan.text import render_text

    page = (Path(__file__).resolve().parents[2] / "docs" / "concepts.md").read_text()
    section = page.split("\n## MTU\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```text\n(.*?)\n```", section, re.S)
    pool = SimPool()
    shown = render_text(diff(recipe("jumbo-vlan.yaml"), pool.snapshot())).splitlines()
    assert block.splitlines() and all(line in shown for line in block.splitlines())
    text = (RECIPES / "jumbo-vlan.yaml").read_text()
    assert "    raise_trunk_mtu: true\n" in text
    with pytest.raises(PreflightError, match="or add raise_trunk_mtu: true"):
        diff(load_text(text.replace("    raise_trunk_mtu: true\n", "")), pool.snapshot())


def test_a_vlan_on_a_trunk_whose_pifs_still_carry_less_is_warned_about() -> None:
    """eth1's network is at 9000 but its PIFs were never re-plugged: the VLAN may go to 9000,
    and the plan says its frames above 1500 are dropped on each PIF until the re-plug."""
    pool = SimPool()
    pool.converge(ensure_mtu("Pool-wide network 1", 9000, device="eth1"))
    plan = diff(ensure_vlan_network("VLAN 105", 105, device="eth1", mtu=9000), pool.snapshot())
    code = "trunk_mtu_until_replug"
    assert [str(w) for w in plan.warnings if getattr(w, "code", "") == code] == [
        f"network 'VLAN 105': its trunk PIF eth1 on xcp-host-0{i} still carries MTU 1500 until "
        "re-plugged: the VLAN's frames above that are dropped there until then (`xapictl "
        "network set-mtu 'Pool-wide network 1' 9000 --replug`)" for i in (1, 2, 3)]
    pool.converge(ensure_mtu("Pool-wide network 1", 9000, device="eth1", replug=True))
    plan = diff(ensure_vlan_network("VLAN 105", 105, device="eth1", mtu=9000), pool.snapshot())
    assert [w for w in plan.warnings if getattr(w, "code", "") == code] == []


def test_a_vlan_on_a_bond_raises_the_bonds_network_or_is_refused() -> None:
    from recipes_simpool import recipe

    pool = SimPool()
    pool.converge(recipe("bonded-trunk.yaml"))
    pool.clear()
    jumbo = ensure_vlan_network("VLAN 203", 203, bond="Bond eth1+eth2", mtu=9000)
    with pytest.raises(PreflightError) as caught:
        pool.converge(jumbo)
    assert str(caught.value).splitlines()[-1] == (
        "network 'VLAN 203': MTU 9000 is above its trunk's (bond 'Bond eth1+eth2', network "
        "'Bond eth1+eth2', MTU 1500): a VLAN carries no frame larger than its trunk; raise the "
        "trunk first: state `mtu: 9000` on the bond 'Bond eth1+eth2' under bonds:, or add "
        "raise_trunk_mtu: true (--raise-trunk-mtu)")
    assert pool.writes() == []
    raised = ensure_vlan_network("VLAN 203", 203, bond="Bond eth1+eth2", mtu=9000,
                                 raise_trunk_mtu=True)
    result = pool.converge(raised)
    assert result.replan is not None and result.replan.is_empty
    assert pool.writes() == (["network.set_MTU"] + ["PIF.plug"] * 3
                             + ["network.create", "pool.create_VLAN_from_PIF"])
    snap, bond_net = _network(pool, "Bond eth1+eth2")
    assert sorted(snap.pifs[p].mtu for p in snap.networks[bond_net].pifs) == [9000] * 3


BOND_AT = ("version: 1\nbonds:\n  - {{network: Bond eth1+eth2, members: [eth1, eth2], "
           "mode: lacp, hashing_algorithm: tcpudp_ports{bond}}}\nnetworks:\n"
           "{named}  - {{name: VLAN 203, vlan: 203, bond: Bond eth1+eth2{vlan}}}\n")


def _bond_at_9000_under_vlan_203() -> SimPool:
    from recipes_simpool import recipe

    pool = SimPool()
    pool.converge(recipe("bonded-trunk.yaml"))
    pool.converge(ensure_vlan_network("VLAN 203", 203, bond="Bond eth1+eth2", mtu=9000,
                                      raise_trunk_mtu=True))
    pool.clear()
    return pool


@pytest.mark.parametrize("form", ["bonds", "named"])
def test_a_bond_lowered_with_its_vlans_lowers_the_vlans_first(form: str) -> None:
    """A bond's network lowered (``mtu`` under ``bonds:``, or a named ``networks:`` entry
    listed before the VLAN) is set after the VLAN on it comes down, as a NIC trunk is."""
    pool = _bond_at_9000_under_vlan_203()
    text = BOND_AT.format(
        bond=", mtu: 1500" if form == "bonds" else "",
        named="  - {name: Bond eth1+eth2, mtu: 1500}\n" if form == "named" else "",
        vlan=", mtu: 1500, replug: true")
    plan = diff(load_text(text), pool.snapshot())
    lowered = [s for s in plan.steps if getattr(s, "method", None) == "set_MTU"]
    assert [s.subject for s in lowered][-1].startswith(
        "bond 'Bond eth1+eth2'" if form == "bonds" else "network 'Bond eth1+eth2'")
    result = pool.converge(load_text(text))
    assert result.replan is not None and result.replan.is_empty
    log = [e["params"] for e in pool.control.request_log()
           if e["method"] == "network.set_MTU" and e["outcome"] == "success"]
    snap = pool.snapshot()
    assert [snap.networks[p[1]].name_label for p in log] == ["VLAN 203", "Bond eth1+eth2"]
    assert snap.networks[_network(pool, "Bond eth1+eth2")[1]].mtu == 1500


def test_a_bond_lowered_below_its_vlans_is_refused_naming_them() -> None:
    pool = _bond_at_9000_under_vlan_203()
    with pytest.raises(PreflightError) as caught:
        pool.converge(load_text(BOND_AT.format(bond=", mtu: 1500", named="", vlan="")))
    assert str(caught.value).splitlines()[-1] == (
        "bond 'Bond eth1+eth2' (eth1+eth2): MTU 1500 is below that of the VLAN networks on it "
        "('VLAN 203' (MTU 9000, VLAN 203 on bond0)): a VLAN carries no frame larger than its "
        "trunk; lower them first: state each with `mtu: 1500` (and `replug: true`) in the same "
        "recipe (the plan lowers them before the bond), or `xapictl network set-mtu` each of "
        "them first")
    assert pool.writes() == []
