"""``host``: the pool's hosts and their management interface."""

from __future__ import annotations

from xapictl.client.generated.host import HostClient
from xapictl.model.refs import HostRef, PIFRef


class HostsClient(HostClient):
    xapi_class = "host"

    def get_management_interface(self, host: HostRef) -> PIFRef:
        ref: PIFRef = self.invoke("get_management_interface", host)
        return ref

    def management_reconfigure(self, pif: PIFRef) -> None:
        self.invoke("management_reconfigure", pif)


__all__ = ["HostsClient"]
