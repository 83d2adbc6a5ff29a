"""``Async.*`` calls as first-class tasks.

``start_task(session, method, params)`` sends ``Async.<method>`` and returns a ``TaskHandle``.
``handle.wait(timeout)`` follows the task through ``event.from`` on ``task/<ref>`` (no
polling): it returns the result decoded from the XML-RPC fragment XAPI stores in
``task.result``, raises ``TaskFailed`` (with the typed ``XapiFailure`` of ``error_info``),
``TaskCancelled`` or ``TaskTimeout``; a finished task is destroyed (``task.destroy``).
``handle.cancel()`` asks XAPI to cancel it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from xapictl._log import logger
from xapictl.errors import (
    TaskCancelled,
    TaskError,
    TaskFailed,
    TaskTimeout,
    TransportError,
    XapiFailure,
)
from xapictl.xapi.events import EventFeed
from xapictl.xapi.retry import Deadline
from xapictl.xapi.session import XapiSession

log = logger("xapictl.tasks")

DONE = frozenset({"success", "failure", "cancelled"})
# Longest single event.from wait; the deadline is re-checked between waits.
EVENT_SLICE = 30.0


class TaskHandle:
    """A running ``Async.*`` call. ``record`` is the last task record seen (wire form)."""

    def __init__(self, session: XapiSession, ref: str, method: str, *,
                 decode: Callable[[Any], Any] = lambda value: value) -> None:
        self.session = session
        self.ref = ref
        self.method = method
        self._decode = decode
        self.record: Mapping[str, Any] = {}
        self._destroyed = False

    def __repr__(self) -> str:
        return f"TaskHandle({self.method!r}, {self.ref!r}, status={self.status!r})"

    @property
    def status(self) -> str:
        return str(self.record.get("status", "pending"))

    def cancel(self) -> None:
        """``task.cancel``: XAPI cancels it if the operation allows (``TASK_CANCELLED``)."""
        self.session.call("task.cancel", [self.ref])

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the task ends; its decoded result, or the matching task error."""
        feed = EventFeed(self.session)
        deadline = Deadline.after(timeout if timeout is not None else 1e9)
        token = ""
        while self.status not in DONE:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise TaskTimeout(f"{self.method} (task {self.ref}) still {self.status} "
                                  f"after {timeout} s; it may still finish on the pool",
                                  task_ref=self.ref)
            first = token == ""
            # From the empty token an existing task is reported at once: no need to block.
            wait = 0.0 if first else min(remaining, EVENT_SLICE)
            batch = feed.next([f"task/{self.ref}"], token, wait)
            token = batch.token
            if first and not any(e.ref == self.ref for e in batch.events):
                # Every existing object is reported from the empty token: this one is gone.
                raise TaskError(f"task {self.ref} of {self.method} does not exist (destroyed "
                                "already?)", task_ref=self.ref)
            for event in batch.events:
                if event.ref != self.ref:
                    continue
                if event.operation == "del" or event.snapshot is None:
                    raise TaskError(f"task {self.ref} of {self.method} vanished before it "
                                    "ended", task_ref=self.ref)
                self.record = event.snapshot
        try:
            return self._outcome()
        finally:
            self.destroy()

    def _outcome(self) -> Any:
        status = self.status
        if status == "success":
            from xapictl.xapi.xmlrpc import parse_fragment  # XML-RPC loaded for a result only

            return self._decode(parse_fragment(str(self.record.get("result", ""))))
        info = [str(x) for x in self.record.get("error_info", [])] or ["INTERNAL_ERROR"]
        from xapictl.xapi.failures import failure_from  # loaded by the first failure

        failure: XapiFailure = failure_from(info, method=self.method)
        if status == "cancelled" or failure.code == "TASK_CANCELLED":
            raise TaskCancelled(f"{self.method} (task {self.ref}) was cancelled",
                                task_ref=self.ref)
        raise TaskFailed(failure, task_ref=self.ref)

    def destroy(self) -> None:
        """``task.destroy`` (once; failures only logged: XAPI's GC removes it eventually)."""
        if self._destroyed:
            return
        self._destroyed = True
        try:
            self.session.call("task.destroy", [self.ref])
        except (XapiFailure, TransportError) as exc:
            log.info("could not destroy task %s: %s", self.ref, exc)


def start_task(session: XapiSession, method: str, params: Sequence[Any], *,
               decode: Callable[[Any], Any] = lambda value: value) -> TaskHandle:
    """Send ``Async.<method>`` and return its handle (errors before the task exists, such as
    a wrong parameter count, are raised here)."""
    ref = session.call(f"Async.{method}", params)
    return TaskHandle(session, str(ref), method, decode=decode)


__all__ = ["TaskHandle", "start_task"]
