"""Planning the pool-wide network settings: IGMP snooping (``pool.set_igmp_snooping_enabled``)
and the SDN controller (``SDN_controller.introduce`` / ``forget``)."""

from __future__ import annotations

from xapictl.plan.desired import PoolSpec, SdnControllerSpec
from xapictl.plan.diff.planner import Planner
from xapictl.plan.diff.private import OPENVSWITCH
from xapictl.plan.steps import ForgetSdnController, IntroduceSdnController, SetField


def plan_pool(d: Planner, spec: PoolSpec) -> None:
    if spec.sdn_controller is not None:
        plan_sdn_controller(d, spec.sdn_controller)
    if spec.igmp_snooping is None:
        return
    subject = "pool IGMP snooping"
    pool = d.snap.pool
    wanted = spec.igmp_snooping
    if pool.igmp_snooping_enabled == wanted:
        d.noop(subject, f"already {'on' if wanted else 'off'}")
        return
    if not master_runs_openvswitch(d, subject, "OPENVSWITCH_NOT_ACTIVE"):
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


def plan_sdn_controller(d: Planner, spec: SdnControllerSpec) -> None:
    """The pool has at most one controller (XAPI refuses a second): one that differs is
    forgotten, then the stated one introduced."""
    subject = "pool SDN controller"
    current = sorted(d.snap.sdn_controllers.items())
    wanted = (spec.protocol, spec.address or "", spec.effective_port)
    if not spec.present:
        if not current:
            d.noop(subject, "already none")
        for ref, _ in current:
            d.add(ForgetSdnController(subject, "the recipe says none", controller=ref))
        return
    same = [(r, c) for r, c in current if (c.protocol.value, c.address, c.port) == wanted]
    if same and len(current) == 1:
        d.noop(subject, f"already {_words(*wanted)}")
        return
    if not master_runs_openvswitch(
            d, subject, "OPERATION_NOT_ALLOWED: host not configured for vswitch operation"):
        return
    for ref, c in current:
        d.add(ForgetSdnController(subject, f"it is {_words(c.protocol.value, c.address, c.port)}"
                                  f", the recipe says {_words(*wanted)}", controller=ref))
    d.add(IntroduceSdnController(subject, f"the pool has no SDN controller; the recipe says "
                                 f"{_words(*wanted)}", protocol=spec.protocol,
                                 address=spec.address or "", port=spec.port or 0,
                                 replacing=tuple(ref for ref, _ in current)))


def master_runs_openvswitch(d: Planner, subject: str, xapi_answer: str) -> bool:
    """The pool-wide switches run on the master's vswitch: False (a problem naming what XAPI
    would answer) on another backend."""
    master = d.snap.hosts.get(d.snap.master)
    if master is not None and master.software_version.get("network_backend") == OPENVSWITCH:
        return True
    d.problems.append(f"{subject}: needs the openvswitch network backend on the pool master "
                      f"(XAPI answers {xapi_answer}); leave it out on a bridge pool")
    return False


def _words(protocol: str, address: str, port: int) -> str:
    return f"ssl to {address}:{port}" if protocol == "ssl" else "pssl (it connects to us)"


__all__ = ["plan_pool", "plan_sdn_controller"]
