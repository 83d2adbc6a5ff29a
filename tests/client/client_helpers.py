"""Helpers shared by the client tests (a unique module name: test dirs are not packages)."""

from __future__ import annotations

import threading
from typing import Any

PASSWORD = "xapictl"


def host_at(sim: Any, address: str) -> str:
    """The host ref answering on ``address``."""
    return next(ref for ref, a in sim.host_addresses().items() if a == address)


class InFlight:
    """A ``Control.before_call`` hook that counts the calls of ``method`` (a suffix, e.g.
    ``.get_all_records``) the simulator is serving at once.

    The first such calls are held until ``target`` of them are in flight together (an event,
    not a sleep: a loaded machine only makes it take longer), then everything flows. A client
    that never sends ``target`` at once leaves them held until ``timeout`` (a safety net), and
    ``peak`` tells. ``peak`` never exceeds what the client really had in flight."""

    def __init__(self, original: Any, target: int, method: str,
                 timeout: float = 20.0) -> None:
        self.original, self.target, self.method = original, target, method
        self.timeout = timeout
        self.in_flight = self.peak = 0
        self._cond = threading.Condition()
        self._released = False

    def __call__(self, host: str, method: str, **kw: Any) -> Any:
        if not method.endswith(self.method):
            return self.original(host, method, **kw)
        with self._cond:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            if self.in_flight >= self.target:
                self._released = True
                self._cond.notify_all()
            if not self._cond.wait_for(lambda: self._released, timeout=self.timeout):
                self._released = True  # give up holding: the client is not that parallel
                self._cond.notify_all()
        try:
            return self.original(host, method, **kw)
        finally:
            with self._cond:
                self.in_flight -= 1
