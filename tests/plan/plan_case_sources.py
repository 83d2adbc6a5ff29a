"""How each tests/plan_cases/<case>/current.json was made (run this module to rebuild them:
``python tests/plan/plan_case_sources.py``). The desired.yaml files are written by hand."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from plan_pool_builder import PoolBuilder

CASES = Path(__file__).resolve().parents[1] / "plan_cases"


def _vms(b: PoolBuilder) -> PoolBuilder:
    b.vm("web01", running=True, host=1)
    b.vm("db01")
    b.vm("win01", running=True, host=2, hvm=True, pv_drivers=False)
    return b


def empty() -> PoolBuilder:
    return _vms(PoolBuilder())


def vlan105_owned() -> PoolBuilder:
    b = _vms(PoolBuilder())
    net = b.network("VLAN 105", owned_as="vlan/eth1/105")
    b.vlan(net, "eth1", 105)
    return b


def vlan105_two_hosts() -> PoolBuilder:
    b = _vms(PoolBuilder())
    net = b.network("VLAN 105", owned_as="vlan/eth1/105")
    b.vlan(net, "eth1", 105, hosts=[1, 2])
    return b


def host3_offline() -> PoolBuilder:
    b = _vms(PoolBuilder())
    b.offline(3)
    return b


def vlan105_by_hand() -> PoolBuilder:
    b = _vms(PoolBuilder())
    net = b.network("VLAN 105")
    b.vlan(net, "eth1", 105)
    return b


def vlan105_split() -> PoolBuilder:
    b = _vms(PoolBuilder())
    a = b.network("VLAN 105", owned_as="vlan/eth1/105")
    other = b.network("lab-105", slug="lab105")
    b.vlan(a, "eth1", 105, hosts=[1, 2])
    b.vlan(other, "eth1", 105, hosts=[3])
    return b


def host3_without_eth3() -> PoolBuilder:
    b = _vms(PoolBuilder())
    b.s.destroy("PIF", "OpaqueRef:pif-h3-eth3")
    return b


def vlan105_with_vifs() -> PoolBuilder:
    b = vlan105_owned()
    net = "OpaqueRef:net-vlan-105"
    b.vif("web01", net, "1", attached=True)
    b.vif("db01", net, "1")
    return b


def two_owned_apps() -> PoolBuilder:
    b = _vms(PoolBuilder())
    b.network("App", owned_as="network/App", slug="app-a")
    b.network("App", owned_as="network/App", slug="app-b")
    return b


def app_by_hand() -> PoolBuilder:
    b = _vms(PoolBuilder())
    b.network("App", slug="app")
    return b


def app_owned_with_vif() -> PoolBuilder:
    b = _vms(PoolBuilder())
    app = b.network("App", owned_as="network/App", slug="app")
    b.network("Other", owned_as="network/Other", slug="other")
    b.vif("web01", "OpaqueRef:net-other", "2", attached=True, mac="02:00:00:00:00:aa")
    b.vif("db01", app, "0", mac="02:00:00:00:00:01")
    return b


def lacp_bond_src_mac() -> PoolBuilder:
    b = _vms(PoolBuilder())
    b.bond("Bond eth2+eth3", ("eth2", "eth3"), mode="lacp",
           properties={"hashing_algorithm": "src_mac", "lacp-time": "slow"})
    return b


def active_backup_bond() -> PoolBuilder:
    b = _vms(PoolBuilder())
    b.bond("Bond eth2+eth3", ("eth2", "eth3"), mode="active-backup")
    return b


def vlan105_pifs_unplugged() -> PoolBuilder:
    """VLAN 105 everywhere, but its VLAN PIF unplugged on host2 and trunk eth1 on host3."""
    b = vlan105_owned()
    b.s.set_field("PIF", "OpaqueRef:pif-h2-eth1-105", "currently_attached", False)
    b.s.set_field("PIF", "OpaqueRef:pif-h3-eth1", "currently_attached", False)
    return b


def eth2_addressed_on_two_hosts() -> PoolBuilder:
    """eth2 has an IP on host1 and host2 only: host3 cannot carry a tunnel (openvswitch)."""
    b = _vms(PoolBuilder())
    b.openvswitch()
    b.address("eth2", [1, 2])
    return b


def private_on_two_hosts() -> PoolBuilder:
    """Private network "Lab" (xapictl's) with vxlan tunnels over eth2 on host1 and host2;
    eth2 has an IP everywhere (openvswitch)."""
    b = _vms(PoolBuilder())
    b.openvswitch()
    b.address("eth2", [1, 2, 3])
    net = b.network("Lab", owned_as="tunnel/Lab")
    b.tunnel(net, "eth2", [1, 2], protocol="vxlan")
    return b


def vlan105_two_hosts_host3_offline() -> PoolBuilder:
    b = vlan105_two_hosts()
    b.offline(3)
    return b


def half_bonded_vlan_moved() -> PoolBuilder:
    """Bond eth2+eth3 with VLAN 201 on every host, then Bond.destroy on host3 as XAPI does it:
    the bond gone, VLAN 201 re-created on the primary member eth2 (same network)."""
    b = _vms(PoolBuilder())
    b.bond("Bond eth2+eth3", ("eth2", "eth3"))
    b.s.destroy("Bond", "OpaqueRef:bond-h3")
    b.s.destroy("PIF", "OpaqueRef:pif-h3-bond0")
    for dev in ("eth2", "eth3"):
        b.s.set_field("PIF", f"OpaqueRef:pif-h3-{dev}", "bond_slave_of", "OpaqueRef:NULL")
    net = b.network("VLAN 201", owned_as="vlan/bond:Bond eth2+eth3/201")
    for n, trunk in ((1, "OpaqueRef:pif-h1-bond0"), (2, "OpaqueRef:pif-h2-bond0"),
                     (3, "OpaqueRef:pif-h3-eth2")):
        h = b.hosts[n - 1]
        device = b.s.get("PIF", trunk)["device"]
        untagged = b.s.create("PIF", {
            "device": device, "host": h, "network": net, "MTU": 1500, "VLAN": 201,
            "currently_attached": True, "MAC": "fe:ff:ff:ff:ff:ff",
            "uuid": f"uuid-pif-h{n}-201"}, ref=f"OpaqueRef:pif-h{n}-201")
        v = b.s.create("VLAN", {"tagged_PIF": trunk, "untagged_PIF": untagged, "tag": 201,
                                "uuid": f"uuid-vlan-h{n}-201"}, ref=f"OpaqueRef:vlan-h{n}-201")
        b.s.set_field("PIF", untagged, "VLAN_master_of", v)
    return b


BUILDERS: dict[str, Callable[[], PoolBuilder]] = {
    "bond_repair_half_bonded": half_bonded_vlan_moved,
    "vlan_pifs_unplugged": vlan105_pifs_unplugged,
    "vlan_other_name_refused": vlan105_owned,
    "vlan_renamed_on_request": vlan105_owned,
    "vlan_deferred_only": vlan105_two_hosts_host3_offline,
    "bond_offline_host": host3_offline,
    "create_vlan_network": empty,
    "vlan_already_in_place": vlan105_owned,
    "vlan_repair_missing_host": vlan105_two_hosts,
    "vlan_offline_host": host3_offline,
    "vlan_made_by_hand_refused": vlan105_by_hand,
    "vlan_made_by_hand_adopted": vlan105_by_hand,
    "tag_used_by_two_networks": vlan105_split,
    "device_missing": host3_without_eth3,
    "mtu_change_listed": vlan105_with_vifs,
    "mtu_change_replug": vlan105_with_vifs,
    "mtu_management_network": empty,
    "vlan_absent_refused_plugged": vlan105_with_vifs,
    "vlan_absent_after_detach": vlan105_with_vifs,
    "ambiguous_owned_name": two_owned_apps,
    "same_name_not_ours": app_by_hand,
    "vif_move_and_settings": app_owned_with_vif,
    "vif_new_on_running_vms": app_owned_with_vif,
    "vif_mac_in_use": app_owned_with_vif,
    "bond_new": empty,
    "bond_management_member": empty,
    "partial_editing_leaves_rest": vlan105_owned,
    "bond_hashing_change": lacp_bond_src_mac,
    "bond_hashing_in_place": lacp_bond_src_mac,
    "bond_mode_to_lacp": active_backup_bond,
    "private_network_new": eth2_addressed_on_two_hosts,
    "private_network_repair": private_on_two_hosts,
    "private_network_other_protocol": private_on_two_hosts,
    "private_network_bridge_backend": empty,
}


def main() -> None:
    for case, build in BUILDERS.items():
        folder = CASES / case
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "current.json").write_text(build().to_json())
        print(f"wrote {folder / 'current.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
