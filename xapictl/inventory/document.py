"""An inventory: the exported objects of one or many pools, as plain JSON-ready data.

Objects are dicts keyed by the field names of ``fields.OBJECT_FIELDS``; they refer to each other
by UUID only (refs are opaque and per session, so they never appear). Lists are kept sorted by
(pool, uuid) so two exports of the same state are byte-identical apart from ``generated_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import field
from typing import Any

from xapictl._frozen import Frozen, frozen
from xapictl.inventory.fields import OBJECT_TYPES, SCHEMA_VERSION

Obj = Mapping[str, Any]


def _sorted(objs: Iterable[Obj]) -> tuple[Obj, ...]:
    return tuple(sorted(objs, key=lambda o: (o.get("pool", o["uuid"]), o["uuid"])))


@frozen
class Inventory(Frozen):
    """Objects by type (``pools``, ``hosts``, ``pifs`` ...), the ``event.from`` token each pool
    was read at (so a change stream can follow on from exactly there), and when it was made."""

    objects: Mapping[str, tuple[Obj, ...]] = field(default_factory=dict)
    tokens: Mapping[str, str] = field(default_factory=dict)
    generated_at: str = ""
    schema_version: str = SCHEMA_VERSION

    def __post_init__(self) -> None:
        full = {t: _sorted(self.objects.get(t, ())) for t in OBJECT_TYPES}
        object.__setattr__(self, "objects", full)

    def of(self, object_type: str) -> tuple[Obj, ...]:
        return self.objects[object_type]

    def index(self) -> dict[tuple[str, str], Obj]:
        """Every object by (type, uuid)."""
        return {(t, o["uuid"]): o for t in OBJECT_TYPES for o in self.objects[t]}

    @property
    def pool_uuids(self) -> tuple[str, ...]:
        return tuple(p["uuid"] for p in self.objects["pools"])

    def pool_part(self, pool_uuid: str) -> Inventory:
        """Only the objects of one pool."""
        objs = {t: tuple(o for o in self.objects[t]
                         if (o["uuid"] if t == "pools" else o["pool"]) == pool_uuid)
                for t in OBJECT_TYPES}
        tokens = {k: v for k, v in self.tokens.items() if k == pool_uuid}
        return Inventory(objs, tokens, self.generated_at, self.schema_version)

    @classmethod
    def merge(cls, parts: Iterable[Inventory], generated_at: str = "") -> Inventory:
        """One inventory holding every part (pools of a fleet)."""
        objs: dict[str, list[Obj]] = {t: [] for t in OBJECT_TYPES}
        tokens: dict[str, str] = {}
        stamps = []
        for part in parts:
            for t in OBJECT_TYPES:
                objs[t] += part.objects[t]
            tokens.update(part.tokens)
            stamps.append(part.generated_at)
        return cls({t: tuple(v) for t, v in objs.items()}, tokens,
                   generated_at or max(stamps, default=""))

    def to_document(self) -> dict[str, Any]:
        """The JSON document (what ``docs/inventory.schema.json`` describes)."""
        doc: dict[str, Any] = {"schema_version": self.schema_version,
                               "generated_at": self.generated_at,
                               "tokens": dict(sorted(self.tokens.items()))}
        for t in OBJECT_TYPES:
            doc[t] = [dict(o) for o in self.objects[t]]
        return doc

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Inventory:
        from xapictl.errors import UsageError

        version = str(doc.get("schema_version", ""))
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise UsageError(f"inventory schema version {version!r} is not readable by this "
                             f"xapictl (it reads {SCHEMA_VERSION.split('.')[0]}.x)")
        return cls({t: tuple(doc.get(t, ())) for t in OBJECT_TYPES},
                   dict(doc.get("tokens", {})), str(doc.get("generated_at", "")), version)


__all__ = ["Inventory", "Obj"]
