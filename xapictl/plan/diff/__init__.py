"""``diff(desired, snapshot) -> Plan``: the pure heart of xapictl. No I/O, no clock.

Every recipe entry ends as steps (each with its reason) or a no-op saying why nothing is
needed; fields the recipe does not state are left alone. Order: pool settings, bonds, then
networks (a VLAN may sit on a bond of the same recipe; NIC networks first, so a trunk's MTU
is raised before the VLANs on it, but last when their MTU goes down, so the VLANs come down
first; a bond's network lowered, under ``bonds:`` or as a named entry, likewise), then
interfaces (IP configuration), then VM attachments, then removals in reverse (attachments,
VLAN networks, bonds), then the management interface (last: every other step runs while the
pool is where the client reaches it), then the removal of a bond the management interface
moves off (after the move: a member that does not answer on its new address is moved back
onto the bond, which is still there). Anything that would make the plan fail half-way is
collected and raised as one ``PreflightError`` before a single step is returned.

One module per XAPI class plans its entries (``network``, ``private`` for tunnels and SR-IOV,
``bond``, ``vif``, ``pool``); ``sriov`` checks what SR-IOV networks need (one NIC model, VFs
for their VIFs); ``planner`` holds the shared working state.
"""

from __future__ import annotations

from xapictl.errors import PreflightError
from xapictl.plan.core import Plan, Step
from xapictl.plan.desired import DesiredState
from xapictl.plan.diff.network import (
    check_purposes,
    plan_network,
    plan_network_absent,
    planning_order,
)
from xapictl.plan.diff.planner import Planner
from xapictl.state.snapshot import PoolSnapshot


def diff(desired: DesiredState, snap: PoolSnapshot) -> Plan:
    """The steps that take ``snap`` to ``desired``, and the no-ops, each with its reason."""
    d = Planner(desired, snap)
    if desired.pool is not None:
        from xapictl.plan.diff.pool import plan_pool  # only for recipes that state it

        plan_pool(d, desired.pool)
    if desired.bonds:
        from xapictl.plan.diff.bond import plan_bond  # only for recipes that state bonds

        for bond in desired.bonds:
            if bond.present:
                plan_bond(d, bond)
    for net in planning_order(d, desired.networks):
        # a trunk's MTU is raised before its VLANs', lowered after theirs
        if net.present and net.kind in ("tunnel", "sriov"):
            from xapictl.plan.diff.private import plan_private_or_sriov

            plan_private_or_sriov(d, net)
        elif net.present:
            plan_network(d, net)
    d.steps += d.lowered_bonds  # a bond lowered after the VLANs on it, as a NIC trunk
    if desired.interfaces:
        from xapictl.plan.diff.interface import plan_interfaces  # only for recipes with them

        plan_interfaces(d, desired.interfaces)
    if desired.vifs:
        from xapictl.plan.diff.vif import plan_vif, plan_vif_absent  # only for stated VIFs

        for vif in desired.vifs:
            if vif.present:
                plan_vif(d, vif)
        for vif in desired.vifs:
            if not vif.present:
                plan_vif_absent(d, vif)
    moves: list[Step] = []
    if desired.management is not None:
        from xapictl.plan.diff.management import plan_management  # only when stated

        # planned here (the removals below see which PIFs management leaves), placed last
        start = len(d.steps)
        plan_management(d, desired.management)
        moves, d.steps[start:] = d.steps[start:], []
    for net in desired.networks:
        if not net.present:
            plan_network_absent(d, net)
    if desired.bonds:
        from xapictl.plan.diff.bond import plan_bond_absent

        for bond in desired.bonds:
            if not bond.present:
                plan_bond_absent(d, bond)
    d.steps += moves  # last: every other step runs first
    d.steps += d.after_management  # a bond management moved off goes once it has moved
    check_purposes(d)
    if d.problems:
        raise PreflightError(d.problems)
    return Plan(tuple(d.steps), tuple(d.noops), tuple(d.warnings), tuple(d.deferred),
                tuple(d.undo))


__all__ = ["diff"]
