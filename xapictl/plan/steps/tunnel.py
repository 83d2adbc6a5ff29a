"""Steps on tunnels (private networks): ``tunnel.create`` on one host, ``tunnel.destroy``."""

from __future__ import annotations

from xapictl._frozen import frozen
from xapictl.model.enums import IPConfigurationMode
from xapictl.model.refs import HostRef, NetworkRef, PIFRef, TunnelRef
from xapictl.plan.steps.base import Later, RunContext, XapiStep, gone
from xapictl.plan.steps.facts import Facts, call, identity, relying
from xapictl.plan.steps.vlan import network_name
from xapictl.state.snapshot import PoolSnapshot


@frozen(kw_only=True)
class CreateTunnel(XapiStep):
    """``tunnel.create`` on one host: its access PIF joins the private network and is plugged
    (XAPI refuses a transport PIF without an IP *after* writing the records, so the planner
    checks it first)."""

    host: HostRef
    host_label: str
    transport: PIFRef
    network: str | Later
    protocol: str

    action = "create tunnel"
    calls = ("tunnel.create",)
    reads = ("PIF", "tunnel")

    def args_text(self) -> str:
        return f"{self.protocol} on {self.host_label}"

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        host = snap.hosts.get(self.host) if snap is not None else None
        device = snap.pifs[self.transport].device if (
            snap is not None and self.transport in snap.pifs) else None
        return Facts("create", "tunnel",
                     identity(snap, "tunnel", None, device=device, host=self.host_label,
                              host_uuid=host.uuid if host else None,
                              network=network_name(snap, self.network)),
                     after={"protocol": self.protocol, "host": self.host_label,
                            "transport_device": device},
                     calls=(call("tunnel.create", self.transport, self.network,
                                 self.protocol),),
                     relies_on=relying(("PIF", self.transport), ("network", self.network),
                                       ("host", self.host)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        pif = snap.pifs.get(self.transport)
        if pif is None:
            return gone("PIF", self.transport)
        if pif.ip_configuration_mode is IPConfigurationMode.NONE:
            return (f"the transport PIF {pif.device} on {self.host_label} lost its IP since "
                    "planning (XAPI would answer TRANSPORT_PIF_NOT_CONFIGURED)")
        network = ctx.known(self.network)
        if network is not None and snap.pif_on_network(self.host, NetworkRef(network)):
            return f"{self.host_label} has a PIF on the network since planning"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        return str(ctx.conn.call("tunnel.create", self.transport, ctx.ref(self.network),
                                 self.protocol))

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        found = snap.tunnels_on(NetworkRef(ctx.ref(self.network))).get(self.host)
        return str(found) if found is not None else False


@frozen(kw_only=True)
class DestroyTunnel(XapiStep):
    tunnel: TunnelRef
    host_label: str = ""

    action = "destroy tunnel"
    disruption = "destroys the tunnel (its access PIF goes from the host)"
    calls = ("tunnel.destroy",)
    reads = ("tunnel",)

    def args_text(self) -> str:
        return f"on {self.host_label}" if self.host_label else ""

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        tunnel = snap.tunnels.get(self.tunnel) if snap is not None else None
        return Facts("delete", "tunnel",
                     identity(snap, "tunnel", self.tunnel, host=self.host_label),
                     before={"protocol": tunnel.protocol.value} if tunnel is not None else None,
                     calls=(call("tunnel.destroy", self.tunnel),),
                     relies_on=relying(("tunnel", self.tunnel)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        return None if self.tunnel in snap.tunnels else gone("tunnel", self.tunnel)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("tunnel.destroy", self.tunnel)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return self.tunnel not in snap.tunnels


__all__ = ["CreateTunnel", "DestroyTunnel"]
