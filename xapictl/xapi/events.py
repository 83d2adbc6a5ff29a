"""``event.from``: the change feed tasks and live snapshots follow.

``EventFeed(session).next(classes, token, timeout)`` makes one call and returns an
``EventBatch``: the events (class, ref, ``add``/``mod``/``del``, the wire snapshot), the new
token, and the row counts. The HTTP read timeout is stretched past the call's own timeout,
since ``event.from`` legitimately blocks that long. Snapshots stay wire dicts here; the typed
layer turns them into records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any

from xapictl._frozen import Frozen, frozen
from xapictl.errors import ProtocolError
from xapictl.xapi.session import XapiSession

# Grace beyond event.from's own timeout before the HTTP read gives up.
READ_GRACE = 15.0


@frozen
class Event(Frozen):
    """One change. ``snapshot`` is the object's record as ``get_record`` gives it (absent
    for ``del``)."""

    cls: str
    """Lower-case class name, as event.from sends it (``vif``, ``pif``, ``task``)."""
    ref: str
    operation: str
    """``add``, ``mod`` or ``del``."""
    snapshot: Mapping[str, Any] | None = None
    id: str = ""


@frozen
class EventBatch(Frozen):
    """One ``event.from`` answer: its events, the next token, the counts of valid refs."""

    events: tuple[Event, ...]
    token: str
    valid_ref_counts: Mapping[str, int] = field(default_factory=dict)


class EventFeed:
    """``event.from`` calls over one session."""

    def __init__(self, session: XapiSession) -> None:
        self._session = session

    def next(self, classes: Sequence[str], token: str = "", timeout: float = 30.0) -> EventBatch:
        """Block until something in ``classes`` changed after ``token`` (or ``timeout``)."""
        return parse_batch(self.next_wire(classes, token, timeout))

    def next_wire(self, classes: Sequence[str], token: str = "", timeout: float = 30.0
                  ) -> Any:
        """``next``'s answer as it came (``parse_batch`` or ``adds_by_class`` read it)."""
        return self._session.call("event.from", [list(classes), token, float(timeout)],
                                  read_timeout=float(timeout) + READ_GRACE)

    def token_now(self, pool_ref: str) -> str:
        """A token at the current database generation (``event.inject`` on the pool, as
        xen-api does): reading after it and following from it loses nothing."""
        return str(self._session.call("event.inject", ["pool", pool_ref]))


def parse_batch(raw: Any) -> EventBatch:
    """Read an ``event.from`` answer of either protocol."""
    if not isinstance(raw, Mapping) or "token" not in raw:
        raise ProtocolError("event.from answer is not an event batch")
    events = []
    for item in raw.get("events", []):
        snapshot = item.get("snapshot")
        if type(snapshot) is not dict and not isinstance(snapshot, Mapping):  # dict: no ABC
            snapshot = None
        events.append(Event(cls=str(item.get("class", "")), ref=str(item.get("ref", "")),
                            operation=str(item.get("operation", "")), snapshot=snapshot,
                            id=str(item.get("id", ""))))
    counts = {str(k): int(v) for k, v in dict(raw.get("valid_ref_counts", {})).items()}
    return EventBatch(tuple(events), str(raw["token"]), counts)


def adds_by_class(raw: Any, classes: Sequence[str]
                  ) -> tuple[str, dict[str, dict[str, Mapping[str, Any]]]]:
    """``(token, {class: {ref: wire record}})`` of an ``event.from`` answer with the empty
    token, which reports every object of ``classes`` as an ``add`` with its record. What
    ``parse_batch`` then a loop over its events gives, without an ``Event`` per record (a
    pool's read is hundreds of them, and a fleet reads hundreds of pools). Anything else in
    the answer is refused by name."""
    if not isinstance(raw, Mapping) or "token" not in raw:
        raise ProtocolError("event.from answer is not an event batch")
    by_lower = {c.lower(): c for c in classes}
    records: dict[str, dict[str, Mapping[str, Any]]] = {c: {} for c in classes}
    for item in raw.get("events", []):
        name = by_lower.get(str(item.get("class", "")).lower())
        snapshot = item.get("snapshot")
        if name is None or (type(snapshot) is not dict and not isinstance(snapshot, Mapping)):
            raise ProtocolError(f"event.from with the empty token answered "
                                f"{item.get('operation', '')} {item.get('class', '')} "
                                f"{item.get('ref', '')}: expected an add with its record for "
                                f"one of {', '.join(classes)}")
        records[name][str(item.get("ref", ""))] = snapshot
    return str(raw["token"]), records


__all__ = ["Event", "EventBatch", "EventFeed", "adds_by_class", "parse_batch"]
