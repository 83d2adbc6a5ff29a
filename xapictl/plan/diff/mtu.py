"""MTU rules shared by the planners of NIC, named and bond networks: a trunk never below the
VLAN networks on it (as the recipe leaves them)."""

from __future__ import annotations

from xapictl.model.refs import NetworkRef
from xapictl.plan.diff.planner import Planner


def vlans_above(d: Planner, ref: NetworkRef, mtu: int) -> list[str]:
    """The VLAN networks on the PIFs of ``ref`` whose MTU, as the recipe leaves it, is above
    ``mtu`` (a trunk lowered under its VLANs), as "'VLAN 105' (MTU 9000, VLAN 105 on eth1)".
    Needs the VLAN records in the plan's read (``backend.classes_needed``)."""
    found: dict[NetworkRef, str] = {}
    for p in d.snap.networks[ref].pifs:
        pif = d.snap.pifs.get(p)
        if pif is None:
            continue
        for v in d.snap.vlans_on(p):
            vlan = d.snap.vlans[v]
            untagged = d.snap.pifs.get(vlan.untagged_pif)
            if untagged is None or untagged.network not in d.snap.networks:
                continue
            net = d.snap.networks[untagged.network]
            stated = d.desired_network(net.name_label)
            if stated is not None and not stated.present:
                continue  # the recipe removes it
            wanted = stated.mtu if stated is not None and stated.mtu is not None else net.mtu
            if wanted > mtu:
                found[untagged.network] = (f"{net.name_label!r} (MTU {wanted}, VLAN "
                                           f"{vlan.tag} on {pif.device})")
    return [found[r] for r in sorted(found, key=lambda r: found[r])]


def below_its_vlans(d: Planner, ref: NetworkRef, mtu: int, subject: str, trunk: str) -> bool:
    """True (a problem naming them) when lowering ``ref`` to ``mtu`` leaves VLAN networks on
    it above it, as the recipe leaves them (``trunk``: "trunk" or "bond", for the fix)."""
    above = vlans_above(d, ref, mtu) if d.snap.networks[ref].mtu > mtu else []
    if above:
        d.problems.append(
            f"{subject}: MTU {mtu} is below that of the VLAN networks on it "
            f"({', '.join(above)}): a VLAN carries no frame larger than its trunk; lower "
            f"them first: state each with `mtu: {mtu}` (and `replug: true`) in the "
            f"same recipe (the plan lowers them before the {trunk}), or `xapictl network "
            "set-mtu` each of them first")
    return bool(above)


__all__ = ["below_its_vlans", "vlans_above"]
