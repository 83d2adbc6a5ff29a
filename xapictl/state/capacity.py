"""The remaining virtual functions of each SR-IOV NIC: ``network_sriov.get_remaining_capacity``
is a call per object, not a field, so a snapshot holds it only when a reader asks for it."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from xapictl.errors import XapiFailure
from xapictl.state.snapshot import PoolSnapshot

log = logging.getLogger("xapictl.state")


def with_sriov_capacity(conn: Any, snap: PoolSnapshot) -> PoolSnapshot:
    """``snap`` with each network_sriov's remaining VFs (one call each, sent at once with the
    connection's ``call_many`` when it has one; no call in a pool without SR-IOV). A refusal
    leaves the capacity unknown (logged)."""
    refs = sorted(snap.sriovs)
    if not refs:
        return snap
    calls = [("network_sriov.get_remaining_capacity", (ref,)) for ref in refs]
    many = getattr(conn, "call_many", None)
    try:
        answers = many(calls) if callable(many) else [conn.call(m, *a) for m, a in calls]
    except XapiFailure as exc:
        log.debug("network_sriov.get_remaining_capacity refused (%s): VFs unknown", exc.code)
        return snap
    return dataclasses.replace(snap, sriov_capacity={
        ref: int(free) for ref, free in zip(refs, answers, strict=True)})


__all__ = ["with_sriov_capacity"]
