"""The VMs' disks, which the pool snapshot does not read (no plan needs them): two
``get_all_records`` (VBD, VDI) of the NetBox sync's own.

Only VBDs of type Disk with a VDI count (CD drives and empty drives are not disks); a VDI's
``virtual_size`` is the disk's size.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

from xapictl.model.enums import VBDType
from xapictl.model.refs import NULL_REF
from xapictl.model.vbd import VBD
from xapictl.model.vdi import VDI
from xapictl.netbox.model import GuestDisk, ObjectKey
from xapictl.state.snapshot import PoolSnapshot


class Caller(Protocol):
    def call(self, method: str, *args: Any) -> Any: ...


def guest_disks(vbds: dict[str, VBD], vdis: dict[str, VDI],
                vm_uuids: dict[str, str]) -> tuple[GuestDisk, ...]:
    """Pure: the disks of the VMs in ``vm_uuids`` (VM ref -> UUID), by VM then userdevice.
    A disk is named after its VDI (``disk <userdevice>`` when the VDI has no name); two disks
    of one VM with the same name get `` (<userdevice>)`` each, since NetBox names a VM's disks
    once."""
    found: list[tuple[str, VBD, VDI]] = []
    for ref, vbd in vbds.items():
        vdi = vdis.get(str(vbd.vdi)) if vbd.vdi != NULL_REF else None
        if vbd.type is VBDType.DISK and vdi is not None and str(vbd.vm) in vm_uuids:
            found.append((ref, vbd, vdi))
    found.sort(key=lambda f: (vm_uuids[str(f[1].vm)], int(f[1].userdevice)
                              if f[1].userdevice.isdigit() else 1 << 30, f[1].userdevice))
    names = Counter((str(vbd.vm), vdi.name_label or f"disk {vbd.userdevice}")
                    for _, vbd, vdi in found)
    out = []
    for _, vbd, vdi in found:
        name = vdi.name_label or f"disk {vbd.userdevice}"
        if names[(str(vbd.vm), name)] > 1:
            name = f"{name} ({vbd.userdevice})"
        out.append(GuestDisk(vm_uuids[str(vbd.vm)], ObjectKey(vbd.uuid), vbd.userdevice,
                             name[:64], vdi.virtual_size))
    return tuple(out)


def read_disks(conn: Caller, snap: PoolSnapshot) -> tuple[GuestDisk, ...]:
    """The disks of the guest VMs of ``snap``, read from its pool."""
    vm_uuids = {str(ref): vm.uuid for ref, vm in snap.guest_vms().items()}
    vbds = {ref: VBD.from_xapi(rec) for ref, rec in conn.call("VBD.get_all_records").items()}
    vdis = {ref: VDI.from_xapi(rec) for ref, rec in conn.call("VDI.get_all_records").items()}
    return guest_disks(vbds, vdis, vm_uuids)


__all__ = ["Caller", "guest_disks", "read_disks"]
