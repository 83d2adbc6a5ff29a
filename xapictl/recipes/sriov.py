"""``ensure_sriov_network``: an SR-IOV network on one NIC of every host that can do it."""

from __future__ import annotations

from xapictl.plan.desired import DesiredState
from xapictl.recipes._build import build


def ensure_sriov_network(name: str, device: str, *, present: bool = True,
                         mtu: int | None = None, description: str | None = None,
                         adopt: bool = False) -> DesiredState:
    """A network named ``name`` with SR-IOV enabled on NIC ``device`` (``network_sriov.create``)
    of every live host whose PIF has the capability ``sriov``; hosts whose NIC cannot are
    named in a warning. The plan says when a host needs a reboot before the VFs exist
    (``requires_reboot``). ``present=False`` disables SR-IOV there, then removes the network.
    """
    return build("networks", f"ensure_sriov_network({name!r})", name=name, device=device,
                 sriov=True, present=present, mtu=mtu, description=description,
                 adopt=adopt or None)


__all__ = ["ensure_sriov_network"]
