"""Ready-made pools for the simulator (contract 2): ``build(state, name, **params)``.

* ``seed`` — a 3-host pool as the classic XenServer documentation sets one up: ``eth0`` the
  management interface with static addresses, ``eth1`` a trunk port with no networks on it
  yet, ``eth2`` for storage; the Host internal management network and one pool-wide network
  per NIC position (``xenbr0``..``xenbr2``) as a freshly installed pool has them
  (REFERENCE §7A); control domains; a handful of VMs, some running with PV drivers, some
  halted, one HVM guest without drivers, all with a VIF on the management network; each VM
  has a system disk (a VBD of type Disk on a VDI of a shared SR), ``db-01`` a data disk too,
  the HVM guests an empty CD drive.
* ``single`` — the same with one host.
* ``sriov`` — ``seed`` whose ``eth1`` NICs can do SR-IOV (capability ``sriov`` and the PCI
  record of an Intel 82599, as ``xapi_pci_helpers`` reports them); ``hosts`` as for seed.
* ``loopback`` — ``seed`` whose addresses a client on this machine can reach: each host's
  management interface (``eth0``) has the loopback address the host answers on
  (``127.0.0.1/8``, ``127.0.0.2/8`` …, so ``host.address`` is its management IP as in XAPI)
  and its storage NIC ``eth2`` ``127.0.2.11/8``, ``127.0.2.12/8`` …: moving management onto
  the storage network (``host.management_reconfigure``) and back is served end to end.
* ``big`` — parametric, for benchmarks (``hosts``, ``nics``, ``vms``, ``vlans``, ``vifs``).

Hosts answer on loopback: the master at ``127.0.0.1``, members at ``127.0.0.2`` …, since
clients connect to ``host.address``. The IP configuration inside the pool uses documentation
ranges (192.0.2.0/24, 198.51.100.0/24): data only, never contacted.

Physical PIFs are made exactly as ``PIF.introduce`` makes them and VLANs as ``VLAN.create``
does, so a scenario is indistinguishable from a pool built through the API.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xapictl.sim.classes import _guests as guests
from xapictl.sim.classes import _nics, _pif_kinds, vlan
from xapictl.sim.classes import network as networks
from xapictl.sim.classes import pif as pifs
from xapictl.sim.classes.vif import generate_mac
from xapictl.sim.state import NULL_REF, SimState

HIMN_OTHER_CONFIG = {
    "is_guest_installer_network": "true",
    "is_host_internal_management_network": "true",
    "ip_begin": "169.254.0.1",
    "ip_end": "169.254.255.254",
    "netmask": "255.255.0.0",
}
SOFTWARE_VERSION = {
    "product_brand": "XCP-ng",
    "product_version": "8.3.0",
    "product_version_text": "8.3",
    "product_version_text_short": "8.3",
    "platform_name": "XCP",
    "platform_version": "3.4.0",
    "build_number": "cloud",
    "xapi": "25.34",
    "xapi_build": "25.34.0",
    "xen": "4.17.5-6",
    "linux": "4.19.0+1",
    "network_backend": "openvswitch",
    "db_schema": "5.786",
}
# What dmidecode gives a host's bios_strings on a rack server (xenapi.json: host.bios_strings, RO);
# the serial number is per host (bios_strings_of).
BIOS_STRINGS = {
    "bios-vendor": "Dell Inc.",
    "bios-version": "1.14.1",
    "system-manufacturer": "Dell Inc.",
    "system-product-name": "PowerEdge R650",
    "system-version": "",
    "baseboard-manufacturer": "Dell Inc.",
    "baseboard-product-name": "0PJ5X4",
    "baseboard-version": "A01",
    "hp-rombios": "",
    "oem-1": "Xen",
    "oem-2": "MS_VM_CERT/SHA1/bdbeb6e0a816d43fa6d3fe8aaef04c2bad9d3e3d",
}
API_VERSION = (2, 21)
POOL_RESTRICTIONS = {
    "restrict_vswitch_controller": "false",
    "restrict_vif_locking": "false",
    "restrict_guest_ip_setting": "false",
    "restrict_network_sriov": "false",
    "restrict_lab": "false",
}
PV_DRIVERS_VERSION = {"major": "9", "minor": "4", "micro": "0", "build": "146"}
_EPOCH_BOOT = _dt.datetime(2026, 1, 5, 8, 0, tzinfo=_dt.UTC)
_GIB = 1024 ** 3


@dataclass(frozen=True, slots=True)
class GuestSpec:
    """A VM of the seed pool: where it runs and what its guest agent reports."""

    name: str
    power_state: str
    host_index: int = 0
    hvm: bool = False
    pv_drivers: bool = True
    ip_suffix: int = 0
    disks_gib: tuple[int, ...] = (20,)


SEED_GUESTS = (
    GuestSpec("web-01", "Running", host_index=0, ip_suffix=101),
    GuestSpec("web-02", "Running", host_index=1, ip_suffix=102),
    GuestSpec("db-01", "Running", host_index=2, ip_suffix=103, disks_gib=(20, 100)),
    GuestSpec("win-app-01", "Running", host_index=2, hvm=True, pv_drivers=False),
    GuestSpec("build-01", "Halted"),
    GuestSpec("backup-01", "Halted", hvm=True),
)


def host_address(index: int) -> str:
    """The loopback address host ``index`` (0 = master) answers on."""
    return f"127.0.0.{index + 1}"


def _mac(host_index: int, nic_index: int) -> str:
    # A vendor prefix as a real NIC has (Intel), unique per host and NIC.
    return f"00:1b:21:{(host_index >> 8) & 0xFF:02x}:{host_index & 0xFF:02x}:{nic_index:02x}"


def bios_strings_of(index: int) -> dict[str, str]:
    """Host ``index``'s BIOS strings: the shared model, its own serial (service tag)."""
    serial = f"SIM{index + 1:04d}X"
    return {**BIOS_STRINGS, "system-serial-number": serial,
            "baseboard-serial-number": f".{serial}."}


# --- building blocks ---------------------------------------------------------------------------


def create_pool(state: SimState, name: str) -> str:
    return state.create("pool", {"name_label": name, "restrictions": dict(POOL_RESTRICTIONS),
                                 "other_config": {"memory-ratio-hvm": "0.25",
                                                  "memory-ratio-pv": "0.25"}})


def create_himn(state: SimState) -> str:
    """Made through ``network.create`` with bridge "" and then renamed: it consumes one
    ``xapi<N>`` value, as on a real first boot."""
    networks.pick_bridge(state)
    return state.create("network", {"name_label": "Host internal management network",
                                    "name_description": "Network on which guests will be "
                                    "assigned a private link-local IP address which can be used "
                                    "to talk XenAPI", "bridge": "xenapi", "MTU": 1500,
                                    "other_config": dict(HIMN_OTHER_CONFIG)})


def create_host(state: SimState, index: int, name: str) -> str:
    """A host with live metrics and its control domain; no PIFs yet."""
    metrics = state.create("host_metrics", {"live": True, "memory_total": 256 * _GIB,
                                            "memory_free": 200 * _GIB,
                                            "last_updated": _EPOCH_BOOT})
    host = state.create("host", {
        "name_label": name, "name_description": "Default install", "hostname": name,
        "address": host_address(index), "enabled": True, "metrics": metrics,
        "software_version": {**SOFTWARE_VERSION, "hostname": name},
        "bios_strings": bios_strings_of(index),
        "API_version_major": API_VERSION[0], "API_version_minor": API_VERSION[1],
        "API_version_vendor": "XenSource", "memory_overhead": 2 * _GIB,
        "sched_policy": "credit", "capabilities": ["xen-3.0-x86_64", "hvm-3.0-x86_64"],
        "cpu_info": {"cpu_count": "32", "socket_count": "2", "vendor": "GenuineIntel"},
        "other_config": {"agent_start_time": "1767600000.", "iscsi_iqn": ""},
    })
    dom0 = state.create("VM", {
        "metrics": vm_metrics(state, memory=8 * _GIB, vcpus=16, running=True, hvm=False),
        "name_label": f"Control domain on host: {name}",
        "name_description": "The domain which manages physical devices and manages other "
        "domains", "power_state": "Running", "is_control_domain": True, "resident_on": host,
        "domid": 0, "domain_type": "pv", "memory_static_max": 8 * _GIB,
        "memory_dynamic_max": 8 * _GIB, "memory_target": 8 * _GIB, "VCPUs_max": 16,
        "VCPUs_at_startup": 16,
    })
    state.set_field("VM", dom0, "other_config",
                    {"storage_driver_domain": dom0, "is_system_domain": "true"})
    state.set_field("host", host, "control_domain", dom0)
    return host


def add_nics(state: SimState, host: str, host_index: int, count: int) -> list[str]:
    """One physical PIF per NIC, as ``PIF.introduce`` creates them (all brought up at boot)."""
    refs = []
    for position in range(count):
        nic = _nics.Nic(f"eth{position}", _mac(host_index, position), position,
                        speed=10000 if position != 1 else 25000)
        _nics.add(state, host, nic)
        pif = pifs.introduce_pif(state, host, nic)
        _pif_kinds.bring_up(state, pif)
        refs.append(pif)
    return refs


def configure_static(state: SimState, pif: str, ip: str, *, netmask: str = "255.255.255.0",
                     gateway: str = "", dns: str = "", management: bool = False) -> None:
    state.update("PIF", pif, {"ip_configuration_mode": "Static", "IP": ip, "netmask": netmask,
                              "gateway": gateway, "DNS": dns, "management": management})


def vm_metrics(state: SimState, *, memory: int, vcpus: int, running: bool, hvm: bool) -> str:
    """The VM_metrics object every VM has (``VM.metrics``)."""
    return state.create("VM_metrics", {
        "memory_actual": memory if running else 0, "VCPUs_number": vcpus if running else 0,
        "start_time": _EPOCH_BOOT, "install_time": _EPOCH_BOOT, "last_updated": _EPOCH_BOOT,
        "hvm": hvm, "current_domain_type": ("hvm" if hvm else "pv") if running else "unspecified",
        "state": ["running"] if running else []})


def create_guest(state: SimState, spec: GuestSpec, host: str, network: str,
                 vif_count: int = 1, extra_networks: tuple[str, ...] = ()) -> str:
    """A VM as ``VM.create`` makes it (with ``mac_seed``), its VIFs, its guest metrics."""
    running = spec.power_state == "Running"
    metrics = NULL_REF
    if running or spec.pv_drivers:
        other = {"feature-static-ip-setting": "1"} if spec.pv_drivers else {}
        address = f"192.0.2.{spec.ip_suffix}"
        networks_seen = ({"0/ip": address, "0/ipv4/0": address}
                         if spec.pv_drivers and spec.ip_suffix else {})
        metrics = state.create("VM_guest_metrics", {
            "live": running, "PV_drivers_detected": spec.pv_drivers,
            "PV_drivers_up_to_date": spec.pv_drivers,
            "PV_drivers_version": dict(PV_DRIVERS_VERSION) if spec.pv_drivers else {},
            "os_version": ({"name": "Windows Server 2022", "distro": "windows"} if spec.hvm
                           else {"name": "Debian GNU/Linux 12", "distro": "debian"}),
            "networks": networks_seen, "other": other, "last_updated": _EPOCH_BOOT})
    seed = str(uuid.uuid4())
    vm = state.create("VM", {
        "metrics": vm_metrics(state, memory=4 * _GIB, vcpus=2, running=running, hvm=spec.hvm),
        "name_label": spec.name, "power_state": spec.power_state,
        "resident_on": host if running else NULL_REF,
        "domid": _next_domid(state, host) if running else -1,
        "domain_type": "hvm" if spec.hvm else "pv",
        "HVM_boot_policy": "BIOS order" if spec.hvm else "",
        "HVM_boot_params": {"order": "cd"} if spec.hvm else {},
        "PV_bootloader": "" if spec.hvm else "pygrub",
        "memory_static_max": 4 * _GIB, "memory_dynamic_max": 4 * _GIB,
        "memory_dynamic_min": 2 * _GIB, "memory_static_min": _GIB, "memory_target": 4 * _GIB,
        "VCPUs_max": 2, "VCPUs_at_startup": 2, "guest_metrics": metrics,
        "actions_after_shutdown": "destroy", "actions_after_reboot": "restart",
        "actions_after_crash": "restart",
        "other_config": {"mac_seed": seed, "base_template_name": "Debian Bookworm 12"},
    })
    for device in range(vif_count):
        target = network if device == 0 or not extra_networks else \
            extra_networks[(device - 1) % len(extra_networks)]
        vif = {"device": str(device), "network": target, "VM": vm,
               "MAC": generate_mac(seed, device), "MAC_autogenerated": True, "MTU": 1500,
               "currently_attached": running, "status_code": 0,
               "metrics": state.create("VIF_metrics", {}), "locking_mode": "network_default",
               "current_operations": {}}
        vif["allowed_operations"] = guests.vif_allowed_operations(
            state, {**vif, "currently_attached": running})
        state.create("VIF", vif)
    add_disks(state, vm, spec)
    return vm


def create_sr(state: SimState, name: str = "Shared storage") -> str:
    """The pool's shared SR (an NFS SR as ``SR.create`` leaves it: its records only)."""
    return state.create("SR", {"name_label": name, "type": "nfs", "content_type": "user",
                               "shared": True, "physical_size": 4096 * _GIB})


def add_disks(state: SimState, vm: str, spec: GuestSpec) -> None:
    """A VDI and a Disk VBD per ``spec.disks_gib`` (``xvda``, ``xvdb`` …, userdevice 0, 1 …),
    on the pool's first SR; HVM guests also get an empty CD drive (userdevice 3), as
    templates give them."""
    srs = state.refs("SR")
    sr = srs[0] if srs else create_sr(state)
    running = spec.power_state == "Running"
    for position, size in enumerate(spec.disks_gib):
        vdi = state.create("VDI", {
            "name_label": f"{spec.name} {'system' if position == 0 else f'data {position}'}",
            "SR": sr, "virtual_size": size * _GIB, "physical_utilisation": size * _GIB // 4,
            "type": "system" if position == 0 else "user", "managed": True})
        state.create("VBD", {"VM": vm, "VDI": vdi, "userdevice": str(position),
                             "device": f"xvd{'abcdefgh'[position]}" if running else "",
                             "bootable": position == 0, "mode": "RW", "type": "Disk",
                             "currently_attached": running})
    if spec.hvm:
        state.create("VBD", {"VM": vm, "userdevice": "3", "device": "hdd" if running else "",
                             "mode": "RO", "type": "CD", "empty": True,
                             "currently_attached": running})


def _next_domid(state: SimState, host: str) -> int:
    return 1 + max((int(r["domid"]) for r in state.all("VM").values()
                    if r["resident_on"] == host), default=0)


# --- the scenarios -----------------------------------------------------------------------------


def build_documented_pool(state: SimState, hosts: int = 3, *,
                          guests_spec: tuple[GuestSpec, ...] = SEED_GUESTS) -> None:
    """``seed`` with ``hosts`` hosts (``single`` is one host)."""
    create_pool(state, "seed-pool" if hosts > 1 else "single-pool")
    create_himn(state)
    host_refs = []
    for index in range(hosts):
        host = create_host(state, index, f"xcp-host-{index + 1:02d}")
        eth0, _eth1, eth2 = add_nics(state, host, index, 3)
        configure_static(state, eth0, f"192.0.2.{11 + index}", gateway="192.0.2.1",
                         dns="192.0.2.53,192.0.2.54", management=True)
        configure_static(state, eth2, f"198.51.100.{11 + index}")
        host_refs.append(host)
    pool = state.refs("pool")[0]
    state.set_field("pool", pool, "master", host_refs[0])
    management = management_network(state, host_refs[0])
    for spec in guests_spec:
        host = host_refs[spec.host_index % len(host_refs)]
        create_guest(state, spec, host, management)


def build_big(state: SimState, hosts: int = 64, nics: int = 8, vms: int = 500,
              vlans: int = 500, vifs: int = 2000) -> None:
    """A large pool for benchmarks. ``vlans`` counts VLAN objects: VLAN networks (tags from
    100) are laid over ``eth1`` of every host until that many exist; ``vifs`` are spread over
    ``vms`` VMs on the management network and the VLAN networks; two VMs in three run."""
    create_pool(state, "big-pool")
    create_himn(state)
    host_refs = []
    for index in range(hosts):
        host = create_host(state, index, f"xcp-big-{index + 1:03d}")
        made = add_nics(state, host, index, max(nics, 1))
        configure_static(state, made[0], f"10.{index // 250}.{index % 250}.10",
                         netmask="255.0.0.0", gateway="10.0.0.1", dns="10.0.0.53",
                         management=True)
        host_refs.append(host)
    state.set_field("pool", state.refs("pool")[0], "master", host_refs[0])
    management = management_network(state, host_refs[0])
    vlan_networks = _big_vlans(state, host_refs, vlans) if nics > 1 else []
    per_vm, extra = divmod(vifs, vms) if vms else (0, 0)
    for i in range(vms):
        running = i % 3 != 2
        spec = GuestSpec(f"vm-{i:05d}", "Running" if running else "Halted",
                         host_index=i % len(host_refs))
        create_guest(state, spec, host_refs[spec.host_index], management,
                     vif_count=per_vm + (1 if i < extra else 0),
                     extra_networks=tuple(vlan_networks))


def _big_vlans(state: SimState, host_refs: list[str], count: int) -> list[str]:
    eth1 = {h: pifs_on(state, h, "eth1") for h in host_refs}
    made, tag, networks_made = 0, 100, []
    while made < count and tag <= vlan.MAX_TAG:
        network = state.create("network", {"name_label": f"VLAN {tag}",
                                           "bridge": networks.pick_bridge(state),
                                           "other_config": {}})
        networks_made.append(network)
        for host in host_refs:
            if made >= count:
                break
            _, untagged = vlan.create_records(state, eth1[host], tag, network)
            _pif_kinds.bring_up(state, untagged)
            made += 1
        tag += 1
    return networks_made


def management_network(state: SimState, host: str) -> str:
    return str(state.get("PIF", pifs_on(state, host, "eth0"))["network"])


def pifs_on(state: SimState, host: str, device: str) -> str:
    for ref in state.get("host", host)["PIFs"]:
        record = state.get("PIF", ref)
        if record["device"] == device and record["VLAN"] == -1:
            return str(ref)
    raise KeyError(f"no {device} on {host}")


def _seed(state: SimState, **params: Any) -> None:
    build_documented_pool(state, int(params.get("hosts", 3)))


SRIOV_PCI = {"vendor_id": "8086", "device_id": "10fb", "class_id": "0200",
             "class_name": "Ethernet controller", "vendor_name": "Intel Corporation",
             "device_name": "82599ES 10-Gigabit SFI/SFP+ Network Connection",
             "subsystem_vendor_id": "8086", "subsystem_vendor_name": "Intel Corporation",
             "subsystem_device_id": "000c",
             "subsystem_device_name": "Ethernet Server Adapter X520-2", "driver_name": "ixgbe"}
"""The PCI record of the scenarios' SR-IOV NICs (``update_pcis``); enabling SR-IOV adds the
NIC's VFs (``_nics.Nic.vfs``, 8) as records of their own (``_pci``)."""


def make_sriov_capable(state: SimState, host: str, device: str) -> str:
    """Give ``device`` of ``host`` what an SR-IOV capable NIC has in XAPI: the capability
    ``sriov`` and its PCI record (``PIF.PCI``), which ``network_sriov.create`` compares."""
    pif = pifs_on(state, host, device)
    pci = state.create("PCI", {**SRIOV_PCI, "host": host, "pci_id": "0000:03:00.1"})
    state.update("PIF", pif, {"capabilities": ["sriov"], "PCI": pci})
    return pif


def _sriov(state: SimState, **params: Any) -> None:
    _seed(state, **params)
    for host in state.refs("host"):
        make_sriov_capable(state, host, "eth1")


LOOPBACK_STORAGE = "127.0.2.{}"
"""The ``loopback`` scenario's storage addresses (host index + 11)."""


def _loopback(state: SimState, **params: Any) -> None:
    _seed(state, **params)
    for index, host in enumerate(state.refs("host")):
        configure_static(state, pifs_on(state, host, "eth0"), host_address(index),
                         netmask="255.0.0.0", management=True)
        configure_static(state, pifs_on(state, host, "eth2"),
                         LOOPBACK_STORAGE.format(11 + index), netmask="255.0.0.0")


def _single(state: SimState, **params: Any) -> None:
    build_documented_pool(state, 1)


def _big(state: SimState, **params: Any) -> None:
    build_big(state, **{k: int(v) for k, v in params.items()})


SCENARIOS: dict[str, Callable[..., None]] = {"seed": _seed, "single": _single, "big": _big,
                                             "sriov": _sriov, "loopback": _loopback}


def build(state: SimState, name: str, **params: Any) -> None:
    """Fill an empty ``state`` with scenario ``name``; ``KeyError`` for an unknown name."""
    try:
        builder = SCENARIOS[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
    with state.lock:
        # A new pool is a freshly started xapi: bridge counter and NIC inventory start over.
        networks.restart_counter(state)
        _nics.forget_all(state)
        builder(state, **params)


__all__ = ["LOOPBACK_STORAGE", "SCENARIOS", "GuestSpec", "add_disks", "build", "build_big",
           "build_documented_pool", "create_sr", "host_address", "make_sriov_capable"]
