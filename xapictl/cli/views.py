"""Rows for the listing commands, built from a ``PoolSnapshot`` (display only, no logic)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xapictl.cli.options import GlobalOptions

if TYPE_CHECKING:
    from xapictl.state.snapshot import PoolSnapshot


def read_pool(opts: GlobalOptions) -> PoolSnapshot:
    from xapictl.cli.connection import open_pool
    from xapictl.state.collect import collect_once

    with open_pool(opts) as conn:  # one read, then logout: no token kept for a next snapshot
        return collect_once(conn)


def _host(snap: PoolSnapshot, ref: str) -> str:
    host = snap.hosts.get(ref)  # type: ignore[call-overload]
    return host.name_label if host is not None else ref


def network_rows(snap: PoolSnapshot) -> list[list[Any]]:
    from xapictl.plan.identity import is_owned

    rows = []
    for ref, n in sorted(snap.networks.items(), key=lambda i: (i[1].name_label, i[1].uuid)):
        pifs = [snap.pifs[p] for p in n.pifs if p in snap.pifs]
        tags = sorted({p.vlan for p in pifs if p.vlan >= 0})
        rows.append([n.name_label, n.uuid, n.bridge, n.mtu,
                     ",".join(map(str, tags)) or "-", len({p.host for p in pifs}),
                     len(n.vifs), "xapictl" if is_owned(snap, ref) else "-"])
    return rows


def one_network(snap: PoolSnapshot, name: str) -> Any:
    from xapictl.plan.identity import network_by_name_or_uuid

    return network_by_name_or_uuid(snap, name)


def network_details(snap: PoolSnapshot, ref: Any) -> list[tuple[str, Any]]:
    n = snap.networks[ref]
    pifs = sorted((_host(snap, p.host), p.device, p.vlan, p.mtu, p.currently_attached)
                  for p in (snap.pifs[r] for r in n.pifs if r in snap.pifs))
    vifs = sorted(f"{snap.vms[v.vm].name_label}/{v.device}"
                  for v in (snap.vifs[r] for r in n.vifs if r in snap.vifs) if v.vm in snap.vms)
    return [("name", n.name_label), ("uuid", n.uuid), ("description", n.name_description),
            ("bridge", n.bridge), ("MTU", n.mtu), ("managed", n.managed),
            ("default_locking_mode", n.default_locking_mode.value),
            ("purpose", [p.value for p in n.purpose]), ("tags", list(n.tags)),
            ("other_config", dict(n.other_config)),
            ("PIFs", [f"{h} {d}" + (f" VLAN {v}" if v >= 0 else "") + f" MTU {m}"
                      + ("" if a else " (unplugged)") for h, d, v, m, a in pifs]),
            ("VIFs", vifs)]


def vlan_rows(snap: PoolSnapshot) -> list[list[Any]]:
    rows = []
    for v in snap.vlans.values():
        tagged = snap.pifs.get(v.tagged_pif)
        untagged = snap.pifs.get(v.untagged_pif)
        net = snap.networks.get(untagged.network) if untagged is not None else None
        rows.append([_host(snap, tagged.host) if tagged else "?",
                     tagged.device if tagged else "?", v.tag,
                     net.name_label if net else "-",
                     "yes" if untagged is not None and untagged.currently_attached else "no"])
    return sorted(rows, key=lambda r: (str(r[0]), str(r[1]), int(r[2])))


def pif_rows(snap: PoolSnapshot) -> list[list[Any]]:
    rows = []
    for p in snap.pifs.values():
        net = snap.networks.get(p.network)
        kind = ("VLAN" if p.vlan >= 0 else "bond" if p.bond_master_of else
                "bond member" if p.bond_slave_of in snap.bonds else
                "physical" if p.physical else "other")
        rows.append([_host(snap, p.host), p.device, p.vlan if p.vlan >= 0 else "-", kind,
                     net.name_label if net else "-", p.mtu,
                     "yes" if p.currently_attached else "no",
                     "yes" if p.management else "", p.ip or "-"])
    return sorted(rows, key=lambda r: (str(r[0]), str(r[1]), str(r[2])))


def host_rows(snap: PoolSnapshot) -> list[list[Any]]:
    master = snap.master if snap.pools else None
    return sorted([[h.name_label, h.uuid, h.address, "yes" if snap.host_is_live(ref) else "no",
                    "master" if ref == master else "member",
                    len([p for p in h.pifs if p in snap.pifs])]
                   for ref, h in snap.hosts.items()])


def pool_pairs(snap: PoolSnapshot) -> list[tuple[str, Any]]:
    pool = snap.pool
    return [("name", pool.name_label), ("uuid", pool.uuid),
            ("master", _host(snap, pool.master)), ("hosts", len(snap.hosts)),
            ("hosts live", sum(1 for h in snap.hosts if snap.host_is_live(h))),
            ("networks", len(snap.networks)), ("VLANs", len(snap.vlans)),
            ("bonds", len(snap.bonds)), ("VMs", len(snap.guest_vms())),
            ("VIFs", len(snap.vifs)), ("HA enabled", pool.ha_enabled)]


def vif_rows(snap: PoolSnapshot, vm: Any = None) -> list[list[Any]]:
    rows = []
    for v in snap.vifs.values():
        if vm is not None and v.vm != vm:
            continue
        owner = snap.vms.get(v.vm)
        if owner is None or owner.is_control_domain:
            continue
        net = snap.networks.get(v.network)
        rows.append([owner.name_label, v.device, net.name_label if net else "-", v.mac, v.mtu,
                     "yes" if v.currently_attached else "no", v.locking_mode.value,
                     owner.power_state.value])
    return sorted(rows, key=lambda r: (str(r[0]), int(r[1]) if str(r[1]).isdigit() else 99))


__all__ = ["host_rows", "network_details", "network_rows", "one_network",
           "pif_rows", "pool_pairs", "read_pool", "vif_rows", "vlan_rows"]
