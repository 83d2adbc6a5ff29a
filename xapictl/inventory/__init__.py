"""Network inventory for CMDB sync: export (JSON, NDJSON, CSV) with a versioned schema,
comparison of two exports, drift between the hosts of a pool, and a change stream.

Everything here but ``stream`` is pure: it reads ``PoolSnapshot`` objects or exports.
"""

from __future__ import annotations

from xapictl.inventory.diff import Change, Op, apply, diff
from xapictl.inventory.document import Inventory
from xapictl.inventory.drift import DriftKind, Finding, drift, pool_drift
from xapictl.inventory.export import export_snapshot
from xapictl.inventory.fields import OBJECT_TYPES, SCHEMA_VERSION

__all__ = ["OBJECT_TYPES", "SCHEMA_VERSION", "Change", "DriftKind", "Finding", "Inventory", "Op",
           "apply", "diff", "drift", "export_snapshot", "pool_drift"]
