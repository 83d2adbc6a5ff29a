"""What every networking check asks about PIFs: their kind (REFERENCE §2.3), the network/host
pairing rule, the pool's protection flags, and PIF bring-up / bring-down.

Bring-up and bring-down live here rather than in ``pif.py`` because VLAN, Bond, tunnel, host
and VM code all plug and unplug PIFs with exactly ``PIF.plug`` / ``PIF.unplug`` semantics.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from xapictl.sim.classes import _nics
from xapictl.sim.errors import SimFailure
from xapictl.sim.state import NULL_REF, Record, SimState


class PifKind(StrEnum):
    """A PIF is exactly one of these, tested in this order (``xapi_pif_helpers.ml``)."""

    TUNNEL_ACCESS = "tunnel_access"
    VLAN_UNTAGGED = "vlan_untagged"
    SRIOV_LOGICAL = "sriov_logical"
    BOND_MASTER = "bond_master"
    PHYSICAL = "physical"


def kind(pif: Record) -> PifKind:
    """The PIF's kind; a bond slave is ``PHYSICAL`` (see ``is_bond_slave``)."""
    if pif.get("tunnel_access_PIF_of"):
        return PifKind.TUNNEL_ACCESS
    if pif.get("VLAN_master_of", NULL_REF) != NULL_REF:
        return PifKind.VLAN_UNTAGGED
    if pif.get("sriov_logical_PIF_of"):
        return PifKind.SRIOV_LOGICAL
    if pif.get("bond_master_of"):
        return PifKind.BOND_MASTER
    return PifKind.PHYSICAL


def is_bond_slave(state: SimState, pif: Record) -> bool:
    """Slave of a bond that still exists (a dangling ``bond_slave_of`` does not count)."""
    return state.exists("Bond", pif.get("bond_slave_of", NULL_REF))


def tagged_pif_of(state: SimState, vlan_pif: Record) -> Record | None:
    """The PIF under a VLAN PIF, if both the VLAN and it still exist."""
    vlan = vlan_pif.get("VLAN_master_of", NULL_REF)
    if not state.exists("VLAN", vlan):
        return None
    tagged = state.get("VLAN", vlan)["tagged_PIF"]
    return state.get("PIF", tagged) if state.exists("PIF", tagged) else None


def is_vlan_on_sriov(state: SimState, pif: Record) -> bool:
    if kind(pif) is not PifKind.VLAN_UNTAGGED:
        return False
    tagged = tagged_pif_of(state, pif)
    return tagged is not None and kind(tagged) is PifKind.SRIOV_LOGICAL


def is_sriov_network(state: SimState, network: str) -> bool:
    """A network carried by SR-IOV logical PIFs or VLANs on them."""
    for pif_ref in state.get("network", network)["PIFs"]:
        pif = state.get("PIF", pif_ref)
        if kind(pif) is PifKind.SRIOV_LOGICAL or is_vlan_on_sriov(state, pif):
            return True
    return False


def pif_of_network_on_host(state: SimState, network: str, host: str) -> str | None:
    """The PIF connecting ``network`` on ``host`` (at most one, by construction)."""
    for pif_ref in state.get("network", network)["PIFs"]:
        if state.get("PIF", pif_ref)["host"] == host:
            return str(pif_ref)
    return None


def assert_network_not_connected(state: SimState, network: str, host: str) -> None:
    """A network carries at most one PIF per host. XAPI sends [host, existing PIF]."""
    existing = pif_of_network_on_host(state, network, host)
    if existing is not None:
        raise SimFailure("NETWORK_ALREADY_CONNECTED", host, existing)


def assert_network_managed(state: SimState, network: str) -> None:
    if not state.get("network", network)["managed"]:
        raise SimFailure("NETWORK_UNMANAGED", network)


def assert_pif_managed(pif_ref: str, pif: Record) -> None:
    if not pif["managed"]:
        raise SimFailure("PIF_UNMANAGED", pif_ref)


def next_device(state: SimState, host: str, prefix: str, kind_field: str) -> str:
    """``<prefix><N>`` with the smallest N not used on ``host`` by PIFs whose ``kind_field``
    is non-empty (``bond`` masters, ``tunnel`` access PIFs)."""
    used = {p["device"] for p in state.all("PIF").values()
            if p["host"] == host and p[kind_field]}
    n = 0
    while f"{prefix}{n}" in used:
        n += 1
    return f"{prefix}{n}"


def pool_record(state: SimState) -> Record | None:
    refs = state.refs("pool")
    return state.get("pool", refs[0]) if refs else None


def assert_no_protection(state: SimState) -> None:
    """HA and the redo log both pin the network configuration of attached PIFs."""
    pool = pool_record(state)
    if pool is None:
        return
    if pool.get("ha_enabled"):
        raise SimFailure("HA_IS_ENABLED")
    if pool.get("redo_log_enabled"):
        raise SimFailure("REDO_LOG_IS_ENABLED")


def ha_enabled(state: SimState) -> bool:
    pool = pool_record(state)
    return bool(pool and pool.get("ha_enabled"))


def bridge_mtu(state: SimState, pif: Record) -> int:
    """The MTU a plug applies: ``other_config:mtu`` when it parses, else the network's."""
    override = pif.get("other_config", {}).get("mtu")
    if override is not None:
        try:
            return int(override)
        except ValueError:
            pass
    network = pif["network"]
    return int(state.get("network", network)["MTU"]) if state.exists("network", network) else 1500


def plug(state: SimState, pif_ref: str) -> None:
    """``PIF.plug`` after forwarding: PIF_UNMANAGED, the per-kind prerequisites, bring-up."""
    pif = state.get("PIF", pif_ref)
    assert_pif_managed(pif_ref, pif)
    pif_kind = kind(pif)
    if pif_kind is PifKind.TUNNEL_ACCESS:
        tunnel = state.get("tunnel", pif["tunnel_access_PIF_of"][0])
        transport = tunnel["transport_PIF"]
        if state.get("PIF", transport)["ip_configuration_mode"] == "None":
            raise SimFailure("TRANSPORT_PIF_NOT_CONFIGURED", transport)
        plug(state, transport)
    elif pif_kind is PifKind.VLAN_UNTAGGED:
        tagged = tagged_pif_of(state, pif)
        if tagged is not None and kind(tagged) is PifKind.SRIOV_LOGICAL:
            plug(state, state.get("VLAN", pif["VLAN_master_of"])["tagged_PIF"])
    elif pif_kind is PifKind.SRIOV_LOGICAL:
        sriov = state.get("network_sriov", pif["sriov_logical_PIF_of"][0])
        plug(state, sriov["physical_PIF"])
    elif is_bond_slave(state, pif):
        if pif.get("sriov_physical_PIF_of"):
            bond = state.get("Bond", pif["bond_slave_of"])
            plug(state, bond["master"])
            return
        raise SimFailure("CANNOT_PLUG_BOND_SLAVE", pif_ref)
    bring_up(state, pif_ref)


def snoops(pif: Record) -> bool:
    """Whether a PIF's bridge does IGMP snooping: every PIF but a VLAN's (it shares its trunk's)."""
    return bool(pif["VLAN"] < 0 and pif.get("VLAN_master_of", NULL_REF) == NULL_REF)


def igmp_status(state: SimState) -> str:
    """``igmp_snooping_status`` of a snooping PIF that is up, from the pool's setting."""
    pool = pool_record(state)
    return "enabled" if pool and pool.get("igmp_snooping_enabled") else "disabled"


def bring_up(state: SimState, pif_ref: str) -> None:
    """Bridge and address configured: attached, MTU from the bridge, bond MAC re-synced."""
    pif = state.get("PIF", pif_ref)
    fields: dict[str, Any] = {"currently_attached": True, "MTU": bridge_mtu(state, pif)}
    if snoops(pif):
        fields["igmp_snooping_status"] = igmp_status(state)
    slaves: list[str] = []
    for bond_ref in pif.get("bond_master_of", []):
        bond = state.get("Bond", bond_ref)
        primary = bond["primary_slave"]
        if bond["auto_update_mac"] and state.exists("PIF", primary):
            fields["MAC"] = state.get("PIF", primary)["MAC"]
        slaves.extend(bond["slaves"])
    if kind(pif) is PifKind.SRIOV_LOGICAL:
        fields["currently_attached"] = not sriov_bring_up(state, pif)
    state.update("PIF", pif_ref, fields)
    # nm.ml bring_pif_up, for a bond master: each slave is set unplugged (its own bridge is
    # gone) and the slave's network takes the bond network's MTU when it differs — on every
    # host, since the network is pool-wide.
    bond_mtu = state.get("network", pif["network"])["MTU"] if slaves else None
    for slave in slaves:
        member = state.get("PIF", slave)
        if member["currently_attached"]:
            state.set_field("PIF", slave, "currently_attached", False)
        if state.exists("network", member["network"]) and \
                state.get("network", member["network"])["MTU"] != bond_mtu:
            state.set_field("network", member["network"], "MTU", bond_mtu)


SRIOV_RESULTS = {"sysfs": ("sysfs", False), "modprobe": ("modprobe", False),
                 "modprobe_requires_reboot": ("modprobe", True), "manual": ("manual", False)}
"""``Net.Sriov.enable``'s answers -> (configuration_mode, requires_reboot)."""


def sriov_bring_up(state: SimState, logical: Record) -> bool:
    """``Xapi_network_sriov_helpers.sriov_bring_up``: the NIC's answer sets the object's
    ``configuration_mode`` and ``requires_reboot``; True when a reboot is required (the
    logical PIF then stays unattached)."""
    sriov = logical["sriov_logical_PIF_of"][0]
    mode, reboot = SRIOV_RESULTS[_nics.sriov_enable_result(state, logical["host"],
                                                            logical["device"])]
    state.update("network_sriov", sriov, {"configuration_mode": mode,
                                          "requires_reboot": reboot})
    if not reboot:  # update_pcis: the VFs are there now (after a reboot otherwise)
        _nics.enable_vfs(state, state.get("network_sriov", sriov)["physical_PIF"])
    return reboot


def sriov_bring_down(state: SimState, logical_ref: str) -> None:
    """``Xapi_network_sriov_helpers.sriov_bring_down``: networkd disables the VFs when
    ``require_operation_on_pci_device`` says so (sysfs mode; modprobe mode when no other
    enabled SR-IOV PIF of the host uses the same driver; never in manual mode), then the PIF
    is down, ``requires_reboot`` false and ``update_pcis`` drops VFs that are gone."""
    logical = state.get("PIF", logical_ref)
    sriov = logical["sriov_logical_PIF_of"][0]
    if _requires_pci_operation(state, sriov, logical_ref):
        _nics.disable_vfs(state, state.get("network_sriov", sriov)["physical_PIF"])
    state.update("PIF", logical_ref, {"currently_attached": False})
    state.update("network_sriov", sriov, {"requires_reboot": False})


def _sriov_enabled(state: SimState, logical: Record) -> bool:
    sriovs = logical.get("sriov_logical_PIF_of", [])
    return bool(sriovs) and (bool(logical["currently_attached"]) or bool(
        state.get("network_sriov", sriovs[0])["requires_reboot"]))


def _driver_of(state: SimState, sriov: str) -> str:
    physical = state.get("PIF", state.get("network_sriov", sriov)["physical_PIF"])
    pci = physical["PCI"]
    return str(state.get("PCI", pci)["driver_name"]) if state.exists("PCI", pci) else ""


def _requires_pci_operation(state: SimState, sriov: str, logical_ref: str) -> bool:
    """``require_operation_on_pci_device``."""
    logical = state.get("PIF", logical_ref)
    if not _sriov_enabled(state, logical):
        return False
    mode = state.get("network_sriov", sriov)["configuration_mode"]
    if mode != "modprobe":
        return bool(mode == "sysfs")
    driver = _driver_of(state, sriov)
    same = [ref for ref, pif in state.all("PIF").items()
            if pif["host"] == logical["host"] and pif.get("sriov_logical_PIF_of")
            and state.exists("network_sriov", pif["sriov_logical_PIF_of"][0])
            and _driver_of(state, pif["sriov_logical_PIF_of"][0]) == driver
            and _sriov_enabled(state, pif)]
    return same == [logical_ref]


def vifs_in_use(state: SimState, network: str, host: str) -> list[str]:
    """Attached VIFs of VMs running (or paused) on ``host`` (``xapi_network_attach_helpers``)."""
    found = []
    for vif_ref in state.get("network", network)["VIFs"]:
        vif = state.get("VIF", vif_ref)
        if not state.exists("VM", vif["VM"]):
            continue
        vm = state.get("VM", vif["VM"])
        if vif["currently_attached"] and vm["resident_on"] == host \
                and vm["power_state"] in ("Running", "Paused"):
            found.append(str(vif_ref))
    return found


def assert_fcoe_not_in_use(state: SimState, pif_ref: str, pif: Record) -> None:
    """An ``fcoe``-capable PIF carrying the LUN of an FCoE SR (``lvmofcoe``) with a PBD on its
    host cannot go down: ``PIF_HAS_FCOE_SR_IN_USE [pif, sr]``."""
    if "fcoe" not in pif.get("capabilities", []):
        return
    luns = _nics.fcoe_luns(state, pif["host"], pif["device"])
    for pbd in state.all("PBD").values():
        sr = pbd["SR"]
        if pbd["host"] != pif["host"] or not state.exists("SR", sr):
            continue
        if state.get("SR", sr)["type"] == "lvmofcoe" \
                and pbd["device_config"].get("SCSIid") in luns:
            raise SimFailure("PIF_HAS_FCOE_SR_IN_USE", pif_ref, sr)


def _unplug_cascade(state: SimState, pif: Record) -> list[str]:
    """The PIFs ``PIF.unplug`` brings down before this one (``xapi_pif.ml`` unplug): tunnel
    access PIFs over it; for a bond master its SR-IOV physical slaves; for an SR-IOV logical
    PIF the VLANs on it; for a physical PIF its SR-IOV logical PIFs."""
    found = [str(state.get("tunnel", t)["access_PIF"])
             for t in pif.get("tunnel_transport_PIF_of", []) if state.exists("tunnel", t)]
    pif_kind = kind(pif)
    if pif_kind is PifKind.BOND_MASTER:
        for bond in pif["bond_master_of"]:
            found += [str(s) for s in state.get("Bond", bond)["slaves"]
                      if state.get("PIF", s).get("sriov_physical_PIF_of")]
    elif pif_kind is PifKind.SRIOV_LOGICAL:
        found += [str(state.get("VLAN", v)["untagged_PIF"])
                  for v in pif.get("VLAN_slave_of", []) if state.exists("VLAN", v)]
    elif pif_kind is PifKind.PHYSICAL:
        found += [str(state.get("network_sriov", n)["logical_PIF"])
                  for n in pif.get("sriov_physical_PIF_of", [])
                  if state.exists("network_sriov", n)]
    return found


def unplug(state: SimState, pif_ref: str) -> None:
    """``PIF.unplug`` after forwarding: checks in XAPI's order, the cascades, bring-down."""
    pif = state.get("PIF", pif_ref)
    assert_pif_managed(pif_ref, pif)
    if pif["currently_attached"]:
        assert_no_protection(state)
    if pif["management"]:
        raise SimFailure("PIF_IS_MANAGEMENT_INTERFACE", pif_ref)
    if state.exists("network", pif["network"]):
        in_use = vifs_in_use(state, pif["network"], pif["host"])
        if in_use:
            raise SimFailure("VIF_IN_USE", pif["network"], in_use[0])
    if pif["disallow_unplug"]:
        raise SimFailure("PIF_DOES_NOT_ALLOW_UNPLUG", pif_ref)
    assert_fcoe_not_in_use(state, pif_ref, pif)
    # Cascades: what sits on this PIF and cannot stay up without it goes down first. VLAN
    # PIFs over a physical or bond PIF are NOT among them: they stay up.
    for dependent in _unplug_cascade(state, pif):
        if state.exists("PIF", dependent):
            unplug(state, dependent)
    if is_bond_slave(state, pif):
        return  # bond slaves are never brought down on their own: a silent success
    if kind(pif) is PifKind.SRIOV_LOGICAL:
        sriov_bring_down(state, pif_ref)
        return
    state.update("PIF", pif_ref, {"currently_attached": False})


__all__ = [
    "PifKind",
    "assert_fcoe_not_in_use",
    "assert_network_managed",
    "assert_network_not_connected",
    "assert_no_protection",
    "assert_pif_managed",
    "bridge_mtu",
    "bring_up",
    "ha_enabled",
    "igmp_status",
    "is_bond_slave",
    "is_sriov_network",
    "is_vlan_on_sriov",
    "kind",
    "next_device",
    "pif_of_network_on_host",
    "plug",
    "pool_record",
    "snoops",
    "sriov_bring_down",
    "tagged_pif_of",
    "unplug",
    "vifs_in_use",
]
