"""``ensure_vm_attached``: a VM's VIF on a network (created, plugged, moved, or removed)."""

from __future__ import annotations

from collections.abc import Sequence

from xapictl.plan.desired import DesiredState
from xapictl.recipes._build import build


def ensure_vm_attached(vm: str, network: str, *, device: int | str = "auto",
                       present: bool = True, mac: str | None = None, mtu: int | None = None,
                       locking_mode: str | None = None,
                       ipv4_allowed: Sequence[str] | None = None,
                       ipv6_allowed: Sequence[str] | None = None,
                       qos_kbps: int | None = None, replug: bool = False) -> DesiredState:
    """VM ``vm`` (name or uuid) attached to ``network`` on VIF ``device`` (``"auto"``: the VIF
    it already has there, else the next free device).

    A new VIF is plugged when the VM runs; a VIF on another network is moved (``VIF.move``),
    never rebuilt; ``present=False`` unplugs and destroys VIF ``device``. A QoS change on a
    VIF plugged in a running VM applies at its next plug (a plan warning); ``replug=True``
    re-plugs it now.
    """
    return build("vifs", f"ensure_vm_attached({vm!r})", vm=vm, network=network,
                 device=device, present=present, mac=mac, mtu=mtu, locking_mode=locking_mode,
                 ipv4_allowed=ipv4_allowed, ipv6_allowed=ipv6_allowed, qos_kbps=qos_kbps,
                 replug=replug or None)


__all__ = ["ensure_vm_attached"]
