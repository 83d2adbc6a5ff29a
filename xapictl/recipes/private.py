"""``ensure_private_network``: a cross-host private network (XAPI tunnels over GRE or VXLAN)."""

from __future__ import annotations

from collections.abc import Mapping

from xapictl.plan.desired import DesiredState
from xapictl.recipes._build import build


def ensure_private_network(name: str, transport: str, *, protocol: str = "gre",
                           present: bool = True, mtu: int | None = None,
                           description: str | None = None,
                           other_config: Mapping[str, str] | None = None,
                           adopt: bool = False) -> DesiredState:
    """A network named ``name`` carried by a ``protocol`` (gre or vxlan) tunnel on every host
    whose PIF on the network ``transport`` has an IP (openvswitch backend only).

    Made with ``network.create`` then ``tunnel.create`` per host; a host that lacks its tunnel
    later (joined, was down, edited by hand) is repaired alone. XAPI's refusals (no IP on the
    transport PIF, bridge backend, a tunnel access PIF as transport) are checked before the
    first write. ``present=False`` destroys the tunnels, then the network.
    """
    return build("networks", f"ensure_private_network({name!r})", name=name,
                 tunnel={"protocol": protocol, "transport": transport}, present=present,
                 mtu=mtu, description=description,
                 other_config=dict(other_config) if other_config else None,
                 adopt=adopt or None)


__all__ = ["ensure_private_network"]
