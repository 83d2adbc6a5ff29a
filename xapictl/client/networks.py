"""``network``: create, destroy and change virtual networks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xapictl.client.base import ClassClient
from xapictl.model.enums import NetworkPurpose
from xapictl.model.network import Network
from xapictl.model.refs import NetworkRef


class NetworksClient(ClassClient[NetworkRef, Network]):
    xapi_class = "network"

    def create(self, **fields: Any) -> NetworkRef:
        """``network.create`` from record fields: ``name_label=``, ``mtu=``,
        ``other_config=`` (defaults to ``{}``), ``name_description=``, ``tags=``…"""
        return self.create_record(**fields)

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
