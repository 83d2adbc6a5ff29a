"""Dependent round trips, counted from the simulator's request log: the one definition.

Every round-trip figure of the benchmarks (``docs/bench/``) and every round-trip budget a test
holds comes from :func:`round_trips`; nothing else counts them.

**The definition.** Each logged request is an interval of server time, ``[start, end]``: ``end``
is its ``time`` field (when the answer was ready), ``start`` is ``end - duration_ms`` (when the
request arrived; injected latency included, as it is spent inside the request). Requests
whose intervals overlap were in flight together: they are **one** round trip, however many
they are (a parallel fan-out of 64 ``get_record`` costs one). Overlap is transitive: the
intervals are merged into groups, and each group of overlapping requests is one round trip.
The count is the number of groups. A request that starts only after every request before it
has ended is a new round trip: it depended on (or at least waited for) the previous answers.

**Resolution.** The log's ``time`` has millisecond resolution, so two requests sent one after
the other can appear to overlap by up to a millisecond. Overlaps shorter than ``slack_ms``
(default 2 ms) do not join two groups. Count round trips with injected latency well above the
slack (the benchmarks use 50 ms); without latency, calls of a few microseconds may not
overlap at all even when they were sent together.

It reads only the fields the log has always had (``time``, ``duration_ms``): a log written with
``xapictl sim serve --request-log`` counts the same as ``Control.request_log()``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

DEFAULT_SLACK_MS = 2.0



def interval(entry: Mapping[str, Any]) -> tuple[float, float]:
    """``(start, end)`` of one log entry, in seconds since the epoch (server time)."""
    end = _dt.datetime.fromisoformat(str(entry["time"])).timestamp()
    return end - float(entry["duration_ms"]) / 1000.0, end


def groups(entries: Iterable[Mapping[str, Any]], *,
           slack_ms: float = DEFAULT_SLACK_MS) -> list[list[Mapping[str, Any]]]:
    """The log's requests grouped into round trips (overlapping requests together), in time
    order; each group in the order its requests started."""
    spans = sorted(((interval(e), e) for e in entries), key=lambda item: item[0][0])
    slack = slack_ms / 1000.0
    found: list[list[Mapping[str, Any]]] = []
    group_end = float("-inf")
    for (start, end), entry in spans:
        if found and start < group_end - slack:
            found[-1].append(entry)
            group_end = max(group_end, end)
        else:
            found.append([entry])
            group_end = end
    return found


def round_trips(entries: Iterable[Mapping[str, Any]], *,
                slack_ms: float = DEFAULT_SLACK_MS) -> int:
    """The number of dependent round trips in a request log (see the module's definition)."""
    return len(groups(entries, slack_ms=slack_ms))
