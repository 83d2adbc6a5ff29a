"""``tunnel``: GRE/VXLAN tunnels over a transport PIF."""

from __future__ import annotations

from xapictl.client.generated.tunnel import TunnelClient
from xapictl.model.enums import TunnelProtocol
from xapictl.model.refs import NetworkRef, PIFRef, TunnelRef


class TunnelsClient(TunnelClient):
    xapi_class = "tunnel"

    def create(self, transport_pif: PIFRef, network: NetworkRef,
               protocol: TunnelProtocol | str | None = TunnelProtocol.GRE) -> TunnelRef:
        ref: TunnelRef = self.invoke("create", transport_pif, network,
                                     protocol or TunnelProtocol.GRE)
        return ref

    def destroy(self, ref: TunnelRef) -> None:
        self.invoke("destroy", ref)

    def set_protocol(self, ref: TunnelRef, value: TunnelProtocol | str) -> None:
        self.invoke("set_protocol", ref, value)


__all__ = ["TunnelsClient"]
