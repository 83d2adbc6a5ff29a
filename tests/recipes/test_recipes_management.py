"""The ``management`` section and ``ensure_management`` (issue 13 item 3) on the simulated
pool in-process: the plan's order and reasons, the address an ``interfaces:`` entry of the
same recipe gives, the no-op, and each refusal before any write, named by its field."""

from __future__ import annotations

import pytest
from recipes_simpool import SimPool

from xapictl.errors import DesiredStateError, PreflightError
from xapictl.plan.desired import load_text
from xapictl.plan.diff import diff
from xapictl.recipes import ensure_management

ADDRESS_AND_MOVE = """
version: 1
interfaces:
  - device: eth1
    ipv4: static
    address_range: 127.0.1.11-127.0.1.13/8
management:
  network: Pool-wide network 1
"""


def _refused(pool: SimPool, text: str) -> str:
    with pytest.raises(PreflightError) as refused:
        diff(load_text(text), pool.snapshot())
    return str(refused.value)


def test_an_interfaces_entry_gives_the_address_the_move_goes_to() -> None:
    pool = SimPool()
    plan = diff(load_text(ADDRESS_AND_MOVE), pool.snapshot())
    assert [s.action for s in plan.steps] == ["reconfigure IP"] * 3 + ["move management"] * 3 \
        + ["recover members"]
    assert [s.reason.split(" (")[0] for s in plan.steps if s.action == "move management"] == [
        "management: 'Pool-wide network 1': 127.0.0.2 -> 127.0.1.12",
        "management: 'Pool-wide network 1': 127.0.0.3 -> 127.0.1.13",
        "management: 'Pool-wide network 1': 127.0.0.1 -> 127.0.1.11"]
    result = pool.converge(load_text(ADDRESS_AND_MOVE))
    assert result.replan is not None and result.replan.is_empty
    assert pool.writes() == ["PIF.reconfigure_ip"] * 3 + ["host.management_reconfigure"] * 3 \
        + ["pool.recover_slaves"]
    snap = pool.snapshot()
    assert sorted(h.address for h in snap.hosts.values()) == [
        "127.0.1.11", "127.0.1.12", "127.0.1.13"]


def test_already_there_is_a_no_op_with_its_reason() -> None:
    pool = SimPool()
    plan = diff(ensure_management("Pool-wide network 0"), pool.snapshot())
    assert plan.is_empty
    assert [(n.subject, n.reason) for n in plan.noops] == [
        ("management interface on 'Pool-wide network 0'",
         "every host's management interface is on 'Pool-wide network 0'")]


def test_one_member_only_needs_no_recover_slaves() -> None:
    pool = SimPool()
    plan = diff(ensure_management("Pool-wide network 2", hosts=["xcp-host-03"]),
                pool.snapshot())
    assert [(s.action, s.subject) for s in plan.steps] == [
        ("move management", "host xcp-host-03")]
    assert len(plan.undo) == 1 and plan.undo[0].undoes == "management xcp-host-03"


@pytest.mark.parametrize(("text", "expected"), [
    ("management: {network: Nowhere}",
     "management.network: network 'Nowhere' does not exist on the pool; check the name "
     "(xapictl network list)"),
    ("management: {network: Pool-wide network 2, hosts: [xcp-host-09]}",
     "management.hosts: no host xcp-host-09 in the pool (xcp-host-01, xcp-host-02, "
     "xcp-host-03)"),
    ("networks: [{name: New, vlan: 77, device: eth1}]\nmanagement: {network: New}",
     "management.network: network 'New' is made by this plan, its PIFs have no address yet"),
])
def test_what_cannot_be_moved_is_refused_naming_the_field(text: str, expected: str) -> None:
    assert expected in _refused(SimPool(), "version: 1\n" + text)


def test_an_offline_host_is_refused() -> None:
    pool = SimPool()
    with pool.sim.state.lock:
        host = pool.sim.state.refs("host")[2]
    pool.sim.set_host_live(host, False)
    text = _refused(pool, "version: 1\nmanagement: {network: Pool-wide network 2}")
    assert "xcp-host-03 is offline: its management interface cannot be moved" in text


def test_ensure_management_checks_its_arguments() -> None:
    with pytest.raises(DesiredStateError) as bad:
        ensure_management("")
    assert "network" in str(bad.value)
