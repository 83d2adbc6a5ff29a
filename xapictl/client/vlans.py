"""``VLAN``: a tagged PIF on a trunk PIF, one per host."""

from __future__ import annotations

from xapictl.client.base import ClassClient
from xapictl.model.refs import NetworkRef, PIFRef, VLANRef
from xapictl.model.vlan import VLAN


class VLANsClient(ClassClient[VLANRef, VLAN]):
    xapi_class = "VLAN"

    def create(self, tagged_pif: PIFRef, tag: int, network: NetworkRef) -> VLANRef:
        """``VLAN.create``: the VLAN on one trunk PIF (also creates its untagged PIF)."""
        ref: VLANRef = self.invoke("create", tagged_pif, tag, network)
        return ref

    def destroy(self, ref: VLANRef) -> None:
        self.invoke("destroy", ref)


__all__ = ["VLANsClient"]
