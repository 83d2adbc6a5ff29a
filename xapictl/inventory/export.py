"""From a ``PoolSnapshot`` to an ``Inventory``: refs become UUIDs, metrics fold into their owners.

Pure: the snapshot holds every record needed, so the export of a pool costs exactly the reads
that made the snapshot. Guest VMs only (templates, snapshots and control domains are not
inventory), and the VIFs of those VMs.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from xapictl.inventory.disks import DiskRecords, disk_objects
from xapictl.inventory.document import Inventory, Obj
from xapictl.model.refs import NULL_REF, NetworkSriovRef
from xapictl.model.vif import VIF
from xapictl.model.vm_guest_metrics import VMGuestMetrics
from xapictl.state.snapshot import PoolSnapshot


def _uuid_of(table: Mapping[Any, Any], ref: str) -> str | None:
    rec = table.get(ref) if ref and ref != NULL_REF else None
    return rec.uuid if rec is not None else None


def reported_ips(vif: VIF, guest: VMGuestMetrics | None) -> list[str]:
    """The addresses the guest agent reports for the VIF's device.

    ``VM_guest_metrics.networks`` keys are ``<device>/ip``, ``<device>/ipv4/<n>`` and
    ``<device>/ipv6/<n>``; the same address often appears under two keys, so they are merged.
    """
    if guest is None:
        return []
    prefix = f"{vif.device}/"
    return sorted({v for k, v in guest.networks.items() if k.startswith(prefix) and v})


def qos_kbps(vif: VIF) -> int | None:
    """The VIF's rate limit in kbit/s (``ratelimit`` with a numeric ``kbps``), else None."""
    kbps = vif.qos_algorithm_params.get("kbps", "")
    return int(kbps) if vif.qos_algorithm_type == "ratelimit" and kbps.isdigit() else None


def _pairs(config: Mapping[str, str]) -> list[str]:
    return sorted(f"{k}={v}" for k, v in config.items())


def _sriov_nic(snap: PoolSnapshot, ref: NetworkSriovRef) -> dict[str, Any]:
    """The NIC model and VFs of a network_sriov, when the read had them (``with_sriov_details``):
    ``""`` and nulls otherwise."""
    pif = snap.pifs.get(snap.sriovs[ref].physical_pif)
    pci = snap.pcis.get(pif.pci) if pif is not None else None
    vfs = snap.sriov_vfs(ref)
    return {"nic": f"{pci.vendor_id}:{pci.device_id}" if pci is not None else "",
            "vfs_free": vfs.free if vfs is not None else None,
            "vfs_total": vfs.total if vfs is not None else None}


def export_snapshot(snap: PoolSnapshot, *, source: str = "", generated_at: str | None = None,
                    disks: DiskRecords | None = None) -> Inventory:
    """The inventory of one pool. ``source`` names where it was read from (fleet entry, URL);
    ``disks``: the VBD and VDI records read beside the snapshot (None: no ``disks`` objects)."""
    pool_uuid = snap.pool.uuid if snap.pools else ""

    def uuid_host(ref: str) -> str | None:
        return _uuid_of(snap.hosts, ref)

    def uuid_pif(ref: str) -> str | None:
        return _uuid_of(snap.pifs, ref)

    def uuid_net(ref: str) -> str | None:
        return _uuid_of(snap.networks, ref)

    pools = [{"uuid": p.uuid, "name_label": p.name_label, "master": uuid_host(p.master),
              "source": source} for p in snap.pools.values()]
    hosts = []
    for ref, h in snap.hosts.items():
        metrics = snap.host_metrics.get(h.metrics)
        hosts.append({"uuid": h.uuid, "pool": pool_uuid, "name_label": h.name_label,
                      "hostname": h.hostname, "address": h.address,
                      "is_master": bool(snap.pools) and ref == snap.master,
                      "enabled": h.enabled, "live": metrics.live if metrics else None,
                      "manufacturer": h.bios_strings.get("system-manufacturer", ""),
                      "model": h.bios_strings.get("system-product-name", ""),
                      "serial": h.bios_strings.get("system-serial-number", ""),
                      "product_brand": h.software_version.get("product_brand", ""),
                      "product_version": h.software_version.get("product_version", "")})
    pifs = []
    for p in snap.pifs.values():
        m = snap.pif_metrics.get(p.metrics)
        pifs.append({
            "uuid": p.uuid, "pool": pool_uuid, "host": uuid_host(p.host), "device": p.device,
            "mac": p.mac, "mtu": p.mtu, "vlan": p.vlan if p.vlan >= 0 else None,
            "physical": p.physical, "network": uuid_net(p.network),
            "bond_master_of": _uuid_of(snap.bonds, p.bond_master_of[0])
            if p.bond_master_of else None,
            "bond_slave_of": _uuid_of(snap.bonds, p.bond_slave_of),
            "vlan_master_of": _uuid_of(snap.vlans, p.vlan_master_of),
            "currently_attached": p.currently_attached,
            "carrier": m.carrier if m else None, "speed": m.speed if m else None,
            "management": p.management,
            "ip_configuration_mode": str(p.ip_configuration_mode), "ip": p.ip,
            "netmask": p.netmask, "gateway": p.gateway, "dns": p.dns,
            "ipv6_configuration_mode": str(p.ipv6_configuration_mode),
            "ipv6": list(p.ipv6), "ipv6_gateway": p.ipv6_gateway})
    networks = []
    for n in snap.networks.values():
        tags = {}
        for pref in n.pifs:
            pif = snap.pifs.get(pref)
            if pif is not None and pif.vlan >= 0:
                host = uuid_host(pif.host)
                if host is not None:
                    tags[host] = pif.vlan
        networks.append({
            "uuid": n.uuid, "pool": pool_uuid, "name_label": n.name_label,
            "name_description": n.name_description, "bridge": n.bridge, "mtu": n.mtu,
            "managed": n.managed, "purpose": sorted(str(x) for x in n.purpose),
            "default_locking_mode": str(n.default_locking_mode),
            "vlan_tags": dict(sorted(tags.items())), "tags": sorted(n.tags),
            "other_config": _pairs(n.other_config)})

    def host_of_pif(ref: str) -> str | None:
        pif = snap.pifs.get(ref)  # type: ignore[call-overload]
        return uuid_host(pif.host) if pif is not None else None

    def network_of_pif(ref: str) -> str | None:
        pif = snap.pifs.get(ref)  # type: ignore[call-overload]
        return uuid_net(pif.network) if pif is not None else None

    vlans = [{"uuid": v.uuid, "pool": pool_uuid, "host": host_of_pif(v.tagged_pif),
              "tag": v.tag, "tagged_pif": uuid_pif(v.tagged_pif),
              "untagged_pif": uuid_pif(v.untagged_pif),
              "network": network_of_pif(v.untagged_pif)} for v in snap.vlans.values()]
    bonds = [{"uuid": b.uuid, "pool": pool_uuid, "host": host_of_pif(b.master),
              "master": uuid_pif(b.master),
              "slaves": sorted(u for u in map(uuid_pif, b.slaves) if u is not None),
              "primary_slave": uuid_pif(b.primary_slave), "mode": str(b.mode),
              "properties": sorted(f"{k}={v}" for k, v in b.properties.items()),
              "links_up": b.links_up, "network": network_of_pif(b.master)}
             for b in snap.bonds.values()]
    tunnels = [{"uuid": t.uuid, "pool": pool_uuid, "host": host_of_pif(t.access_pif),
                "access_pif": uuid_pif(t.access_pif), "transport_pif": uuid_pif(t.transport_pif),
                "protocol": str(t.protocol), "active": t.status.get("active") == "true",
                "network": network_of_pif(t.access_pif)} for t in snap.tunnels.values()]
    sriovs = [{"uuid": r.uuid, "pool": pool_uuid, "host": host_of_pif(r.physical_pif),
               "physical_pif": uuid_pif(r.physical_pif), "logical_pif": uuid_pif(r.logical_pif),
               "network": network_of_pif(r.logical_pif),
               "configuration_mode": str(r.configuration_mode),
               "requires_reboot": r.requires_reboot, **_sriov_nic(snap, ref)}
              for ref, r in snap.sriovs.items()]
    guests = snap.guest_vms()
    vms = []
    for vm in guests.values():
        guest = snap.vm_guest_metrics.get(vm.guest_metrics)
        vms.append({"uuid": vm.uuid, "pool": pool_uuid, "name_label": vm.name_label,
                    "power_state": str(vm.power_state), "host": uuid_host(vm.resident_on),
                    "tags": sorted(vm.tags), "vcpus": vm.vcpus_at_startup,
                    "memory": vm.memory_static_max,
                    "os": guest.os_version.get("name", "").strip() if guest else ""})
    vifs = []
    for v in snap.vifs.values():
        owner = guests.get(v.vm)
        if owner is None:
            continue
        vifs.append({
            "uuid": v.uuid, "pool": pool_uuid, "vm": owner.uuid, "device": v.device,
            "mac": v.mac, "mtu": v.mtu, "network": uuid_net(v.network),
            "currently_attached": v.currently_attached, "locking_mode": str(v.locking_mode),
            "ipv4_allowed": sorted(v.ipv4_allowed), "ipv6_allowed": sorted(v.ipv6_allowed),
            "reported_ips": reported_ips(v, snap.vm_guest_metrics.get(owner.guest_metrics)),
            "ipv4_addresses": list(v.ipv4_addresses), "ipv6_addresses": list(v.ipv6_addresses),
            "qos_kbps": qos_kbps(v)})
    objects: dict[str, tuple[Obj, ...]] = {
        "pools": tuple(pools), "hosts": tuple(hosts), "pifs": tuple(pifs),
        "networks": tuple(networks), "vlans": tuple(vlans), "bonds": tuple(bonds),
        "tunnels": tuple(tunnels), "sriovs": tuple(sriovs), "vifs": tuple(vifs),
        "vms": tuple(vms),
        "disks": tuple(disk_objects(snap, disks, pool_uuid)) if disks is not None else ()}
    stamp = generated_at if generated_at is not None else now_stamp()
    tokens = {pool_uuid: snap.token} if pool_uuid else {}
    return Inventory(objects, tokens, stamp)


def now_stamp() -> str:
    """UTC now, second precision, ISO 8601 with ``Z``."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["export_snapshot", "now_stamp", "qos_kbps", "reported_ips"]
