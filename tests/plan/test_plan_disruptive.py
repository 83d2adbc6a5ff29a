"""Which steps are disruptive (destroy, unplug, move, re-plug, rename or re-purpose something
that exists): a typed property of each step class, with the reason in words. Every XAPI step
class is listed here, so a new one has to be classified."""

from __future__ import annotations

import inspect

import pytest

from xapictl.model.refs import (
    BondRef,
    HostRef,
    NetworkRef,
    NetworkSriovRef,
    PIFRef,
    PoolRef,
    SDNControllerRef,
    TunnelRef,
    VIFRef,
    VLANRef,
    VMRef,
)
from xapictl.plan import steps as s
from xapictl.plan.core import Deferred, Plan, Step

NET, PIF, VIF = NetworkRef("OpaqueRef:n"), PIFRef("OpaqueRef:p"), VIFRef("OpaqueRef:v")
NEW = s.Later("network:x")


def _set(xapi_class: str, method: str, field: str, ref: object = NET) -> s.SetField:
    return s.SetField("x", "why", xapi_class=xapi_class, ref=ref,  # type: ignore[arg-type]
                      method=method, field_name=field, value="v")


EXAMPLES: list[tuple[Step, bool]] = [
    (s.CreateNetwork("x", "why", name_label="x"), False),
    (s.DestroyNetwork("x", "why", network=NET), True),
    (s.AddPurpose("x", "why", network=NET, purpose="nbd"), True),
    (s.AddPurpose("x", "why", network=NET, purpose="nbd", remove=True), True),
    (s.AddPurpose("x", "why", network=NEW, purpose="nbd"), False),
    (s.CreatePoolVLAN("x", "why", network=NET, trunk=PIF, tag=5), False),
    (s.CreateVLAN("x", "why", host=HostRef("h"), host_label="h", network=NET, trunk=PIF,
                  tag=5), False),
    (s.DestroyVLAN("x", "why", vlan=VLANRef("OpaqueRef:vl")), True),
    (s.PlugPIF("x", "why", pif=PIF), False),
    (s.ReplugPIF("x", "why", pif=PIF), True),
    (s.ReconfigureIP("x", "why", pif=PIF, mode="DHCP"), True),
    (s.ReconfigureIPv6("x", "why", pif=PIF, mode="Autoconf"), True),
    (s.SetPrimaryAddressType("x", "why", pif=PIF, value="IPv6"), False),
    (s.MoveManagement("x", "why", host=HostRef("h"), pif=PIF, old_pif=None, address="a",
                      old_address="b", host_label="h", network_label="n"), True),
    (s.RecoverSlaves("x", "why", pool=PoolRef("OpaqueRef:p"), master_address="a"), False),
    (s.CreateBond("x", "why", host=HostRef("h"), host_label="h", network=NET, members=(PIF,),
                  member_devices=("eth1",)), True),
    (s.DestroyBond("x", "why", bond=BondRef("OpaqueRef:b")), True),
    (s.SetBondProperty("x", "why", bond=BondRef("OpaqueRef:b"), name="n", value="v"), True),
    (s.CreateVIF("x", "why", vm=VMRef("OpaqueRef:vm"), network=NET, device="1"), False),
    (s.PlugVIF("x", "why", vif=VIF), False),
    (s.UnplugVIF("x", "why", vif=VIF), True),
    (s.ReplugVIF("x", "why", vif=VIF, mtu=9000), True),
    (s.ReplugVIFQoS("x", "why", vif=VIF, mtu=1500), True),
    (s.MoveVIF("x", "why", vif=VIF, network=NET), True),
    (s.DestroyVIF("x", "why", vif=VIF), True),
    (_set("network", "set_name_label", "name_label"), True),
    (_set("network", "set_MTU", "mtu"), True),
    (_set("network", "set_default_locking_mode", "default_locking_mode"), True),
    (_set("network", "set_default_locking_mode", "default_locking_mode", NEW), False),
    (_set("network", "set_name_description", "name_description"), False),
    (_set("network", "set_tags", "tags"), False),
    (_set("Bond", "set_mode", "mode"), True),
    (_set("VIF", "set_locking_mode", "locking_mode", VIF), True),
    (s.SetOtherConfig("x", "why", xapi_class="network", ref=NET, values={"k": "v"}), False),
    (s.SetOtherConfig("x", "why", xapi_class="VIF", ref=VIF, values={"mtu": "9000"}), True),
    (s.CreateTunnel("x", "why", host=HostRef("h"), host_label="h", transport=PIF, network=NEW,
                    protocol="vxlan"), False),
    (s.DestroyTunnel("x", "why", tunnel=TunnelRef("OpaqueRef:t")), True),
    (s.CreateSriov("x", "why", host=HostRef("h"), host_label="h", pif=PIF, network=NEW), True),
    (s.DestroySriov("x", "why", sriov=NetworkSriovRef("OpaqueRef:s")), True),
    (s.ScanPIFs("x", "why", host=HostRef("h"), host_label="h", device="eth3"), False),
    (_set("pool", "set_igmp_snooping_enabled", "igmp_snooping_enabled",
          PoolRef("OpaqueRef:pool")), True),
    (s.IntroduceSdnController("x", "why", protocol="pssl", address="", port=0), True),
    (s.ForgetSdnController("x", "why", controller=SDNControllerRef("OpaqueRef:c")), True),
]


@pytest.mark.parametrize(("step", "disruptive"), EXAMPLES,
                         ids=[f"{type(st).__name__}-{i}" for i, (st, _) in enumerate(EXAMPLES)])
def test_each_step_says_whether_it_is_disruptive_and_why(step: Step, disruptive: bool) -> None:
    assert step.disruptive is disruptive
    assert bool(step.disruption) is disruptive, "a disruptive step says how, in words"


def test_every_xapi_step_class_is_classified_above() -> None:
    classes = {obj for _, obj in inspect.getmembers(s, inspect.isclass)
               if issubclass(obj, s.XapiStep) and obj is not s.XapiStep}
    assert classes == {type(step) for step, _ in EXAMPLES}


def test_plan_exposes_its_disruptive_steps() -> None:
    additive = s.CreateNetwork("x", "why", name_label="x")
    destroy = s.DestroyNetwork("y", "why", network=NET)
    plan = Plan((additive, destroy))
    assert plan.is_disruptive and plan.disruptive_steps == (destroy,)
    assert not Plan((additive,)).is_disruptive
    assert Plan().pending is False
    later = Plan(deferred=(Deferred("network 'V' on h3", "h3 is offline"),))
    assert later.is_empty and later.pending, "deferred work: nothing to run now, yet pending"
