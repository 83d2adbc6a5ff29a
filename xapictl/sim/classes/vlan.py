"""``VLAN``: create and destroy with XAPI's checks in order (REFERENCE §3.4, ``xapi_vlan.ml``).

A VLAN is two records: the VLAN object and its "untagged" VLAN PIF, which carries the tagged
PIF's device name, the MAC ``fe:ff:ff:ff:ff:ff``, the tag in ``VLAN`` and shares the tagged
PIF's metrics. ``VLAN.untagged_PIF`` and ``PIF.VLAN_master_of`` are written on both sides.
"""

from __future__ import annotations

from xapictl.sim.classes import _nics, network_sriov
from xapictl.sim.classes import _pif_kinds as kinds
from xapictl.sim.classes._pif_kinds import PifKind
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import CallContext, handles
from xapictl.sim.state import NULL_REF, Record, SimState

VLAN_PIF_MAC = "fe:ff:ff:ff:ff:ff"
MAX_TAG = 4094


def check_create(state: SimState, tagged_pif: str, tag: int, network: str) -> None:
    """Every check of ``VLAN.create``, in XAPI's order (steps 1-8; step 8, ``VLAN_IN_USE``,
    asks about VLANs the host kernel has outside XAPI, kept in ``_nics``)."""
    pif = state.get("PIF", tagged_pif)
    state.get("network", network)
    kinds.assert_network_managed(state, network)
    kinds.assert_network_not_connected(state, network, pif["host"])
    kinds.assert_pif_managed(tagged_pif, pif)
    pif_kind = kinds.kind(pif)
    if pif_kind is PifKind.PHYSICAL and kinds.is_bond_slave(state, pif):
        raise SimFailure("CANNOT_ADD_VLAN_TO_BOND_SLAVE", tagged_pif)
    if pif_kind is PifKind.VLAN_UNTAGGED:
        raise SimFailure("PIF_IS_VLAN", tagged_pif)
    if pif_kind is PifKind.TUNNEL_ACCESS:
        raise SimFailure("IS_TUNNEL_ACCESS_PIF", tagged_pif)
    _check_network_compatibility(state, tagged_pif, pif_kind, network)
    if not 0 <= tag <= MAX_TAG:
        raise SimFailure("VLAN_TAG_INVALID", tag)
    for vlan in pif["VLAN_slave_of"]:
        if state.exists("VLAN", vlan) and state.get("VLAN", vlan)["tag"] == tag:
            raise SimFailure("PIF_VLAN_EXISTS", pif["device"])
    if _nics.has_kernel_vlan(state, pif["host"], pif["device"], tag):
        raise SimFailure("VLAN_IN_USE", pif["device"], tag)


def _check_network_compatibility(state: SimState, tagged_pif: str, pif_kind: PifKind,
                                 network: str) -> None:
    """``xapi_network_helpers.ml``: a VLAN on SR-IOV joins an empty network or one whose FIRST
    PIF is a VLAN on SR-IOV over the same NIC model (PCI vendor and device ids of the physical
    PIFs underneath); a VLAN on a bridge never joins an SR-IOV based network."""
    pifs = state.get("network", network)["PIFs"]
    if pif_kind is PifKind.SRIOV_LOGICAL:
        if not pifs:
            return
        first = state.get("PIF", pifs[0])
        if not kinds.is_vlan_on_sriov(state, first):
            raise SimFailure("NETWORK_INCOMPATIBLE_WITH_VLAN_ON_SRIOV", network)
        existing = _physical_under(state, kinds.tagged_pif_of(state, first))
        candidate = _physical_under(state, state.get("PIF", tagged_pif))
        if existing and candidate and not network_sriov.same_nic_model(state, existing, candidate):
            raise SimFailure("NETWORK_HAS_INCOMPATIBLE_VLAN_ON_SRIOV_PIFS", tagged_pif, network)
    elif kinds.is_sriov_network(state, network):
        raise SimFailure("NETWORK_INCOMPATIBLE_WITH_VLAN_ON_BRIDGE", network)


def _physical_under(state: SimState, logical: Record | None) -> str | None:
    """The physical PIF under an SR-IOV logical PIF (through its network_sriov)."""
    if logical is None:
        return None
    for sriov in logical.get("sriov_logical_PIF_of", []):
        if state.exists("network_sriov", sriov):
            return str(state.get("network_sriov", sriov)["physical_PIF"])
    return None


def create_records(state: SimState, tagged_pif: str, tag: int, network: str,
                   device: str | None = None) -> tuple[str, str]:
    """The VLAN PIF and the VLAN object, unplugged; returns (VLAN ref, VLAN PIF ref)."""
    pif = state.get("PIF", tagged_pif)
    untagged = state.create("PIF", {
        "device": device if device is not None else pif["device"],
        "network": network,
        "host": pif["host"],
        "MAC": VLAN_PIF_MAC,
        "MTU": pif["MTU"],
        "VLAN": tag,
        "metrics": pif["metrics"],
        "physical": False,
        "currently_attached": False,
        "ip_configuration_mode": "None",
        "ipv6_configuration_mode": "None",
        "IPv6": [""],
        "primary_address_type": pif["primary_address_type"],
        "management": False,
        "other_config": {},
        "disallow_unplug": False,
        "managed": True,
        "properties": {},
        "capabilities": [],
        "igmp_snooping_status": "unknown",
    })
    vlan = state.create("VLAN", {"tagged_PIF": tagged_pif, "untagged_PIF": untagged,
                                 "tag": tag, "other_config": {}})
    state.set_field("PIF", untagged, "VLAN_master_of", vlan)
    return vlan, untagged


def create_vlan(state: SimState, tagged_pif: str, tag: int, network: str) -> str:
    """``VLAN.create`` after forwarding: checks, records, then the plug (no rollback if it
    fails: the records stay, as in XAPI)."""
    check_create(state, tagged_pif, tag, network)
    vlan, untagged = create_records(state, tagged_pif, tag, network)
    kinds.plug(state, untagged)
    return vlan


@handles("VLAN.create")
def create(ctx: CallContext, tagged_pif: str, tag: int, network: str) -> str:
    host = ctx.state.get("PIF", tagged_pif)["host"]
    ctx.require_live(host)
    return create_vlan(ctx.state, tagged_pif, int(tag), network)


def destroy_vlan(state: SimState, vlan: str, *, on_slave: bool = False) -> None:
    """``VLAN.destroy`` after forwarding. The network, its VIFs and the shared metrics stay."""
    record = state.get("VLAN", vlan)
    untagged = record["untagged_PIF"]
    if not state.exists("PIF", untagged):
        state.destroy("VLAN", vlan)  # orphan clean-up
        return
    pif = state.get("PIF", untagged)
    if kinds.is_bond_slave(state, pif) or pif["bond_master_of"]:
        raise SimFailure("PIF_ALREADY_BONDED", untagged)
    if on_slave and pif["currently_attached"] and pif["management"]:
        raise SimFailure("PIF_IS_MANAGEMENT_INTERFACE", untagged)
    if pif["currently_attached"]:
        kinds.assert_no_protection(state)
    if pif["VLAN"] < 0:
        raise SimFailure("PIF_IS_PHYSICAL")
    kinds.unplug(state, untagged)
    state.destroy("VLAN", vlan)
    state.destroy("PIF", untagged)


@handles("VLAN.destroy")
def destroy(ctx: CallContext, self: str) -> None:
    record = ctx.state.get("VLAN", self)
    tagged = record["tagged_PIF"]
    host = ctx.state.get("PIF", tagged)["host"] if ctx.state.exists("PIF", tagged) else NULL_REF
    if host != NULL_REF:
        ctx.require_live(host)
    destroy_vlan(ctx.state, self, on_slave=host not in (NULL_REF, ctx.master()))


@handles("VLAN.pool_introduce")
def pool_introduce(ctx: CallContext, tagged_pif: str, untagged_pif: str, tag: int,
                   other_config: dict[str, str]) -> str:
    """Hidden (pool join): links the records; the VLAN PIF takes the tagged PIF's metrics."""
    state = ctx.state
    tagged = state.get("PIF", tagged_pif)
    untagged = state.get("PIF", untagged_pif)
    vlan = state.create("VLAN", {"tagged_PIF": tagged_pif, "untagged_PIF": untagged_pif,
                                 "tag": int(tag), "other_config": dict(other_config)})
    own_metrics = untagged["metrics"]
    state.update("PIF", untagged_pif, {"VLAN_master_of": vlan, "metrics": tagged["metrics"]})
    if own_metrics != tagged["metrics"] and state.exists("PIF_metrics", own_metrics):
        state.destroy("PIF_metrics", own_metrics)
    return vlan


__all__ = ["MAX_TAG", "VLAN_PIF_MAC", "check_create", "create", "create_records",
           "create_vlan", "destroy", "destroy_vlan", "pool_introduce"]
