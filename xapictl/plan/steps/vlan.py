"""Steps on VLANs: one pool call for every host, ``VLAN.create`` to repair one host, destroy."""

from __future__ import annotations

from dataclasses import dataclass

from xapictl.model.refs import HostRef, PIFRef, VLANRef
from xapictl.plan.steps.base import Later, RunContext, XapiStep, gone
from xapictl.state.snapshot import PoolSnapshot


@dataclass(frozen=True, kw_only=True)
class CreatePoolVLAN(XapiStep):
    """``pool.create_VLAN_from_PIF``: the VLAN on every live host's PIF of the trunk's network,
    in one call (the pool master fans it out)."""

    network: str | Later
    trunk: str | Later
    tag: int
    hosts: tuple[str, ...] = ()

    action = "create VLAN pool-wide"
    calls = ("pool.create_VLAN_from_PIF",)
    reads = ("PIF", "VLAN")

    def args_text(self) -> str:
        return f"tag {self.tag} on {', '.join(self.hosts)}"

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        trunk = ctx.known(self.trunk)
        if trunk is None:
            return None
        if trunk not in snap.pifs:
            return gone("PIF", trunk)
        if snap.vlan_on(PIFRef(trunk), self.tag) is not None:
            return f"VLAN {self.tag} appeared on the trunk since planning"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("pool.create_VLAN_from_PIF", ctx.ref(self.trunk),
                      ctx.ref(self.network), self.tag)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return _vlan_in(snap, ctx.ref(self.trunk), self.tag, ctx.ref(self.network))


@dataclass(frozen=True, kw_only=True)
class CreateVLAN(XapiStep):
    """``VLAN.create`` on one host: the repair for a host that lacks the VLAN."""

    host: HostRef
    host_label: str
    network: str | Later
    trunk: str | Later
    tag: int

    action = "create VLAN"
    calls = ("VLAN.create",)
    reads = ("PIF", "VLAN")

    def args_text(self) -> str:
        return f"tag {self.tag} on {self.host_label}"

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        trunk = ctx.known(self.trunk)
        if trunk is None:
            return None
        if trunk not in snap.pifs:
            return gone("PIF", trunk)
        if snap.vlan_on(PIFRef(trunk), self.tag) is not None:
            return f"VLAN {self.tag} appeared on {self.host_label} since planning"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        return str(ctx.conn.call("VLAN.create", ctx.ref(self.trunk), self.tag,
                                 ctx.ref(self.network)))

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return _vlan_in(snap, ctx.ref(self.trunk), self.tag, ctx.ref(self.network))


@dataclass(frozen=True, kw_only=True)
class DestroyVLAN(XapiStep):
    vlan: VLANRef
    host_label: str = ""

    action = "destroy VLAN"
    disruption = "destroys the VLAN (its PIF goes from the host)"
    calls = ("VLAN.destroy",)
    reads = ("VLAN",)

    def args_text(self) -> str:
        return f"on {self.host_label}" if self.host_label else ""

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        return None if self.vlan in snap.vlans else gone("VLAN", self.vlan)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("VLAN.destroy", self.vlan)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return self.vlan not in snap.vlans


def _vlan_in(snap: PoolSnapshot, trunk: str, tag: int, network: str) -> bool:
    """The VLAN with ``tag`` is on the trunk PIF and carries ``network``."""
    vlan = snap.vlan_on(PIFRef(trunk), tag)
    if vlan is None:
        return False
    untagged = snap.pifs.get(snap.vlans[vlan].untagged_pif)
    return untagged is not None and untagged.network == network


__all__ = ["CreatePoolVLAN", "CreateVLAN", "DestroyVLAN"]
