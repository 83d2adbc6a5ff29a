"""The typed pieces of a NetBox sync: what xapictl wants in NetBox, and the plan to get there.

``Wanted`` objects come from the mapping (pure, from a pool snapshot); NetBox's own objects are
plain JSON dicts as its REST API returns them. Objects refer to each other with ``Ref`` (kind
and key), resolved to NetBox ids only when a step is sent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import field
from typing import Any, NewType

from xapictl._frozen import Frozen, frozen

# The XAPI UUID (with a suffix for derived objects: ``<vif>/<address>``, ``<pif>#mac``) kept in
# NetBox's custom field ``xapi_uuid``; for shared objects (site, manufacturer ...) their slug.
ObjectKey = NewType("ObjectKey", str)
NetBoxId = NewType("NetBoxId", int)

OWNER_TAG = "xapictl"
UUID_FIELD = "xapi_uuid"
POOL_FIELD = "xapi_pool"


@frozen
class Ref(Frozen):
    """Another NetBox object, by kind and key: its id is known only once it exists."""

    kind: str
    key: ObjectKey


@frozen
class Kind(Frozen):
    """One NetBox object type xapictl writes.

    ``owned`` kinds carry the owner tag and the custom fields and are updated and deleted by
    xapictl; shared kinds (site, manufacturer, role, platform ...) are found by slug, created
    when missing and never changed. ``offline`` is what ``mark-offline`` writes on an orphan
    (empty: nothing to mark, the orphan is left as it is)."""

    name: str
    endpoint: str
    content_type: str
    owned: bool = True
    offline: Mapping[str, Any] = field(default_factory=dict)
    custom: frozenset[str] = frozenset()
    """Fields that are NetBox custom fields (sent and read under ``custom_fields``)."""
    derived: frozenset[str] = frozenset()
    """Fields NetBox computes itself (a VM's ``disk`` from its virtual disks): compared, so
    the plan and the verification see them, never sent."""


@frozen
class GuestDisk(Frozen):
    """One disk of a VM as NetBox shows it: a VBD of type Disk and its VDI. ``key`` is the
    VBD's UUID, ``size`` the VDI's ``virtual_size`` in bytes."""

    vm_uuid: str
    key: ObjectKey
    userdevice: str
    name: str
    size: int


@frozen
class Wanted(Frozen):
    """One object as xapictl wants it in NetBox: only the fields xapictl owns."""

    kind: str
    key: ObjectKey
    label: str
    fields: Mapping[str, Any]


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    MARK_OFFLINE = "mark-offline"


class OrphanPolicy(enum.StrEnum):
    """What happens to an owned NetBox object whose XAPI object is gone."""

    DELETE = "delete"
    MARK_OFFLINE = "mark-offline"
    IGNORE = "ignore"


@frozen
class Step(Frozen):
    """One write to NetBox. ``changes`` holds the fields sent (refs unresolved), ``before``
    their values in NetBox for updates; ``netbox_id`` is set for updates and deletions."""

    action: Action
    kind: str
    key: ObjectKey
    label: str
    reason: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    before: Mapping[str, Any] = field(default_factory=dict)
    netbox_id: NetBoxId | None = None


@frozen
class NoOp(Frozen):
    kind: str
    key: ObjectKey
    label: str
    reason: str


@frozen
class NetBoxPlan(Frozen):
    """The writes that make NetBox show the pool, in the order they are sent."""

    pool: str
    steps: tuple[Step, ...]
    noops: tuple[NoOp, ...]

    @property
    def empty(self) -> bool:
        return not self.steps

    def counts(self) -> dict[str, int]:
        out = {a.value: 0 for a in Action}
        for step in self.steps:
            out[step.action.value] += 1
        return out


@frozen
class SyncReport(Frozen):
    """What a sync did: the plan it ran, the NetBox requests it sent (reads and writes), and
    what the verification found (an empty plan when NetBox matches)."""

    plan: NetBoxPlan
    writes: int
    requests: int
    remaining: NetBoxPlan | None = None


__all__ = ["OWNER_TAG", "POOL_FIELD", "UUID_FIELD", "Action", "GuestDisk", "Kind", "NetBoxId",
           "NetBoxPlan", "NoOp", "ObjectKey", "OrphanPolicy", "Ref", "Step", "SyncReport", "Wanted"]
