"""Steps on VLANs: one pool call for every host, ``VLAN.create`` to repair one host, destroy."""

from __future__ import annotations

from xapictl._frozen import frozen
from xapictl.model.refs import HostRef, NetworkRef, PIFRef, VLANRef
from xapictl.plan.steps.base import Later, RunContext, XapiStep, gone
from xapictl.plan.steps.facts import Facts, call, identity, relying
from xapictl.state.snapshot import PoolSnapshot


@frozen(kw_only=True)
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
    touches = ("VLAN", "PIF", "network")  # a VLAN and its PIF on each host; network.PIFs

    def args_text(self) -> str:
        return f"tag {self.tag} on {', '.join(self.hosts)}"

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        device = snap.pifs[PIFRef(self.trunk)].device if (
            snap is not None and isinstance(self.trunk, str) and self.trunk in snap.pifs) else None
        return Facts("create", "VLAN",
                     identity(snap, "VLAN", None, tag=self.tag, device=device,
                              hosts=list(self.hosts), network=network_name(snap, self.network)),
                     after={"tag": self.tag, "hosts": list(self.hosts)},
                     calls=(call("pool.create_VLAN_from_PIF", self.trunk, self.network,
                                 self.tag),),
                     relies_on=relying(("PIF", self.trunk), ("network", self.network)))

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


@frozen(kw_only=True)
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
    touches = ("VLAN", "PIF", "network")

    def args_text(self) -> str:
        return f"tag {self.tag} on {self.host_label}"

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        host = snap.hosts.get(self.host) if snap is not None else None
        device = snap.pifs[PIFRef(self.trunk)].device if (
            snap is not None and isinstance(self.trunk, str) and self.trunk in snap.pifs) else None
        return Facts("create", "VLAN",
                     identity(snap, "VLAN", None, tag=self.tag, device=device,
                              host=self.host_label, host_uuid=host.uuid if host else None,
                              network=network_name(snap, self.network)),
                     after={"tag": self.tag, "host": self.host_label},
                     calls=(call("VLAN.create", self.trunk, self.tag, self.network),),
                     relies_on=relying(("PIF", self.trunk), ("network", self.network),
                                       ("host", self.host)))

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


@frozen(kw_only=True)
class DestroyVLAN(XapiStep):
    """``VLAN.destroy`` of one host's VLAN."""

    vlan: VLANRef
    host_label: str = ""

    action = "destroy VLAN"
    disruption = "destroys the VLAN (its PIF goes from the host)"
    calls = ("VLAN.destroy",)
    reads = ("VLAN",)

    def args_text(self) -> str:
        return f"on {self.host_label}" if self.host_label else ""

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        vlan = snap.vlans.get(self.vlan) if snap is not None else None
        return Facts("delete", "VLAN", identity(snap, "VLAN", self.vlan),
                     before={"tag": vlan.tag} if vlan is not None else None,
                     calls=(call("VLAN.destroy", self.vlan),),
                     relies_on=relying(("VLAN", self.vlan)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        return None if self.vlan in snap.vlans else gone("VLAN", self.vlan)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("VLAN.destroy", self.vlan)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return self.vlan not in snap.vlans


def network_name(snap: PoolSnapshot | None, network: str | Later) -> str | None:
    """The network's name (a network the plan creates is named in the create step)."""
    if isinstance(network, Later):
        return str(network)
    if snap is None:
        return None
    record = snap.networks.get(NetworkRef(network))
    return record.name_label if record is not None else None


def _vlan_in(snap: PoolSnapshot, trunk: str, tag: int, network: str) -> bool:
    """The VLAN with ``tag`` is on the trunk PIF and carries ``network``."""
    vlan = snap.vlan_on(PIFRef(trunk), tag)
    if vlan is None:
        return False
    untagged = snap.pifs.get(snap.vlans[vlan].untagged_pif)
    return untagged is not None and untagged.network == network


__all__ = ["CreatePoolVLAN", "CreateVLAN", "DestroyVLAN", "network_name"]
