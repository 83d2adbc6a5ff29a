"""Inconsistencies between the hosts of one pool, found in an inventory. Pure.

XAPI keeps a network pool-wide but its PIFs, VLANs and bonds per host, so a pool drifts when one
host was changed by hand or missed a rollout. Each rule compares a host with its siblings:

* ``vlan-missing``: a VLAN network has a VLAN PIF on some hosts only (or different tags);
* ``mtu-mismatch``: the PIFs of one network run with different MTUs on different hosts;
* ``bond-missing``: a bond network has a bond on some hosts only (a half-bonded pool);
* ``bond-members-mismatch``: the bonds of one network bond different NICs on different hosts;
* ``bond-mode-mismatch``: the bonds of one network use different modes on different hosts;
* ``bond-properties-mismatch``: the bonds of one network differ in their LACP properties;
* ``vlan-mtu-above-trunk``: a VLAN network's MTU is above its trunk's network MTU on some
  hosts (XAPI accepts it; the frames above the trunk's MTU are dropped);
* ``pif-unplugged``: a PIF is unplugged while its siblings on the same network are plugged;
* ``tunnel-missing``: a private network has a tunnel on some hosts only, though the others
  have an IP on the transport network too (where ``tunnel.create`` would work).

``interface-mismatch`` is the one kind that compares a pool with a recipe rather than its
hosts with each other: a PIF whose IP configuration differs from the recipe's
``interfaces:`` (``xapictl drift --recipe``; found by ``xapictl.plan.interface_drift``, which
this package may not import: the CLI makes its findings).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence

from xapictl._frozen import Frozen, frozen
from xapictl.inventory.document import Inventory, Obj


class DriftKind(enum.StrEnum):
    VLAN_MISSING = "vlan-missing"
    VLAN_TAG_MISMATCH = "vlan-tag-mismatch"
    MTU_MISMATCH = "mtu-mismatch"
    BOND_MISSING = "bond-missing"
    BOND_MEMBERS_MISMATCH = "bond-members-mismatch"
    BOND_MODE_MISMATCH = "bond-mode-mismatch"
    BOND_PROPERTIES_MISMATCH = "bond-properties-mismatch"
    VLAN_MTU_ABOVE_TRUNK = "vlan-mtu-above-trunk"
    PIF_UNPLUGGED = "pif-unplugged"
    TUNNEL_MISSING = "tunnel-missing"
    INTERFACE_MISMATCH = "interface-mismatch"


@frozen
class Finding(Frozen):
    pool: str
    kind: DriftKind
    subject: str
    detail: str
    hosts: tuple[str, ...] = ()
    """UUIDs of the hosts that differ from the rest."""
    fields: tuple[tuple[str, str, str], ...] | None = None
    """``interface-mismatch``: each field that differs as (field, the pool's value, the
    recipe's value); ``None`` for the other kinds."""

    def describe(self) -> str:
        return f"[{self.kind}] {self.subject}: {self.detail}"

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"pool": self.pool, "kind": str(self.kind),
                                  "subject": self.subject, "detail": self.detail,
                                  "hosts": list(self.hosts)}
        if self.fields is not None:
            out["fields"] = {name: {"pool": have, "recipe": want}
                             for name, have, want in self.fields}
        return out


def _names(hosts: dict[str, Obj], uuids: object) -> str:
    return ", ".join(sorted(str(hosts[u]["name_label"]) if u in hosts else str(u)
                            for u in uuids))  # type: ignore[attr-defined]


def _odd_ones(values: dict[str, object]) -> tuple[object, list[str]]:
    """The most common value and the keys holding another one (ties: the smallest value)."""
    counts: dict[object, int] = defaultdict(int)
    for v in values.values():
        counts[v] += 1
    common = max(sorted(counts, key=repr), key=lambda v: counts[v])
    return common, sorted(k for k, v in values.items() if v != common)


def pool_drift(inv: Inventory, pool_uuid: str) -> list[Finding]:
    """The findings for one pool of the inventory."""
    part = inv.pool_part(pool_uuid)
    hosts = {h["uuid"]: h for h in part.of("hosts")}
    pifs_by_net: dict[str, list[Obj]] = defaultdict(list)
    for p in part.of("pifs"):
        if p["network"] is not None and p["bond_slave_of"] is None:
            pifs_by_net[p["network"]].append(p)
    found: list[Finding] = []
    for net in part.of("networks"):
        subject = f"network {net['name_label']!r} ({net['bridge']})"
        tags: dict[str, int] = net["vlan_tags"]
        if tags and len(hosts) > 1:
            missing = sorted(set(hosts) - set(tags))
            if missing:
                found.append(Finding(pool_uuid, DriftKind.VLAN_MISSING, subject,
                                     f"VLAN {sorted(set(tags.values()))} present on "
                                     f"{_names(hosts, tags)} but not on "
                                     f"{_names(hosts, missing)}", tuple(missing)))
            if len(set(tags.values())) > 1:
                common, odd = _odd_ones(dict(tags))
                found.append(Finding(pool_uuid, DriftKind.VLAN_TAG_MISMATCH, subject,
                                     f"tag {common} on most hosts, other tags on "
                                     f"{_names(hosts, odd)}", tuple(odd)))
        pifs = pifs_by_net.get(net["uuid"], [])
        mtus = {p["host"]: p["mtu"] for p in pifs}
        if len(set(mtus.values())) > 1:
            common, odd = _odd_ones(dict(mtus))
            found.append(Finding(pool_uuid, DriftKind.MTU_MISMATCH, subject,
                                 f"MTU {common} on most hosts, " + ", ".join(
                                     f"{mtus[h]} on {_names(hosts, [h])}" for h in odd),
                                 tuple(odd)))
        attached = [p for p in pifs if p["currently_attached"]]
        if attached:
            for p in sorted(pifs, key=lambda p: str(p["host"])):
                if not p["currently_attached"]:
                    found.append(Finding(pool_uuid, DriftKind.PIF_UNPLUGGED, subject,
                                         f"PIF {p['device']} unplugged on "
                                         f"{_names(hosts, [p['host']])} while plugged on "
                                         f"{_names(hosts, {a['host'] for a in attached})}",
                                         (p["host"],)))
    found += _vlan_mtu_drift(part, pool_uuid, hosts)
    found += _tunnel_drift(part.of("tunnels"), part.of("pifs"), part.of("networks"), hosts,
                           pool_uuid)
    found += _bond_drift(part, pool_uuid, hosts)
    return found


def _bond_drift(part: Inventory, pool_uuid: str, hosts: dict[str, Obj]) -> list[Finding]:
    """Per bond network: hosts without a bond on it, and members, mode or properties that
    differ from the most common ones."""
    devices = {p["uuid"]: p["device"] for p in part.of("pifs")}
    by_net: dict[str, dict[str, Obj]] = defaultdict(dict)
    for b in part.of("bonds"):
        if b["network"] is not None:
            by_net[b["network"]][b["host"]] = b
    nets = {n["uuid"]: n for n in part.of("networks")}
    found: list[Finding] = []
    for net_uuid, bonds in sorted(by_net.items()):
        n = nets.get(net_uuid, {"name_label": net_uuid, "bridge": "?"})
        subject = f"network {n['name_label']!r} ({n['bridge']})"
        missing = sorted(set(hosts) - set(bonds))
        if missing:
            found.append(Finding(pool_uuid, DriftKind.BOND_MISSING, subject,
                                 f"bonded on {_names(hosts, bonds)} but not on "
                                 f"{_names(hosts, missing)}", tuple(missing)))
        shapes: tuple[tuple[DriftKind, str, dict[str, object]], ...] = (
            (DriftKind.BOND_MEMBERS_MISMATCH, "members",
             {h: "+".join(sorted(str(devices.get(s, s)) for s in b["slaves"]))
              for h, b in bonds.items()}),
            (DriftKind.BOND_MODE_MISMATCH, "bond mode", {h: b["mode"] for h, b in bonds.items()}),
            (DriftKind.BOND_PROPERTIES_MISMATCH, "properties",
             {h: ", ".join(b.get("properties") or []) or "none" for h, b in bonds.items()}))
        for kind, what, values in shapes:
            if len(set(values.values())) > 1:
                common, odd = _odd_ones(values)
                found.append(Finding(pool_uuid, kind, subject,
                                     f"{what} {common} on most hosts, " + ", ".join(
                                         f"{values[h]} on {_names(hosts, [h])}" for h in odd),
                                     tuple(odd)))
    return found


def _vlan_mtu_drift(part: Inventory, pool_uuid: str, hosts: dict[str, Obj]) -> list[Finding]:
    """VLAN networks whose MTU is above their trunk's network MTU, with the hosts where it is:
    the rule the planner keeps (``trunk_mtu_fits``), found in a pool changed by hand or by an
    older xapictl. One finding per VLAN network and trunk network."""
    pifs = {p["uuid"]: p for p in part.of("pifs")}
    nets = {n["uuid"]: n for n in part.of("networks")}
    above: dict[tuple[str, str], list[Obj]] = defaultdict(list)
    for v in part.of("vlans"):
        trunk = pifs.get(v["tagged_pif"])
        vlan_net = nets.get(v["network"])
        trunk_net = nets.get(trunk["network"]) if trunk is not None else None
        if trunk is None or vlan_net is None or trunk_net is None:
            continue
        if vlan_net["mtu"] > trunk_net["mtu"]:
            above[(vlan_net["uuid"], trunk_net["uuid"])].append(trunk)
    found: list[Finding] = []
    for (vlan_uuid, trunk_uuid), trunks in sorted(above.items()):
        n, t = nets[vlan_uuid], nets[trunk_uuid]
        on = sorted({str(p["host"]) for p in trunks})
        devices = ", ".join(sorted({str(p["device"]) for p in trunks}))
        found.append(Finding(
            pool_uuid, DriftKind.VLAN_MTU_ABOVE_TRUNK,
            f"network {n['name_label']!r} ({n['bridge']})",
            f"MTU {n['mtu']} above its trunk's ({devices}, network {t['name_label']!r} "
            f"({t['bridge']}), MTU {t['mtu']}) on {_names(hosts, on)}: frames above "
            f"{t['mtu']} are dropped; raise the trunk (xapictl network set-mtu "
            f"{n['name_label']!r} {n['mtu']} --raise-trunk-mtu) or lower the VLAN's MTU",
            tuple(on)))
    return found


def _tunnel_drift(tunnels: Sequence[Obj], pifs: Sequence[Obj], networks: Sequence[Obj],
                  hosts: dict[str, Obj], pool_uuid: str) -> list[Finding]:
    """Private networks whose tunnels miss a host that has an IP on their transport network."""
    by_uuid = {p["uuid"]: p for p in pifs}
    with_ip = {(p["network"], p["host"]) for p in pifs
               if p["network"] is not None and p["ip_configuration_mode"] != "None"}
    per_net: dict[str, set[str]] = defaultdict(set)
    transports: dict[str, set[str]] = defaultdict(set)
    for t in tunnels:
        carrier = by_uuid.get(t["transport_pif"])
        if t["network"] is None or carrier is None or carrier["network"] is None:
            continue
        per_net[t["network"]].add(t["host"])
        transports[t["network"]].add(carrier["network"])
    nets = {n["uuid"]: n for n in networks}
    found = []
    for net_uuid, have in sorted(per_net.items()):
        missing = sorted(h for h in hosts if h not in have and any(
            (transport, h) in with_ip for transport in transports[net_uuid]))
        if missing:
            n = nets.get(net_uuid, {"name_label": net_uuid, "bridge": "?"})
            found.append(Finding(pool_uuid, DriftKind.TUNNEL_MISSING,
                                 f"network {n['name_label']!r} ({n['bridge']})",
                                 f"tunnel present on {_names(hosts, have)} but not on "
                                 f"{_names(hosts, missing)}", tuple(missing)))
    return found


def drift(inv: Inventory) -> list[Finding]:
    """Findings for every pool of the inventory, pool by pool."""
    return [f for pool in inv.pool_uuids for f in pool_drift(inv, pool)]


__all__ = ["DriftKind", "Finding", "drift", "pool_drift"]
