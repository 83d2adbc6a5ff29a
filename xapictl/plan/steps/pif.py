"""Steps on PIFs: plug one the recipe expects attached; plug again so the bridge takes the
network's MTU."""

from __future__ import annotations

from dataclasses import dataclass

from xapictl.model.refs import PIFRef
from xapictl.plan.steps.base import RunContext, XapiStep, gone
from xapictl.state.snapshot import PoolSnapshot


@dataclass(frozen=True, kw_only=True)
class ReplugPIF(XapiStep):
    """Plug an attached PIF again: XAPI re-applies the network's MTU to its bridge without
    taking it down (so VIFs of running VMs do not block it, as ``PIF.unplug`` would)."""

    pif: PIFRef
    allow_management: bool = False

    action = "re-plug"
    disruption = "re-plugs the PIF (its bridge is reconfigured)"
    calls = ("PIF.plug",)
    reads = ("PIF",)

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        pif = snap.pifs.get(self.pif)
        if pif is None:
            return gone("PIF", self.pif)
        if pif.management and not self.allow_management:
            return "the PIF became the management interface; not re-plugged"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("PIF.plug", self.pif)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        pif = snap.pifs.get(self.pif)
        net = snap.networks.get(pif.network) if pif is not None else None
        return pif is not None and net is not None and pif.currently_attached and (
            pif.mtu == net.mtu)


@dataclass(frozen=True, kw_only=True)
class PlugPIF(XapiStep):
    """``PIF.plug`` of an unplugged PIF the recipe needs (a VLAN PIF, or the trunk under
    it): additive, it brings back what the recipe expects and interrupts nothing."""

    pif: PIFRef

    action = "plug"
    calls = ("PIF.plug",)
    reads = ("PIF",)

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        return None if self.pif in snap.pifs else gone("PIF", self.pif)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("PIF.plug", self.pif)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        pif = snap.pifs.get(self.pif)
        return pif is not None and pif.currently_attached


__all__ = ["PlugPIF", "ReplugPIF"]
