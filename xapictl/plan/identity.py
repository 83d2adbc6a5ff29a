"""Which existing object a recipe entry means, and whether xapictl may manage it.

XAPI does not keep names unique, so names alone never identify anything:

* a VLAN network is (pool, trunk, tag): the networks of the VLANs with that tag on the trunk
  PIFs (a NIC by device, or a bond by its network) across the hosts;
* an SR-IOV network is the network of the SR-IOV logical PIFs of a NIC (by device);
* a private network (tunnels) is its name plus the ownership mark, as a plain network: many
  share one transport network and protocol;
* a NIC's network is the network of the PIFs with that device;
* a bond is, on each host, the Bond whose members are exactly the named devices;
* any other network is its name plus xapictl's ownership mark in ``other_config``;
* a VIF is (VM, device).

Every network xapictl creates carries ``xapictl.owner`` and ``xapictl.identity`` in
``other_config``; the identity lets a re-run find a network whose creation answer was lost.
A matching network without the mark is used only when the recipe says ``adopt: true``.
Several candidates are an ``AmbiguousObjectError`` naming every one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xapictl.errors import AmbiguousObjectError
from xapictl.model.refs import BondRef, HostRef, NetworkRef, PIFRef, VMRef
from xapictl.state.snapshot import PoolSnapshot

OWNER_KEY = "xapictl.owner"
OWNER_VALUE = "xapictl"
IDENTITY_KEY = "xapictl.identity"


def vlan_identity(trunk: str, tag: int) -> str:
    """``vlan/eth1/105`` or ``vlan/bond:Storage bond/201``."""
    return f"vlan/{trunk}/{tag}"


def named_identity(name: str) -> str:
    return f"network/{name}"


def tunnel_identity(name: str) -> str:
    """``tunnel/<name>``: many private networks share one transport network and protocol,
    so a private network is its name (and the mark), never what it rides on."""
    return f"tunnel/{name}"


def sriov_identity(device: str) -> str:
    """``sriov/eth1``: a NIC has at most one SR-IOV network (XAPI:
    NETWORK_SRIOV_ALREADY_ENABLED)."""
    return f"sriov/{device}"


def bond_identity(name: str) -> str:
    return f"bond/{name}"


def mark(identity: str) -> dict[str, str]:
    """The ``other_config`` keys xapictl writes on every network it creates or adopts."""
    return {OWNER_KEY: OWNER_VALUE, IDENTITY_KEY: identity}


def is_owned(snap: PoolSnapshot, ref: NetworkRef) -> bool:
    return snap.networks[ref].other_config.get(OWNER_KEY) == OWNER_VALUE


def owned_with_identity(snap: PoolSnapshot, identity: str) -> list[NetworkRef]:
    marked = snap.networks_by_other_config(IDENTITY_KEY).get(identity, ())
    return sorted(r for r in marked if is_owned(snap, r))


# --- how objects are named in messages ----------------------------------------------------


def host_name(snap: PoolSnapshot, ref: HostRef) -> str:
    host = snap.hosts.get(ref)
    return host.name_label if host is not None else ref


def network_words(snap: PoolSnapshot, ref: NetworkRef) -> str:
    n = snap.networks[ref]
    return f"network {n.name_label!r} (uuid {n.uuid}, bridge {n.bridge or '-'})"


def pif_words(snap: PoolSnapshot, ref: PIFRef) -> str:
    p = snap.pifs[ref]
    vlan = f" VLAN {p.vlan}" if p.vlan >= 0 else ""
    return f"PIF {p.device}{vlan} on {host_name(snap, p.host)}"


def vm_words(snap: PoolSnapshot, ref: VMRef) -> str:
    vm = snap.vms[ref]
    return f"VM {vm.name_label!r} (uuid {vm.uuid})"


def ordered_hosts(snap: PoolSnapshot) -> list[HostRef]:
    """Hosts by name, the pool master last (bonds and repairs touch the master last)."""
    return snap.ordered_hosts()


# --- finders ---------------------------------------------------------------------------------


def trunk_pifs_by_device(snap: PoolSnapshot, device: str) -> dict[HostRef, PIFRef]:
    """The untagged PIF with that device on each host that has one."""
    return snap.pifs_with_device(device)


def bond_masters_on(snap: PoolSnapshot, network: NetworkRef) -> dict[HostRef, PIFRef]:
    """The bond master PIF on each host whose bond is on that network."""
    return snap.bond_masters_on(network)


def bonds_with_members(snap: PoolSnapshot, members: Iterable[str]
                       ) -> dict[HostRef, BondRef]:
    """On each host, the bond whose member devices are exactly ``members``."""
    return snap.bonds_of_devices(frozenset(members))


def vlan_networks_on(snap: PoolSnapshot, trunks: dict[HostRef, PIFRef], tag: int
                     ) -> dict[HostRef, NetworkRef]:
    """For each host, the network of the VLAN with ``tag`` on its trunk PIF (if any)."""
    return snap.vlan_networks_on(trunks, tag)


def find_vm(snap: PoolSnapshot, name_or_uuid: str) -> VMRef | None:
    ref = snap.vm_by_uuid(name_or_uuid)
    if ref is not None:
        return ref
    named = snap.guests_named(name_or_uuid)
    if len(named) > 1:
        raise AmbiguousObjectError(
            f"VM name {name_or_uuid!r} is used by {len(named)} VMs; give the uuid instead",
            [vm_words(snap, r) for r in sorted(named)])
    return named[0] if named else None


def network_by_name_or_uuid(snap: PoolSnapshot, name: str) -> NetworkRef:
    """The one network with that uuid or name; ``UsageError`` for none, ambiguity names all."""
    from xapictl.errors import UsageError

    by_uuid = snap.networks_with_uuid(name)
    refs = by_uuid or snap.networks_named(name)
    if not refs:
        raise UsageError(f"no network named {name!r}; see `xapictl network list`")
    if len(refs) > 1:
        raise AmbiguousObjectError(f"network name {name!r} is used by {len(refs)} networks; "
                                   "give the uuid", [network_words(snap, r) for r in refs])
    return refs[0]


def bond_members(snap: PoolSnapshot, name: str) -> tuple[str, ...]:
    """The member devices of the bonds on the network ``name`` (name or uuid), the same on
    every host that has one; ``UsageError`` when there is no such bond or the hosts differ
    (each host's members named: give them with ``--members``)."""
    from xapictl.errors import UsageError

    ref = network_by_name_or_uuid(snap, name)
    by_host: dict[str, tuple[str, ...]] = {}
    for host, master in sorted(snap.bond_masters_on(ref).items()):
        bond = snap.bonds.get(snap.pifs[master].bond_master_of[0])
        if bond is not None:
            by_host[host_name(snap, host)] = tuple(sorted(
                snap.pifs[m].device for m in bond.slaves if m in snap.pifs))
    if not by_host:
        raise UsageError(f"network {name!r} carries no bond; see `xapictl bond list`")
    if len(set(by_host.values())) > 1:
        raise UsageError(f"the bonds of {name!r} differ between hosts ("
                         + "; ".join(f"{h}: {'+'.join(m)}" for h, m in sorted(by_host.items()))
                         + "): give the members with --members")
    return next(iter(by_host.values()))


def is_sriov_network(snap: PoolSnapshot, ref: NetworkRef) -> bool:
    """XAPI's ``is_sriov_network``: a PIF on it is an SR-IOV logical PIF, or a VLAN on one
    (``PoolSnapshot.is_sriov_network``: an index built once per snapshot)."""
    return snap.is_sriov_network(ref)


def host_by_name_or_uuid(snap: PoolSnapshot, name: str) -> HostRef:
    """The one host with that uuid or name; ``UsageError`` for none, ambiguity names all."""
    from xapictl.errors import UsageError

    refs = sorted(r for r, h in snap.hosts.items() if h.uuid == name) or sorted(
        r for r, h in snap.hosts.items() if h.name_label == name)
    if not refs:
        raise UsageError(f"no host named {name!r} (nor with that uuid); see `xapictl host list`")
    if len(refs) > 1:
        raise AmbiguousObjectError(f"host name {name!r} is used by {len(refs)} hosts; give the "
                                   "uuid", [f"host {name!r} (uuid {snap.hosts[r].uuid})"
                                            for r in refs])
    return refs[0]


def identity_of(snap: PoolSnapshot, ref: NetworkRef) -> dict[str, object]:
    """How a recipe names this existing network: ``vlan`` + ``device``/``bond``, ``device``
    (a NIC's network), or nothing (by name)."""
    pifs = [snap.pifs[p] for p in snap.networks[ref].pifs if p in snap.pifs]
    for pif in pifs:
        vlan = snap.vlans.get(pif.vlan_master_of)
        tagged = snap.pifs.get(vlan.tagged_pif) if vlan is not None else None
        if vlan is None or tagged is None:
            continue
        if tagged.bond_master_of:
            return {"vlan": vlan.tag, "bond": snap.networks[tagged.network].name_label}
        return {"vlan": vlan.tag, "device": tagged.device}
    for pif in pifs:
        tunnel = snap.tunnels.get(pif.tunnel_access_pif_of[0]) if pif.tunnel_access_pif_of \
            else None
        carrier = snap.pifs.get(tunnel.transport_pif) if tunnel is not None else None
        if tunnel is not None and carrier is not None and carrier.network in snap.networks:
            return {"tunnel": {"protocol": tunnel.protocol.value,
                               "transport": snap.networks[carrier.network].name_label}}
        if pif.sriov_logical_pif_of:
            return {"device": pif.device, "sriov": True}
    physical = [p for p in pifs if p.physical]
    if physical:
        return {"device": physical[0].device}
    return {}


def network_identity(snap: PoolSnapshot, name: str) -> dict[str, Any]:
    """How a recipe names the existing network ``name`` (or uuid): ``name`` plus
    ``identity_of``; a usage error names the candidates when there are none or several."""
    ref = network_by_name_or_uuid(snap, name)
    return {"name": snap.networks[ref].name_label, **identity_of(snap, ref)}


__all__ = [
    "IDENTITY_KEY",
    "OWNER_KEY",
    "OWNER_VALUE",
    "bond_identity",
    "bond_masters_on",
    "bond_members",
    "bonds_with_members",
    "find_vm",
    "host_by_name_or_uuid",
    "host_name",
    "identity_of",
    "is_owned",
    "is_sriov_network",
    "mark",
    "named_identity",
    "network_by_name_or_uuid",
    "network_identity",
    "network_words",
    "ordered_hosts",
    "owned_with_identity",
    "pif_words",
    "sriov_identity",
    "trunk_pifs_by_device",
    "tunnel_identity",
    "vlan_identity",
    "vlan_networks_on",
    "vm_words",
]
