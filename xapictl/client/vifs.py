"""``VIF``: a VM's network interfaces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xapictl.client.generated.vif import VIFClient
from xapictl.errors import UsageError
from xapictl.model.enums import VIFIPv4ConfigurationMode, VIFIPv6ConfigurationMode, VIFLockingMode
from xapictl.model.refs import NetworkRef, VIFRef


class VIFsClient(VIFClient):
    xapi_class = "VIF"

    def prepare_create(self, fields: dict[str, Any]) -> dict[str, Any]:
        """``VIF.create`` (generated, typed): ``vm=`` and ``network=`` are required by its
        signature, ``device=`` here; ``mac=""`` (the default) lets XAPI choose; ``mtu``
        defaults to the network's MTU (one extra read)."""
        if "device" not in fields:
            raise UsageError("VIF.create needs device= (a free one: "
                             "conn.vms.get_allowed_vif_devices(vm))")
        if "mtu" not in fields:
            fields["mtu"] = self._conn.raw_call("network.get_MTU", fields["network"])
        fields.setdefault("mac", "")
        return fields

    def plug(self, ref: VIFRef) -> None:
        self.invoke("plug", ref)

    def unplug(self, ref: VIFRef) -> None:
        self.invoke("unplug", ref)

    def unplug_force(self, ref: VIFRef) -> None:
        self.invoke("unplug_force", ref)

    def move(self, ref: VIFRef, network: NetworkRef) -> None:
        """``VIF.move``: to another network in place (hot, no re-create)."""
        self.invoke("move", ref, network)

    def set_locking_mode(self, ref: VIFRef, value: VIFLockingMode | str) -> None:
        self.invoke("set_locking_mode", ref, value)

    def set_ipv4_allowed(self, ref: VIFRef, value: Sequence[str]) -> None:
        self.invoke("set_ipv4_allowed", ref, list(value))

    def set_ipv6_allowed(self, ref: VIFRef, value: Sequence[str]) -> None:
        self.invoke("set_ipv6_allowed", ref, list(value))

    def configure_ipv4(self, ref: VIFRef, mode: VIFIPv4ConfigurationMode | str,
                       address: str | None = "", gateway: str | None = "") -> None:
        self.invoke("configure_ipv4", ref, mode, address or "", gateway or "")

    def configure_ipv6(self, ref: VIFRef, mode: VIFIPv6ConfigurationMode | str,
                       address: str | None = "", gateway: str | None = "") -> None:
        self.invoke("configure_ipv6", ref, mode, address or "", gateway or "")


__all__ = ["VIFsClient"]
