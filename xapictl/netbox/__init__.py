"""Pools into NetBox: the mapping (pure), the plan (pure), the sync (bulk writes, verified).

    from xapictl.netbox import NetBoxApi, SyncOptions, sync
    with xapictl.connect(url, password=...) as conn, NetBoxApi(nb_url, token) as api:
        report = sync(api, conn.snapshot(), SyncOptions(orphans=OrphanPolicy.MARK_OFFLINE))

docs/cmdb.md has the mapping table, field by field, and the ownership rules.
"""

from __future__ import annotations

from xapictl.netbox.api import NetBoxApi
from xapictl.netbox.mapping import FIELDS, MappingOptions, wanted_objects
from xapictl.netbox.model import Action, NetBoxPlan, OrphanPolicy, Step, SyncReport, Wanted
from xapictl.netbox.sync import SyncOptions, plan_pool, plan_sync, sync

__all__ = ["FIELDS", "Action", "MappingOptions", "NetBoxApi", "NetBoxPlan", "OrphanPolicy",
           "Step", "SyncOptions", "SyncReport", "Wanted", "plan_pool", "plan_sync", "sync",
           "wanted_objects"]
