"""``pool``: pool-wide networking (a VLAN on every host at once)."""

from __future__ import annotations

from xapictl.client.generated.pool import PoolClient
from xapictl.model.refs import HostRef, NetworkRef, PIFRef, PoolRef


class PoolsClient(PoolClient):
    xapi_class = "pool"

    def get_master(self, ref: PoolRef) -> HostRef:
        found: HostRef = self.invoke("get_master", ref)
        return found

    def create_vlan_from_pif(self, pif: PIFRef, network: NetworkRef, vlan: int) -> list[PIFRef]:
        """The VLAN on the same device of every live host; the new PIFs."""
        return list(self.invoke("create_VLAN_from_PIF", pif, network, vlan))

    def create_vlan(self, device: str, network: NetworkRef, vlan: int) -> list[PIFRef]:
        return list(self.invoke("create_VLAN", device, network, vlan))

    def management_reconfigure(self, network: NetworkRef) -> None:
        self.invoke("management_reconfigure", network)


__all__ = ["PoolsClient"]
