"""Steps on VIFs: create, plug, unplug, re-plug, move (in place), destroy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import ClassVar

from xapictl._frozen import frozen
from xapictl.model.refs import VIFRef, VMRef
from xapictl.plan.steps.base import Later, RunContext, XapiStep, gone
from xapictl.plan.steps.facts import Action, Facts, call, field_of, identity, relying
from xapictl.state.snapshot import PoolSnapshot


@frozen(kw_only=True)
class CreateVIF(XapiStep):
    vm: VMRef
    network: str | Later
    device: str
    mac: str = ""
    mtu: int = 1500
    other_config: Mapping[str, str] = field(default_factory=dict)
    locking_mode: str = "network_default"
    ipv4_allowed: tuple[str, ...] = ()
    ipv6_allowed: tuple[str, ...] = ()
    qos_algorithm_type: str = ""
    qos_algorithm_params: Mapping[str, str] = field(default_factory=dict)

    action = "create"
    calls = ("VIF.create",)
    reads = ("VM", "VIF")

    def args_text(self) -> str:
        mac = self.mac or "generated"
        extra = f", locking {self.locking_mode}" if self.locking_mode != "network_default" else ""
        return f"device {self.device}, MAC {mac}, MTU {self.mtu}{extra}"

    def _record(self, network: str) -> dict[str, object]:
        return {"VM": self.vm, "network": network, "device": self.device,
                "MAC": self.mac, "MTU": self.mtu, "other_config": dict(self.other_config),
                "qos_algorithm_type": self.qos_algorithm_type,
                "qos_algorithm_params": dict(self.qos_algorithm_params),
                "locking_mode": self.locking_mode,
                "ipv4_allowed": list(self.ipv4_allowed),
                "ipv6_allowed": list(self.ipv6_allowed)}

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        vm = snap.vms.get(self.vm) if snap is not None else None
        network = str(self.network)
        name = field_of(snap, "network", self.network, "name_label")
        after = {k: v for k, v in self._record(network).items() if k != "VM"}
        after["network"] = name if name is not None else network
        return Facts("create", "VIF",
                     identity(snap, "VIF", Later(self.key) if self.key else None,
                              vm=vm.name_label if vm else None, vm_uuid=vm.uuid if vm else None,
                              device=self.device, network=name),
                     after=after, calls=(call("VIF.create", self._record(network)),),
                     relies_on=relying(("VM", self.vm), ("network", self.network)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        if self.vm not in snap.vms:
            return gone("VM", self.vm)
        if snap.vif_on(self.vm, self.device) is not None:
            return f"device {self.device} of the VM was taken since planning"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        return str(ctx.conn.call("VIF.create", self._record(ctx.ref(self.network))))

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        vif = snap.vif_on(self.vm, self.device)
        if vif is None or snap.vifs[vif].network != ctx.ref(self.network):
            return False
        return str(vif)


@frozen(kw_only=True)
class _OnVIF(XapiStep):
    vif: str | Later
    vm: VMRef | None = None
    """For a VIF this plan creates (``vif`` a ``Later``): its VM and device, which name it
    in the structured plan before it exists."""
    device: str = ""

    reads = ("VIF",)
    facts_action: ClassVar[Action] = "update"

    def _attached(self, snap: PoolSnapshot | None) -> dict[str, object] | None:
        value = field_of(snap, "VIF", self.vif, "currently_attached")
        return {"currently_attached": value} if value is not None else None

    def _identity(self, snap: PoolSnapshot | None) -> dict[str, object]:
        vm = snap.vms.get(self.vm) if snap is not None and self.vm is not None else None
        return identity(snap, "VIF", self.vif, vm=vm.name_label if vm else None,
                        vm_uuid=vm.uuid if vm else None, device=self.device)

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        return Facts(self.facts_action, "VIF", self._identity(snap),
                     before=self._attached(snap),
                     after=self._after(snap),
                     calls=tuple(call(m, self.vif) for m in self.calls),
                     relies_on=relying(("VIF", self.vif)))

    def _after(self, snap: PoolSnapshot | None) -> dict[str, object] | None:
        return None

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        ref = ctx.known(self.vif)
        if ref is None or VIFRef(ref) in snap.vifs:
            return None
        return gone("VIF", ref)


@frozen(kw_only=True)
class PlugVIF(_OnVIF):
    action = "plug"
    facts_action: ClassVar[Action] = "plug"
    calls = ("VIF.plug",)

    def _after(self, snap: PoolSnapshot | None) -> dict[str, object] | None:
        return {"currently_attached": True}

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("VIF.plug", ctx.ref(self.vif))
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        vif = snap.vifs.get(VIFRef(ctx.ref(self.vif)))
        return vif is not None and vif.currently_attached


@frozen(kw_only=True)
class UnplugVIF(_OnVIF):
    action = "unplug"
    facts_action: ClassVar[Action] = "unplug"
    disruption = "unplugs the VIF from its running VM"
    calls = ("VIF.unplug",)

    def _after(self, snap: PoolSnapshot | None) -> dict[str, object] | None:
        return {"currently_attached": False}

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("VIF.unplug", ctx.ref(self.vif))
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        vif = snap.vifs.get(VIFRef(ctx.ref(self.vif)))
        return vif is None or not vif.currently_attached


@frozen(kw_only=True)
class ReplugVIF(_OnVIF):
    """Unplug and plug again so the VIF takes ``mtu``, its network's new MTU."""

    mtu: int

    action = "re-plug"
    facts_action: ClassVar[Action] = "replug"
    disruption = "unplugs and plugs the VIF again (the VM loses the link meanwhile)"
    calls = ("VIF.unplug", "VIF.plug")

    def _attached(self, snap: PoolSnapshot | None) -> dict[str, object] | None:
        value = field_of(snap, "VIF", self.vif, "mtu")
        return {"MTU": value} if value is not None else None

    def _after(self, snap: PoolSnapshot | None) -> dict[str, object] | None:
        return {"MTU": self.mtu}

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("VIF.unplug", ctx.ref(self.vif))
        ctx.conn.call("VIF.plug", ctx.ref(self.vif))
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        vif = snap.vifs.get(VIFRef(ctx.ref(self.vif)))
        return vif is not None and vif.currently_attached and vif.mtu == self.mtu

    def resume(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        vif = snap.vifs.get(VIFRef(ctx.ref(self.vif)))
        if vif is not None and not vif.currently_attached:
            # The unplug went through before the answer was lost: only the plug is left.
            ctx.conn.call("VIF.plug", ctx.ref(self.vif))
            return None
        return self.execute(ctx)


@frozen(kw_only=True)
class ReplugVIFQoS(ReplugVIF):
    """Unplug and plug again so a plugged VIF takes its new rate limit: XAPI hands
    ``qos_algorithm_type``/``_params`` to the VIF when it is plugged. Whether a re-plug
    already happened cannot be read back, so a lost answer with the VIF plugged re-plugs
    once more (the same settings; never a second VIF)."""

    def _after(self, snap: PoolSnapshot | None) -> dict[str, object] | None:
        return {"currently_attached": True}

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return False


@frozen(kw_only=True)
class MoveVIF(_OnVIF):
    network: str | Later
    network_label: str = ""

    action = "move"
    disruption = "moves the VIF to another network"
    calls = ("VIF.move",)

    def args_text(self) -> str:
        return f"to network {self.network_label!r}"

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        current = field_of(snap, "VIF", self.vif, "network")
        before = field_of(snap, "network", current, "name_label") if current else None
        return Facts("move", "VIF", self._identity(snap),
                     before={"network": before} if before is not None else None,
                     after={"network": self.network_label or str(self.network)},
                     calls=(call("VIF.move", self.vif, self.network),),
                     relies_on=relying(("VIF", self.vif), ("network", self.network)))

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("VIF.move", ctx.ref(self.vif), ctx.ref(self.network))
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        vif = snap.vifs.get(VIFRef(ctx.ref(self.vif)))
        return vif is not None and vif.network == ctx.ref(self.network)


@frozen(kw_only=True)
class DestroyVIF(_OnVIF):
    action = "destroy"
    facts_action: ClassVar[Action] = "delete"
    disruption = "destroys the VIF (the VM loses that NIC)"
    calls = ("VIF.destroy",)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("VIF.destroy", ctx.ref(self.vif))
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return VIFRef(ctx.ref(self.vif)) not in snap.vifs


__all__ = ["CreateVIF", "DestroyVIF", "MoveVIF", "PlugVIF", "ReplugVIF", "ReplugVIFQoS",
           "UnplugVIF"]
