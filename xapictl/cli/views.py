"""The typed items of the listing commands, built from a ``PoolSnapshot`` (display only, no
logic): ``xapictl.cli.documents`` models, whose JSON is the documents' and whose columns are
the tables'."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xapictl.cli.options import GlobalOptions

if TYPE_CHECKING:
    from xapictl.cli.documents import (
        BondDetail,
        BondItem,
        HostItem,
        NetworkDetail,
        NetworkItem,
        PifItem,
        PifKind,
        PoolItem,
        VifItem,
        VlanItem,
    )
    from xapictl.state.snapshot import PoolSnapshot


def read_pool(opts: GlobalOptions, *, sriov_vfs: bool = False) -> PoolSnapshot:
    """The pool in one read; with ``sriov_vfs`` each SR-IOV NIC's remaining VFs too (one more
    round trip, in a pool with SR-IOV only)."""
    from xapictl.cli.connection import open_pool
    from xapictl.state.collect import collect_once_for_show

    with open_pool(opts) as conn:  # one read, then logout: no token kept for a next snapshot
        return collect_once_for_show(conn, sriov_vfs=sriov_vfs)


def _host(snap: PoolSnapshot, ref: str) -> str:
    host = snap.hosts.get(ref)  # type: ignore[call-overload]
    return host.name_label if host is not None else ref


def network_items(snap: PoolSnapshot) -> list[NetworkItem]:
    from xapictl.cli.documents import NetworkItem

    return [NetworkItem(**_network_fields(snap, ref))
            for ref, _ in sorted(snap.networks.items(),
                                 key=lambda i: (i[1].name_label, i[1].uuid))]


def _network_fields(snap: PoolSnapshot, ref: Any) -> dict[str, Any]:
    from xapictl.plan.identity import is_owned

    n = snap.networks[ref]
    pifs = [snap.pifs[p] for p in n.pifs if p in snap.pifs]
    return {"name": n.name_label, "uuid": n.uuid, "bridge": n.bridge, "mtu": n.mtu,
            "vlans": sorted({p.vlan for p in pifs if p.vlan >= 0}),
            "host_count": len({p.host for p in pifs}), "vif_count": len(n.vifs),
            "owner": "xapictl" if is_owned(snap, ref) else None}


def one_network(snap: PoolSnapshot, name: str) -> Any:
    from xapictl.plan.identity import network_by_name_or_uuid

    return network_by_name_or_uuid(snap, name)


def network_detail(snap: PoolSnapshot, ref: Any) -> NetworkDetail:
    from xapictl.cli.documents import NetworkDetail, NetworkPif, NetworkVif

    n = snap.networks[ref]
    pifs = sorted((NetworkPif(host=_host(snap, p.host), device=p.device,
                              vlan=p.vlan if p.vlan >= 0 else None, mtu=p.mtu,
                              plugged=p.currently_attached, **_pif_role(snap, p))
                   for p in (snap.pifs[r] for r in n.pifs if r in snap.pifs)),
                  key=lambda p: (p.host, p.device, p.vlan or -1))
    vifs = sorted((NetworkVif(vm=snap.vms[v.vm].name_label, device=_number(v.device))
                   for v in (snap.vifs[r] for r in n.vifs if r in snap.vifs)
                   if v.vm in snap.vms), key=lambda v: (v.vm, str(v.device).zfill(4)))
    return NetworkDetail(**_network_fields(snap, ref), description=n.name_description,
                         managed=n.managed, default_locking_mode=n.default_locking_mode.value,
                         purpose=[p.value for p in n.purpose], tags=list(n.tags),
                         other_config=dict(n.other_config), pifs=pifs, vifs=vifs)


def _pif_role(snap: PoolSnapshot, pif: Any) -> dict[str, Any]:
    """What a tunnel access PIF rides on, or an SR-IOV logical PIF's mode and reboot need."""
    tunnel = snap.tunnels.get(pif.tunnel_access_pif_of[0]) if pif.tunnel_access_pif_of \
        else None
    if tunnel is not None:
        carrier = snap.pifs.get(tunnel.transport_pif)
        return {"tunnel": f"{tunnel.protocol.value} over "
                          f"{carrier.device if carrier is not None else '?'}"}
    sriov = snap.sriovs.get(pif.sriov_logical_pif_of[0]) if pif.sriov_logical_pif_of \
        else None
    if sriov is not None:
        vfs = snap.sriov_vfs(pif.sriov_logical_pif_of[0])
        return {"sriov_mode": sriov.configuration_mode.value,
                "requires_reboot": sriov.requires_reboot,
                "vfs_free": vfs.free if vfs is not None else None,
                "vfs_total": vfs.total if vfs is not None else None}
    return {}


def vlan_items(snap: PoolSnapshot) -> list[VlanItem]:
    from xapictl.cli.documents import VlanItem

    items = []
    for v in snap.vlans.values():
        tagged = snap.pifs.get(v.tagged_pif)
        untagged = snap.pifs.get(v.untagged_pif)
        net = snap.networks.get(untagged.network) if untagged is not None else None
        items.append(VlanItem(uuid=v.uuid, host=_host(snap, tagged.host) if tagged else None,
                              device=tagged.device if tagged else None, tag=v.tag,
                              network=net.name_label if net else None,
                              plugged=untagged is not None and untagged.currently_attached))
    return sorted(items, key=lambda i: (i.host or "", i.device or "", i.tag))


def bond_items(snap: PoolSnapshot) -> list[BondItem]:
    """Every host's bond: network, members, mode, properties, links, management, IP."""
    from xapictl.cli.documents import BondItem

    items = []
    for b in snap.bonds.values():
        master = snap.pifs.get(b.master)
        primary = snap.pifs.get(b.primary_slave)
        net = snap.networks.get(master.network) if master is not None else None
        ip = None
        if master is not None and master.ip_configuration_mode.value == "Static":
            ip = f"{master.ip}/{master.netmask}"
        elif master is not None and master.ip_configuration_mode.value == "DHCP":
            ip = "DHCP"
        items.append(BondItem(
            uuid=b.uuid, host=_host(snap, master.host) if master else None,
            network=net.name_label if net else None,
            members=sorted(snap.pifs[m].device for m in b.slaves if m in snap.pifs),
            mode=b.mode.value, properties=dict(b.properties),
            primary=primary.device if primary else None,
            master=master.device if master else None, links_up=b.links_up,
            plugged=master is not None and master.currently_attached,
            management=master is not None and master.management, ip=ip))
    return sorted(items, key=lambda i: (i.network or "", i.host or ""))


def bond_detail(snap: PoolSnapshot, name: str) -> BondDetail:
    """The bond network ``name`` (name or uuid) and each host's bond on it."""
    from xapictl.cli.documents import BondDetail
    from xapictl.plan.identity import network_by_name_or_uuid

    ref = network_by_name_or_uuid(snap, name)
    net = snap.networks[ref]
    on_it = {b.uuid for b in snap.bonds.values()
             if b.master in snap.pifs and snap.pifs[b.master].network == ref}
    hosts = [i for i in bond_items(snap) if i.uuid in on_it]
    if not hosts:
        from xapictl.errors import UsageError

        raise UsageError(f"network {name!r} carries no bond; see `xapictl bond list`")
    have = {i.host for i in hosts}
    missing = sorted(h.name_label for h in snap.hosts.values() if h.name_label not in have)
    shapes = {(tuple(i.members), i.mode, tuple(sorted(i.properties.items()))) for i in hosts}
    return BondDetail(network=net.name_label, network_uuid=net.uuid, mtu=net.mtu,
                      hosts=hosts, missing_on=missing,
                      consistent=not missing and len(shapes) == 1)


def pif_items(snap: PoolSnapshot) -> list[PifItem]:
    from xapictl.cli.documents import PifItem

    items = []
    for p in snap.pifs.values():
        net = snap.networks.get(p.network)
        kind: PifKind = ("VLAN" if p.vlan >= 0 else "bond" if p.bond_master_of else
                "bond member" if p.bond_slave_of in snap.bonds else
                "physical" if p.physical else
                "tunnel access" if p.tunnel_access_pif_of else
                "SR-IOV logical" if p.sriov_logical_pif_of else "other")
        items.append(PifItem(uuid=p.uuid, host=_host(snap, p.host), device=p.device,
                             vlan=p.vlan if p.vlan >= 0 else None, kind=kind,
                             network=net.name_label if net else None, mtu=p.mtu,
                             plugged=p.currently_attached, management=p.management,
                             ip=p.ip or None))
    return sorted(items, key=lambda i: (i.host, i.device, i.vlan if i.vlan is not None else -1))


def host_items(snap: PoolSnapshot) -> list[HostItem]:
    from xapictl.cli.documents import HostItem

    master = snap.master if snap.pools else None
    return sorted((HostItem(name=h.name_label, uuid=h.uuid, address=h.address,
                            live=snap.host_is_live(ref),
                            role="master" if ref == master else "member",
                            pif_count=len([p for p in h.pifs if p in snap.pifs]))
                   for ref, h in snap.hosts.items()), key=lambda i: (i.name, i.uuid))


def pool_item(snap: PoolSnapshot) -> PoolItem:
    from xapictl.cli.documents import PoolItem

    pool = snap.pool
    return PoolItem(name=pool.name_label, uuid=pool.uuid,
                    master=_host(snap, pool.master) if pool.master in snap.hosts else None,
                    host_count=len(snap.hosts),
                    live_host_count=sum(1 for h in snap.hosts if snap.host_is_live(h)),
                    network_count=len(snap.networks), vlan_count=len(snap.vlans),
                    bond_count=len(snap.bonds), vm_count=len(snap.guest_vms()),
                    vif_count=len(snap.vifs), ha_enabled=bool(pool.ha_enabled),
                    igmp_snooping=bool(pool.igmp_snooping_enabled),
                    sdn_controller=next((f"ssl:{c.address}:{c.port}" if c.protocol.value == "ssl"
                                         else c.protocol.value
                                         for c in snap.sdn_controllers.values()), None),
                    tunnel_count=len(snap.tunnels), sriov_count=len(snap.sriovs))


def vif_items(snap: PoolSnapshot, vm: Any = None) -> list[VifItem]:
    from xapictl.cli.documents import VifItem

    items = []
    for v in snap.vifs.values():
        if vm is not None and v.vm != vm:
            continue
        owner = snap.vms.get(v.vm)
        if owner is None or owner.is_control_domain:
            continue
        net = snap.networks.get(v.network)
        items.append(VifItem(uuid=v.uuid, vm=owner.name_label, device=_number(v.device),
                             network=net.name_label if net else None, mac=v.mac, mtu=v.mtu,
                             plugged=v.currently_attached, locking_mode=v.locking_mode.value,
                             power_state=owner.power_state.value))
    return sorted(items, key=lambda i: (i.vm, i.device if isinstance(i.device, int) else 99))


def _number(device: str) -> int | str:
    """A VIF device as the number it is (XAPI keeps it as text)."""
    # ASCII digits only: "²" passes isdigit() and int() then raises (issue 10, clause 8)
    return int(device) if device.isascii() and device.isdigit() and len(device) <= 4 else device


__all__ = ["host_items", "network_detail", "network_items", "one_network", "pif_items",
           "pool_item", "read_pool", "vif_items", "vlan_items"]
