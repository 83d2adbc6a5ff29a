"""``network``: create, destroy and change virtual networks."""

from __future__ import annotations

from collections.abc import Mapping

from xapictl.client.generated.network import NetworkClient
from xapictl.model.enums import NetworkPurpose
from xapictl.model.refs import NetworkRef


class NetworksClient(NetworkClient):
    """``create`` (typed record fields) and every other message come generated; these keep
    their positional forms (``set_mtu(ref, 9000)``)."""

    xapi_class = "network"

    def set_mtu(self, ref: NetworkRef, value: int) -> None:
        """Sets the MTU; PIFs and VIFs keep the old one until re-plugged."""
        self.invoke("set_MTU", ref, value)

    def set_name_label(self, ref: NetworkRef, value: str) -> None:
        self.invoke("set_name_label", ref, value)

    def set_name_description(self, ref: NetworkRef, value: str) -> None:
        self.invoke("set_name_description", ref, value)

    def set_other_config(self, ref: NetworkRef, value: Mapping[str, str]) -> None:
        self.invoke("set_other_config", ref, dict(value))

    def add_to_other_config(self, ref: NetworkRef, key: str, value: str) -> None:
        self.invoke("add_to_other_config", ref, key, value)

    def remove_from_other_config(self, ref: NetworkRef, key: str) -> None:
        self.invoke("remove_from_other_config", ref, key)

    def add_purpose(self, ref: NetworkRef, value: NetworkPurpose | str) -> None:
        self.invoke("add_purpose", ref, value)

    def remove_purpose(self, ref: NetworkRef, value: NetworkPurpose | str) -> None:
        self.invoke("remove_purpose", ref, value)


__all__ = ["NetworksClient"]
