"""Plan and sync a pool into NetBox.

* ``read_netbox`` — what NetBox holds for the pool: the owned objects (owner tag and
  ``xapi_pool`` custom field) by ``xapi_uuid``, the shared objects the mapping names by slug.
* ``plan_sync`` — pure: wanted objects + NetBox's objects + orphan policy → ``NetBoxPlan``.
  Only owned fields are compared and written, so what users edit elsewhere stays.
* ``sync`` — ensure the tag and custom fields, read, plan, apply with bulk requests, then read
  again and plan again: the verification, which must come back empty.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from xapictl._frozen import Frozen, frozen
from xapictl.netbox.api import NetBoxApi
from xapictl.netbox.mapping import FIELDS, KIND, KINDS, OWNED_KINDS, MappingOptions, wanted_objects
from xapictl.netbox.model import (
    OWNER_TAG,
    POOL_FIELD,
    UUID_FIELD,
    Action,
    GuestDisk,
    NetBoxId,
    NetBoxPlan,
    NoOp,
    ObjectKey,
    OrphanPolicy,
    Ref,
    Step,
    SyncReport,
    Wanted,
)
from xapictl.state.snapshot import PoolSnapshot


@frozen
class CustomField(Frozen):
    """A custom field xapictl creates when missing (and extends to the object types it is
    missing on: a NetBox synced by an older xapictl lacks the newer kinds)."""

    type: str
    description: str
    kinds: tuple[str, ...] = ()  # empty: every owned kind


CUSTOM_FIELDS: dict[str, CustomField] = {
    UUID_FIELD: CustomField("text", "XAPI UUID of the object xapictl keeps this NetBox object "
                                    "in step with"),
    POOL_FIELD: CustomField("text", "UUID of the XAPI pool the object belongs to (xapictl)"),
    "xapi_other_config": CustomField("json", "The network's other_config in XAPI (xapictl)",
                                     ("vlan",)),
    "xapi_qos_kbps": CustomField("integer", "The VIF's rate limit in kbit/s in XAPI (xapictl)",
                                 ("vm-interface",)),
    "xapi_locking": CustomField("text", "The VIF's locking mode and allowed addresses in "
                                        "XAPI (xapictl)", ("vm-interface",)),
}


@dataclass
class NetBoxState:
    """NetBox's side for one pool: JSON objects by kind and key."""

    objects: dict[str, dict[ObjectKey, dict[str, Any]]] = field(default_factory=dict)

    def id_of(self, ref: Ref) -> NetBoxId | None:
        obj = self.objects.get(ref.kind, {}).get(ref.key)
        return NetBoxId(int(obj["id"])) if obj is not None else None


_UNRESOLVED = object()


def normalise(value: Any) -> Any:
    """NetBox's JSON for a field, as the mapping writes it: nested objects → id, choices →
    value, integral floats → int, MACs upper-case, lists sorted."""
    if isinstance(value, Mapping):
        if "value" in value and "label" in value:
            return value["value"]
        return value.get("id")
    if isinstance(value, list):
        return sorted(normalise(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and len(value) == 17 and value.count(":") == 5:
        return value.upper()
    return value


def resolve(value: Any, state: NetBoxState) -> Any:
    """Refs → NetBox ids (``_UNRESOLVED`` while the target does not exist)."""
    if isinstance(value, Ref):
        found = state.id_of(value)
        return _UNRESOLVED if found is None else found
    if isinstance(value, list):
        items = [resolve(v, state) for v in value]
        return _UNRESOLVED if _UNRESOLVED in items else sorted(items)
    return value


def show(value: Any) -> str:
    """A field value for people: references as ``<kind key>``."""
    if isinstance(value, Ref):
        return f"<{value.kind} {value.key}>"
    if isinstance(value, list):
        return "[" + ", ".join(map(show, value)) + "]"
    return "null" if value is None else str(value)


def current_value(kind: str, name: str, obj: Mapping[str, Any]) -> Any:
    """The value NetBox holds for a mapped field, as the mapping writes it."""
    if name in KIND[kind].custom:
        return (obj.get("custom_fields") or {}).get(name)
    return normalise(obj.get(name))


def plan_sync(pool: str, wanted: Sequence[Wanted], state: NetBoxState,
              policy: OrphanPolicy = OrphanPolicy.DELETE,
              noops: Sequence[NoOp] = ()) -> NetBoxPlan:
    """The writes that make NetBox show ``wanted``. Pure."""
    steps: list[Step] = []
    skipped: list[NoOp] = list(noops)
    wanted_keys: dict[str, set[ObjectKey]] = defaultdict(set)
    for w in wanted:
        wanted_keys[w.kind].add(w.key)
        current = state.objects.get(w.kind, {}).get(w.key)
        if current is None:
            steps.append(Step(Action.CREATE, w.kind, w.key, w.label,
                              f"{w.label} is not in NetBox yet", dict(w.fields)))
            continue
        if not KIND[w.kind].owned:
            skipped.append(NoOp(w.kind, w.key, w.label,
                                "exists in NetBox (shared objects are used, never changed)"))
            continue
        changes, before = {}, {}
        for name, value in w.fields.items():
            have = current_value(w.kind, name, current)
            if resolve(value, state) != have:
                changes[name], before[name] = value, have
        if changes:
            what = ", ".join(f"{k} {show(before[k])} → {show(v)}" for k, v in changes.items())
            steps.append(Step(Action.UPDATE, w.kind, w.key, w.label,
                              f"differs from the pool: {what}", changes, before,
                              NetBoxId(int(current["id"]))))
        else:
            skipped.append(NoOp(w.kind, w.key, w.label, "NetBox matches the pool"))
    for kind in reversed(OWNED_KINDS):
        for key, obj in sorted(state.objects.get(kind.name, {}).items()):
            if key in wanted_keys[kind.name]:
                continue
            label = f"{kind.name} {obj.get('display') or obj.get('name') or key}"
            gone = f"{label} has no XAPI object any more ({UUID_FIELD} {key})"
            offline = {k: v for k, v in kind.offline.items() if normalise(obj.get(k)) != v}
            if policy is OrphanPolicy.DELETE:
                steps.append(Step(Action.DELETE, kind.name, key, label, gone + ": deleted",
                                  netbox_id=NetBoxId(int(obj["id"]))))
            elif policy is OrphanPolicy.MARK_OFFLINE and offline:
                steps.append(Step(Action.MARK_OFFLINE, kind.name, key, label,
                                  gone + ": marked " + ", ".join(f"{k}={show(v)}"
                                                                 for k, v in offline.items()),
                                  offline, {k: normalise(obj.get(k)) for k in offline},
                                  NetBoxId(int(obj["id"]))))
            else:
                why = ("orphan policy ignore" if policy is OrphanPolicy.IGNORE
                       else "already marked" if kind.offline
                       else f"a NetBox {kind.name} has no status to mark")
                skipped.append(NoOp(kind.name, key, label, f"{gone}: left as it is ({why})"))
    return NetBoxPlan(pool, tuple(steps), tuple(skipped))


# --- NetBox I/O ---------------------------------------------------------------------------------


def ensure_ownership_markers(api: NetBoxApi) -> int:
    """The owner tag and the two custom fields, created when missing. Returns the tag's id."""
    tags = api.all("extras/tags", f"tag {OWNER_TAG}", slug=OWNER_TAG)
    tag = tags[0] if tags else api.post("extras/tags", {
        "name": OWNER_TAG, "slug": OWNER_TAG, "color": "2196f3",
        "description": "Created and kept in step with XAPI by xapictl netbox sync"},
        f"create tag {OWNER_TAG}")
    existing = {cf["name"]: cf for cf in api.all("extras/custom-fields", "custom fields",
                                                  name=list(CUSTOM_FIELDS))}
    for name, spec in CUSTOM_FIELDS.items():
        types = [KIND[k].content_type for k in spec.kinds] or [k.content_type
                                                               for k in OWNED_KINDS]
        found = existing.get(name)
        if found is None:
            api.post("extras/custom-fields", {
                "name": name, "label": name, "type": spec.type,
                "description": spec.description, "object_types": types,
                "filter_logic": "exact", "ui_editable": "no", "required": False},
                f"create custom field {name}")
        elif missing := sorted(set(types) - set(found.get("object_types") or ())):
            api.update("extras/custom-fields", [{
                "id": found["id"], "object_types": sorted({*found["object_types"], *missing})}],
                [f"custom field {name} (add {', '.join(missing)})"])
    return int(tag["id"])


def read_netbox(api: NetBoxApi, pool_uuid: str, wanted: Sequence[Wanted],
                skip: Sequence[str] = ()) -> NetBoxState:
    """The pool's owned objects (but the kinds in ``skip``), and the shared objects
    ``wanted`` names."""
    state = NetBoxState()
    # Before the first sync the tag does not exist (nor do the custom fields to filter on).
    owned = OWNED_KINDS if api.all("extras/tags", f"tag {OWNER_TAG}", slug=OWNER_TAG) else ()
    for kind in (k for k in owned if k.name not in skip):
        found = api.all(kind.endpoint, f"{kind.name} objects of pool {pool_uuid}",
                         tag=OWNER_TAG, **{f"cf_{POOL_FIELD}": pool_uuid})
        # The pool is checked here too: a NetBox whose custom field does not cover this kind
        # yet (plan before the first sync of a newer xapictl) ignores the filter.
        state.objects[kind.name] = {
            ObjectKey(str(o["custom_fields"].get(UUID_FIELD))): o for o in found
            if (o.get("custom_fields") or {}).get(UUID_FIELD)
            and o["custom_fields"].get(POOL_FIELD) == pool_uuid}
    for kind in KINDS:
        if kind.owned:
            continue
        slugs = sorted({w.key for w in wanted if w.kind == kind.name})
        if slugs:
            found = api.all(kind.endpoint, f"{kind.name} objects", slug=slugs)
            state.objects[kind.name] = {ObjectKey(o["slug"]): o for o in found}
    return state


def read_prefixes(api: NetBoxApi) -> list[str]:
    return [p["prefix"] for p in api.all("ipam/prefixes", "prefixes", brief=1)]


def _payload(kind: str, fields: Mapping[str, Any], state: NetBoxState, *, create: bool
             ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON to send (custom fields under ``custom_fields``, which NetBox merges into what
    the object holds; derived fields left out), and the fields held back until their target
    exists."""
    out: dict[str, Any] = {}
    later: dict[str, Any] = {}
    spec = KIND[kind]
    for name, value in fields.items():
        resolved = resolve(value, state)
        if name in spec.derived:
            continue
        if resolved is _UNRESOLVED:
            later[name] = value
        elif name in spec.custom:
            out.setdefault("custom_fields", {})[name] = resolved
        elif not (create and resolved is None):
            out[name] = resolved
    return out, later


def apply_plan(api: NetBoxApi, plan: NetBoxPlan, state: NetBoxState, *, pool_uuid: str,
               tag_id: int) -> None:
    """Send the plan: creates and updates kind by kind (bulk), then the fields that waited
    for an object created later, then orphans (children first)."""
    steps_by_kind: dict[str, list[Step]] = defaultdict(list)
    for step in plan.steps:
        steps_by_kind[step.kind].append(step)
    deferred: dict[str, list[tuple[Step, dict[str, Any]]]] = defaultdict(list)
    for kind in KINDS:
        steps = steps_by_kind.get(kind.name, [])
        creates = [s for s in steps if s.action is Action.CREATE]
        if creates:
            bodies = []
            for s in creates:
                body, later = _payload(kind.name, s.changes, state, create=True)
                if kind.owned:
                    body |= {"tags": [tag_id], "custom_fields": {
                        **body.get("custom_fields", {}), UUID_FIELD: s.key,
                        POOL_FIELD: pool_uuid}}
                bodies.append(body)
                if later:
                    deferred[kind.name].append((s, later))
            made = api.create(kind.endpoint, bodies, [s.label for s in creates])
            for s, obj in zip(creates, made, strict=True):
                state.objects.setdefault(kind.name, {})[s.key] = obj
        updates = [s for s in steps if s.action is Action.UPDATE]
        if updates:
            bodies = []
            for s in updates:
                body, later = _payload(kind.name, s.changes, state, create=False)
                if later:
                    deferred[kind.name].append((s, later))
                if body:
                    bodies.append({"id": s.netbox_id, **body})
            if bodies:
                api.update(kind.endpoint, bodies, [s.label for s in updates])
    for kind in KINDS:
        pending = deferred.get(kind.name, [])
        bodies, labels = [], []
        for s, later in pending:
            body, still = _payload(kind.name, later, state, create=False)
            if still:
                continue  # its target was not made: the verification will show it
            bodies.append({"id": state.objects[kind.name][s.key]["id"], **body})
            labels.append(s.label)
        if bodies:
            api.update(KIND[kind.name].endpoint, bodies, labels)
    for kind in reversed(OWNED_KINDS):
        steps = steps_by_kind.get(kind.name, [])
        offline = [s for s in steps if s.action is Action.MARK_OFFLINE]
        if offline:
            api.update(kind.endpoint, [{"id": s.netbox_id, **s.changes} for s in offline],
                       [s.label for s in offline])
        deletes = [s for s in steps if s.action is Action.DELETE]
        if deletes:
            api.delete(kind.endpoint, [int(s.netbox_id or 0) for s in deletes],
                       [s.label for s in deletes])


@frozen
class SyncOptions(Frozen):
    mapping: MappingOptions = field(default_factory=MappingOptions)
    orphans: OrphanPolicy = OrphanPolicy.DELETE

    def for_pool(self, name: str) -> SyncOptions:
        """These options for the fleet pool ``name`` (its cluster and VLAN group are named
        after it)."""
        return dataclasses.replace(self, mapping=dataclasses.replace(self.mapping,
                                                                     pool_name=name))


def plan_pool(api: NetBoxApi, snap: PoolSnapshot, options: SyncOptions | None = None,
              disks: Sequence[GuestDisk] | None = None
              ) -> tuple[NetBoxPlan, NetBoxState, list[Wanted]]:
    """Read NetBox and plan the pool of ``snap`` and its VMs' ``disks`` (reads only; without
    ``disks`` NetBox's virtual disks are neither read nor planned)."""
    options = options or SyncOptions()
    mapping = dataclasses.replace(options.mapping, prefixes=tuple(options.mapping.prefixes)
                                  or tuple(read_prefixes(api)))
    wanted, noops = wanted_objects(snap, mapping, disks)
    state = read_netbox(api, snap.pool.uuid, wanted,
                        skip=() if disks is not None else ("virtual-disk",))
    label = options.mapping.pool_name or snap.pool.name_label or snap.pool.uuid
    return plan_sync(label, wanted, state, options.orphans, noops), state, wanted


def sync(api: NetBoxApi, snap: PoolSnapshot, options: SyncOptions | None = None,
         disks: Sequence[GuestDisk] | None = None) -> SyncReport:
    """Make NetBox show the pool of ``snap`` and its VMs' ``disks`` (``read_disks``; without
    them virtual disks are left alone); verify by planning again (``remaining``)."""
    options = options or SyncOptions()
    writes_before, requests_before = api.writes, api.requests
    tag_id = ensure_ownership_markers(api)
    plan, state, _ = plan_pool(api, snap, options, disks)
    if not plan.empty:
        apply_plan(api, plan, state, pool_uuid=snap.pool.uuid, tag_id=tag_id)
    writes = api.writes - writes_before
    remaining = plan_pool(api, snap, options, disks)[0] if writes else plan
    return SyncReport(plan, writes, api.requests - requests_before, remaining)


__all__ = ["CUSTOM_FIELDS", "FIELDS", "CustomField", "NetBoxState", "SyncOptions", "apply_plan",
           "current_value", "ensure_ownership_markers", "normalise", "plan_pool", "plan_sync",
           "read_netbox", "show", "sync"]
