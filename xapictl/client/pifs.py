"""``PIF``: physical, bond and VLAN interfaces of hosts."""

from __future__ import annotations

from xapictl.client.generated.pif import PIFClient
from xapictl.model.enums import IPConfigurationMode, IPv6ConfigurationMode, PrimaryAddressType
from xapictl.model.refs import HostRef, PIFRef


class PIFsClient(PIFClient):
    xapi_class = "PIF"

    def plug(self, ref: PIFRef) -> None:
        self.invoke("plug", ref)

    def unplug(self, ref: PIFRef) -> None:
        self.invoke("unplug", ref)

    def reconfigure_ip(self, ref: PIFRef, mode: IPConfigurationMode | str, ip: str = "",
                       netmask: str = "", gateway: str = "", dns: str = "") -> None:
        self.invoke("reconfigure_ip", ref, mode, ip, netmask, gateway, dns)

    def reconfigure_ipv6(self, ref: PIFRef, mode: IPv6ConfigurationMode | str, ipv6: str = "",
                         gateway: str = "", dns: str = "") -> None:
        self.invoke("reconfigure_ipv6", ref, mode, ipv6, gateway, dns)

    def set_primary_address_type(self, ref: PIFRef,
                                 primary_address_type: PrimaryAddressType | str) -> None:
        self.invoke("set_primary_address_type", ref, primary_address_type)

    def set_property(self, ref: PIFRef, name: str, value: str) -> None:
        self.invoke("set_property", ref, name, value)

    def set_disallow_unplug(self, ref: PIFRef, value: bool) -> None:
        self.invoke("set_disallow_unplug", ref, value)

    def scan(self, host: HostRef) -> None:
        self.invoke("scan", host)

    def introduce(self, host: HostRef, mac: str, device: str,
                  managed: bool | None = True) -> PIFRef:
        ref: PIFRef = self.invoke("introduce", host, mac, device, True if managed is None
                                  else managed)
        return ref

    def forget(self, ref: PIFRef) -> None:
        self.invoke("forget", ref)


__all__ = ["PIFsClient"]
