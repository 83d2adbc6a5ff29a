"""From a pool snapshot to the NetBox objects that describe it. Pure: no NetBox call.

``FIELDS`` is the mapping table, field by field (docs/cmdb.md shows it; a test compares them),
and ``wanted_objects`` builds exactly those fields.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from xapictl._frozen import Frozen, frozen
from xapictl.inventory.export import qos_kbps, reported_ips
from xapictl.model.refs import NULL_REF
from xapictl.netbox.model import GuestDisk, Kind, NoOp, ObjectKey, Ref, Wanted
from xapictl.state.snapshot import PoolSnapshot

# Creation order: an object comes after every kind it refers to (deletions run backwards).
KINDS: tuple[Kind, ...] = (
    Kind("site", "dcim/sites", "dcim.site", owned=False),
    Kind("cluster-group", "virtualization/cluster-groups", "virtualization.clustergroup",
         owned=False),
    Kind("cluster-type", "virtualization/cluster-types", "virtualization.clustertype",
         owned=False),
    Kind("manufacturer", "dcim/manufacturers", "dcim.manufacturer", owned=False),
    Kind("device-type", "dcim/device-types", "dcim.devicetype", owned=False),
    Kind("device-role", "dcim/device-roles", "dcim.devicerole", owned=False),
    Kind("platform", "dcim/platforms", "dcim.platform", owned=False),
    Kind("cluster", "virtualization/clusters", "virtualization.cluster",
         offline={"status": "offline"}),
    Kind("vlan-group", "ipam/vlan-groups", "ipam.vlangroup"),
    Kind("vlan", "ipam/vlans", "ipam.vlan", offline={"status": "deprecated"},
         custom=frozenset({"xapi_other_config"})),
    Kind("prefix", "ipam/prefixes", "ipam.prefix", offline={"status": "deprecated"}),
    Kind("device", "dcim/devices", "dcim.device", offline={"status": "offline"}),
    Kind("interface", "dcim/interfaces", "dcim.interface", offline={"enabled": False}),
    Kind("virtual-machine", "virtualization/virtual-machines", "virtualization.virtualmachine",
         offline={"status": "offline"}, derived=frozenset({"disk"})),
    Kind("virtual-disk", "virtualization/virtual-disks", "virtualization.virtualdisk"),
    Kind("vm-interface", "virtualization/interfaces", "virtualization.vminterface",
         offline={"enabled": False}, custom=frozenset({"xapi_qos_kbps", "xapi_locking"})),
    Kind("ip-address", "ipam/ip-addresses", "ipam.ipaddress", offline={"status": "deprecated"}),
)
KIND: dict[str, Kind] = {k.name: k for k in KINDS}
OWNED_KINDS: tuple[Kind, ...] = tuple(k for k in KINDS if k.owned)

# The mapping table: owned kind -> (NetBox field, where its value comes from). The fields the
# mapping sets are exactly these (tested); they are the only fields a sync ever writes.
FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "cluster": (
        ("name", "pool `name_label` (its UUID when empty); with `--fleet`, the pool's name "
                 "in the fleet file"),
        ("type", "cluster type from the master's `software_version.product_brand` "
                 "(XCP-ng, XenServer)"),
        ("group", "the `--cluster-group` option (none by default)"),
        ("status", "`active`"),
        ("scope_type", "`dcim.site`"),
        ("scope_id", "the site: `--site`, else one named after the pool"),
    ),
    "vlan-group": (
        ("name", "pool name"),
        ("slug", "pool name, slugified, and the first 8 characters of the pool UUID"),
        ("scope_type", "`virtualization.cluster`"),
        ("scope_id", "the pool's cluster"),
    ),
    "vlan": (
        ("group", "the pool's VLAN group"),
        ("vid", "network's VLAN tag (the tag most of its PIFs carry)"),
        ("name", "network `name_label`"),
        ("status", "`active`"),
        ("xapi_other_config", "network `other_config` (custom field, JSON; null when empty)"),
    ),
    "prefix": (
        ("prefix", "a subnet of the network: from its PIFs' `IP` + `netmask` and `IPv6`, and "
                   "its VIFs' `ipv4_addresses` / `ipv6_addresses` (each subnet once per pool; not "
                   "link-local ones)"),
        ("vlan", "the network's VLAN (null for an untagged network)"),
        ("status", "`active`"),
        ("scope_type", "`dcim.site`"),
        ("scope_id", "the cluster's site"),
    ),
    "device": (
        ("name", "host `name_label`"),
        ("device_type", "host `bios_strings` `system-manufacturer` + `system-product-name`"),
        ("role", "`Hypervisor`"),
        ("site", "the cluster's site"),
        ("cluster", "the pool's cluster"),
        ("platform", "host `software_version` `product_brand` + `product_version`"),
        ("serial", "host `bios_strings` `system-serial-number`"),
        ("status", "`active` when the host is live (`host_metrics.live`), else `offline`"),
        ("primary_ip4", "the IPv4 address of the management PIF"),
    ),
    "interface": (
        ("device", "the PIF's host"),
        ("name", "PIF `device`; VLAN PIFs `<trunk device>.<tag>`"),
        ("type", "physical: from PIF_metrics `speed` (1000 → 1000base-t, 10000 → "
                 "10gbase-x-sfpp, 25000 → 25gbase-x-sfp28 …, else other); bond: lag; "
                 "VLAN: virtual"),
        ("enabled", "PIF `currently_attached`"),
        ("mtu", "PIF `MTU`"),
        ("mac_address", "PIF `MAC` (not for VLAN PIFs)"),
        ("speed", "PIF_metrics `speed` in kbit/s (null when unknown)"),
        ("lag", "the bond's interface, for a bond member"),
        ("parent", "the trunk's interface, for a VLAN PIF"),
        ("mode", "`tagged` for a VLAN PIF, else null"),
        ("tagged_vlans", "the VLAN of a VLAN PIF's network"),
    ),
    "virtual-machine": (
        ("name", "VM `name_label`"),
        ("cluster", "the pool's cluster"),
        ("status", "power state: Running → active, Halted → offline, Paused and Suspended "
                   "→ paused"),
        ("vcpus", "VM `VCPUs_at_startup`"),
        ("memory", "VM `memory_static_max` in MB"),
        ("disk", "the sum of its virtual disks' sizes in MB (null without disks; NetBox "
                 "computes it from the virtual disks: compared, never sent)"),
        ("platform", "guest metrics `os_version` `name` (null without a guest agent)"),
        ("primary_ip4", "first IPv4 address of the lowest-numbered VIF that has one"),
        ("primary_ip6", "the same rule for IPv6"),
    ),
    "virtual-disk": (
        ("virtual_machine", "the VBD's VM"),
        ("name", "VDI `name_label` (`disk <userdevice>` when empty; `<name> (<userdevice>)` "
                 "when two disks of the VM share it); VBDs of `type` Disk only"),
        ("size", "VDI `virtual_size` in MB"),
    ),
    "vm-interface": (
        ("virtual_machine", "the VIF's VM"),
        ("name", "`eth<VIF device>`"),
        ("enabled", "VIF `currently_attached`"),
        ("mtu", "VIF `MTU`"),
        ("mac_address", "VIF `MAC`"),
        ("mode", "`access` when the VIF's network is a VLAN, else null"),
        ("untagged_vlan", "the VLAN of the VIF's network"),
        ("xapi_qos_kbps", "VIF `qos_algorithm_params` `kbps` when `qos_algorithm_type` is "
                          "`ratelimit`, else null (custom field, integer)"),
        ("xapi_locking", "VIF `locking_mode`; `locked` with its `ipv4_allowed` and "
                         "`ipv6_allowed` addresses (`locked: 192.0.2.5, 2001:db8::5`) "
                         "(custom field, text)"),
    ),
    "ip-address": (
        ("address", "host: PIF `IP` + `netmask`, PIF `IPv6`; VM: guest metrics address with "
                    "the prefix length of the longest matching prefix (NetBox's, and the "
                    "pool's own `prefix` objects), else /32 (/128)"),
        ("assigned_object_type", "`dcim.interface` (hosts), `virtualization.vminterface` "
                                 "(VMs)"),
        ("assigned_object_id", "the PIF's or VIF's interface"),
        ("status", "`active`"),
    ),
}

SPEED_TYPES: dict[int, str] = {
    100: "100base-tx", 1000: "1000base-t", 2500: "2.5gbase-t", 5000: "5gbase-t",
    10000: "10gbase-x-sfpp", 25000: "25gbase-x-sfp28", 40000: "40gbase-x-qsfpp",
    50000: "50gbase-x-sfp56", 100000: "100gbase-x-qsfp28",
}
VM_STATUS: dict[str, str] = {"Running": "active", "Halted": "offline", "Paused": "paused",
                             "Suspended": "paused"}
MB = 1024 * 1024
BRANDS: dict[str, str] = {"xcp-ng": "XCP-ng", "xenserver": "XenServer",
                          "citrix hypervisor": "XenServer"}


@frozen
class MappingOptions(Frozen):
    """``site``: the NetBox site of the cluster and its devices (default: named after the
    pool); ``cluster_group``: an optional cluster group; ``prefixes``: NetBox's prefixes
    (CIDR text), which give guest addresses their prefix length; ``pool_name``: the name of the
    cluster, VLAN group and default site (default: the pool's ``name_label``; ``--fleet``
    gives the fleet entry's, unique in the file where pools' names need not be)."""

    site: str | None = None
    cluster_group: str | None = None
    prefixes: Sequence[str] = ()
    pool_name: str | None = None


def slugify(text: str) -> str:
    """NetBox's slug alphabet: lower-case letters, digits, ``-`` and ``_``; at most 100."""
    slug = re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-")
    return (slug or "unnamed")[:100]


def interface_type(speed: int | None) -> str:
    return SPEED_TYPES.get(speed or 0, "other")


def prefix_length(address: str, prefixes: Sequence[str]) -> str:
    """``address`` with the prefix length of the longest NetBox prefix holding it, else a
    host route (/32, /128)."""
    ip = ipaddress.ip_address(address)
    best: int = ip.max_prefixlen
    found = False
    for text in prefixes:
        net = ipaddress.ip_network(text, strict=False)
        if net.version == ip.version and ip in net and (not found or net.prefixlen > best):
            best, found = net.prefixlen, True
    return f"{ip}/{best}"


class _Builder:
    """Collects the wanted objects of one pool, then gives them in kind order."""

    def __init__(self, snap: PoolSnapshot, options: MappingOptions,
                 disks: Sequence[GuestDisk] | None) -> None:
        self.snap = snap
        self.options = options
        self.with_disks = disks is not None
        self.disks: dict[str, list[GuestDisk]] = {}
        for disk in disks or ():
            self.disks.setdefault(disk.vm_uuid, []).append(disk)
        self.prefixes: list[str] = list(options.prefixes)
        self.out: list[Wanted] = []
        self.noops: list[NoOp] = []
        self.pool_uuid = snap.pool.uuid
        self.pool_name = options.pool_name or snap.pool.name_label or snap.pool.uuid

    def add(self, kind: str, key: str, label: str, **fields: Any) -> Ref:
        self.out.append(Wanted(kind, ObjectKey(key), label, fields))
        return Ref(kind, ObjectKey(key))

    def shared(self, kind: str, name: str, **fields: Any) -> Ref:
        """A shared object, by slug; ``fields`` may replace ``name`` (device types have a
        ``model``)."""
        slug = slugify(name)
        if not any(w.kind == kind and w.key == slug for w in self.out):
            named = {"model": fields.pop("model")} if "model" in fields else {"name": name[:100]}
            self.add(kind, slug, f"{kind} {name}", **named, **fields, slug=slug)
        return Ref(kind, ObjectKey(slug))

    def build(self) -> tuple[list[Wanted], list[NoOp]]:
        snap = self.snap
        master = snap.hosts.get(snap.master)
        brand = (master.software_version.get("product_brand", "") if master else "") or "XCP-ng"
        ctype = self.shared("cluster-type", BRANDS.get(brand.lower(), brand))
        site = self.shared("site", self.options.site or self.pool_name, status="active")
        group = (self.shared("cluster-group", self.options.cluster_group)
                 if self.options.cluster_group else None)
        cluster = self.add("cluster", self.pool_uuid, f"cluster {self.pool_name}",
                           name=self.pool_name, type=ctype, group=group, status="active",
                           scope_type="dcim.site", scope_id=site)
        vlans = self.vlans(cluster)
        self.subnets(site, vlans)
        role = self.shared("device-role", "Hypervisor", color="2196f3", vm_role=False)
        for host_ref in snap.hosts:
            self.host(host_ref, cluster, site, role, vlans)
        for vm_ref in snap.guest_vms():
            self.vm(vm_ref, cluster, vlans)
        order = {k.name: i for i, k in enumerate(KINDS)}
        return sorted(self.out, key=lambda w: order[w.kind]), self.noops

    def vlans(self, cluster: Ref) -> dict[str, Ref]:
        """One VLAN per tagged network, in a VLAN group scoped to the cluster; by network
        UUID."""
        tagged: list[tuple[str, str, int]] = []
        other_config: dict[str, dict[str, str]] = {}
        for net in self.snap.networks.values():
            other_config[net.uuid] = dict(net.other_config)
            tags = Counter(p.vlan for p in map(self.snap.pifs.get, net.pifs)
                           if p is not None and p.vlan >= 0)
            if tags:
                tag = sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
                tagged.append((net.uuid, net.name_label, tag))
        if not tagged:
            return {}
        group = self.add("vlan-group", f"{self.pool_uuid}#vlans", f"VLAN group {self.pool_name}",
                         name=self.pool_name,
                         slug=slugify(f"{self.pool_name}-{self.pool_uuid[:8]}"),
                         scope_type="virtualization.cluster", scope_id=cluster)
        refs: dict[str, Ref] = {}
        seen: dict[int, str] = {}
        for uuid, name, tag in sorted(tagged, key=lambda t: (t[2], t[0])):
            if tag in seen:
                self.noops.append(NoOp("vlan", ObjectKey(uuid), f"VLAN {tag} {name}",
                                       f"network {name} ({uuid}) carries tag {tag} like "
                                       f"network {seen[tag]}: a VLAN group holds a tag once"))
                continue
            seen[tag] = uuid
            other = other_config[uuid]
            refs[uuid] = self.add("vlan", uuid, f"VLAN {tag} {name}", group=group, vid=tag,
                                  name=(name or f"VLAN {tag}")[:64], status="active",
                                  xapi_other_config=other or None)
        return refs

    def subnets(self, site: Ref, vlans: Mapping[str, Ref]) -> None:
        """A prefix per subnet a network carries (PIF and VIF IP configurations), keyed by
        network UUID and subnet; a subnet two networks carry is kept once. The guest
        addresses take their prefix length from these too, so the first sync already gives
        them the length a later one would."""
        snap = self.snap
        found: dict[str, tuple[str, str]] = {}  # subnet -> (network uuid, network name)
        for net in sorted(snap.networks.values(), key=lambda n: n.uuid):
            subnets: set[ipaddress.IPv4Network | ipaddress.IPv6Network] = set()
            for pif in map(snap.pifs.get, net.pifs):
                if pif is not None:
                    hosts = [a for a in self.host_addresses(pif)
                             if not a.endswith(("/32", "/128"))]
                    subnets |= {ipaddress.ip_interface(a).network for a in hosts}
            for vif in map(snap.vifs.get, net.vifs):
                for text in (*vif.ipv4_addresses, *vif.ipv6_addresses) if vif else ():
                    try:
                        subnets.add(ipaddress.ip_interface(text).network)
                    except ValueError:
                        continue  # not an address: XAPI stores what it was given
            # Link-local subnets (fe80::/64 …) are on every link of every pool: not a prefix.
            for subnet in sorted((n for n in subnets if not n.is_link_local),
                                 key=lambda n: (n.version, n)):
                cidr = str(subnet)
                if cidr in found:
                    other_uuid, other_name = found[cidr]
                    self.noops.append(NoOp("prefix", ObjectKey(f"{net.uuid}/{cidr}"),
                                           f"prefix {cidr} of {net.name_label}",
                                           f"network {other_name} ({other_uuid}) carries "
                                           f"{cidr} too: a pool's subnet is one prefix"))
                    continue
                found[cidr] = (net.uuid, net.name_label)
                self.add("prefix", f"{net.uuid}/{cidr}", f"prefix {cidr} of {net.name_label}",
                         prefix=cidr, vlan=vlans.get(net.uuid), status="active",
                         scope_type="dcim.site", scope_id=site)
        self.prefixes += list(found)

    def host(self, host_ref: Any, cluster: Ref, site: Ref, role: Ref,
             vlans: Mapping[str, Ref]) -> None:
        snap = self.snap
        host = snap.hosts[host_ref]
        bios = host.bios_strings
        maker = bios.get("system-manufacturer", "").strip() or "Unknown"
        model = bios.get("system-product-name", "").strip() or "Unknown"
        manufacturer = self.shared("manufacturer", maker)
        dtype = self.shared("device-type", f"{maker} {model}", manufacturer=manufacturer,
                            model=model)
        sv = host.software_version
        platform = (self.shared("platform", f"{sv['product_brand']} {sv['product_version']}")
                    if sv.get("product_brand") and sv.get("product_version") else None)
        live = snap.host_is_live(host_ref)
        mgmt_ip: Ref | None = None
        device = Ref("device", ObjectKey(host.uuid))
        ifaces: dict[str, Ref] = {}
        pifs = sorted(((r, p) for r, p in snap.pifs.items() if p.host == host_ref),
                      key=lambda rp: (rp[1].vlan >= 0, rp[1].device, rp[1].vlan))
        for pif_ref, pif in pifs:
            metrics = snap.pif_metrics.get(pif.metrics)
            speed = metrics.speed if metrics is not None and metrics.speed > 0 else None
            fields: dict[str, Any] = {
                "device": device, "enabled": pif.currently_attached, "mtu": pif.mtu,
                "lag": None, "parent": None, "mode": None, "tagged_vlans": []}
            if pif.vlan >= 0:
                trunk = snap.pif_on(host_ref, pif.device)
                net = snap.networks.get(pif.network)
                vlan = vlans.get(net.uuid) if net is not None else None
                fields |= {"name": f"{pif.device}.{pif.vlan}", "type": "virtual",
                           "speed": None, "mode": "tagged",
                           "parent": ifaces.get(str(trunk)) if trunk else None,
                           "tagged_vlans": [vlan] if vlan is not None else []}
            else:
                bond = bool(pif.bond_master_of)
                fields |= {"name": pif.device, "type": "lag" if bond else interface_type(speed),
                           "mac_address": pif.mac.upper() or None,
                           "speed": speed * 1000 if speed else None}
            ref = self.add("interface", pif.uuid, f"interface {host.name_label} "
                           f"{fields['name']}", **fields)
            ifaces[str(pif_ref)] = ref
            for ip in self.host_addresses(pif):
                ip_ref = self.add("ip-address", f"{pif.uuid}/{ip.split('/')[0]}",
                                  f"IP address {ip} of {host.name_label} {fields['name']}",
                                  address=ip, assigned_object_type="dcim.interface",
                                  assigned_object_id=ref, status="active")
                if pif.management and ":" not in ip and mgmt_ip is None:
                    mgmt_ip = ip_ref
        # Bond members point at their bond's interface.
        for i, w in enumerate(self.out):
            if w.kind != "interface" or w.fields.get("device") != device:
                continue
            pif = next(p for p in snap.pifs.values() if p.uuid == w.key)
            member_of = (snap.bonds.get(pif.bond_slave_of)
                         if pif.bond_slave_of != NULL_REF else None)
            if member_of is not None and str(member_of.master) in ifaces:
                self.out[i] = Wanted(w.kind, w.key, w.label,
                                     {**w.fields, "lag": ifaces[str(member_of.master)]})
        self.add("device", host.uuid, f"device {host.name_label}",
                 name=host.name_label or host.uuid, device_type=dtype, role=role, site=site,
                 cluster=cluster, platform=platform,
                 serial=bios.get("system-serial-number", "").strip()[:50],
                 status="active" if live else "offline", primary_ip4=mgmt_ip)

    @staticmethod
    def host_addresses(pif: Any) -> list[str]:
        out = []
        if pif.ip and pif.netmask:
            with_len = ipaddress.ip_interface(f"{pif.ip}/{pif.netmask}")
            out.append(f"{with_len.ip}/{with_len.network.prefixlen}")
        for v6 in pif.ipv6:
            if v6:
                out.append(str(ipaddress.ip_interface(v6 if "/" in v6 else f"{v6}/128")))
        return out

    def vm(self, vm_ref: Any, cluster: Ref, vlans: Mapping[str, Ref]) -> None:
        snap = self.snap
        vm = snap.vms[vm_ref]
        guest = snap.vm_guest_metrics.get(vm.guest_metrics)
        os_name = guest.os_version.get("name", "").strip() if guest is not None else ""
        machine = Ref("virtual-machine", ObjectKey(vm.uuid))
        primary: dict[int, Ref] = {}
        vifs = sorted(((r, v) for r, v in snap.vifs.items() if v.vm == vm_ref),
                      key=lambda rv: int(rv[1].device) if rv[1].device.isdigit() else 1 << 30)
        for _, vif in vifs:
            net = snap.networks.get(vif.network)
            vlan = vlans.get(net.uuid) if net is not None else None
            name = f"eth{vif.device}"
            iface = self.add("vm-interface", vif.uuid, f"VM interface {vm.name_label} {name}",
                             virtual_machine=machine, name=name, enabled=vif.currently_attached,
                             mtu=vif.mtu, mac_address=vif.mac.upper() or None,
                             mode="access" if vlan is not None else None, untagged_vlan=vlan,
                             xapi_qos_kbps=qos_kbps(vif), xapi_locking=locking(vif))
            for address in self.guest_addresses(reported_ips(vif, guest)):
                ref = self.add("ip-address", f"{vif.uuid}/{address.split('/')[0]}",
                               f"IP address {address} of {vm.name_label} {name}",
                               address=address, assigned_object_type="virtualization.vminterface",
                               assigned_object_id=iface, status="active")
                primary.setdefault(ipaddress.ip_interface(address).version, ref)
        disks = self.disks.get(vm.uuid, [])
        total = {"disk": sum(d.size // MB for d in disks) or None} if self.with_disks else {}
        self.add("virtual-machine", vm.uuid, f"virtual machine {vm.name_label}",
                 name=vm.name_label or vm.uuid, cluster=cluster,
                 status=VM_STATUS.get(str(vm.power_state), "offline"),
                 vcpus=vm.vcpus_at_startup, memory=vm.memory_static_max // MB, **total,
                 platform=self.shared("platform", os_name) if os_name else None,
                 primary_ip4=primary.get(4), primary_ip6=primary.get(6))
        for disk in disks:
            self.add("virtual-disk", disk.key, f"virtual disk {vm.name_label} {disk.name}",
                     virtual_machine=machine, name=disk.name, size=disk.size // MB)

    def guest_addresses(self, ips: Iterable[str]) -> list[str]:
        out = []
        for text in ips:
            try:
                out.append(prefix_length(text, self.prefixes))
            except ValueError:
                continue  # the guest agent reported something that is not an address
        v4 = sorted((a for a in out if ":" not in a), key=lambda a: ipaddress.ip_interface(a))
        v6 = sorted((a for a in out if ":" in a), key=lambda a: ipaddress.ip_interface(a))
        return v4 + v6


def locking(vif: Any) -> str:
    """``locking_mode``, with the allowed addresses when ``locked``."""
    mode = str(vif.locking_mode)
    allowed = [*vif.ipv4_allowed, *vif.ipv6_allowed]
    return f"{mode}: {', '.join(allowed)}" if mode == "locked" and allowed else mode


def wanted_objects(snap: PoolSnapshot, options: MappingOptions | None = None,
                   disks: Sequence[GuestDisk] | None = None) -> tuple[list[Wanted], list[NoOp]]:
    """Every NetBox object that describes the pool of ``snap`` and its VMs' ``disks``
    (``xapictl.netbox.disks.read_disks``), in creation order, and what the mapping left out
    (with the reason). Without ``disks`` (None) virtual disks and the VMs' disk totals are
    left out: not read, so neither compared nor touched."""
    return _Builder(snap, options or MappingOptions(), disks).build()


__all__ = ["FIELDS", "KIND", "KINDS", "MB", "OWNED_KINDS", "MappingOptions", "interface_type",
           "locking", "prefix_length", "qos_kbps", "slugify", "wanted_objects"]
