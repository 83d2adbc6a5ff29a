"""``ensure_interface``: the IP configuration of the PIF of each host on a network or NIC."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from xapictl.plan.desired import DesiredState
from xapictl.recipes._build import build


def ensure_interface(network: str | None = None, *, device: str | None = None,
                     hosts: Sequence[str] | None = None, ipv4: str | None = None,
                     addresses: Mapping[str, str] | None = None,
                     address_range: str | None = None, gateway: str | None = None,
                     dns: Sequence[str] | None = None, ipv6: str | None = None,
                     addresses6: Mapping[str, str] | None = None,
                     address6_range: str | None = None, gateway6: str | None = None,
                     dns6: Sequence[str] | None = None,
                     primary_address_type: str | None = None,
                     purpose: str | None = None) -> DesiredState:
    """The PIF of each host (or of ``hosts``) on ``network`` (or on NIC ``device``) with
    ``ipv4`` ``none``, ``dhcp`` or ``static``: ``addresses`` maps host names to
    ``address/prefix``, or ``address_range`` (``first-last/prefix``) allots one per host in
    host-name order; ``gateway`` (in the subnet) and ``dns``. ``ipv6`` ``none``, ``dhcp``,
    ``autoconf`` or ``static`` likewise with ``addresses6`` or ``address6_range``,
    ``gateway6`` and ``dns6``; ``primary_address_type`` ``ipv4`` or ``ipv6``.
    ``purpose="storage"`` makes it a dedicated storage interface (plugged,
    ``disallow_unplug``, and XenCenter's ``other_config:management_purpose``). Refused before
    any write: an address another PIF has, the management interface's address or primary
    address type, a host without a PIF there.
    """
    return build("interfaces", f"ensure_interface({network or device!r})", network=network,
                 device=device, hosts=list(hosts) if hosts is not None else None, ipv4=ipv4,
                 addresses=dict(addresses) if addresses is not None else None,
                 address_range=address_range, gateway=gateway,
                 dns=list(dns) if dns is not None else None, ipv6=ipv6,
                 addresses6=dict(addresses6) if addresses6 is not None else None,
                 address6_range=address6_range, gateway6=gateway6,
                 dns6=list(dns6) if dns6 is not None else None,
                 primary_address_type=primary_address_type, purpose=purpose)


__all__ = ["ensure_interface"]
