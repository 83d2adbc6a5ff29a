"""The VMs' disks as NetBox sees them, from the VBD and VDI records the inventory reads
(``xapictl.inventory.disks.DiskRecords``: two ``get_all_records`` beside the snapshot, or the
change stream's records, kept current from its events).

Only VBDs of type Disk with a VDI count (CD drives and empty drives are not disks); a VDI's
``virtual_size`` is the disk's size.
"""

from __future__ import annotations

from collections import Counter

from xapictl.inventory.disks import Caller, DiskRecords
from xapictl.netbox.model import GuestDisk, ObjectKey
from xapictl.state.snapshot import PoolSnapshot


def guest_disks(snap: PoolSnapshot, records: DiskRecords) -> tuple[GuestDisk, ...]:
    """Pure: the disks of the guest VMs of ``snap``, by VM then userdevice. A disk is named
    after its VDI (``disk <userdevice>`` when the VDI has no name); two disks of one VM with
    the same name get `` (<userdevice>)`` each, since NetBox names a VM's disks once."""
    found = records.guest_disks(snap)
    names = Counter((vm, vdi.name_label or f"disk {vbd.userdevice}") for vbd, vdi, vm in found)
    out = []
    for vbd, vdi, vm in found:
        name = vdi.name_label or f"disk {vbd.userdevice}"
        if names[(vm, name)] > 1:
            name = f"{name} ({vbd.userdevice})"
        out.append(GuestDisk(vm, ObjectKey(vbd.uuid), vbd.userdevice, name[:64],
                             vdi.virtual_size))
    return tuple(out)


def read_disks(conn: Caller, snap: PoolSnapshot) -> tuple[GuestDisk, ...]:
    """The disks of the guest VMs of ``snap``, read from its pool."""
    return guest_disks(snap, DiskRecords.read(conn))


__all__ = ["Caller", "guest_disks", "read_disks"]
