"""``network_sriov``: SR-IOV on a physical NIC, as a logical PIF on an SR-IOV network
(REFERENCE §3.9, ``xapi_network_sriov.ml``, checks from ``xapi_pif_helpers.ml`` and
``xapi_network_helpers.ml``).

The logical PIF carries the physical PIF's device, the MAC ``fe:ff:ff:ff:ff:ff`` and shares its
metrics, like a VLAN PIF. XAPI writes the object with mode ``unknown``; the plug of the logical
PIF then asks networkd to enable the VFs and records its answer (``sriov_bring_up``): mode
``sysfs``/``modprobe``/``manual``, ``requires_reboot`` (the logical PIF stays unattached until
the reboot). Each simulated NIC answers ``sysfs`` unless a test sets another answer
(``_nics.set_sriov_enable_result``).
"""

from __future__ import annotations

from xapictl.sim.classes import _pci
from xapictl.sim.classes import _pif_kinds as kinds
from xapictl.sim.classes._pif_kinds import PifKind
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import CallContext, handles
from xapictl.sim.state import SimState

SRIOV_LOGICAL_MAC = "fe:ff:ff:ff:ff:ff"


def restricted(state: SimState) -> bool:
    """``Pool_features.assert_enabled Network_sriov``: ``restrict_network_sriov`` = true."""
    pool = kinds.pool_record(state)
    return bool(pool and str(pool["restrictions"].get("restrict_network_sriov", "false"))
                .lower() == "true")


def same_nic_model(state: SimState, pif_a: str, pif_b: str) -> bool:
    """XAPI's ``is_device_underneath_same_type``: the PCI vendor and device ids match."""
    pci_a, pci_b = state.get("PIF", pif_a)["PCI"], state.get("PIF", pif_b)["PCI"]
    if not (state.exists("PCI", pci_a) and state.exists("PCI", pci_b)):
        return bool(pci_a == pci_b)
    a, b = state.get("PCI", pci_a), state.get("PCI", pci_b)
    return bool((a["vendor_id"], a["device_id"]) == (b["vendor_id"], b["device_id"]))


def check_create(state: SimState, pif_ref: str, network: str) -> None:
    """``network_sriov.create``'s checks in XAPI's order."""
    if restricted(state):
        raise SimFailure("LICENCE_RESTRICTION", "Network_sriov")
    kinds.assert_network_managed(state, network)
    pif = state.get("PIF", pif_ref)
    kinds.assert_pif_managed(pif_ref, pif)
    if kinds.kind(pif) is not PifKind.PHYSICAL:  # a bond slave is physical: allowed
        raise SimFailure("PIF_IS_NOT_PHYSICAL", pif_ref)
    if pif["sriov_physical_PIF_of"]:
        raise SimFailure("NETWORK_SRIOV_ALREADY_ENABLED", pif_ref)
    if "sriov" not in pif["capabilities"]:
        raise SimFailure("PIF_IS_NOT_SRIOV_CAPABLE", pif_ref)
    kinds.assert_network_not_connected(state, network, pif["host"])
    _check_network_compatible(state, pif_ref, network)


def _check_network_compatible(state: SimState, pif_ref: str, network: str) -> None:
    """Empty, or already an SR-IOV network over the same NIC model (XAPI looks at its first
    PIF only)."""
    pifs = state.get("network", network)["PIFs"]
    if not pifs:
        return
    first = state.get("PIF", pifs[0])
    if kinds.kind(first) is not PifKind.SRIOV_LOGICAL:
        raise SimFailure("NETWORK_INCOMPATIBLE_WITH_SRIOV", network)
    existing = state.get("network_sriov", first["sriov_logical_PIF_of"][0])["physical_PIF"]
    if not same_nic_model(state, pif_ref, existing):
        raise SimFailure("NETWORK_HAS_INCOMPATIBLE_SRIOV_PIFS", pif_ref, network)


def create_records(state: SimState, pif_ref: str, network: str) -> tuple[str, str]:
    """The logical PIF and the network_sriov object, unplugged: (sriov ref, logical PIF)."""
    pif = state.get("PIF", pif_ref)
    logical = state.create("PIF", {
        "device": pif["device"], "network": network, "host": pif["host"],
        "MAC": SRIOV_LOGICAL_MAC, "MTU": pif["MTU"], "VLAN": -1, "metrics": pif["metrics"],
        "physical": False, "currently_attached": False, "ip_configuration_mode": "None",
        "ipv6_configuration_mode": "None", "IPv6": [], "management": False,
        "primary_address_type": pif["primary_address_type"], "managed": True,
        "other_config": {}, "properties": {}, "capabilities": [],
        "igmp_snooping_status": "unknown"})
    sriov = state.create("network_sriov", {"physical_PIF": pif_ref, "logical_PIF": logical,
                                           "requires_reboot": False,
                                           "configuration_mode": "unknown"})
    return sriov, logical


@handles("network_sriov.create")
def create(ctx: CallContext, pif: str, network: str) -> str:
    """Checks, records, then the plug of the logical PIF (which plugs the physical one)."""
    state = ctx.state
    host = state.get("PIF", pif)["host"]
    state.get("network", network)
    ctx.require_live(host)
    check_create(state, pif, network)
    sriov, logical = create_records(state, pif, network)
    kinds.plug(state, logical)
    return sriov


@handles("network_sriov.destroy")
def destroy(ctx: CallContext, self: str) -> None:
    """VLANs on the logical PIF block it; then the logical PIF is unplugged (every unplug
    check) and deleted with the object. The network is kept."""
    state = ctx.state
    logical = state.get("network_sriov", self)["logical_PIF"]
    if state.exists("PIF", logical):
        record = state.get("PIF", logical)
        ctx.require_live(record["host"])
        if record["VLAN_slave_of"]:
            raise SimFailure("PIF_VLAN_STILL_EXISTS", logical)
        kinds.unplug(state, logical)
        state.destroy("PIF", logical)
    state.destroy("network_sriov", self)


@handles("network_sriov.get_remaining_capacity")
def get_remaining_capacity(ctx: CallContext, self: str) -> int:
    """``get_remaining_capacity_on_sriov``: the idle VFs of the physical PIF's PCI device
    (0 before they exist: a NIC that must reboot first, or a physical PIF without PCI)."""
    return _pci.idle_vfs(ctx.state, ctx.state.get("network_sriov", self)["physical_PIF"])


__all__ = ["SRIOV_LOGICAL_MAC", "check_create", "create", "create_records", "destroy",
           "get_remaining_capacity", "restricted", "same_nic_model"]
