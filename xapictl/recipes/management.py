"""``ensure_management``: the management interface of every host (or of ``hosts``) on the
PIF of a network."""

from __future__ import annotations

from collections.abc import Sequence

from xapictl.plan.desired import DesiredState
from xapictl.recipes._build import build


def ensure_management(network: str, *, hosts: Sequence[str] | None = None) -> DesiredState:
    """Every host's (or ``hosts``') management interface on its PIF of ``network``
    (``host.management_reconfigure``: the members first, the master last, then
    ``pool.recover_slaves``); always disruptive. Refused before any write: HA enabled, a host
    without a PIF on the network, a PIF without an address, an address this client cannot
    reach. The connection follows the master to its new address."""
    return build("management", f"ensure_management({network!r})", network=network,
                 hosts=list(hosts) if hosts is not None else None)


__all__ = ["ensure_management"]
