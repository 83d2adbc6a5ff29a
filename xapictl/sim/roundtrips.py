"""Dependent round trips, counted from the simulator's request log: the one definition.

Every round-trip figure of the benchmarks (``docs/bench/``) and every round-trip budget a test
holds comes from :func:`round_trips`; nothing else counts them.

**The definition.** Each logged request is an interval of server time, ``[start, end]``: ``end``
is its ``time`` field (when the answer was ready), ``start`` is ``end - duration_ms`` (when the
request arrived; injected latency included, as it is spent inside the request). The dependent
round trips are the longest chain of requests each of which arrived only after the previous
one had been answered: a client cannot have waited on more answers one after another than
that. It is found greedily (the request answered first, then the first answered among those
that arrived after it, and so on), so requests in flight together, however many (a parallel
fan-out of 64 ``get_record``), count as **one** round trip, and a long request running
beside others (a long-poll, a slow read) hides none of the round trips made meanwhile.

Each request belongs to a round trip, :func:`groups`: the first round trip holds the requests
that arrived before the chain's first answer, the second those that arrived after it and
before the second, and so on.

**Pipelined requests.** A client may send requests back to back on one connection without
waiting for the answers in between (HTTP pipelining). The simulator serves them in order, as
XAPI does, and a request that had wholly arrived while an earlier one of its connection was
being served is logged ``pipelined`` with its span starting then (its latency too): it
travelled with that one, so the two overlap and count as one round trip. A request that
arrived only after the earlier answer is a round trip of its own, as above.

**Resolution.** The log's ``time`` has millisecond resolution (truncated), so two requests sent
one after the other can appear to overlap by up to a millisecond; overlaps shorter than
``slack_ms`` (default 2 ms) are not counted as overlaps. The simulator reads a request's duration
before its time, and logs it before it answers, so a pause of the busy machine can only move
a logged span later than the request really began: requests sent one after another are never
joined, however loaded the machine. Count round trips with injected latency well above the
slack (the benchmarks use 50 ms); without latency, calls of a few microseconds may not
overlap at all even when they were sent together.

**Exact under any load: the batch gate.** With latency alone, a request a busy machine
schedules later than its sibling's answer (a pause longer than the latency) is counted as a
round trip of its own. The client announces the requests it sends together
(``xapictl._batch``: a header naming the batch and its size); with the simulator's batch gate on
(``Control.set_batch_gate(True)``, ``sim serve --batch-gate``) the answer of each waits until
every request of its batch has been served, so siblings always overlap in the log and the count
is exact whatever the scheduling, latency or none. The announcement is checked, not trusted: a
batch whose requests were not really in flight together never completes, its requests are
answered after the gate's timeout and logged ``batch_incomplete``, and :func:`round_trips` and
:func:`groups` then raise ``IncompleteBatch``.

It reads only the fields the log has always had (``time``, ``duration_ms``): a log written with
``xapictl sim serve --request-log`` counts the same as ``Control.request_log()``.
"""

from __future__ import annotations

import bisect
import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

DEFAULT_SLACK_MS = 2.0


class IncompleteBatch(AssertionError):
    """The log has a request of an announced batch whose siblings did not all arrive while it
    was held: the client announced a batch it did not send in parallel."""


def _checked(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    log = list(entries)
    broken = [e for e in log if e.get("batch_incomplete")]
    if broken:
        raise IncompleteBatch(
            f"{len(broken)} request(s) of an announced batch answered before the batch was "
            f"complete (the batch gate's timeout): {[str(e['method']) for e in broken]} "
            f"of batch {broken[0].get('batch')}")
    return log


def interval(entry: Mapping[str, Any]) -> tuple[float, float]:
    """``(start, end)`` of one log entry, in seconds since the epoch (server time)."""
    end = _dt.datetime.fromisoformat(str(entry["time"])).timestamp()
    return end - float(entry["duration_ms"]) / 1000.0, end


def _chain(spans: list[tuple[float, float]], slack: float) -> list[int]:
    """Indexes into ``spans`` of the longest chain of requests each arriving after the
    previous one's answer, in order."""
    chain: list[int] = []
    for index in sorted(range(len(spans)), key=lambda i: (spans[i][1], spans[i][0])):
        if not chain or spans[index][0] >= spans[chain[-1]][1] - slack:
            chain.append(index)
    return chain


def groups(entries: Iterable[Mapping[str, Any]], *,
           slack_ms: float = DEFAULT_SLACK_MS) -> list[list[Mapping[str, Any]]]:
    """The log's requests by round trip, in order; each round trip's requests in the order
    they arrived. There are :func:`round_trips` of them."""
    slack = slack_ms / 1000.0
    log = sorted(((interval(e), e) for e in _checked(entries)), key=lambda item: item[0][0])
    spans = [span for span, _ in log]
    chain = _chain(spans, slack)
    ends = [spans[i][1] for i in chain]
    place = {index: k for k, index in enumerate(chain)}
    found: list[list[Mapping[str, Any]]] = [[] for _ in chain]
    for index, ((start, _), entry) in enumerate(log):
        if index not in place:  # after the chain's answers back before it arrived
            place[index] = min(bisect.bisect_right(ends, start + slack), len(chain) - 1)
        found[place[index]].append(entry)
    return found


def round_trips(entries: Iterable[Mapping[str, Any]], *,
                slack_ms: float = DEFAULT_SLACK_MS) -> int:
    """The number of dependent round trips in a request log (see the module's definition)."""
    return len(_chain([interval(e) for e in _checked(entries)], slack_ms / 1000.0))
