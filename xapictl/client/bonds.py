"""``Bond``: several PIFs of one host as one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from xapictl.client.generated.bond import BondClient
from xapictl.model.enums import BondMode
from xapictl.model.refs import BondRef, NetworkRef, PIFRef


class BondsClient(BondClient):
    xapi_class = "Bond"

    def create(self, network: NetworkRef, members: Sequence[PIFRef], mac: str = "",
               mode: BondMode | str | None = BondMode.BALANCE_SLB,
               properties: Mapping[str, str] | None = None) -> BondRef:
        ref: BondRef = self.invoke("create", network, list(members), mac,
                                   mode or BondMode.BALANCE_SLB, dict(properties or {}))
        return ref

    def destroy(self, ref: BondRef) -> None:
        self.invoke("destroy", ref)

    def set_mode(self, ref: BondRef, value: BondMode | str) -> None:
        self.invoke("set_mode", ref, value)

    def set_property(self, ref: BondRef, name: str, value: str) -> None:
        self.invoke("set_property", ref, name, value)


__all__ = ["BondsClient"]
