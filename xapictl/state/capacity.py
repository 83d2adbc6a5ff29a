"""What a snapshot holds of SR-IOV NICs only when a reader asks: the remaining virtual
functions (``network_sriov.get_remaining_capacity`` is a call per object, not a field) and the
NICs' PCI records (every host has dozens of PCI devices; only the SR-IOV NICs' are read)."""

from __future__ import annotations

import dataclasses
from typing import Any

from xapictl._log import logger
from xapictl.errors import XapiFailure
from xapictl.model.refs import NULL_REF, PCIRef
from xapictl.state.snapshot import PoolSnapshot

log = logger("xapictl.state")


def _call_all(conn: Any, calls: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
    many = getattr(conn, "call_many", None)
    return list(many(calls)) if callable(many) else [conn.call(m, *a) for m, a in calls]


def with_sriov_details(conn: Any, snap: PoolSnapshot) -> PoolSnapshot:
    """``with_sriov_capacity``, and the PCI record of each SR-IOV NIC (``PCI.get_record``,
    sent at once; none in a pool without SR-IOV): for inventories."""
    from xapictl.model.pci import PCI

    snap = with_sriov_capacity(conn, snap)
    pcis = sorted({snap.pifs[r.physical_pif].pci for r in snap.sriovs.values()
                   if r.physical_pif in snap.pifs} - {PCIRef(NULL_REF)})
    if not pcis:
        return snap
    try:
        records = _call_all(conn, [("PCI.get_record", (ref,)) for ref in pcis])
    except XapiFailure as exc:
        log.debug("PCI.get_record refused (%s): NIC models unknown", exc.code)
        return snap
    return dataclasses.replace(snap, pcis={**snap.pcis, **{
        ref: PCI.from_xapi(rec) for ref, rec in zip(pcis, records, strict=True)}})


def with_sriov_capacity(conn: Any, snap: PoolSnapshot) -> PoolSnapshot:
    """``snap`` with each network_sriov's remaining VFs (one call each, sent at once with the
    connection's ``call_many`` when it has one; no call in a pool without SR-IOV). A refusal
    leaves the capacity unknown (logged)."""
    refs = sorted(snap.sriovs)
    if not refs:
        return snap
    calls = [("network_sriov.get_remaining_capacity", (ref,)) for ref in refs]
    try:
        answers = _call_all(conn, calls)
    except XapiFailure as exc:
        log.debug("network_sriov.get_remaining_capacity refused (%s): VFs unknown", exc.code)
        return snap
    return dataclasses.replace(snap, sriov_capacity={
        ref: int(free) for ref, free in zip(refs, answers, strict=True)})


__all__ = ["with_sriov_capacity", "with_sriov_details"]
