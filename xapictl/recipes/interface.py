"""``ensure_interface``: the IPv4 configuration of the PIF of each host on a network or NIC."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from xapictl.plan.desired import DesiredState
from xapictl.recipes._build import build


def ensure_interface(network: str | None = None, *, device: str | None = None,
                     hosts: Sequence[str] | None = None, ipv4: str | None = None,
                     addresses: Mapping[str, str] | None = None,
                     address_range: str | None = None, gateway: str | None = None,
                     dns: Sequence[str] | None = None,
                     purpose: str | None = None) -> DesiredState:
    """The PIF of each host (or of ``hosts``) on ``network`` (or on NIC ``device``) with
    ``ipv4`` ``none``, ``dhcp`` or ``static``: ``addresses`` maps host names to
    ``address/prefix``, or ``address_range`` (``first-last/prefix``) allots one per host in
    host-name order; ``gateway`` (in the subnet) and ``dns``. ``purpose="storage"`` makes it
    a dedicated storage interface (plugged, ``disallow_unplug``, and XenCenter's
    ``other_config:management_purpose``). Refused before any write: an address another PIF
    has, the management interface's address, a host without a PIF there.
    """
    return build("interfaces", f"ensure_interface({network or device!r})", network=network,
                 device=device, hosts=list(hosts) if hosts is not None else None, ipv4=ipv4,
                 addresses=dict(addresses) if addresses is not None else None,
                 address_range=address_range, gateway=gateway,
                 dns=list(dns) if dns is not None else None, purpose=purpose)


__all__ = ["ensure_interface"]
