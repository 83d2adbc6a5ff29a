"""``VIF``: a VM's network interfaces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xapictl.client.base import ClassClient
from xapictl.errors import UsageError
from xapictl.model.enums import VIFIPv4ConfigurationMode, VIFIPv6ConfigurationMode, VIFLockingMode
from xapictl.model.refs import NetworkRef, VIFRef
from xapictl.model.vif import VIF


class VIFsClient(ClassClient[VIFRef, VIF]):
    xapi_class = "VIF"

    def create(self, **fields: Any) -> VIFRef:
        """``VIF.create``: ``vm=``, ``network=``, ``device=`` are required; ``mac=""`` lets
        XAPI choose; ``mtu`` defaults to the network's MTU (one extra read)."""
        for needed in ("vm", "network", "device"):
            if needed not in fields:
                raise UsageError(f"VIF.create needs {needed}=")
        if "mtu" not in fields:
            fields["mtu"] = self._conn.raw_call("network.get_MTU", fields["network"])
        fields.setdefault("mac", "")
        return self.create_record(**fields)

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
                       address: str = "", gateway: str = "") -> None:
        self.invoke("configure_ipv4", ref, mode, address, gateway)

    def configure_ipv6(self, ref: VIFRef, mode: VIFIPv6ConfigurationMode | str,
                       address: str = "", gateway: str = "") -> None:
        self.invoke("configure_ipv6", ref, mode, address, gateway)


__all__ = ["VIFsClient"]
