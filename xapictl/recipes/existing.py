"""Recipes for a network that already exists on the pool: its removal and its MTU change,
from how a recipe names it (``xapictl.plan.identity.network_identity``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from xapictl.errors import UsageError
from xapictl.plan.desired import DesiredState
from xapictl.recipes.mtu import ensure_mtu
from xapictl.recipes.network import ensure_network
from xapictl.recipes.vlan import ensure_vlan_network

Identity = Mapping[str, Any]
"""``name`` plus ``vlan`` and ``device``/``bond`` (a VLAN network), ``device`` (a NIC's
network), or nothing more (by name and ownership mark)."""


def ensure_deleted(identity: Identity, *, adopt: bool = False) -> DesiredState:
    """Remove the network ``identity`` names: a VLAN network from every host (a private
    network's tunnels, an SR-IOV network's logical PIFs), then the network. The network of
    a NIC is never removed (refused here, before any read)."""
    name = identity["name"]
    if "vlan" in identity:
        return ensure_vlan_network(name, identity["vlan"], device=identity.get("device"),
                                   bond=identity.get("bond"), present=False, adopt=adopt)
    if "tunnel" in identity:
        from xapictl.recipes.private import ensure_private_network

        return ensure_private_network(name, identity["tunnel"]["transport"],
                                      protocol=identity["tunnel"]["protocol"], present=False,
                                      adopt=adopt)
    if identity.get("sriov"):
        from xapictl.recipes.sriov import ensure_sriov_network

        return ensure_sriov_network(name, identity["device"], present=False, adopt=adopt)
    if "device" in identity:
        raise UsageError(f"{name!r} is the network of NIC {identity['device']}: xapictl never "
                         "removes a NIC's network (rename it or change its MTU instead)")
    return ensure_network(name, present=False, adopt=adopt)


def ensure_mtu_of(name: str, mtu: int, identify: Callable[[str], Identity], *,
                  replug: bool = False, replug_management: bool = False,
                  adopt: bool = False, raise_trunk_mtu: bool = False) -> DesiredState:
    """``ensure_mtu`` on the existing network ``name``: the MTU is checked first, then
    ``identify`` (which reads the pool) says how the network is named."""
    ensure_mtu(name, mtu)  # a bad value is refused before any pool is read
    identity = identify(name)
    if raise_trunk_mtu and "vlan" not in identity:
        what = (f"the network of NIC {identity['device']}" if "device" in identity
                else "not a VLAN network")
        raise UsageError(f"raise_trunk_mtu (--raise-trunk-mtu) raises the trunk of a VLAN "
                         f"network, and {name!r} is {what}: drop it")
    return ensure_mtu(identity["name"], mtu, vlan=identity.get("vlan"),
                      device=identity.get("device"), bond=identity.get("bond"), replug=replug,
                      replug_management=replug_management, adopt=adopt,
                      raise_trunk_mtu=raise_trunk_mtu)


__all__ = ["Identity", "ensure_deleted", "ensure_mtu_of"]
