"""``ensure_bond``: a bond of the same NICs on every host, the pool master last."""

from __future__ import annotations

from collections.abc import Sequence

from xapictl.plan.desired import DesiredState
from xapictl.recipes._build import build


def ensure_bond(network: str, members: Sequence[str], *, mode: str | None = None,
                hashing_algorithm: str | None = None, lacp_time: str | None = None,
                lacp_aggregation_key: int | None = None, lacp_fallback_ab: bool | None = None,
                mtu: int | None = None, present: bool = True, adopt: bool = False,
                on_failure: str = "rollback") -> DesiredState:
    """A bond of ``members`` (devices such as ``eth2``, ``eth3``) on every host, on a network
    named ``network``. ``mode``: balance-slb, active-backup or lacp (with
    ``hashing_algorithm`` src_mac or tcpudp_ports, ``lacp_time`` fast or slow,
    ``lacp_aggregation_key``, ``lacp_fallback_ab``). What ``Bond.create`` moves onto the
    bond (the members' VLANs, the primary member's IP configuration, the management
    interface) is named in the plan. ``on_failure``: ``rollback`` (default) destroys the
    bonds this run made when a later host fails; ``stop`` leaves them for a re-run. VLANs go
    on it with ``ensure_vlan_network(..., bond=network)``.
    """
    return build("bonds", f"ensure_bond({network!r})", network=network,
                 members=list(members) if not isinstance(members, str) else members,
                 mode=mode, hashing_algorithm=hashing_algorithm, lacp_time=lacp_time,
                 lacp_aggregation_key=lacp_aggregation_key, lacp_fallback_ab=lacp_fallback_ab,
                 mtu=mtu, present=present, adopt=adopt or None,
                 on_failure=None if on_failure == "rollback" else on_failure)


__all__ = ["ensure_bond"]
