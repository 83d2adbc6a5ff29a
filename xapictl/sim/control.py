"""The simulator's control plane: what a test or an operator changes from outside the API.

One ``Control`` sits next to a ``Simulator`` and is consulted by the HTTP layer around every
call: latency (fixed plus jitter, globally or per host), injected faults per method (answer an
error; drop the connection before processing; drop it after the change is committed but before
the reply; delay), a request log (JSON lines, passwords masked) and call counters. It also
forwards the pool-level controls (reset, scenario, host dead/alive, master change, session
expiry) to the simulator, and serves all of it as JSON on ``POST /_sim/control`` so that a
process driving the CLI can steer a server running in another process.

The batch gate (``set_batch_gate``) holds the answer of every request of an announced batch
(``xapictl._batch``) until all of its requests have been served, so requests a client sent
together always overlap in the request log: round trips counted from it
(``xapictl.sim.roundtrips``) are exact under any load.

This module is the one place in the simulator allowed to sleep (latency and delay faults) or
wait (the batch gate).
"""

from __future__ import annotations

import functools
import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal, Protocol

from xapictl._batch import parse as parse_batches
from xapictl._files import open_private
from xapictl.sim.errors import SimFailure

FaultAction = Literal["error", "drop_before", "drop_after", "delay"]
FAULT_ACTIONS: tuple[str, ...] = ("error", "drop_before", "drop_after", "delay")

MASK = "******"


class DropConnection(Exception):
    """Close the client's connection without a reply (injected fault or dead host)."""

    def __init__(self, reason: str, *, committed: bool = False) -> None:
        super().__init__(reason)
        self.committed = committed


class SimulatorLike(Protocol):
    """What the control plane and the HTTP layer need of a simulator (contract 1)."""

    def call(self, method: str, params: list[Any], *, host_address: str = ...,
             protocol: str = ..., preauth: bool = ...) -> Any: ...
    def host_addresses(self) -> dict[str, str]: ...
    def master_address(self) -> str: ...


@dataclass
class Fault:
    """One injected fault. ``method`` is matched with or without ``Async.``; ``*`` is every
    method. ``times=None`` fires for ever; otherwise it fires that many times then retires."""

    method: str
    action: FaultAction = "error"
    error: tuple[str, ...] = ("INTERNAL_ERROR", "injected fault")
    delay_ms: float = 0.0
    times: int | None = None
    host: str | None = None
    """Only calls received by this host address (``None``: any host)."""
    fired: int = 0

    def matches(self, host_address: str, method: str) -> bool:
        if self.host is not None and self.host != host_address:
            return False
        return self.method in ("*", method, method.removeprefix("Async."))

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times


@dataclass
class Latency:
    fixed_ms: float = 0.0
    jitter_ms: float = 0.0

    def draw(self) -> float:
        """Seconds to wait for one call; jitter is uniform in [0, jitter)."""
        jitter = random.uniform(0.0, self.jitter_ms) if self.jitter_ms else 0.0  # noqa: S311
        return (self.fixed_ms + jitter) / 1000.0


DEFAULT_GATE_TIMEOUT = 60.0
"""Seconds the batch gate waits for a batch's last request before it answers anyway."""


@dataclass
class _Batch:
    size: int
    arrived: int = 0
    left: int = 0
    linked: set[str] = field(default_factory=set)
    """The batches joined to this one through requests of both (a batch sent by a member of
    another, before that member's own first request: ``xapictl._batch``), itself included;
    one set object shared by all of them."""


class BatchGate:
    """A barrier per announced batch, joined with the batches it is linked to: ``wait``
    returns once every request of the request's batches, and of every batch linked to them,
    has reached it, or after ``timeout`` (then ``False``: incomplete). Linked batches are
    released together, so a batch sent from inside another overlaps all of it too."""

    def __init__(self) -> None:
        self.enabled = False
        self.timeout = DEFAULT_GATE_TIMEOUT
        self._batches: dict[str, _Batch] = {}
        self._changed = threading.Condition()

    def _arrive(self, announced: list[tuple[str, int]]) -> _Batch:
        batches = []
        for ident, size in announced:
            batch = self._batches.get(ident)
            if batch is None:
                batch = self._batches[ident] = _Batch(size, linked={ident})
            batch.arrived += 1
            batches.append(batch)
        linked = set().union(*(b.linked for b in batches))
        for ident in linked:
            self._batches[ident].linked = linked
        return batches[0]

    def _complete(self, batch: _Batch) -> bool:
        return all(self._batches[i].arrived >= self._batches[i].size for i in batch.linked)

    def wait(self, header: str | None) -> bool:
        announced = parse_batches(header)
        if not self.enabled or not announced:
            return True
        with self._changed:
            first = self._arrive(announced)
            self._changed.notify_all()
            complete = self._changed.wait_for(lambda: self._complete(first),
                                              timeout=self.timeout)
            for ident, _ in announced:
                self._batches[ident].left += 1
            if all(self._batches[i].left >= self._batches[i].size for i in first.linked):
                for ident in first.linked:
                    del self._batches[ident]
            return complete


@dataclass
class CallPlan:
    """What the control plane decided before a call: faults to apply after it."""

    drop_after: Fault | None = None


@dataclass
class LogEntry:
    time: str
    host: str
    protocol: str
    method: str
    params: list[Any]
    outcome: str
    """``success``, the XAPI error code, ``dropped``, ``malformed`` or ``internal``."""
    duration_ms: float
    extra: dict[str, Any] = field(default_factory=dict)


@functools.lru_cache(maxsize=1024)
def _secret_positions(method: str) -> tuple[int, ...]:
    """Wire positions of password-like parameters of ``method`` (session included)."""
    from xapictl.model.schema import datamodel

    name = method.removeprefix("Async.")
    splits = [name.partition(".")[::2]] if "." in name else [
        (name[:i], name[i + 1:]) for i, char in enumerate(name) if char == "_"]  # Class_msg
    msg = None
    for cls_name, message in splits:
        info = datamodel().find_class(cls_name)
        msg = info.messages.get(message) if info else None
        if msg is not None:
            break
    if msg is None:
        return ()
    offset = 1 if msg.takes_session else 0
    return tuple(offset + i for i, p in enumerate(msg.params)
                 if any(word in p.name.lower() for word in ("pass", "pwd", "secret")))


def mask_params(method: str, params: Iterable[Any]) -> list[Any]:
    """``params`` with every password-like argument replaced by ``******``."""
    masked = list(params)
    for position in _secret_positions(method):
        if position < len(masked):
            masked[position] = MASK
    return masked


class Control:
    """The control plane of one simulator. Thread-safe; shared by every listener."""

    def __init__(self, sim: SimulatorLike, *, log_file: Path | None = None,
                 log_limit: int = 10_000, sleep: Callable[[float], None] = time.sleep) -> None:
        self.sim = sim
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._latency = Latency()
        self._host_latency: dict[str, Latency] = {}
        self._log: deque[LogEntry] = deque(maxlen=log_limit)
        self._calls: Counter[str] = Counter()
        self._outcomes: Counter[str] = Counter()
        self._sleep = sleep
        self.gate = BatchGate()
        self.jsonrpc = True
        """Whether ``/jsonrpc`` speaks JSON-RPC (``set_jsonrpc``)."""
        self.token: str | None = None
        """When set, ``POST /_sim/control`` needs ``Authorization: Bearer <token>``
        (``sim serve --control token``)."""
        self._log_stream: IO[str] | None = None
        if log_file is not None:
            self._log_stream = open_private(Path(log_file))  # session refs are credentials

    def close(self) -> None:
        if self._log_stream is not None:
            self._log_stream.close()
            self._log_stream = None

    # --- latency and faults -----------------------------------------------------------------

    def set_latency(self, ms: float, jitter_ms: float = 0.0, *, host: str | None = None) -> None:
        """Add ``ms`` (+ up to ``jitter_ms``) before every call; per host address if given."""
        latency = Latency(float(ms), float(jitter_ms))
        with self._lock:
            if host is None:
                self._latency = latency
            else:
                self._host_latency[host] = latency

    def set_batch_gate(self, enabled: bool, *, timeout_s: float = DEFAULT_GATE_TIMEOUT) -> None:
        """On: the answer of each request of an announced batch waits until every request of
        that batch has been served (at most ``timeout_s``; then it is answered and logged
        ``batch_incomplete``). Off (the default): batches are answered as they come."""
        self.gate.timeout = float(timeout_s)
        self.gate.enabled = bool(enabled)

    def inject_fault(self, method: str, action: FaultAction = "error", *,
                     error: Iterable[str] = ("INTERNAL_ERROR", "injected fault"),
                     delay_ms: float = 0.0, times: int | None = None,
                     host: str | None = None) -> Fault:
        """Register a fault; returns it (``fault.fired`` counts how often it struck)."""
        if action not in FAULT_ACTIONS:
            raise ValueError(f"unknown fault action {action!r}; one of {FAULT_ACTIONS}")
        fault = Fault(method, action, tuple(str(e) for e in error), float(delay_ms), times, host)
        if not fault.error:
            raise ValueError("an error fault needs at least a code")
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def _take(self, host_address: str, method: str, actions: tuple[str, ...]) -> list[Fault]:
        with self._lock:
            taken = []
            for fault in self._faults:
                if fault.action in actions and not fault.spent and fault.matches(host_address,
                                                                                 method):
                    fault.fired += 1
                    taken.append(fault)
            self._faults = [f for f in self._faults if not f.spent]
            return taken

    def before_call(self, host_address: str, method: str, *, already: float = 0.0) -> CallPlan:
        """Run before the simulator sees a call: latency, delays, errors, early drops.
        ``already``: seconds the request has waited on its connection behind an earlier one
        (HTTP pipelining), which count towards its latency."""
        with self._lock:
            latency = self._host_latency.get(host_address, self._latency)
        wait = max(0.0, latency.draw() - already)
        for fault in self._take(host_address, method, ("delay", "error", "drop_before",
                                                       "drop_after")):
            if fault.action == "delay":
                wait += fault.delay_ms / 1000.0
            elif fault.action == "drop_before":
                if wait:
                    self._sleep(wait)
                raise DropConnection(f"injected drop before {method}")
            elif fault.action == "error":
                if wait:
                    self._sleep(wait)
                raise SimFailure(*fault.error)
            else:
                if wait:
                    self._sleep(wait)
                return CallPlan(drop_after=fault)
        if wait:
            self._sleep(wait)
        return CallPlan()

    @staticmethod
    def after_call(plan: CallPlan, method: str) -> None:
        """Run after the call committed, before the reply is sent."""
        if plan.drop_after is not None:
            raise DropConnection(f"injected drop after {method}", committed=True)

    # --- request log and counters -----------------------------------------------------------

    def record(self, *, host: str, protocol: str, method: str, params: list[Any], outcome: str,
               started: float, **extra: Any) -> None:
        # The duration is read before the time: a pause between the two reads (a busy machine)
        # then moves the logged span later, never earlier than the request really began, so
        # requests sent one after another never appear to overlap (xapictl.sim.roundtrips).
        duration_ms = round((time.perf_counter() - started) * 1000.0, 3)
        entry = LogEntry(
            time=datetime.now(UTC).isoformat(timespec="milliseconds"),
            host=host, protocol=protocol, method=method, params=mask_params(method, params),
            outcome=outcome, duration_ms=duration_ms, extra=extra)
        with self._lock:
            self._log.append(entry)
            self._calls[method] += 1
            self._outcomes[outcome] += 1
            if self._log_stream is not None:
                self._log_stream.write(json.dumps(_entry_dict(entry), default=str) + "\n")
                self._log_stream.flush()

    def request_log(self) -> list[dict[str, Any]]:
        """Every logged request, oldest first, as the JSON-lines file has them."""
        with self._lock:
            return [_entry_dict(entry) for entry in self._log]

    def methods_called(self) -> list[str]:
        """The method of every logged request, in order (for exact call-sequence asserts)."""
        with self._lock:
            return [entry.method for entry in self._log]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()
            self._calls.clear()
            self._outcomes.clear()

    def counters(self) -> dict[str, Any]:
        """``{"calls": {method: n}, "outcomes": {outcome: n}, "open_sessions": n}``."""
        with self._lock:
            calls, outcomes = dict(self._calls), dict(self._outcomes)
        count = getattr(self.sim, "open_session_count", None)
        return {"calls": calls, "outcomes": outcomes,
                "open_sessions": int(count()) if callable(count) else 0}

    # --- pool-level controls, forwarded to the simulator ------------------------------------

    def _sim_method(self, name: str) -> Callable[..., Any]:
        method = getattr(self.sim, name, None)
        if not callable(method):
            raise NotImplementedError(f"the simulator has no {name}()")
        return method  # type: ignore[no-any-return]

    def host_ref(self, host: str) -> str:
        """A host ref from a ref, an address or a name_label."""
        addresses = self.sim.host_addresses()
        if host in addresses:
            return host
        for ref, address in addresses.items():
            if address == host:
                return ref
        state = getattr(self.sim, "state", None)
        if state is not None:
            found = state.find("host", name_label=host)
            if len(found) == 1:
                return str(found[0])
        raise KeyError(f"no host {host!r}")

    def reset(self, scenario: str = "seed", **params: Any) -> None:
        self._sim_method("reset")(scenario=scenario, **params)

    def load_scenario(self, name: str, **params: Any) -> None:
        self._sim_method("load_scenario")(name, **params)

    def set_host_live(self, host: str, live: bool) -> None:
        self._sim_method("set_host_live")(self.host_ref(host), live)

    def designate_master(self, host: str) -> None:
        self._sim_method("designate_master")(self.host_ref(host))

    def expire_sessions(self) -> None:
        self._sim_method("expire_sessions")()

    def set_session_timeout(self, seconds: float) -> None:
        """End sessions left unused this long (XAPI: 24 h); their next call is
        ``SESSION_INVALID``."""
        if not hasattr(self.sim, "session_timeout"):
            raise NotImplementedError("the simulator has no session_timeout")
        self.sim.session_timeout = float(seconds)

    def set_task_delay(self, seconds: float) -> None:
        """Keep ``Async.`` tasks pending this long before they run (to test waiting/cancel)."""
        if not hasattr(self.sim, "task_delay"):
            raise NotImplementedError("the simulator has no task_delay")
        self.sim.task_delay = float(seconds)

    def set_jsonrpc(self, enabled: bool) -> None:
        """Off: every host answers as an XAPI from before JSON-RPC does. Its HTTP server picks
        the handler by longest path prefix, so ``POST /jsonrpc`` reaches the XML-RPC handler at
        ``/``, which cannot parse JSON: HTTP 500 with an HTML body (REFERENCE §1.1)."""
        self.jsonrpc = bool(enabled)

    # --- the same over HTTP -----------------------------------------------------------------

    def handle(self, request: Mapping[str, Any]) -> Any:
        """Run one JSON control request ``{"action": name, ...arguments}``; return JSON-able."""
        args = dict(request)
        action = args.pop("action", None)
        handler = _ACTIONS.get(str(action))
        if handler is None:
            raise ValueError(f"unknown control action {action!r}; one of {sorted(_ACTIONS)}")
        return handler(self, **args)


def _entry_dict(entry: LogEntry) -> dict[str, Any]:
    data = asdict(entry)
    extra = data.pop("extra")
    data.update(extra)
    return data


def _fault_action(control: Control, method: str, kind: FaultAction = "error",
                  **args: Any) -> dict[str, Any]:
    """``{"action": "fault", "method": …, "kind": "drop_after", "times": 1}``: ``kind`` is the
    fault's action, since ``action`` names the control request."""
    if "error" in args:
        args["error"] = tuple(args["error"])
    return asdict(control.inject_fault(method, kind, **args))


_ACTIONS: dict[str, Callable[..., Any]] = {
    "reset": lambda c, **a: c.reset(**a),
    "load_scenario": lambda c, name, **a: c.load_scenario(name, **a),
    "latency": lambda c, **a: c.set_latency(**a),
    "batch_gate": lambda c, enabled, **a: c.set_batch_gate(bool(enabled), **a),
    "fault": _fault_action,
    "clear_faults": lambda c: c.clear_faults(),
    "faults": lambda c: [asdict(f) for f in c.faults],
    "host_live": lambda c, host, live: c.set_host_live(host, bool(live)),
    "designate_master": lambda c, host: c.designate_master(host),
    "expire_sessions": lambda c: c.expire_sessions(),
    "session_timeout": lambda c, seconds: c.set_session_timeout(seconds),
    "task_delay": lambda c, seconds: c.set_task_delay(seconds),
    "jsonrpc": lambda c, enabled: c.set_jsonrpc(enabled),
    "log": lambda c: c.request_log(),
    "clear_log": lambda c: c.clear_log(),
    "counters": lambda c: c.counters(),
}


# Answered by the dispatcher itself rather than by a class handler (they take no session).
_DISPATCHER_METHODS = frozenset({"session.login_with_password",
                                 "session.slave_local_login_with_password"})


def coverage_table() -> str:
    """A Markdown table of what the simulator implements per class (docs/simulator.md).

    *Real semantics*: messages with a class handler (XAPI's checks, errors and side effects).
    *Generic*: the messages XAPI generates (getters, RW setters, map and set mutators,
    ``get_all*``, ``get_by_*``, generated constructors), answered from the datamodel.
    *Not implemented*: the remaining custom messages, which answer ``NOT_IMPLEMENTED``. Built
    from the engine's own method table, so it cannot go stale.
    """
    from xapictl.sim import engine  # noqa: F401 - registers every class handler
    from xapictl.sim.dispatch import methods

    rows: dict[str, tuple[set[str], list[int]]] = {}
    for wire_name, info in methods().items():
        if "." not in wire_name:
            continue  # the Class_message aliases
        handled, counts = rows.setdefault(info.cls.name, (set(), [0, 0]))
        if info.handler is not None or wire_name in _DISPATCHER_METHODS:
            handled.add(info.message)
        elif info.generic:
            counts[0] += 1
        else:
            counts[1] += 1
    lines = ["| class | real semantics | generic | not implemented |", "|---|---|---|---|"]
    others, other_counts = 0, [0, 0]
    for cls in sorted(rows, key=str.lower):
        handled, (generic, missing) = rows[cls]
        if not handled:
            others += 1
            other_counts[0] += generic
            other_counts[1] += missing
            continue
        names = ", ".join(f"`{m}`" for m in sorted(handled, key=str.lower))
        lines.append(f"| `{cls}` | {names} | {generic} | {missing} |")
    lines.append(f"| {others} other classes | — | {other_counts[0]} | {other_counts[1]} |")
    return "\n".join(lines) + "\n"


COVERAGE_BEGIN, COVERAGE_END = "<!-- coverage:begin -->", "<!-- coverage:end -->"


def update_coverage_doc(path: Path = Path("docs/simulator.md")) -> bool:
    """Rewrite the table between the coverage markers of ``path``; True if it changed."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(COVERAGE_BEGIN, 1)
    _, tail = rest.split(COVERAGE_END, 1)
    updated = f"{head}{COVERAGE_BEGIN}\n{coverage_table()}{COVERAGE_END}{tail}"
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


__all__ = [
    "COVERAGE_BEGIN",
    "COVERAGE_END",
    "FAULT_ACTIONS",
    "CallPlan",
    "Control",
    "DropConnection",
    "Fault",
    "FaultAction",
    "Latency",
    "LogEntry",
    "SimulatorLike",
    "coverage_table",
    "mask_params",
    "update_coverage_doc",
]
