"""``ensure_bond``: a bond of the same NICs on every host, the pool master last."""

from __future__ import annotations

from collections.abc import Sequence

from xapictl.plan.desired import DesiredState
from xapictl.recipes._build import build


def ensure_bond(network: str, members: Sequence[str], *, mode: str | None = None,
                hashing_algorithm: str | None = None, mtu: int | None = None,
                present: bool = True, adopt: bool = False) -> DesiredState:
    """A bond of ``members`` (devices such as ``eth2``, ``eth3``) on every host, on a network
    named ``network``. ``mode``: balance-slb, active-backup or lacp (with
    ``hashing_algorithm`` src_mac or tcpudp_ports). VLANs go on it with
    ``ensure_vlan_network(..., bond=network)``.
    """
    return build("bonds", f"ensure_bond({network!r})", network=network,
                 members=list(members) if not isinstance(members, str) else members,
                 mode=mode, hashing_algorithm=hashing_algorithm, mtu=mtu, present=present,
                 adopt=adopt or None)


__all__ = ["ensure_bond"]
