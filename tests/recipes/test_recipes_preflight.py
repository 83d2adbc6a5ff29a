"""Pre-flight completeness (issue 13 item 5): what XAPI would refuse part-way is refused
before the first write, or planned so that it cannot be refused."""

from __future__ import annotations

import pytest
from recipes_simpool import SimPool

from xapictl.errors import PreflightError
from xapictl.plan.desired import load_text
from xapictl.plan.diff import diff
from xapictl.recipes import ensure_network, ensure_vm_attached

CONFLICT = """
version: 1
networks:
  - {name: Backup NBD, purpose: [nbd]}
  - {name: Lab NBD, purpose: [insecure_nbd]}
"""


def test_nbd_and_insecure_nbd_in_one_recipe_are_refused_before_any_write() -> None:
    """It used to create the first network, add nbd, create the second and fail on
    insecure_nbd (NETWORK_INCOMPATIBLE_PURPOSES): exit 5, half made."""
    pool = SimPool()
    with pytest.raises(PreflightError) as caught:
        pool.converge(load_text(CONFLICT))
    assert str(caught.value).splitlines()[-1] == (
        "network 'Lab NBD' would get purpose insecure_nbd while 'Backup NBD' has nbd: XAPI "
        "refuses both in one pool (NETWORK_INCOMPATIBLE_PURPOSES [insecure_nbd, nbd]); use "
        "one of them, or state nbd away from 'Backup NBD' first (purpose: [...])")
    assert pool.writes() == []


def test_a_purpose_on_a_network_outside_the_recipe_is_named() -> None:
    pool = SimPool()
    pool.converge(ensure_network("Lab NBD", purpose=["insecure_nbd"]))
    pool.clear()
    with pytest.raises(PreflightError, match="'Lab NBD' has insecure_nbd"):
        pool.converge(ensure_network("Backup NBD", purpose=["nbd"]))
    assert pool.writes() == []


def test_a_removal_the_addition_needs_runs_first_whatever_the_recipe_order() -> None:
    """nbd added to one network, insecure_nbd removed from another stated after it: the
    removal is planned first, so XAPI accepts the addition; converged, re-plan empty."""
    pool = SimPool()
    pool.converge(ensure_network("Lab NBD", purpose=["insecure_nbd"]))
    desired = ensure_network("Backup NBD", purpose=["nbd"]).merged(
        ensure_network("Lab NBD", purpose=[]))
    plan = diff(desired, pool.snapshot())
    purposes = [(s.action, s.purpose) for s in plan.steps if hasattr(s, "purpose")]
    assert purposes == [("remove purpose", "insecure_nbd"), ("add purpose", "nbd")]
    pool.clear()
    result = pool.converge(desired)
    assert result.replan is not None and result.replan.is_empty
    assert pool.writes() == ["network.create", "network.remove_purpose", "network.add_purpose"]


NET0 = "Pool-wide network 0"


def test_a_qos_change_on_a_plugged_vif_warns_that_it_applies_at_the_next_plug() -> None:
    pool = SimPool()
    desired = ensure_vm_attached("web-01", NET0, device=0, qos_kbps=10240)
    result = pool.converge(desired)
    warnings = [w for w in result.plan.warnings if w.code == "vif_qos_until_replug"]
    assert [str(w) for w in warnings] == [
        "VIF 0 of VM 'web-01' is plugged in the running VM: the new rate limit applies at its "
        "next plug (replug: true / --replug re-plugs it now)"]
    assert pool.writes() == ["VIF.set_qos_algorithm_type", "VIF.set_qos_algorithm_params"]


def test_replug_applies_a_qos_change_now_with_a_planned_reason() -> None:
    pool = SimPool()
    desired = ensure_vm_attached("web-01", NET0, device=0, qos_kbps=10240, replug=True)
    result = pool.converge(desired)
    [replug] = [s for s in result.plan.steps if type(s).__name__ == "ReplugVIFQoS"]
    assert replug.reason == ("plugged in the running VM: the new rate limit applies when it "
                             "is plugged again, so re-plug it")
    assert replug.disruptive
    assert pool.writes() == ["VIF.set_qos_algorithm_type", "VIF.set_qos_algorithm_params",
                             "VIF.unplug", "VIF.plug"]
    assert result.replan is not None and result.replan.is_empty
    pool.clear()
    assert pool.converge(desired).plan.is_empty and pool.writes() == []


def test_replug_of_a_vm_without_pv_drivers_is_a_warning_not_a_step() -> None:
    pool = SimPool()
    result = pool.converge(ensure_vm_attached("win-app-01", NET0, device=0, qos_kbps=512,
                                              replug=True))
    assert [w.code for w in result.plan.warnings] == ["vif_qos_until_replug"]
    assert "cannot be re-plugged (no PV drivers)" in str(result.plan.warnings[0])
    assert "VIF.unplug" not in pool.writes()


def test_a_halted_vms_vif_takes_qos_without_a_word() -> None:
    pool = SimPool()
    result = pool.converge(ensure_vm_attached("build-01", NET0, device=0, qos_kbps=512))
    assert result.plan.warnings == ()
