"""MTU that is safe (issue 13 item 4): a VLAN's MTU never above its trunk's, the trunk raised
first when the recipe raises it; no VIF re-plugged above a management PIF left at its MTU; a
lowered MTU re-plugs the VIFs before the PIFs.

Re-plug is ``PIF.plug`` on the attached PIF, derived from xen-api: ``Xapi_pif.plug`` always
calls ``Nm.bring_pif_up``, which hands networkd the interface config with ``determine_mtu``
("Call networkd even if currently_attached is false") and then syncs ``PIF.MTU`` from the
bridge; only the ``currently_attached``/stunnel part is skipped for a plugged PIF. No unplug
is needed, so the management PIF is never unplugged."""

from __future__ import annotations

import pytest
from recipes_simpool import SimPool

from xapictl.errors import PreflightError
from xapictl.plan.desired import load_text
from xapictl.plan.diff import diff
from xapictl.plan.steps import ReplugPIF, ReplugVIF
from xapictl.recipes import ensure_mtu, ensure_vm_attached

VLAN_9000 = "version: 1\nnetworks:\n  - {name: VLAN 105, vlan: 105, device: eth1, mtu: 9000}\n"


def test_a_vlan_above_its_trunk_is_refused_naming_the_fix() -> None:
    pool = SimPool()
    with pytest.raises(PreflightError) as caught:
        pool.converge(load_text(VLAN_9000))
    assert str(caught.value).splitlines()[-1] == (
        "network 'VLAN 105': MTU 9000 is above its trunk's (eth1, network 'Pool-wide network "
        "1', MTU 1500): a VLAN carries no frame larger than its trunk; raise the trunk first: "
        "state networks: - {name: 'Pool-wide network 1', device: eth1, mtu: 9000, replug: "
        "true}")
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
