"""The VMs' disks (VBD and VDI records), which the pool snapshot does not read (no plan needs
them): two ``get_all_records`` read beside the snapshot, then kept current from the same
``event.from`` batches as the snapshot (``xapictl.inventory.stream``).

A disk of the inventory is a VBD of type Disk with a VDI, of a guest VM (CD drives and empty
drives are not disks); a VDI's ``virtual_size`` is the disk's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import field
from typing import Any, Protocol

from xapictl._frozen import Frozen, frozen
from xapictl.model.enums import VBDType
from xapictl.model.refs import NULL_REF, VBDRef, VDIRef
from xapictl.model.vbd import VBD
from xapictl.model.vdi import VDI
from xapictl.state.snapshot import PoolSnapshot

# The event classes the disks follow, beside the snapshot's.
DISK_CLASSES: tuple[str, ...] = ("vbd", "vdi")


class Caller(Protocol):
    def call(self, method: str, *args: Any) -> Any: ...


@frozen
class DiskRecords(Frozen):
    """Every VBD and VDI of a pool, by ref (immutable: each batch of events makes a new one)."""

    vbds: Mapping[VBDRef, VBD] = field(default_factory=dict)
    vdis: Mapping[VDIRef, VDI] = field(default_factory=dict)

    @classmethod
    def read(cls, conn: Caller) -> DiskRecords:
        return cls({VBDRef(r): VBD.from_xapi(rec)
                    for r, rec in conn.call("VBD.get_all_records").items()},
                   {VDIRef(r): VDI.from_xapi(rec)
                    for r, rec in conn.call("VDI.get_all_records").items()})

    def apply(self, events: Iterable[Any]) -> DiskRecords:
        """With a batch of ``event.from`` changes applied (other classes skipped): a record
        added or changed is the event's copy, a deleted one goes."""
        vbds: dict[VBDRef, VBD] | None = None
        vdis: dict[VDIRef, VDI] | None = None
        for event in events:
            cls = event.cls.lower()
            gone = event.operation == "del" or event.snapshot is None
            if cls == "vbd":
                vbds = dict(self.vbds) if vbds is None else vbds
                if gone:
                    vbds.pop(VBDRef(event.ref), None)
                else:
                    vbds[VBDRef(event.ref)] = VBD.from_xapi(event.snapshot)
            elif cls == "vdi":
                vdis = dict(self.vdis) if vdis is None else vdis
                if gone:
                    vdis.pop(VDIRef(event.ref), None)
                else:
                    vdis[VDIRef(event.ref)] = VDI.from_xapi(event.snapshot)
        return DiskRecords(self.vbds if vbds is None else vbds,
                           self.vdis if vdis is None else vdis)

    def guest_disks(self, snap: PoolSnapshot) -> list[tuple[VBD, VDI, str]]:
        """The disks of the guest VMs of ``snap``: (VBD, VDI, VM UUID), by VM UUID then
        userdevice."""
        vm_uuids = {str(ref): vm.uuid for ref, vm in snap.guest_vms().items()}
        found = []
        for vbd in self.vbds.values():
            vdi = self.vdis.get(VDIRef(str(vbd.vdi))) if vbd.vdi != NULL_REF else None
            if vbd.type is VBDType.DISK and vdi is not None and str(vbd.vm) in vm_uuids:
                found.append((vbd, vdi, vm_uuids[str(vbd.vm)]))
        found.sort(key=lambda f: (f[2], int(f[0].userdevice) if f[0].userdevice.isdigit()
                                  else 1 << 30, f[0].userdevice))
        return found


def disk_objects(snap: PoolSnapshot, disks: DiskRecords, pool_uuid: str) -> list[dict[str, Any]]:
    """The inventory's ``disks`` objects."""
    return [{"uuid": vbd.uuid, "pool": pool_uuid, "vm": vm, "userdevice": vbd.userdevice,
             "vdi": vdi.uuid, "name": vdi.name_label, "size": vdi.virtual_size}
            for vbd, vdi, vm in disks.guest_disks(snap)]


__all__ = ["DISK_CLASSES", "Caller", "DiskRecords", "disk_objects"]
