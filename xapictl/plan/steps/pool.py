"""Steps on the pool's SDN controller: ``SDN_controller.introduce`` and ``forget`` (the pool's
other setting, IGMP snooping, is a plain ``SetField``)."""

from __future__ import annotations

from xapictl._frozen import frozen
from xapictl.model.refs import SDNControllerRef
from xapictl.plan.steps.base import RunContext, XapiStep, gone
from xapictl.plan.steps.facts import Facts, call, identity, relying
from xapictl.state.snapshot import PoolSnapshot


@frozen(kw_only=True)
class IntroduceSdnController(XapiStep):
    protocol: str
    address: str
    port: int
    """The port sent: 0 lets XAPI store its default (6632 for ssl)."""
    replacing: tuple[SDNControllerRef, ...] = ()
    """The controllers earlier steps of the plan forget (XAPI keeps one per pool)."""

    action = "introduce SDN controller"
    disruption = "the pool's vswitches take their flows from the controller"
    calls = ("SDN_controller.introduce",)
    reads = ("SDN_controller",)

    def args_text(self) -> str:
        where = f" {self.address}:{self.port or 6632}" if self.protocol == "ssl" else ""
        return f"{self.protocol}{where}"

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        after = {"protocol": self.protocol, "address": self.address, "port": self.port}
        return Facts("create", "SDN_controller", identity(snap, "SDN_controller", None),
                     after=after, calls=(call("SDN_controller.introduce", self.protocol,
                                              self.address, self.port),))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        if set(snap.sdn_controllers) - set(self.replacing):
            return "an SDN controller was introduced since planning"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        return str(ctx.conn.call("SDN_controller.introduce", self.protocol, self.address,
                                 self.port))

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        for ref, c in snap.sdn_controllers.items():
            if (c.protocol.value, c.address) == (self.protocol, self.address) and (
                    self.port in (0, c.port)):
                return str(ref)
        return False


@frozen(kw_only=True)
class ForgetSdnController(XapiStep):
    controller: SDNControllerRef

    action = "forget SDN controller"
    disruption = "the pool's vswitches leave the controller (flows fall back to local rules)"
    calls = ("SDN_controller.forget",)
    reads = ("SDN_controller",)

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        c = snap.sdn_controllers.get(self.controller) if snap is not None else None
        before = ({"protocol": c.protocol.value, "address": c.address, "port": c.port}
                  if c is not None else None)
        return Facts("delete", "SDN_controller",
                     identity(snap, "SDN_controller", self.controller), before=before,
                     calls=(call("SDN_controller.forget", self.controller),),
                     relies_on=relying(("SDN_controller", self.controller)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        return None if self.controller in snap.sdn_controllers else gone(
            "SDN_controller", self.controller)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("SDN_controller.forget", self.controller)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return self.controller not in snap.sdn_controllers


__all__ = ["ForgetSdnController", "IntroduceSdnController"]
