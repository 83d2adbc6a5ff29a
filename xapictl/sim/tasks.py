"""``Async.*`` calls as XAPI runs them: a task record, a worker, and the task's outcome (§1.10).

The task is created pending with progress 0 and ``cancel`` allowed; a worker thread waits the
configured delay (so clients can watch a pending task and cancel it), then runs the operation
(RBAC included: an under-privileged async call fails its task, not the call) and records
``success`` with ``result`` = the XML-RPC fragment of the value, whatever protocol the client
speaks, or ``failure``/``cancelled`` with ``error_info`` = ``[code, params…]``.
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from xml.sax.saxutils import escape

from xapictl.model._types import EPOCH, format_datetime
from xapictl.sim.errors import SimFailure
from xapictl.sim.state import SimState
from xapictl.sim.values import I4

log = logging.getLogger("xapictl.sim.tasks")

T = TypeVar("T")
Transact = Callable[[Callable[[], T]], T]

_ESCAPES = {'"': "&quot;"}

# Wakes a worker that is waiting out its delay when its task is cancelled (task ref -> event).
_wakeups: dict[str, threading.Event] = {}
_wakeups_lock = threading.Lock()


def xmlrpc_fragment(value: Any) -> str:
    """``value`` as XAPI's XML-RPC ``<value>`` (ints untyped, void empty) for ``task.result``."""
    return f"<value>{_inner(value)}</value>"


def _inner(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return f"<boolean>{int(value)}</boolean>"
    if isinstance(value, I4):
        return f"<i4>{int(value)}</i4>"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"<double>{value:.16g}</double>"
    if isinstance(value, _dt.datetime):
        return f"<dateTime.iso8601>{format_datetime(value)}</dateTime.iso8601>"
    if isinstance(value, list | tuple):
        return "<array><data>" + "".join(map(xmlrpc_fragment, value)) + "</data></array>"
    if isinstance(value, Mapping):
        members = "".join(
            f"<member><name>{escape(str(k), _ESCAPES)}</name>{xmlrpc_fragment(v)}</member>"
            for k, v in value.items())
        return f"<struct>{members}</struct>"
    return escape(str(value), _ESCAPES)


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0)


class TaskRunner:
    """Creates task records and runs their operations on worker threads."""

    def __init__(self, state: SimState, transact: Transact[Any]) -> None:
        self.state = state
        self.transact = transact
        self.delay = 0.0
        """Seconds a task stays pending before its operation runs (a control knob)."""
        self._threads: set[threading.Thread] = set()
        self._closing = False

    def create(self, name_label: str, host: str) -> str:
        """A pending task record (call under the state lock / transaction)."""
        return self.state.create("task", {
            "name_label": name_label,
            "name_description": "",
            "status": "pending",
            "progress": 0.0,
            "result": "",
            "error_info": [],
            "type": "<none/>",
            "created": _now(),
            "finished": EPOCH,
            "resident_on": host,
            "allowed_operations": ["cancel"],
        })

    def start(self, task: str, operation: Callable[[], Any]) -> None:
        """Run ``operation`` for ``task`` on a worker thread; it runs inside a transaction."""
        wake = threading.Event()
        with _wakeups_lock:
            _wakeups[task] = wake
        thread = threading.Thread(target=self._work, args=(task, operation, wake),
                                  name=f"sim-task-{task[-8:]}", daemon=True)
        self._threads.add(thread)
        thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the workers started so far (tests, orderly shutdown), ``timeout`` in all."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in list(self._threads):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(left)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop waiting out delays, let the workers finish, and wait for them."""
        self._closing = True
        with _wakeups_lock:
            events = list(_wakeups.values())
        for event in events:
            event.set()
        self.join(timeout)

    def _work(self, task: str, operation: Callable[[], Any], wake: threading.Event) -> None:
        try:
            if self.delay > 0:
                wake.wait(self.delay)
            self.transact(lambda: self._run(task, operation))
        except Exception:
            # The simulator is shutting down (its state file closed): the task dies with it.
            if not self._closing:
                log.exception("task %s could not complete", task)
        finally:
            with _wakeups_lock:
                _wakeups.pop(task, None)
            self._threads.discard(threading.current_thread())

    def _run(self, task: str, operation: Callable[[], Any]) -> None:
        if not self.state.exists("task", task):
            return  # destroyed while pending: nobody is waiting for it
        try:
            if self.state.get("task", task)["status"] == "cancelling":
                raise SimFailure("TASK_CANCELLED", task)
            value = operation()
        except SimFailure as failure:
            self.finish_failed(task, failure)
        except Exception as exc:  # XAPI reports any bug as INTERNAL_ERROR
            self.finish_failed(task, SimFailure("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}"))
        else:
            self.finish_ok(task, value)

    def finish_ok(self, task: str, value: Any) -> None:
        if self.state.exists("task", task):
            self.state.update("task", task, {
                "status": "success", "progress": 1.0, "finished": _now(),
                "allowed_operations": [], "result": xmlrpc_fragment(value),
            })

    def finish_failed(self, task: str, failure: SimFailure) -> None:
        if self.state.exists("task", task):
            status = "cancelled" if failure.code == "TASK_CANCELLED" else "failure"
            self.state.update("task", task, {
                "status": status, "progress": 1.0, "finished": _now(),
                "allowed_operations": [], "error_info": failure.description,
                "backtrace": "()",
            })


def wake(task: str) -> None:
    """Cut short the delay of a pending task's worker (``task.cancel``)."""
    with _wakeups_lock:
        event = _wakeups.get(task)
    if event is not None:
        event.set()


__all__ = ["TaskRunner", "wake", "xmlrpc_fragment"]
