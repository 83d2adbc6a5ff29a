"""A read-only picture of a pool's networking state, and the indexes the planner needs.

A ``PoolSnapshot`` holds typed records by ref for the classes networking touches. It is built by
``xapictl.state.collect`` (one ``get_all_records`` per class, sent at once) or from a JSON
fixture in tests (``PoolSnapshot.from_records``). It never talks to the network: every index is
computed from the records it holds.

Indexes are built at most once per snapshot, on first use (``functools.cached_property``: a
frozen dataclass without slots keeps them in the instance's ``__dict__``, which its frozen
``__setattr__`` does not guard). A snapshot is never changed, so an index cannot go stale; a
changed copy (``dataclasses.replace``, as live mode makes) is a new instance that builds its
own. Every lookup the planner makes per stated object is a dictionary lookup: the diff is
linear in what the recipe states plus what the pool holds, never their product.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any

from xapictl._frozen import Frozen, frozen
from xapictl.model.enums import VMPowerState
from xapictl.model.refs import (
    NULL_REF,
    BondRef,
    HostMetricsRef,
    HostRef,
    NetworkRef,
    NetworkSriovRef,
    PCIRef,
    PIFMetricsRef,
    PIFRef,
    PoolRef,
    SDNControllerRef,
    TunnelRef,
    VIFRef,
    VLANRef,
    VMGuestMetricsRef,
    VMRef,
)

if TYPE_CHECKING:  # the record classes are loaded as records of them are read
    from xapictl.model._base import Record
    from xapictl.model.bond import Bond
    from xapictl.model.host import Host
    from xapictl.model.host_metrics import HostMetrics
    from xapictl.model.network import Network
    from xapictl.model.network_sriov import NetworkSriov
    from xapictl.model.pci import PCI  # read on demand only (ON_DEMAND_CLASSES)
    from xapictl.model.pif import PIF
    from xapictl.model.pif_metrics import PIFMetrics
    from xapictl.model.pool import Pool
    from xapictl.model.sdn_controller import SDNController
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
    "network_sriov": "sriovs",
    "SDN_controller": "sdn_controllers",
    "VIF": "vifs",
    "VM": "vms",
    "VM_guest_metrics": "vm_guest_metrics",
}
ON_DEMAND_CLASSES: dict[str, str] = {"PCI": "pcis"}
"""Classes a snapshot holds only when a read asks for them (``classes_needed``: the PCI
devices, for SR-IOV recipes: every host has dozens, and each enabled VF is one more)."""
READABLE_CLASSES: dict[str, str] = {**SNAPSHOT_CLASSES, **ON_DEMAND_CLASSES}


@frozen
class SriovVfs(Frozen):
    """The virtual functions of one host's SR-IOV NIC: ``free`` is XAPI's
    ``network_sriov.get_remaining_capacity``; ``in_use`` the VIFs of the VMs running there on
    a network over that NIC (each holds one VF); ``total`` both (XAPI keeps the NIC's VF list
    in internal fields only)."""

    free: int
    in_use: int

    @property
    def total(self) -> int:
        return self.free + self.in_use

LAZY_MIN_FIELDS = 50
"""``PoolSnapshot.from_records(lazy=True)`` decodes records of classes wider than this field
by field as they are read (pool: 63 fields, host: 76, VM: 91; a PIF has 35)."""


@frozen
class PoolSnapshot(Frozen):
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
    sriovs: Mapping[NetworkSriovRef, NetworkSriov] = field(default_factory=dict)
    sdn_controllers: Mapping[SDNControllerRef, SDNController] = field(default_factory=dict)
    vifs: Mapping[VIFRef, VIF] = field(default_factory=dict)
    vms: Mapping[VMRef, VM] = field(default_factory=dict)
    vm_guest_metrics: Mapping[VMGuestMetricsRef, VMGuestMetrics] = field(default_factory=dict)
    pcis: Mapping[PCIRef, PCI] = field(default_factory=dict)
    sriov_capacity: Mapping[NetworkSriovRef, int] = field(default_factory=dict)
    """``network_sriov.get_remaining_capacity`` of each network_sriov, when it was read
    (``XapiBackend.collect`` for recipes with SR-IOV networks or VIFs); empty otherwise."""
    token: str = ""

    @classmethod
    def from_records(cls, raw: Mapping[str, Mapping[str, Mapping[str, Any]]],
                     token: str = "", *, lazy: bool = False,
                     like: tuple[Mapping[str, Mapping[str, Mapping[str, Any]]], PoolSnapshot]
                     | None = None) -> PoolSnapshot:
        """Build from ``{xapi class: {ref: wire record}}`` (a ``get_all_records`` per class).

        ``lazy``: records of the wide classes (more than ``LAZY_MIN_FIELDS`` fields: pool,
        host, VM) decode each field when it is first read (``Record.from_xapi_lazy``), for
        readers that look at a few of them (an export reads 9 of a VM's 91); ``raw`` must not
        change afterwards. ``like``: an earlier read and the snapshot built from it: a record
        whose wire form is the same as then is taken from that snapshot, not decoded again
        (a read made again just before the writes mostly finds what the plan read found)."""
        from xapictl.model import record_type

        parts: dict[str, Any] = {}
        for xapi_class, attr in READABLE_CLASSES.items():
            records = raw.get(xapi_class)
            if not records:  # no record: the class's module is not even loaded
                parts[attr] = {}
                continue
            record_cls: type[Record] = record_type(xapi_class)
            read = (record_cls.from_xapi_lazy
                    if lazy and len(record_cls.wire_fields) > LAZY_MIN_FIELDS
                    else record_cls.from_xapi)
            before = like[0].get(xapi_class) if like is not None else None
            if before:
                built = getattr(like[1], attr)  # type: ignore[index]
                parts[attr] = {ref: built[ref] if before.get(ref) == rec and ref in built
                               else read(rec) for ref, rec in records.items()}
            else:
                parts[attr] = {ref: read(rec) for ref, rec in records.items()}
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
        # VLAN PIFs and SR-IOV logical PIFs share their NIC's device name: only untagged,
        # non-logical PIFs are indexed here.
        return {(p.host, p.device): ref for ref, p in self.pifs.items()
                if p.vlan == -1 and not p.sriov_logical_pif_of}

    def pif_on(self, host: HostRef, device: str) -> PIFRef | None:
        """The untagged (physical or bond) PIF with that device on that host."""
        return self._pif_by_host_device.get((host, device))

    @functools.cached_property
    def _sriov_networks(self) -> frozenset[NetworkRef]:
        found = set()
        for ref, network in self.networks.items():
            for p in network.pifs:
                pif = self.pifs.get(p)
                if pif is None:
                    continue
                vlan = self.vlans.get(pif.vlan_master_of)
                tagged = self.pifs.get(vlan.tagged_pif) if vlan is not None else None
                if pif.sriov_logical_pif_of or (tagged is not None
                                                and tagged.sriov_logical_pif_of):
                    found.add(ref)
                    break
        return frozenset(found)

    def is_sriov_network(self, ref: NetworkRef) -> bool:
        """XAPI's ``is_sriov_network``: a PIF on the network is an SR-IOV logical PIF, or a
        VLAN on one (every network's answer found once per snapshot: the diff asks per
        stated VIF)."""
        return ref in self._sriov_networks

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

    @functools.cached_property
    def _unplugged_pifs(self) -> frozenset[PIFRef]:
        return frozenset(ref for ref, p in self.pifs.items() if not p.currently_attached)

    def unplugged(self, pifs: Sequence[PIFRef]) -> list[PIFRef]:
        """Those of ``pifs`` that are in the snapshot and not plugged, in the given order."""
        down = self._unplugged_pifs
        return [p for p in pifs if p in down]

    @functools.cached_property
    def _management_pif_by_host(self) -> dict[HostRef, PIFRef]:
        out: dict[HostRef, PIFRef] = {}
        for ref, p in self.pifs.items():
            if p.management:
                out.setdefault(p.host, ref)  # the first one, as a scan would find
        return out

    def management_pif(self, host: HostRef) -> PIFRef | None:
        """The host's management interface (``PIF.management``)."""
        return self._management_pif_by_host.get(host)

    @functools.cached_property
    def _guest_vms(self) -> dict[VMRef, VM]:
        return {ref: vm for ref, vm in self.vms.items()
                if not (vm.is_control_domain or vm.is_a_template or vm.is_a_snapshot)}

    def guest_vms(self) -> dict[VMRef, VM]:
        """VMs that are neither control domains, templates nor snapshots (a new dict each
        call; ``guests_named`` and ``is_guest`` look one up without copying)."""
        return dict(self._guest_vms)

    def is_guest(self, vm: VMRef) -> bool:
        return vm in self._guest_vms

    @functools.cached_property
    def _guests_by_name(self) -> dict[str, list[VMRef]]:
        out: dict[str, list[VMRef]] = {}
        for ref, vm in self._guest_vms.items():
            out.setdefault(vm.name_label, []).append(ref)
        return out

    def guests_named(self, name: str) -> list[VMRef]:
        """The guest VMs (see ``guest_vms``) with that name label, in snapshot order."""
        return list(self._guests_by_name.get(name, ()))

    @functools.cached_property
    def _vifs_by_vm(self) -> dict[VMRef, list[VIFRef]]:
        out: dict[VMRef, list[VIFRef]] = {}
        for ref, v in self.vifs.items():
            out.setdefault(v.vm, []).append(ref)
        return out

    def vifs_of(self, vm: VMRef) -> list[VIFRef]:
        """Every VIF of the VM, in snapshot order."""
        return list(self._vifs_by_vm.get(vm, ()))

    @functools.cached_property
    def _vifs_by_network_mac(self) -> dict[tuple[NetworkRef, str], list[VIFRef]]:
        # From each network's own VIF list (as the pre-flight reads it), MACs lower-cased.
        out: dict[tuple[NetworkRef, str], list[VIFRef]] = {}
        for net_ref, n in self.networks.items():
            for ref in n.vifs:
                vif = self.vifs.get(ref)
                if vif is not None:
                    out.setdefault((net_ref, vif.mac.lower()), []).append(ref)
        return out

    def vifs_with_mac(self, network: NetworkRef, mac: str) -> list[VIFRef]:
        """The VIFs on ``network`` (by its VIF list) whose MAC is ``mac``, any case."""
        return list(self._vifs_by_network_mac.get((network, mac.lower()), ()))

    @functools.cached_property
    def _networks_by_uuid(self) -> dict[str, list[NetworkRef]]:
        out: dict[str, list[NetworkRef]] = {}
        for ref, n in self.networks.items():
            out.setdefault(n.uuid, []).append(ref)
        return out

    def networks_with_uuid(self, uuid: str) -> list[NetworkRef]:
        return list(self._networks_by_uuid.get(uuid, ()))

    @functools.cached_property
    def _other_config_indexes(self) -> dict[str, dict[str, list[NetworkRef]]]:
        return {}

    def networks_by_other_config(self, key: str) -> Mapping[str, Sequence[NetworkRef]]:
        """Networks by their ``other_config[key]`` value (those without the key left out),
        in snapshot order; built once per snapshot and key."""
        indexes = self._other_config_indexes
        found = indexes.get(key)
        if found is None:
            found = {}
            for ref, n in self.networks.items():
                value = n.other_config.get(key)
                if value is not None:
                    found.setdefault(value, []).append(ref)
            indexes[key] = found
        return found

    @functools.cached_property
    def _bond_masters_by_network(self) -> dict[NetworkRef, dict[HostRef, PIFRef]]:
        out: dict[NetworkRef, dict[HostRef, PIFRef]] = {}
        for bond in self.bonds.values():
            master = self.pifs.get(bond.master)
            if master is not None:
                out.setdefault(master.network, {})[master.host] = bond.master
        return out

    def bond_masters_on(self, network: NetworkRef) -> dict[HostRef, PIFRef]:
        """The bond master PIF on each host whose bond is on ``network``."""
        return dict(self._bond_masters_by_network.get(network, {}))

    @functools.cached_property
    def _bonds_by_member_devices(self) -> dict[frozenset[str], dict[HostRef, BondRef]]:
        out: dict[frozenset[str], dict[HostRef, BondRef]] = {}
        for ref, bond in self.bonds.items():
            master = self.pifs.get(bond.master)
            if master is not None:
                devices = frozenset(self.pifs[s].device for s in bond.slaves if s in self.pifs)
                out.setdefault(devices, {})[master.host] = ref
        return out

    def bonds_of_devices(self, devices: frozenset[str]) -> dict[HostRef, BondRef]:
        """On each host, the bond whose member devices are exactly ``devices``."""
        return dict(self._bonds_by_member_devices.get(devices, {}))

    @functools.cached_property
    def _untagged_pifs_by_device(self) -> dict[str, dict[HostRef, PIFRef]]:
        by_device: dict[str, dict[HostRef, PIFRef]] = {}
        for (host, device), ref in self._pif_by_host_device.items():
            by_device.setdefault(device, {})[host] = ref
        # in host order, as a loop over the hosts asking ``pif_on`` would give them
        return {device: {h: found[h] for h in self.hosts if h in found}
                for device, found in by_device.items()}

    def pifs_with_device(self, device: str) -> dict[HostRef, PIFRef]:
        """The untagged PIF with that device on each host that has one, in host order."""
        return dict(self._untagged_pifs_by_device.get(device, {}))

    @functools.cached_property
    def _vlans_by_tag(self) -> dict[int, dict[PIFRef, tuple[PIFRef, NetworkRef | None]]]:
        # One pass over the VLANs: per tag, each trunk's untagged PIF and that PIF's network
        # (None when the untagged PIF is not in the snapshot).
        out: dict[int, dict[PIFRef, tuple[PIFRef, NetworkRef | None]]] = {}
        pifs, vlans = self.pifs, self.vlans
        for (trunk, tag), ref in self._vlan_by_pif_tag.items():
            untagged_ref = vlans[ref].untagged_pif
            untagged = pifs.get(untagged_ref)
            out.setdefault(tag, {})[trunk] = (
                untagged_ref, untagged.network if untagged is not None else None)
        return out

    def vlan_networks_on(self, trunks: Mapping[HostRef, PIFRef], tag: int
                         ) -> dict[HostRef, NetworkRef]:
        """For each host, the network of the VLAN with ``tag`` on its trunk PIF (hosts whose
        trunk carries no such VLAN, or whose VLAN's untagged PIF is missing, left out)."""
        on_trunk = self._vlans_by_tag.get(tag, {})
        out: dict[HostRef, NetworkRef] = {}
        for host, trunk in trunks.items():
            found = on_trunk.get(trunk)
            if found is not None and found[1] is not None:
                out[host] = found[1]
        return out

    def vlan_untagged_pifs(self, trunks: Sequence[PIFRef], tag: int) -> list[PIFRef]:
        """The untagged PIF of the VLAN with ``tag`` on each of ``trunks`` that carries one
        (``vlan_on``, then the VLAN's ``untagged_PIF``), in order."""
        on_trunk = self._vlans_by_tag.get(tag, {})
        return [found[0] for t in trunks if (found := on_trunk.get(t)) is not None]

    @functools.cached_property
    def _live_and_offline(self) -> tuple[tuple[HostRef, ...], tuple[HostRef, ...]]:
        live = tuple(h for h in self._ordered_hosts if self.host_is_live(h))
        return live, tuple(h for h in self._ordered_hosts if not self.host_is_live(h))

    def live_and_offline(self) -> tuple[list[HostRef], list[HostRef]]:
        """(live, offline) hosts, each by name with the pool master last."""
        live, offline = self._live_and_offline
        return list(live), list(offline)

    def _per_host(self, records: Mapping[Any, Any], pif_of: str, key: str
                  ) -> dict[Any, dict[HostRef, Any]]:
        """``records`` (tunnels, network_sriovs) by ``key`` of their PIF ``pif_of`` (its
        network, its device), then by that PIF's host (the first by ref when several)."""
        out: dict[Any, dict[HostRef, Any]] = {}
        for ref in sorted(records):
            pif = self.pifs.get(getattr(records[ref], pif_of))
            if pif is not None:
                out.setdefault(getattr(pif, key), {}).setdefault(pif.host, ref)
        return out

    @functools.cached_property
    def _tunnels_by_network(self) -> dict[NetworkRef, dict[HostRef, TunnelRef]]:
        return self._per_host(self.tunnels, "access_pif", "network")

    def tunnels_on(self, network: NetworkRef) -> dict[HostRef, TunnelRef]:
        """The tunnel whose access PIF is on ``network``, on each host that has one."""
        return dict(self._tunnels_by_network.get(network, {}))

    @functools.cached_property
    def _sriovs_by_network(self) -> dict[NetworkRef, dict[HostRef, NetworkSriovRef]]:
        return self._per_host(self.sriovs, "logical_pif", "network")

    def sriovs_on(self, network: NetworkRef) -> dict[HostRef, NetworkSriovRef]:
        """The network_sriov whose logical PIF is on ``network``, on each host."""
        return dict(self._sriovs_by_network.get(network, {}))

    @functools.cached_property
    def _sriovs_by_device(self) -> dict[str, dict[HostRef, NetworkSriovRef]]:
        return self._per_host(self.sriovs, "physical_pif", "device")

    def sriovs_of_device(self, device: str) -> dict[HostRef, NetworkSriovRef]:
        """The network_sriov of NIC ``device`` (its physical PIF), on each host."""
        return dict(self._sriovs_by_device.get(device, {}))

    def sriov_vfs(self, sriov: NetworkSriovRef) -> SriovVfs | None:
        """The VFs of a network_sriov's NIC, or ``None`` when its capacity was not read."""
        free = self.sriov_capacity.get(sriov)
        if free is None or sriov not in self.sriovs:
            return None
        return SriovVfs(free, self._vfs_in_use.get(self.sriovs[sriov].physical_pif, 0))

    def sriov_under(self, pif: PIFRef) -> NetworkSriovRef | None:
        """XAPI's ``get_underlying_pif``, one step short: the network_sriov under an SR-IOV
        logical PIF or a VLAN on one (``None`` for any other PIF)."""
        record = self.pifs.get(pif)
        vlan = self.vlans.get(record.vlan_master_of) if record is not None else None
        if vlan is not None:
            record = self.pifs.get(vlan.tagged_pif)
        if record is None or not record.sriov_logical_pif_of:
            return None
        return record.sriov_logical_pif_of[0]

    @functools.cached_property
    def _vfs_in_use(self) -> dict[PIFRef, int]:
        """VFs held per physical PIF: a VIF of a VM running or paused on its host, on a network
        whose PIF there sits on that NIC (XAPI's ``reserve_sriov_vfs`` at start)."""
        out: dict[PIFRef, int] = {}
        if not self.sriovs:
            return out
        for vif in self.vifs.values():
            vm = self.vms.get(vif.vm)
            if vm is None or vm.power_state not in (VMPowerState.RUNNING, VMPowerState.PAUSED):
                continue
            local = self.pif_on_network(vm.resident_on, vif.network)
            sriov = self.sriov_under(local) if local is not None else None
            if sriov is not None and sriov in self.sriovs:
                physical = self.sriovs[sriov].physical_pif
                out[physical] = out.get(physical, 0) + 1
        return out

    @functools.cached_property
    def _ordered_hosts(self) -> tuple[HostRef, ...]:
        master = self.master if self.pools else HostRef(NULL_REF)
        return tuple(sorted(self.hosts, key=lambda h: (h == master, self.hosts[h].name_label, h)))

    def ordered_hosts(self) -> list[HostRef]:
        """Hosts by name, the pool master last."""
        return list(self._ordered_hosts)


__all__ = ["ON_DEMAND_CLASSES", "READABLE_CLASSES", "SNAPSHOT_CLASSES", "PoolSnapshot",
           "SriovVfs"]
