"""``ensure_mtu``: a network's MTU, changed in place, with the re-plugs it needs."""

from __future__ import annotations

from xapictl.plan.desired import DesiredState
from xapictl.recipes._build import build


def ensure_mtu(network: str, mtu: int, *, vlan: int | None = None, device: str | None = None,
               bond: str | None = None, replug: bool = False, replug_management: bool = False,
               adopt: bool = False, raise_trunk_mtu: bool = False) -> DesiredState:
    """``network.set_MTU``; the PIFs and VIFs still carrying the old MTU are listed in the plan,
    and re-plugged with ``replug=True`` — the management interface only with
    ``replug_management=True`` as well. Identify a VLAN network with ``vlan`` + ``device`` (or
    ``bond``), a NIC's network with ``device``; otherwise by name and ownership mark. A
    network so identified but named otherwise is refused, never renamed.

    A VLAN network is never raised above its trunk's MTU: refused, or with
    ``raise_trunk_mtu=True`` the trunk's network is raised first (its PIFs, then its VIFs
    re-plugged). A trunk is never lowered below the VLAN networks on it: refused, naming them.
    """
    return build("networks", f"ensure_mtu({network!r})", name=network, mtu=mtu, vlan=vlan,
                 device=device, bond=bond, replug=replug or None,
                 replug_management=replug_management or None, adopt=adopt or None,
                 raise_trunk_mtu=raise_trunk_mtu or None)


__all__ = ["ensure_mtu"]
