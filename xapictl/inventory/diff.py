"""Comparing two inventories, and replaying changes onto one. Pure.

``diff(old, new)`` gives the changes that turn ``old`` into ``new``; ``apply(old, changes)``
gives ``new`` back. The change stream emits exactly these changes, so a CMDB that applies them
to its copy of an export holds what the pool holds.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import field
from typing import Any

from xapictl._frozen import Frozen, frozen
from xapictl.inventory.document import Inventory, Obj
from xapictl.inventory.fields import OBJECT_TYPES, PLURAL, SINGULAR


class Op(enum.StrEnum):
    ADD = "add"
    MOD = "mod"
    DEL = "del"


@frozen
class Change(Frozen):
    """One object added, modified or deleted. ``record`` is the new record (the last known one
    for ``del``); ``fields`` names what a ``mod`` changed, as ``{field: [old, new]}``."""

    op: Op
    object: str
    uuid: str
    record: Obj
    fields: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": str(self.op), "object": self.object, "uuid": self.uuid,
                               "record": dict(self.record)}
        if self.fields:
            out["fields"] = {k: list(v) for k, v in self.fields.items()}
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Change:
        return cls(Op(raw["op"]), raw["object"], raw["uuid"], raw["record"],
                   {k: (v[0], v[1]) for k, v in raw.get("fields", {}).items()})

    def describe(self) -> str:
        name = self.record.get("name_label") or self.record.get("device") or ""
        label = f"{self.object} {self.uuid}" + (f" ({name})" if name else "")
        if self.op is Op.MOD:
            what = ", ".join(f"{k}: {o!r} -> {n!r}" for k, (o, n) in self.fields.items())
            return f"~ {label}: {what}"
        return f"{'+' if self.op is Op.ADD else '-'} {label}"


def diff(old: Inventory, new: Inventory) -> list[Change]:
    """Changes from ``old`` to ``new``, by object type in document order, then by UUID.

    Adds come in dependency order (pools before hosts before PIFs ...) and deletes in reverse,
    so replaying them never refers to an object that is not there.
    """
    adds_mods: list[Change] = []
    dels: list[Change] = []
    for t in OBJECT_TYPES:
        before = {o["uuid"]: o for o in old.of(t)}
        after = {o["uuid"]: o for o in new.of(t)}
        kind = SINGULAR[t]
        for uuid in sorted(after):
            rec = after[uuid]
            if uuid not in before:
                adds_mods.append(Change(Op.ADD, kind, uuid, rec))
            else:
                changed = {k: (before[uuid].get(k), v) for k, v in rec.items()
                           if before[uuid].get(k) != v}
                changed.update({k: (v, None) for k, v in before[uuid].items() if k not in rec})
                if changed:
                    adds_mods.append(Change(Op.MOD, kind, uuid, rec, changed))
        dels += [Change(Op.DEL, kind, uuid, before[uuid])
                 for uuid in sorted(before) if uuid not in after]
    return adds_mods + list(reversed(dels))


def apply(base: Inventory, changes: Iterable[Change], *, tokens: Mapping[str, str] | None = None,
          generated_at: str | None = None) -> Inventory:
    """``base`` with the changes replayed. ``add`` of a present object and ``mod`` of an absent
    one both store the record: the last word wins, as it does in XAPI's own event model."""
    tables: dict[str, dict[str, Obj]] = {t: {o["uuid"]: o for o in base.of(t)}
                                          for t in OBJECT_TYPES}
    for ch in changes:
        table = tables[PLURAL[ch.object]]
        if ch.op is Op.DEL:
            table.pop(ch.uuid, None)
        else:
            table[ch.uuid] = dict(ch.record)
    return Inventory({t: tuple(v.values()) for t, v in tables.items()},
                     {**base.tokens, **(tokens or {})},
                     base.generated_at if generated_at is None else generated_at)


__all__ = ["Change", "Op", "apply", "diff"]
