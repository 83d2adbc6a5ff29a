"""Changes applied to a snapshot: what ``LiveSnapshot`` follows the pool with, and how a run
that writes sees the pool after its writes without reading every record again
(``xapictl.plan.backend.XapiBackend.current``).

``event.from`` with a token answers every object of the subscribed classes that changed since
the token, with its record as it is *now* (``del`` for one that is gone): applied to a
snapshot read after that token, the result is the pool now. Changes between the token and the
read are sent again; applying them again changes nothing, as each is the record as it is now.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from xapictl.model._base import record_type
from xapictl.state.snapshot import READABLE_CLASSES, PoolSnapshot

_ATTR_BY_LOWER = {name.lower(): (name, attr) for name, attr in READABLE_CLASSES.items()}


class Change(Protocol):
    """One ``event.from`` event (``xapictl.xapi.events.Event`` fits)."""

    @property
    def cls(self) -> str: ...

    @property
    def ref(self) -> str: ...

    @property
    def operation(self) -> str: ...

    @property
    def snapshot(self) -> Mapping[str, Any] | None: ...


def apply_events(snapshot: PoolSnapshot, events: Iterable[Change], token: str) -> PoolSnapshot:
    """``snapshot`` with ``events`` applied, at ``token``: a record added or changed is the
    event's copy (``event.from`` sends the object's record as it is now), a deleted one goes.
    Events of classes the snapshot does not hold are skipped. Pure: a new snapshot."""
    parts: dict[str, Any] = {}
    for event in events:
        found = _ATTR_BY_LOWER.get(event.cls.lower())
        if found is None:
            continue
        xapi_class, attr = found
        records = parts.get(attr)
        if records is None:
            records = parts[attr] = dict(getattr(snapshot, attr))
        if event.operation == "del" or event.snapshot is None:
            records.pop(event.ref, None)
        else:
            records[event.ref] = record_type(xapi_class).from_xapi(event.snapshot)
    return dataclasses.replace(snapshot, token=token, **parts)


__all__ = ["Change", "apply_events"]
