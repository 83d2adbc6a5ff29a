"""``ensure_vlan_network``: a VLAN network trunked across every host of the pool."""

from __future__ import annotations

from collections.abc import Mapping

from xapictl.plan.desired import DesiredState
from xapictl.recipes._build import build


def ensure_vlan_network(name: str, tag: int, *, device: str | None = None,
                        bond: str | None = None, present: bool = True, mtu: int | None = None,
                        description: str | None = None,
                        other_config: Mapping[str, str] | None = None,
                        adopt: bool = False, rename: bool = False,
                        raise_trunk_mtu: bool = False,
                        replug_management: bool = False) -> DesiredState:
    """VLAN ``tag`` on the trunk ``device`` (or on the bond whose network is ``bond``) of every
    host, in one network named ``name``.

    Created with ``network.create`` then ``pool.create_VLAN_from_PIF``; hosts that lack it
    later are repaired with ``VLAN.create`` on just those hosts. ``present=False`` removes the
    VLAN from every host, then the network (refused while VIFs are plugged in).

    A network that already carries the tag on that trunk under another name is refused,
    naming it (never renamed or re-purposed), unless ``rename=True`` asks for the rename.

    An ``mtu`` above the trunk's network MTU is refused (a VLAN carries no frame larger than
    its trunk), unless ``raise_trunk_mtu=True`` raises the trunk's network first, re-plugging
    its PIFs and then its VIFs; a trunk that carries the management interface needs
    ``replug_management=True`` as well.
    """
    return build("networks", f"ensure_vlan_network({name!r})", name=name, vlan=tag,
                 device=device, bond=bond, present=present, mtu=mtu, description=description,
                 other_config=dict(other_config) if other_config else None,
                 adopt=adopt or None, rename=rename or None,
                 raise_trunk_mtu=raise_trunk_mtu or None,
                 replug_management=replug_management or None)


__all__ = ["ensure_vlan_network"]
