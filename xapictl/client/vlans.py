"""``VLAN``: a tagged PIF on a trunk PIF, one per host."""

from __future__ import annotations

from xapictl.client.generated.vlan import VLANClient
from xapictl.model.refs import NetworkRef, PIFRef, VLANRef


class VLANsClient(VLANClient):
    xapi_class = "VLAN"

    def create(self, tagged_pif: PIFRef, tag: int, network: NetworkRef) -> VLANRef:
        """``VLAN.create``: the VLAN on one trunk PIF (also creates its untagged PIF)."""
        ref: VLANRef = self.invoke("create", tagged_pif, tag, network)
        return ref

    def destroy(self, ref: VLANRef) -> None:
        self.invoke("destroy", ref)


__all__ = ["VLANsClient"]
