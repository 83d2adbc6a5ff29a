"""Where XAPI messages with real semantics are registered, and what their handlers receive.

A handler is named after the call it implements and lives in the module of its class
(``VLAN.create`` → ``xapictl/sim/classes/vlan.py:create``)::

    @handles("VLAN.create")
    def create(ctx: CallContext, tagged_pif: str, tag: int, network: str) -> str:
        ...

The dispatcher has already done, in XAPI's order, everything generic: method lookup,
parameter count, unmarshalling (ints are ``int``, bools ``bool``, enums in the datamodel's
spelling, refs ``str``; a constructor's record arrives as a dict with every field present and
typed), the session check and RBAC. The handler runs under the state lock; it raises
``SimFailure`` with XAPI's exact code and parameters, and returns a plain value (a ref, a list,
``None`` for void). Messages without a handler get the generic behaviour from the datamodel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xapictl.sim.errors import SimFailure
from xapictl.sim.state import NULL_REF, SimState

Handler = Callable[..., Any]

HANDLERS: dict[str, Handler] = {}


def handles(method: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the implementation of ``method`` (``"Class.message"``)."""

    def register(fn: Handler) -> Handler:
        if method in HANDLERS:
            raise RuntimeError(f"two handlers for {method}")
        HANDLERS[method] = fn
        return fn

    return register


@dataclass(slots=True)
class SessionInfo:
    """A logged-in session as the simulator keeps it."""

    ref: str
    user: str
    roles: frozenset[str]
    """Role names (``pool-admin`` …); the superuser has every role."""
    is_local_superuser: bool = False
    originator: str = ""
    host: str = NULL_REF
    """The host the session was opened on (``session.get_this_host``)."""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CallContext:
    """Everything a handler may use. The pool's topology lives in the state itself:
    ``pool.master``, ``host.address``, and ``host_metrics.live`` for liveness."""

    state: SimState
    session: SessionInfo
    method: str
    """As called, without ``Async.``."""
    host: str
    """The ref of the host that received the call (the master, for client calls)."""
    task: str | None = None
    """The task ref when the call runs as ``Async.*`` (or as a synchronous task)."""

    def set_progress(self, progress: float) -> None:
        if self.task and self.state.exists("task", self.task):
            self.state.set_field("task", self.task, "progress", float(progress))

    # --- pool topology helpers, shared by every class module ---------------------------------

    def pool_ref(self) -> str:
        refs = self.state.refs("pool")
        return refs[0] if refs else NULL_REF

    def master(self) -> str:
        pool = self.pool_ref()
        return str(self.state.get("pool", pool)["master"]) if pool != NULL_REF else NULL_REF

    def host_is_live(self, host: str) -> bool:
        metrics = self.state.get("host", host).get("metrics", NULL_REF)
        if not self.state.exists("host_metrics", metrics):
            return True
        return bool(self.state.get("host_metrics", metrics).get("live", True))

    def require_live(self, host: str) -> None:
        """XAPI forwards per-host calls to the host; a dead one answers HOST_OFFLINE."""
        if not self.host_is_live(host):
            raise SimFailure("HOST_OFFLINE", host)


__all__ = ["HANDLERS", "CallContext", "Handler", "SessionInfo", "handles"]
