"""The simulated pool's database: every object of every class, by ref, with XAPI's relations.

Records are plain dicts keyed by wire field name, holding typed Python values: ``int``,
``float``, ``bool``, ``str`` (refs, enums in XAPI's spelling), ``datetime`` (aware, UTC),
``list`` for sets (newest first, as XAPI returns them) and ``dict`` for maps. The wire layer
encodes them per protocol.

What this module guarantees, so that handlers do not have to:

* ``create`` fills every field from the datamodel default (or the type's zero), gives a fresh
  ``OpaqueRef:…`` and lower-case uuid;
* derived set fields (``network.PIFs``, ``host.PIFs``, ``VM.VIFs``, ``PIF.VLAN_slave_of`` …,
  REFERENCE §2.2) always mirror the reference fields they are derived from, on create, on a
  write of the ref field and on destroy — and each such change is a ``mod`` of the "one" side;
* every write bumps ``generation`` and is recorded as a change (``add``/``mod``/``del`` with the
  generation it happened at), which is what ``event.from`` reads; waiters on ``changed`` are
  woken.

One ``RLock`` guards the store. A call holds it for its whole duration (XAPI's per-call
atomicity is what clients observe); ``event.from`` waits on ``changed`` without holding it.
"""

from __future__ import annotations

import copy
import threading
import uuid as _uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from xapictl.model.schema import ClassInfo, Datamodel, datamodel
from xapictl.sim.errors import SimFailure

NULL_REF = "OpaqueRef:NULL"

Record = dict[str, Any]

# Where the datamodel alone leaves a relation ambiguous: (class, ref field) -> (class, set field).
_EXPLICIT_RELATIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("VTPM", "VM"): ("VM", "VTPMs"),
    ("VM", "snapshot_of"): ("VM", "snapshots"),
    ("VM", "parent"): ("VM", "children"),
    ("VM", "resident_on"): ("host", "resident_VMs"),
    ("Bond", "master"): ("PIF", "bond_master_of"),
    ("VLAN", "tagged_PIF"): ("PIF", "VLAN_slave_of"),
    ("tunnel", "access_PIF"): ("PIF", "tunnel_access_PIF_of"),
    ("tunnel", "transport_PIF"): ("PIF", "tunnel_transport_PIF_of"),
    ("network_sriov", "physical_PIF"): ("PIF", "sriov_physical_PIF_of"),
    ("network_sriov", "logical_PIF"): ("PIF", "sriov_logical_PIF_of"),
    ("VDI", "snapshot_of"): ("VDI", "snapshots"),
    ("VGPU", "resident_on"): ("PGPU", "resident_VGPUs"),
}


def relations(dm: Datamodel) -> dict[tuple[str, str], tuple[str, str]]:
    """(class, stored ref field) → (class, derived set field), as XAPI's ``all_relations``.

    A read-only ``B ref set`` field on class A whose element class has exactly one ``A ref``
    field is derived from it; the ambiguous ones are listed in ``_EXPLICIT_RELATIONS``.
    """
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for one in dm.classes.values():
        for set_field in one.fields.values():
            spec = set_field.spec
            if not (spec.kind == "set" and spec.item is not None and spec.item.kind == "ref"):
                continue
            if set_field.qualifier != "RO/runtime":
                continue
            many = dm.classes.get(spec.item.name)
            if many is None:
                continue
            candidates = [f.name for f in many.fields.values()
                          if f.spec.kind == "ref" and f.spec.name == one.name]
            if len(candidates) == 1:
                found[(many.name, candidates[0])] = (one.name, set_field.name)
    found.update(_EXPLICIT_RELATIONS)
    return found


@dataclass(frozen=True, slots=True)
class Change:
    """One committed change, as ``event.from`` reports it."""

    generation: int
    cls: str
    ref: str
    operation: str  # "add" | "mod" | "del"


class SimState:
    """The store. Handlers receive it through their call context and use only these methods."""

    def __init__(self, dm: Datamodel | None = None) -> None:
        self.dm = dm or datamodel()
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.generation = 0
        self._tables: dict[str, dict[str, Record]] = {name: {} for name in self.dm.classes}
        self._by_uuid: dict[str, dict[str, str]] = {name: {} for name in self.dm.classes}
        self._relations = relations(self.dm)
        self._relations_of: dict[str, list[tuple[str, str, str]]] = {}
        for (many, ref_field), (one, set_field) in self._relations.items():
            self._relations_of.setdefault(many, []).append((ref_field, one, set_field))
        # The change log: generation-ordered; pruned of superseded entries per object.
        self._changes: list[Change] = []
        self._last_change: dict[tuple[str, str], Change] = {}
        self._created_at: dict[tuple[str, str], int] = {}
        self._deleted: dict[tuple[str, str], int] = {}
        self.master_seen_by: dict[str, str] = {}
        """Member host ref -> the master address it still has (its ``pool.conf``) when that
        is not the master's ``host.address``: after the master's management interface moved
        and before ``pool.recover_slaves``. Not persisted (a restart re-reads the pool)."""

    # --- identity -------------------------------------------------------------------------

    @staticmethod
    def new_ref() -> str:
        return f"OpaqueRef:{_uuid.uuid4()}"

    @staticmethod
    def new_uuid() -> str:
        return str(_uuid.uuid4())

    def class_info(self, cls: str) -> ClassInfo:
        return self.dm.classes[cls]

    # --- reads ----------------------------------------------------------------------------

    def exists(self, cls: str, ref: str) -> bool:
        return ref in self._tables[cls]

    def get(self, cls: str, ref: str) -> Record:
        """The live record (do not mutate it: use ``set_field``). HANDLE_INVALID if absent."""
        try:
            return self._tables[cls][ref]
        except KeyError:
            raise SimFailure("HANDLE_INVALID", cls, ref) from None

    def copy(self, cls: str, ref: str) -> Record:
        """A deep copy, safe to hand to the wire layer (``get_record``, event snapshots)."""
        return copy.deepcopy(self.get(cls, ref))

    def all(self, cls: str) -> Mapping[str, Record]:
        """Every record of a class, by ref (a live view: do not mutate)."""
        return self._tables[cls]

    def refs(self, cls: str) -> list[str]:
        return list(self._tables[cls])

    def by_uuid(self, cls: str, uuid: str) -> str:
        try:
            return self._by_uuid[cls][uuid]
        except KeyError:
            raise SimFailure("UUID_INVALID", cls, uuid) from None

    def find(self, cls: str, **equal: Any) -> list[str]:
        """Refs of the records whose fields equal every given value (wire field names)."""
        return [ref for ref, rec in self._tables[cls].items()
                if all(rec.get(k) == v for k, v in equal.items())]

    def find_one(self, cls: str, **equal: Any) -> str | None:
        found = self.find(cls, **equal)
        return found[0] if found else None

    def count(self, cls: str) -> int:
        return len(self._tables[cls])

    # --- writes ---------------------------------------------------------------------------

    def create(self, cls: str, fields: Mapping[str, Any] | None = None, *,
               ref: str | None = None) -> str:
        """Insert a record: defaults for every field not given, a new ref and uuid.

        Unknown field names are a programming error (``KeyError``), not a XAPI failure.
        """
        info = self.dm.classes[cls]
        record: Record = {name: f.default() for name, f in info.fields.items()}
        for name, f in info.fields.items():
            if f.spec.kind == "set":
                record[name] = list(record[name])
        given = dict(fields or {})
        unknown = set(given) - set(info.fields)
        if unknown:
            raise KeyError(f"{cls} has no field(s) {sorted(unknown)}")
        record.update(given)
        if "uuid" in info.fields and not record.get("uuid"):
            record["uuid"] = self.new_uuid()
        ref = ref or self.new_ref()
        with self.lock:
            if ref in self._tables[cls]:
                raise KeyError(f"{cls} {ref} exists already")
            self._tables[cls][ref] = record
            if record.get("uuid"):
                self._by_uuid[cls][record["uuid"]] = ref
            gen = self._bump()
            self._created_at[(cls, ref)] = gen
            self._record(Change(gen, cls, ref, "add"))
            for ref_field, one, set_field in self._relations_of.get(cls, ()):
                self._link(one, record.get(ref_field, NULL_REF), set_field, ref, gen)
            self.changed.notify_all()
        return ref

    def set_field(self, cls: str, ref: str, field: str, value: Any) -> None:
        """Write one field; keeps relations and records a ``mod`` (even when unchanged)."""
        self.update(cls, ref, {field: value})

    def update(self, cls: str, ref: str, fields: Mapping[str, Any]) -> None:
        """Write several fields of one object as one change."""
        with self.lock:
            record = self.get(cls, ref)
            info = self.dm.classes[cls]
            unknown = set(fields) - set(info.fields)
            if unknown:
                raise KeyError(f"{cls} has no field(s) {sorted(unknown)}")
            gen = self._bump()
            rels = {rf: (one, sf) for rf, one, sf in self._relations_of.get(cls, ())}
            for field, value in fields.items():
                old = record.get(field)
                record[field] = value
                if field in rels and old != value:
                    one, set_field = rels[field]
                    self._unlink(one, old, set_field, ref, gen)
                    self._link(one, value, set_field, ref, gen)
                if field == "uuid" and old != value:
                    self._by_uuid[cls].pop(str(old), None)
                    self._by_uuid[cls][value] = ref
            self._record(Change(gen, cls, ref, "mod"))
            self.changed.notify_all()

    def touch(self, cls: str, ref: str) -> int:
        """A ``mod`` with no field change (``event.inject``). Returns the generation."""
        with self.lock:
            self.get(cls, ref)
            gen = self._bump()
            self._record(Change(gen, cls, ref, "mod"))
            self.changed.notify_all()
            return gen

    def destroy(self, cls: str, ref: str) -> None:
        """Remove a record and its back-links (a ``del``, plus ``mod`` of each linked object)."""
        with self.lock:
            record = self.get(cls, ref)
            gen = self._bump()
            for ref_field, one, set_field in self._relations_of.get(cls, ()):
                self._unlink(one, record.get(ref_field, NULL_REF), set_field, ref, gen)
            del self._tables[cls][ref]
            if record.get("uuid"):
                self._by_uuid[cls].pop(record["uuid"], None)
            self._deleted[(cls, ref)] = gen
            self._record(Change(gen, cls, ref, "del"))
            self.changed.notify_all()

    # --- relations ------------------------------------------------------------------------

    def _link(self, one: str, target: Any, set_field: str, member: str, gen: int) -> None:
        rec = self._tables[one].get(target) if isinstance(target, str) else None
        if rec is None:
            return
        members = rec.setdefault(set_field, [])
        if member not in members:
            members.insert(0, member)  # XAPI sets come back newest-first
            self._record(Change(gen, one, target, "mod"))

    def _unlink(self, one: str, target: Any, set_field: str, member: str, gen: int) -> None:
        rec = self._tables[one].get(target) if isinstance(target, str) else None
        if rec is None:
            return
        members = rec.get(set_field, [])
        if member in members:
            members.remove(member)
            self._record(Change(gen, one, target, "mod"))

    # --- the change log -------------------------------------------------------------------

    def _bump(self) -> int:
        self.generation += 1
        return self.generation

    def _record(self, change: Change) -> None:
        key = (change.cls, change.ref)
        self._last_change[key] = change
        self._changes.append(change)
        if len(self._changes) > 4 * (len(self._last_change) + 1024):
            self._compact()

    def _compact(self) -> None:
        """Drop log entries superseded by a later change of the same object."""
        latest = {id(c) for c in self._last_change.values()}
        self._changes = [c for c in self._changes if id(c) in latest]

    def changes_since(self, generation: int) -> Iterator[tuple[Change, int | None]]:
        """The last change of every object changed after ``generation``, coalesced.

        Yields ``(change, created_at)``: ``created_at`` is the generation the object was
        created at when that is known (so ``event.from`` can tell an object made after the
        token — reported as ``add`` — from one modified after it — ``mod``). Call with the
        lock held.
        """
        seen: set[tuple[str, str]] = set()
        for change in reversed(self._changes):
            if change.generation <= generation:
                break
            key = (change.cls, change.ref)
            if key in seen or self._last_change.get(key) is not change:
                continue
            seen.add(key)
            yield change, self._created_at.get(key)

    # --- whole-state copies (persistence, scenarios) ---------------------------------------

    def dump(self) -> dict[str, Any]:
        """Everything needed to rebuild the state: tables and generation (JSON-able after
        encoding datetimes, which the persistence layer does)."""
        with self.lock:
            return {"generation": self.generation,
                    "tables": copy.deepcopy({c: t for c, t in self._tables.items() if t})}

    def load(self, data: Mapping[str, Any]) -> None:
        """Replace everything with a ``dump``; the change log starts afresh at its generation."""
        with self.lock:
            self._tables = {name: {} for name in self.dm.classes}
            self._by_uuid = {name: {} for name in self.dm.classes}
            for cls, table in data["tables"].items():
                if cls not in self._tables:
                    continue
                for ref, record in table.items():
                    self._tables[cls][ref] = record
                    if record.get("uuid"):
                        self._by_uuid[cls][record["uuid"]] = ref
            self.generation = int(data["generation"])
            self._changes.clear()
            self._last_change.clear()
            self._created_at.clear()
            self._deleted.clear()
            self.master_seen_by.clear()
            self.changed.notify_all()


__all__ = ["NULL_REF", "Change", "Record", "SimFailure", "SimState", "relations"]
