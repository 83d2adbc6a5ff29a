"""Planning the pool-wide network settings: IGMP snooping (``pool.set_igmp_snooping_enabled``)."""

from __future__ import annotations

from xapictl.plan.desired import PoolSpec
from xapictl.plan.diff.planner import Planner
from xapictl.plan.diff.private import OPENVSWITCH
from xapictl.plan.steps import SetField


def plan_pool(d: Planner, spec: PoolSpec) -> None:
    if spec.igmp_snooping is None:
        return
    subject = "pool IGMP snooping"
    pool = d.snap.pool
    wanted = spec.igmp_snooping
    if pool.igmp_snooping_enabled == wanted:
        d.noop(subject, f"already {'on' if wanted else 'off'}")
        return
    master = d.snap.hosts.get(d.snap.master)
    if master is None or master.software_version.get("network_backend") != OPENVSWITCH:
        d.problems.append(
            f"{subject}: needs the openvswitch network backend on the pool master (XAPI "
            "answers OPENVSWITCH_NOT_ACTIVE); leave igmp_snooping out on a bridge pool")
        return
    if wanted and pool.restrictions.get("restrict_igmp_snooping", "false").lower() == "true":
        d.problems.append(f"{subject}: the pool's licence does not allow it (XAPI: "
                          "LICENCE_RESTRICTION IGMP_snooping)")
        return
    d.add(SetField(subject, f"IGMP snooping is {'off' if wanted else 'on'}, the recipe says "
                   f"{'on' if wanted else 'off'} (every bridge re-reads it; multicast "
                   "flows are re-learnt)", xapi_class="pool", ref=d.snap.pool_ref,
                   method="set_igmp_snooping_enabled", field_name="igmp_snooping_enabled",
                   value=wanted))


__all__ = ["plan_pool"]
