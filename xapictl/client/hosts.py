"""``host``: the pool's hosts and their management interface."""

from __future__ import annotations

from xapictl.client.base import ClassClient
from xapictl.model.host import Host
from xapictl.model.refs import HostRef, PIFRef


class HostsClient(ClassClient[HostRef, Host]):
    xapi_class = "host"

    def get_management_interface(self, host: HostRef) -> PIFRef:
        ref: PIFRef = self.invoke("get_management_interface", host)
        return ref

    def management_reconfigure(self, pif: PIFRef) -> None:
        self.invoke("management_reconfigure", pif)


__all__ = ["HostsClient"]
