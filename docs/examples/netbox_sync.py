"""Keep NetBox in step with a pool from your own code: plan, show, sync, verify.

    XAPI_PASSWORD=... NETBOX_TOKEN=nbt_... python docs/examples/netbox_sync.py \\
        https://pool.example https://netbox.example

(the NetBox tests run this file against a simulated pool and a real NetBox:
tests/netbox/test_netbox_sync.py).
"""

from __future__ import annotations

import os
import sys

import xapictl
from xapictl.netbox import (
    MappingOptions,
    NetBoxApi,
    OrphanPolicy,
    SyncOptions,
    plan_pool,
    read_disks,
    sync,
)
from xapictl.xapi.credentials import PasswordSource


def main(pool_url: str, netbox_url: str, password: str, site: str | None = None) -> list[str]:
    token = PasswordSource.parse("env:NETBOX_TOKEN").resolve(pool=netbox_url)
    options = SyncOptions(MappingOptions(site=site), OrphanPolicy.MARK_OFFLINE)
    out = []
    with xapictl.connect(pool_url, password=password) as conn, \
            NetBoxApi(netbox_url, token) as netbox:
        snap = conn.snapshot()
        disks = read_disks(conn, snap)  # VBDs and VDIs: the snapshot does not read them
        plan, _, _ = plan_pool(netbox, snap, options, disks)  # reads only
        out += [f"{s.action.value} {s.label}: {s.reason}" for s in plan.steps[:3]]
        report = sync(netbox, snap, options, disks)  # bulk writes, then a second plan
        out.append(f"{report.writes} writes; verified: "
                   f"{report.remaining is not None and report.remaining.empty}")
    return out


if __name__ == "__main__":
    print("\n".join(main(sys.argv[1], sys.argv[2], os.environ["XAPI_PASSWORD"])))
