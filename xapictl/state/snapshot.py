"""A read-only picture of a pool's networking state, and the indexes the planner needs.

A ``PoolSnapshot`` holds typed records by ref for the classes networking touches. It is built by
``xapictl.state.collect`` (one ``get_all_records`` per class, sent at once) or from a JSON
fixture in tests (``PoolSnapshot.from_records``). It never talks to the network: every index is
computed from the records it holds.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xapictl.model._base import Record
from xapictl.model.bond import Bond
from xapictl.model.host import Host
from xapictl.model.host_metrics import HostMetrics
from xapictl.model.network import Network
from xapictl.model.pif import PIF
from xapictl.model.pif_metrics import PIFMetrics
from xapictl.model.pool import Pool
from xapictl.model.refs import (
    NULL_REF,
    BondRef,
    HostMetricsRef,
    HostRef,
    NetworkRef,
    PIFMetricsRef,
    PIFRef,
    PoolRef,
    TunnelRef,
    VIFRef,
    VLANRef,
    VMGuestMetricsRef,
    VMRef,
)
from xapictl.model.tunnel import Tunnel
from xapictl.model.vif import VIF
from xapictl.model.vlan import VLAN
from xapictl.model.vm import VM
from xapictl.model.vm_guest_metrics import VMGuestMetrics

# The classes a snapshot reads, by XAPI class name → snapshot attribute.
SNAPSHOT_CLASSES: dict[str, str] = {
    "pool": "pools",
    "host": "hosts",
    "host_metrics": "host_metrics",
    "PIF": "pifs",
    "PIF_metrics": "pif_metrics",
    "network": "networks",
    "VLAN": "vlans",
    "Bond": "bonds",
    "tunnel": "tunnels",
    "VIF": "vifs",
    "VM": "vms",
    "VM_guest_metrics": "vm_guest_metrics",
}


@dataclass(frozen=True)
class PoolSnapshot:
    """Typed records by ref. ``token`` is the ``event.from`` token the snapshot is current at
    ("" when unknown), so live mode can follow changes from exactly that point."""

    pools: Mapping[PoolRef, Pool] = field(default_factory=dict)
    hosts: Mapping[HostRef, Host] = field(default_factory=dict)
    host_metrics: Mapping[HostMetricsRef, HostMetrics] = field(default_factory=dict)
    pifs: Mapping[PIFRef, PIF] = field(default_factory=dict)
    pif_metrics: Mapping[PIFMetricsRef, PIFMetrics] = field(default_factory=dict)
    networks: Mapping[NetworkRef, Network] = field(default_factory=dict)
    vlans: Mapping[VLANRef, VLAN] = field(default_factory=dict)
    bonds: Mapping[BondRef, Bond] = field(default_factory=dict)
    tunnels: Mapping[TunnelRef, Tunnel] = field(default_factory=dict)
    vifs: Mapping[VIFRef, VIF] = field(default_factory=dict)
    vms: Mapping[VMRef, VM] = field(default_factory=dict)
    vm_guest_metrics: Mapping[VMGuestMetricsRef, VMGuestMetrics] = field(default_factory=dict)
    token: str = ""

    @classmethod
    def from_records(cls, raw: Mapping[str, Mapping[str, Mapping[str, Any]]],
                     token: str = "") -> PoolSnapshot:
        """Build from ``{xapi class: {ref: wire record}}`` (a ``get_all_records`` per class)."""
        from xapictl.model import record_type

        parts: dict[str, Any] = {}
        for xapi_class, attr in SNAPSHOT_CLASSES.items():
            record_cls: type[Record] = record_type(xapi_class)
            parts[attr] = {ref: record_cls.from_xapi(rec)
                           for ref, rec in raw.get(xapi_class, {}).items()}
        return cls(token=token, **parts)

    # --- the pool ----------------------------------------------------------------------------

    @property
    def pool_ref(self) -> PoolRef:
        return next(iter(self.pools), PoolRef(NULL_REF))

    @property
    def pool(self) -> Pool:
        return self.pools[self.pool_ref]

    @property
    def master(self) -> HostRef:
        return self.pool.master

    def host_is_live(self, host: HostRef) -> bool:
        metrics = self.host_metrics.get(self.hosts[host].metrics)
        return metrics.live if metrics is not None else True

    # --- indexes (computed once per snapshot) -------------------------------------------------

    @functools.cached_property
    def _pif_by_host_device(self) -> dict[tuple[HostRef, str], PIFRef]:
        # VLAN PIFs share their trunk's device name: only untagged PIFs are indexed here.
        return {(p.host, p.device): ref for ref, p in self.pifs.items() if p.vlan == -1}

    def pif_on(self, host: HostRef, device: str) -> PIFRef | None:
        """The untagged (physical or bond) PIF with that device on that host."""
        return self._pif_by_host_device.get((host, device))

    @functools.cached_property
    def _vlan_by_pif_tag(self) -> dict[tuple[PIFRef, int], VLANRef]:
        return {(v.tagged_pif, v.tag): ref for ref, v in self.vlans.items()}

    def vlan_on(self, tagged_pif: PIFRef, tag: int) -> VLANRef | None:
        """The VLAN with that tag on that trunk PIF (XAPI allows at most one)."""
        return self._vlan_by_pif_tag.get((tagged_pif, tag))

    @functools.cached_property
    def _network_by_bridge(self) -> dict[str, NetworkRef]:
        return {n.bridge: ref for ref, n in self.networks.items()}

    def network_by_bridge(self, bridge: str) -> NetworkRef | None:
        return self._network_by_bridge.get(bridge)

    @functools.cached_property
    def _networks_by_name(self) -> dict[str, list[NetworkRef]]:
        out: dict[str, list[NetworkRef]] = {}
        for ref, n in self.networks.items():
            out.setdefault(n.name_label, []).append(ref)
        return out

    def networks_named(self, name: str) -> list[NetworkRef]:
        """Every network with that name label (XAPI does not keep names unique)."""
        return list(self._networks_by_name.get(name, ()))

    @functools.cached_property
    def _vif_by_vm_device(self) -> dict[tuple[VMRef, str], VIFRef]:
        return {(v.vm, v.device): ref for ref, v in self.vifs.items()}

    def vif_on(self, vm: VMRef, device: str) -> VIFRef | None:
        return self._vif_by_vm_device.get((vm, device))

    @functools.cached_property
    def _vms_by_name(self) -> dict[str, list[VMRef]]:
        out: dict[str, list[VMRef]] = {}
        for ref, vm in self.vms.items():
            out.setdefault(vm.name_label, []).append(ref)
        return out

    def vms_named(self, name: str) -> list[VMRef]:
        return list(self._vms_by_name.get(name, ()))

    @functools.cached_property
    def _vm_by_uuid(self) -> dict[str, VMRef]:
        return {vm.uuid: ref for ref, vm in self.vms.items()}

    def vm_by_uuid(self, uuid: str) -> VMRef | None:
        return self._vm_by_uuid.get(uuid)

    @functools.cached_property
    def _pif_by_host_network(self) -> dict[tuple[HostRef, NetworkRef], PIFRef]:
        return {(p.host, p.network): ref for ref, p in self.pifs.items()}

    def pif_on_network(self, host: HostRef, network: NetworkRef) -> PIFRef | None:
        """The PIF connecting ``host`` to ``network`` (XAPI allows at most one per host)."""
        return self._pif_by_host_network.get((host, network))

    @functools.cached_property
    def _vlans_by_trunk(self) -> dict[PIFRef, list[VLANRef]]:
        out: dict[PIFRef, list[VLANRef]] = {}
        for ref, v in sorted(self.vlans.items(), key=lambda item: item[1].tag):
            out.setdefault(v.tagged_pif, []).append(ref)
        return out

    def vlans_on(self, tagged_pif: PIFRef) -> list[VLANRef]:
        """Every VLAN carried by a trunk PIF, by tag."""
        return list(self._vlans_by_trunk.get(tagged_pif, ()))

    def management_pif(self, host: HostRef) -> PIFRef | None:
        """The host's management interface (``PIF.management``)."""
        return next((ref for ref, p in self.pifs.items() if p.host == host and p.management),
                    None)

    def guest_vms(self) -> dict[VMRef, VM]:
        """VMs that are neither control domains, templates nor snapshots."""
        return {ref: vm for ref, vm in self.vms.items()
                if not (vm.is_control_domain or vm.is_a_template or vm.is_a_snapshot)}


__all__ = ["SNAPSHOT_CLASSES", "PoolSnapshot"]
