"""The inventory format, declared once: object types, their fields, and each field's kind.

Everything else reads this table: the exporter fills the fields in this order, the JSON Schema in
``docs/inventory.schema.json`` is generated from it, CSV columns follow it, and ``diff`` compares
by it. Changing a field means bumping ``SCHEMA_VERSION`` (additions: minor; anything else: major).
"""

from __future__ import annotations

import enum

from xapictl._frozen import Frozen, frozen

SCHEMA_VERSION = "1.3"


class Kind(enum.StrEnum):
    """The value kinds a field can hold; ``?`` kinds may also be null."""

    STRING = "string"
    UUID = "uuid"
    UUID_OR_NULL = "uuid?"
    INT = "int"
    INT_OR_NULL = "int?"
    BOOL = "bool"
    BOOL_OR_NULL = "bool?"
    STRINGS = "strings"
    UUIDS = "uuids"
    INT_BY_UUID = "int-by-uuid"


@frozen
class Field(Frozen):
    name: str
    kind: Kind
    doc: str


def _f(name: str, kind: Kind, doc: str) -> Field:
    return Field(name, kind, doc)


K = Kind
_POOL = _f("pool", K.UUID, "UUID of the pool the object belongs to.")
_HOST = _f("host", K.UUID, "UUID of the host the object lives on.")

# Object type (plural, as in the document) → fields, in output order. ``uuid`` is always first.
OBJECT_FIELDS: dict[str, tuple[Field, ...]] = {
    "pools": (
        _f("uuid", K.UUID, "Pool UUID."),
        _f("name_label", K.STRING, "Pool name."),
        _f("master", K.UUID_OR_NULL, "UUID of the master (coordinator) host."),
        _f("source", K.STRING, "The fleet entry or URL the pool was read from."),
    ),
    "hosts": (
        _f("uuid", K.UUID, "Host UUID."),
        _POOL,
        _f("name_label", K.STRING, "Host name."),
        _f("hostname", K.STRING, "Host name as the host reports it."),
        _f("address", K.STRING, "Management address."),
        _f("is_master", K.BOOL, "Whether the host is the pool master."),
        _f("enabled", K.BOOL, "Whether the host accepts new VMs."),
        _f("live", K.BOOL_OR_NULL, "Liveness from host_metrics (null when unknown)."),
        _f("manufacturer", K.STRING, "BIOS string system-manufacturer (since 1.3)."),
        _f("model", K.STRING, "BIOS string system-product-name (since 1.3)."),
        _f("serial", K.STRING, "BIOS string system-serial-number (since 1.3)."),
        _f("product_brand", K.STRING, "software_version product_brand: XCP-ng, XenServer "
                                      "(since 1.3)."),
        _f("product_version", K.STRING, "software_version product_version (since 1.3)."),
    ),
    "pifs": (
        _f("uuid", K.UUID, "PIF UUID."),
        _POOL,
        _HOST,
        _f("device", K.STRING, "Device name (eth0, bond0; VLAN PIFs carry the trunk's name)."),
        _f("mac", K.STRING, "MAC address."),
        _f("mtu", K.INT, "MTU the PIF runs with."),
        _f("vlan", K.INT_OR_NULL, "VLAN tag, null for untagged PIFs."),
        _f("physical", K.BOOL, "Whether the PIF is a physical NIC."),
        _f("network", K.UUID_OR_NULL, "UUID of the network the PIF connects to."),
        _f("bond_master_of", K.UUID_OR_NULL, "UUID of the bond this PIF is the master of."),
        _f("bond_slave_of", K.UUID_OR_NULL, "UUID of the bond this PIF is a member of."),
        _f("vlan_master_of", K.UUID_OR_NULL, "UUID of the VLAN this PIF is the untagged end of."),
        _f("currently_attached", K.BOOL, "Whether the PIF is plugged."),
        _f("carrier", K.BOOL_OR_NULL, "Link carrier from PIF_metrics (null when unknown)."),
        _f("speed", K.INT_OR_NULL, "Link speed in Mbit/s from PIF_metrics (null when unknown)."),
        _f("management", K.BOOL, "Whether the host's management interface is on this PIF."),
        _f("ip_configuration_mode", K.STRING, "None, DHCP or Static."),
        _f("ip", K.STRING, "IPv4 address (static or as configured)."),
        _f("netmask", K.STRING, "IPv4 netmask."),
        _f("gateway", K.STRING, "IPv4 gateway."),
        _f("dns", K.STRING, "DNS servers, comma separated as XAPI keeps them."),
        _f("ipv6_configuration_mode", K.STRING, "None, DHCP, Static or Autoconf."),
        _f("ipv6", K.STRINGS, "IPv6 addresses."),
        _f("ipv6_gateway", K.STRING, "IPv6 gateway."),
    ),
    "networks": (
        _f("uuid", K.UUID, "Network UUID."),
        _POOL,
        _f("name_label", K.STRING, "Network name (not unique in XAPI)."),
        _f("name_description", K.STRING, "Network description."),
        _f("bridge", K.STRING, "Bridge name on every host."),
        _f("mtu", K.INT, "MTU configured on the network."),
        _f("managed", K.BOOL, "Whether XAPI manages the bridge."),
        _f("purpose", K.STRINGS, "Network purposes (nbd, insecure_nbd)."),
        _f("default_locking_mode", K.STRING, "unlocked or disabled."),
        _f("vlan_tags", K.INT_BY_UUID, "VLAN tag of the network's PIF, by host UUID."),
        _f("tags", K.STRINGS, "User tags."),
        _f("other_config", K.STRINGS, "The network's other_config as key=value, sorted "
                                      "(since 1.3)."),
    ),
    "vlans": (
        _f("uuid", K.UUID, "VLAN UUID."),
        _POOL,
        _HOST,
        _f("tag", K.INT, "VLAN tag."),
        _f("tagged_pif", K.UUID_OR_NULL, "UUID of the trunk PIF."),
        _f("untagged_pif", K.UUID_OR_NULL, "UUID of the VLAN PIF."),
        _f("network", K.UUID_OR_NULL, "UUID of the VLAN's network."),
    ),
    "bonds": (
        _f("uuid", K.UUID, "Bond UUID."),
        _POOL,
        _HOST,
        _f("master", K.UUID_OR_NULL, "UUID of the bond's PIF."),
        _f("slaves", K.UUIDS, "UUIDs of the member PIFs, sorted."),
        _f("primary_slave", K.UUID_OR_NULL, "UUID of the primary member (active-backup)."),
        _f("mode", K.STRING, "balance-slb, active-backup or lacp."),
        _f("properties", K.STRINGS, "The bond's properties as key=value, sorted (LACP: "
           "hashing_algorithm, lacp-time, lacp-aggregation-key, lacp-fallback-ab). Since 1.1."),
        _f("links_up", K.INT, "Members with carrier."),
        _f("network", K.UUID_OR_NULL, "UUID of the bond's network."),
    ),
    "tunnels": (
        _f("uuid", K.UUID, "Tunnel UUID."),
        _POOL,
        _HOST,
        _f("access_pif", K.UUID_OR_NULL, "UUID of the tunnel's access PIF."),
        _f("transport_pif", K.UUID_OR_NULL, "UUID of the PIF the tunnel runs over."),
        _f("protocol", K.STRING, "gre or vxlan."),
        _f("active", K.BOOL, "Whether the tunnel is up (status:active)."),
        _f("network", K.UUID_OR_NULL, "UUID of the tunnel's network."),
    ),
    "sriovs": (
        _f("uuid", K.UUID, "network_sriov UUID."),
        _POOL,
        _HOST,
        _f("physical_pif", K.UUID_OR_NULL, "UUID of the NIC's PIF SR-IOV is enabled on."),
        _f("logical_pif", K.UUID_OR_NULL, "UUID of the SR-IOV logical PIF."),
        _f("network", K.UUID_OR_NULL, "UUID of the SR-IOV network."),
        _f("configuration_mode", K.STRING, "sysfs, modprobe, manual or unknown."),
        _f("requires_reboot", K.BOOL, "Whether the host must reboot before the VFs exist."),
        _f("nic", K.STRING, "The NIC's PCI vendor and device ids (8086:10fb), which XAPI "
                            "compares across an SR-IOV network; \"\" when not read (since 1.2)."),
        _f("vfs_free", K.INT_OR_NULL, "Virtual functions no VM holds "
                                      "(network_sriov.get_remaining_capacity; since 1.2)."),
        _f("vfs_total", K.INT_OR_NULL, "vfs_free plus the VFs held by VIFs of VMs running on "
                                       "the host (since 1.2)."),
    ),
    "vifs": (
        _f("uuid", K.UUID, "VIF UUID."),
        _POOL,
        _f("vm", K.UUID, "UUID of the VM."),
        _f("device", K.STRING, "Device index in the VM (0, 1, ...)."),
        _f("mac", K.STRING, "MAC address."),
        _f("mtu", K.INT, "MTU the VIF runs with."),
        _f("network", K.UUID_OR_NULL, "UUID of the network."),
        _f("currently_attached", K.BOOL, "Whether the VIF is plugged."),
        _f("locking_mode", K.STRING, "network_default, locked, unlocked or disabled."),
        _f("ipv4_allowed", K.STRINGS, "IPv4 addresses allowed when locked."),
        _f("ipv6_allowed", K.STRINGS, "IPv6 addresses allowed when locked."),
        _f("reported_ips", K.STRINGS, "Addresses the guest agent reports for this device."),
        _f("ipv4_addresses", K.STRINGS, "Static IPv4 configuration (address/length; since "
                                        "1.3)."),
        _f("ipv6_addresses", K.STRINGS, "Static IPv6 configuration (address/length; since "
                                        "1.3)."),
        _f("qos_kbps", K.INT_OR_NULL, "Rate limit in kbit/s (QoS ratelimit with a numeric "
                                      "kbps), null without one (since 1.3)."),
    ),
    "vms": (
        _f("uuid", K.UUID, "VM UUID."),
        _POOL,
        _f("name_label", K.STRING, "VM name."),
        _f("power_state", K.STRING, "Halted, Paused, Running or Suspended."),
        _f("host", K.UUID_OR_NULL, "UUID of the host the VM runs on (null when not resident)."),
        _f("tags", K.STRINGS, "User tags."),
        _f("vcpus", K.INT, "VCPUs_at_startup (since 1.3)."),
        _f("memory", K.INT, "memory_static_max in bytes (since 1.3)."),
        _f("os", K.STRING, "Guest OS name the guest agent reports (\"\" without one; since "
                           "1.3)."),
    ),
    "disks": (
        _f("uuid", K.UUID, "VBD UUID (VBDs of type Disk with a VDI, of guest VMs; only when "
                           "the disks were read: `inventory watch --disks`; since 1.3)."),
        _POOL,
        _f("vm", K.UUID, "UUID of the VM."),
        _f("userdevice", K.STRING, "Device position in the VM (0, 1, ...)."),
        _f("vdi", K.UUID, "UUID of the VDI."),
        _f("name", K.STRING, "The VDI's name."),
        _f("size", K.INT, "The VDI's virtual size in bytes."),
    ),
}

OBJECT_TYPES: tuple[str, ...] = tuple(OBJECT_FIELDS)

# The singular each object type is called by in NDJSON lines and change events.
SINGULAR: dict[str, str] = {
    "pools": "pool", "hosts": "host", "pifs": "pif", "networks": "network", "vlans": "vlan",
    "bonds": "bond", "tunnels": "tunnel", "sriovs": "sriov", "vifs": "vif", "vms": "vm",
    "disks": "disk",
}
PLURAL: dict[str, str] = {v: k for k, v in SINGULAR.items()}


def field_names(object_type: str) -> tuple[str, ...]:
    return tuple(f.name for f in OBJECT_FIELDS[object_type])


__all__ = ["OBJECT_FIELDS", "OBJECT_TYPES", "PLURAL", "SCHEMA_VERSION", "SINGULAR", "Field",
           "Kind", "field_names"]
