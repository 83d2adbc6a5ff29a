"""Pools into NetBox: the mapping (pure), the plan (pure), the sync (bulk writes, verified).

    from xapictl.netbox import NetBoxApi, OrphanPolicy, SyncOptions, read_disks, sync
    with xapictl.connect(url, password=...) as conn, NetBoxApi(nb_url, token) as api:
        snap = conn.snapshot()
        report = sync(api, snap, SyncOptions(orphans=OrphanPolicy.MARK_OFFLINE),
                      read_disks(conn, snap))

``watch`` (with a ``WatchCheckpoint``) follows the pool's inventory change stream
(``xapictl.inventory.stream``); ``watch_fleet`` follows many pools into one NetBox.

docs/cmdb.md has the mapping table, field by field, and the ownership rules.
"""

from __future__ import annotations

from xapictl.netbox.api import NetBoxApi
from xapictl.netbox.disks import read_disks
from xapictl.netbox.mapping import FIELDS, MappingOptions, wanted_objects
from xapictl.netbox.model import (
    Action,
    GuestDisk,
    NetBoxPlan,
    OrphanPolicy,
    Step,
    SyncReport,
    Wanted,
)
from xapictl.netbox.sync import SyncOptions, plan_pool, plan_sync, sync
from xapictl.netbox.watch import FleetWatch, WatchCheckpoint, WatchedPool, watch, watch_fleet

__all__ = ["FIELDS", "Action", "FleetWatch", "GuestDisk", "MappingOptions", "NetBoxApi",
           "NetBoxPlan", "OrphanPolicy", "Step", "SyncOptions", "SyncReport", "Wanted",
           "WatchCheckpoint", "WatchedPool", "plan_pool", "plan_sync", "read_disks", "sync",
           "wanted_objects", "watch", "watch_fleet"]
