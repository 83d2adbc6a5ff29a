"""NIC rediscovery on demand (``xapictl pif scan``): a ``PIF.scan`` per host, run as a plan of
``ScanPIFs`` steps so it takes the pool's write lease and goes to the audit log like any
write; returns the PIFs it found."""

from __future__ import annotations

from collections.abc import Sequence

from xapictl.errors import ApplyError
from xapictl.model.refs import HostRef, PIFRef
from xapictl.plan.apply import apply
from xapictl.plan.backend import XapiBackend
from xapictl.plan.core import Plan
from xapictl.plan.identity import host_name
from xapictl.plan.steps import ScanPIFs
from xapictl.state.snapshot import PoolSnapshot


def scan_nics(backend: XapiBackend, snap: PoolSnapshot, hosts: Sequence[HostRef]
              ) -> tuple[PoolSnapshot, list[PIFRef]]:
    """``PIF.scan`` of each of ``hosts`` (``snap``: the pool read before); the pool read
    after, and the PIFs that were not there before. ``ApplyError`` (its report saying which
    hosts were scanned) when a scan fails: an offline host answers ``HOST_OFFLINE``."""
    steps = tuple(ScanPIFs(f"NICs of {host_name(snap, h)}", "asked for by `pif scan`",
                           host=h, host_label=host_name(snap, h)) for h in hosts)
    report = apply(Plan(steps), backend)
    if not report.ok:
        failed = report.failed[0]
        raise ApplyError(f"pif scan stopped at: {failed.step.describe()}: {failed.detail}",
                         report)
    after = backend.collect()
    return after, sorted(set(after.pifs) - set(snap.pifs))


__all__ = ["scan_nics"]
