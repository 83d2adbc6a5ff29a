"""A small, deterministic pool for planning tests, built in a SimState (which keeps every
derived set field consistent) and turned into a PoolSnapshot or a current.json fixture.

Refs and uuids are readable (``OpaqueRef:h1``, ``uuid-net-eth1``) so expected plans are
stable and readable."""

from __future__ import annotations

import datetime
import json
from typing import Any

from xapictl.model._types import format_datetime
from xapictl.sim.state import SimState
from xapictl.state.snapshot import SNAPSHOT_CLASSES, PoolSnapshot

NICS = ("eth0", "eth1", "eth2", "eth3")


class PoolBuilder:
    def __init__(self, hosts: int = 3, nics: tuple[str, ...] = NICS) -> None:
        self.s = SimState()
        self.hosts: list[str] = []
        self.pif: dict[tuple[str, str], str] = {}
        self.net: dict[str, str] = {}
        for i, dev in enumerate(nics):
            self.net[dev] = self.s.create("network", {
                "name_label": f"Pool-wide network associated with {dev}",
                "bridge": f"xenbr{i}", "MTU": 1500, "uuid": f"uuid-net-{dev}"},
                ref=f"OpaqueRef:net-{dev}")
        for n in range(1, hosts + 1):
            h = f"OpaqueRef:h{n}"
            m = self.s.create("host_metrics", {"live": True}, ref=f"OpaqueRef:hm{n}")
            self.s.create("host", {"name_label": f"host{n}", "address": f"127.0.0.{n}",
                                   "metrics": m, "uuid": f"uuid-h{n}"}, ref=h)
            self.hosts.append(h)
            for dev in nics:
                self.pif[(h, dev)] = self.s.create("PIF", {
                    "device": dev, "host": h, "network": self.net[dev], "MTU": 1500,
                    "VLAN": -1, "physical": True, "currently_attached": True,
                    "management": dev == "eth0", "uuid": f"uuid-pif-h{n}-{dev}",
                    "MAC": f"00:16:3e:00:0{n}:{nics.index(dev):02x}"},
                    ref=f"OpaqueRef:pif-h{n}-{dev}")
            self.s.create("VM", {"name_label": f"Control domain on host{n}",
                                 "is_control_domain": True, "power_state": "Running",
                                 "resident_on": h, "domid": 0, "uuid": f"uuid-dom0-{n}"},
                          ref=f"OpaqueRef:dom0-{n}")
        self.s.create("pool", {"name_label": "lab", "master": self.hosts[0],
                               "uuid": "uuid-pool"}, ref="OpaqueRef:pool")

    def offline(self, n: int) -> None:
        self.s.set_field("host_metrics", f"OpaqueRef:hm{n}", "live", False)

    def vm(self, name: str, *, running: bool = False, host: int = 1, hvm: bool = False,
           pv_drivers: bool = True) -> str:
        ref = f"OpaqueRef:vm-{name}"
        gm = "OpaqueRef:NULL"
        if running:
            gm = self.s.create("VM_guest_metrics", {
                "PV_drivers_detected": pv_drivers,
                "can_use_hotplug_vif": "yes" if pv_drivers else "unspecified"},
                ref=f"OpaqueRef:gm-{name}")
        self.s.create("VM", {
            "name_label": name, "power_state": "Running" if running else "Halted",
            "resident_on": self.hosts[host - 1] if running else "OpaqueRef:NULL",
            "domid": 10 if running else -1, "guest_metrics": gm,
            "domain_type": "hvm" if hvm else "pv", "uuid": f"uuid-vm-{name}",
            "other_config": {"mac_seed": f"seed-{name}"}}, ref=ref)
        return ref

    def network(self, name: str, *, owned_as: str | None = None, mtu: int = 1500,
                slug: str | None = None) -> str:
        slug = slug or name.lower().replace(" ", "-")
        other = {}
        if owned_as is not None:
            other = {"xapictl.owner": "xapictl", "xapictl.identity": owned_as}
        return self.s.create("network", {"name_label": name, "MTU": mtu,
                                         "bridge": f"xapi-{slug}", "other_config": other,
                                         "uuid": f"uuid-net-{slug}"},
                             ref=f"OpaqueRef:net-{slug}")

    def vlan(self, network: str, device: str, tag: int, hosts: list[int] | None = None,
             mtu: int = 1500) -> None:
        for n in hosts or range(1, len(self.hosts) + 1):
            h = self.hosts[n - 1]
            trunk = self.pif[(h, device)]
            slug = f"h{n}-{device}-{tag}"
            untagged = self.s.create("PIF", {
                "device": device, "host": h, "network": network, "MTU": mtu, "VLAN": tag,
                "currently_attached": True, "MAC": "fe:ff:ff:ff:ff:ff",
                "uuid": f"uuid-pif-{slug}"}, ref=f"OpaqueRef:pif-{slug}")
            v = self.s.create("VLAN", {"tagged_PIF": trunk, "untagged_PIF": untagged,
                                       "tag": tag, "uuid": f"uuid-vlan-{slug}"},
                              ref=f"OpaqueRef:vlan-{slug}")
            self.s.set_field("PIF", untagged, "VLAN_master_of", v)

    def bond(self, name: str, members: tuple[str, ...], *, mode: str = "balance-slb",
             properties: dict[str, str] | None = None) -> str:
        """A bond of ``members`` on every host (master ``bond0``), marked as xapictl's."""
        net = self.network(name, owned_as=f"bond/{name}")
        for n, h in enumerate(self.hosts, 1):
            first = self.pif[(h, members[0])]
            master = self.s.create("PIF", {
                "device": "bond0", "host": h, "network": net, "MTU": 1500, "VLAN": -1,
                "currently_attached": True, "MAC": self.s.get("PIF", first)["MAC"],
                "uuid": f"uuid-pif-h{n}-bond0"}, ref=f"OpaqueRef:pif-h{n}-bond0")
            bond = self.s.create("Bond", {
                "master": master, "primary_slave": first, "mode": mode,
                "properties": dict(properties or {}), "uuid": f"uuid-bond-h{n}"},
                ref=f"OpaqueRef:bond-h{n}")
            for dev in members:
                self.s.set_field("PIF", self.pif[(h, dev)], "bond_slave_of", bond)
        return net

    def openvswitch(self) -> None:
        """Every host on the openvswitch network backend (tunnels need it)."""
        for h in self.hosts:
            self.s.set_field("host", h, "software_version", {"network_backend": "openvswitch"})

    def address(self, device: str, hosts: list[int], net: str = "198.51.100") -> None:
        """A static IP on ``device`` of ``hosts`` (what a tunnel's transport PIF needs)."""
        for n in hosts:
            self.s.update("PIF", self.pif[(self.hosts[n - 1], device)], {
                "ip_configuration_mode": "Static", "IP": f"{net}.{10 + n}",
                "netmask": "255.255.255.0"})

    def tunnel(self, network: str, transport: str, hosts: list[int],
               protocol: str = "gre") -> None:
        """The private network's tunnel over ``transport`` on ``hosts`` (access PIF tunnel0)."""
        for n in hosts:
            h = self.hosts[n - 1]
            access = self.s.create("PIF", {
                "device": "tunnel0", "host": h, "network": network, "MTU": 1500, "VLAN": -1,
                "currently_attached": True, "MAC": f"02:00:00:00:7e:{n:02x}",
                "uuid": f"uuid-pif-h{n}-tunnel0"}, ref=f"OpaqueRef:pif-h{n}-tunnel0")
            t = self.s.create("tunnel", {
                "access_PIF": access, "transport_PIF": self.pif[(h, transport)],
                "protocol": protocol, "status": {"active": "true"},
                "uuid": f"uuid-tunnel-h{n}"}, ref=f"OpaqueRef:tunnel-h{n}")
            self.s.set_field("PIF", access, "tunnel_access_PIF_of", [t])

    def vif(self, vm: str, network: str, device: str, *, attached: bool = False,
            mac: str = "", mtu: int = 1500) -> str:
        return self.s.create("VIF", {
            "VM": f"OpaqueRef:vm-{vm}", "network": network, "device": device,
            "MAC": mac or f"02:00:00:00:{len(vm):02x}:{int(device):02x}", "MTU": mtu,
            "currently_attached": attached, "uuid": f"uuid-vif-{vm}-{device}"},
            ref=f"OpaqueRef:vif-{vm}-{device}")

    def raw(self) -> dict[str, dict[str, dict[str, Any]]]:
        return {cls: {ref: dict(rec) for ref, rec in self.s.all(cls).items()}
                for cls in SNAPSHOT_CLASSES}

    def snapshot(self) -> PoolSnapshot:
        return PoolSnapshot.from_records(self.raw())

    def to_json(self) -> str:
        def enc(o: object) -> str:
            if isinstance(o, datetime.datetime):
                return format_datetime(o)
            raise TypeError(type(o))
        return json.dumps(self.raw(), indent=1, sort_keys=True, default=enc) + "\n"


def snapshot_from_json(text: str) -> PoolSnapshot:
    return PoolSnapshot.from_records(json.loads(text))
