"""MTU that is safe (issue 13 item 4): no VIF re-plugged above a management PIF left at its
MTU; a lowered MTU re-plugs the VIFs before the PIFs.

Re-plug is ``PIF.plug`` on the attached PIF, derived from xen-api: ``Xapi_pif.plug`` always
calls ``Nm.bring_pif_up``, which hands networkd the interface config with ``determine_mtu``
("Call networkd even if currently_attached is false") and then syncs ``PIF.MTU`` from the
bridge; only the ``currently_attached``/stunnel part is skipped for a plugged PIF. No unplug
is needed, so the management PIF is never unplugged."""

from __future__ import annotations

import pytest
from recipes_simpool import SimPool

from xapictl.errors import PreflightError
from xapictl.plan.diff import diff
from xapictl.plan.steps import ReplugPIF, ReplugVIF
from xapictl.recipes import ensure_mtu, ensure_vm_attached


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
