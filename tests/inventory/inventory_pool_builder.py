"""PoolSnapshot builders for the pure inventory tests: a small pool made of wire records."""

from __future__ import annotations

import itertools
from typing import Any

from xapictl.state.snapshot import PoolSnapshot

_counter = itertools.count(1)


def _uuid(prefix: int) -> str:
    return f"{prefix:08x}-0000-4000-8000-{next(_counter):012x}"


class PoolBuilder:
    """Wire records by class and ref, with just the fields the inventory reads."""

    def __init__(self, name: str = "pool-a") -> None:
        self.raw: dict[str, dict[str, dict[str, Any]]] = {}
        self.pool = self.add("pool", name_label=name)

    def add(self, cls: str, **fields: Any) -> str:
        ref = f"OpaqueRef:{cls}-{next(_counter)}"
        self.raw.setdefault(cls, {})[ref] = {"uuid": _uuid(len(cls)), **fields}
        return ref

    def rec(self, cls: str, ref: str) -> dict[str, Any]:
        return self.raw[cls][ref]

    def host(self, name: str, *, master: bool = False) -> str:
        metrics = self.add("host_metrics", live=True)
        ref = self.add("host", name_label=name, hostname=name, address=f"10.0.0.{name[-1]}",
                       enabled=True, metrics=metrics)
        if master:
            self.rec("pool", self.pool)["master"] = ref
        return ref

    def network(self, name: str, bridge: str, mtu: int = 1500) -> str:
        return self.add("network", name_label=name, bridge=bridge, MTU=str(mtu))

    def pif(self, host: str, device: str, network: str, *, vlan: int = -1, mtu: int = 1500,
            attached: bool = True, physical: bool = True, carrier: bool = True,
            management: bool = False) -> str:
        metrics = self.add("PIF_metrics", carrier=carrier, speed="1000")
        ref = self.add("PIF", host=host, device=device, network=network, VLAN=str(vlan),
                       MTU=str(mtu), currently_attached=attached, physical=physical,
                       metrics=metrics, management=management,
                       MAC=f"02:00:00:00:{next(_counter) % 256:02x}:01",
                       ip_configuration_mode="DHCP" if management else "None")
        return ref

    def vlan(self, host: str, trunk: str, tag: int, network: str) -> str:
        untagged = self.pif(host, self.rec("PIF", trunk)["device"], network, vlan=tag,
                            physical=False)
        ref = self.add("VLAN", tagged_PIF=trunk, untagged_PIF=untagged, tag=str(tag))
        self.rec("PIF", untagged)["VLAN_master_of"] = ref
        return ref

    def bond(self, host: str, slaves: list[str], network: str, mode: str) -> str:
        master = self.pif(host, "bond0", network, physical=False)
        ref = self.add("Bond", master=master, slaves=slaves, mode=mode, primary_slave=slaves[0])
        self.rec("PIF", master)["bond_master_of"] = [ref]
        for s in slaves:
            self.rec("PIF", s)["bond_slave_of"] = ref
        return ref

    def vm(self, name: str, host: str, ips: dict[str, str] | None = None) -> str:
        gm = self.add("VM_guest_metrics", networks=ips or {})
        return self.add("VM", name_label=name, power_state="Running", resident_on=host,
                        guest_metrics=gm)

    def vif(self, vm: str, device: str, network: str, **extra: Any) -> str:
        return self.add("VIF", VM=vm, device=device, network=network,
                        MAC=f"02:16:3e:00:00:{next(_counter) % 256:02x}",
                        currently_attached=True, **extra)

    def finish(self) -> None:
        """Fill the derived set fields XAPI keeps (network.PIFs, VM.VIFs) from the ref side."""
        for net in self.raw.get("network", {}).values():
            net["PIFs"] = []
            net["VIFs"] = []
        for ref, pif in self.raw.get("PIF", {}).items():
            self.raw["network"][pif["network"]]["PIFs"].append(ref)
        for ref, vif in self.raw.get("VIF", {}).items():
            self.raw["network"][vif["network"]]["VIFs"].append(ref)

    def snapshot(self, token: str = "tok-1") -> PoolSnapshot:
        self.finish()
        return PoolSnapshot.from_records(self.raw, token=token)


def seed_pool(name: str = "pool-a") -> PoolBuilder:
    """Three hosts; eth0 management, eth1 trunk with VLAN 105 on hosts 1 and 2 only; a bond on
    each host on network 'storage' (balance-slb on two, active-backup on the third); host 3's
    eth1 MTU differs and its 'data' PIF is unplugged; two VMs with VIFs."""
    b = PoolBuilder(name)
    hosts = [b.host("host1", master=True), b.host("host2"), b.host("host3")]
    mgmt = b.network("Pool-wide network associated with eth0", "xenbr0")
    data = b.network("data", "xenbr1")
    v105 = b.network("VLAN 105", "xapi1")
    storage = b.network("storage", "xapi2", mtu=9000)
    b.network("empty", "xapi3")
    for i, h in enumerate(hosts, 1):
        b.pif(h, "eth0", mgmt, management=True)
        trunk = b.pif(h, "eth1", data, mtu=9000 if i == 3 else 1500, attached=i != 3)
        if i < 3:
            b.vlan(h, trunk, 105, v105)
        s1 = b.pif(h, "eth2", storage)
        s2 = b.pif(h, "eth3", storage, carrier=False)
        b.bond(h, [s1, s2], storage, "active-backup" if i == 3 else "balance-slb")
    web = b.vm("web01", hosts[0], {"0/ip": "192.0.2.10", "0/ipv4/0": "192.0.2.10",
                                   "0/ipv6/0": "2001:db8::10", "1/ip": "198.51.100.7"})
    db = b.vm("db01", hosts[1])
    b.vif(web, "0", v105, locking_mode="locked", ipv4_allowed=["192.0.2.10"])
    b.vif(web, "1", data)
    b.vif(db, "0", v105)
    b.add("VM", name_label="Control domain on host: host1", is_control_domain=True,
          power_state="Running", resident_on=hosts[0])
    b.add("VM", name_label="a template", is_a_template=True)
    return b
