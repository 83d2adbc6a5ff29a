"""The simulator engine: one simulated pool that answers XAPI calls as Python values.

    sim = Simulator()
    sim.load_scenario("seed")
    session = sim.call("session.login_with_password", ["root", "xapictl"])
    sim.call("network.get_all_records", [session])

``call`` takes parameters as the wire decoded them (XML-RPC ints may still be strings) and
returns the Python result or raises ``SimFailure``; the wire layer (``xapictl.sim.wire``,
``app``, ``server``) encodes both. The methods below ``call`` are the control plane: host
liveness, master changes, session expiry, scenarios, counters.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from xapictl.sim import classes as _classes  # noqa: F401 - registers every handler
from xapictl.sim.classes import event as events
from xapictl.sim.classes import message as _messages  # noqa: F401 - registers message.*
from xapictl.sim.classes import session as sessions
from xapictl.sim.classes.session import Accounts
from xapictl.sim.dispatch import Call, Dispatcher
from xapictl.sim.errors import SimFailure
from xapictl.sim.persist import SqliteStore
from xapictl.sim.registry import HANDLERS, CallContext
from xapictl.sim.state import NULL_REF, SimState
from xapictl.sim.tasks import TaskRunner

T = TypeVar("T")


def designate_master(state: SimState, host: str) -> None:
    """Make ``host`` the pool's master (``pool.master``); HANDLE_INVALID if it is no host."""
    state.get("host", host)
    for pool in state.refs("pool"):
        state.set_field("pool", pool, "master", host)


def set_host_live(state: SimState, host: str, live: bool) -> None:
    """Mark a host alive or dead in ``host_metrics.live`` (creating its metrics if needed)."""
    record = state.get("host", host)
    metrics = record.get("metrics", NULL_REF)
    if not state.exists("host_metrics", metrics):
        metrics = state.create("host_metrics", {"live": live})
        state.set_field("host", host, "metrics", metrics)
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    state.update("host_metrics", metrics, {"live": live, "last_updated": now})


def _designate_new_master(ctx: CallContext, host: str) -> None:
    """``pool.designate_new_master``: the host must be live; naming the master is a no-op."""
    ctx.state.get("host", host)
    ctx.require_live(host)
    if ctx.master() != host:
        designate_master(ctx.state, host)


# The pool module (sim-network's) may implement this one itself; this is the fallback so the
# control plane's master change is also reachable through the API.
HANDLERS.setdefault("pool.designate_new_master", _designate_new_master)


class Simulator:
    """A simulated pool: the state, its accounts, tasks, events, and the control plane."""

    def __init__(self, state: SimState | None = None, *,
                 password: str = "xapictl",  # noqa: S107 - the documented sandbox default
                 users: Mapping[str, str] | None = None, state_file: Path | None = None,
                 scenario: str | None = None,
                 session_timeout: float = sessions.IDLE_TIMEOUT) -> None:
        """``users`` maps extra user names to roles (``root`` is always the pool-admin local
        superuser); all share ``password``. With ``state_file`` the state lives in SQLite and
        survives restarts. ``scenario`` is built when the state (or file) is empty.
        ``session_timeout``: seconds an unused session lives (XAPI: 24 h)."""
        self.state = state if state is not None else SimState()
        self.accounts = Accounts.build(password, users)
        self.accounts.idle_timeout = float(session_timeout)
        sessions.attach(self.state, self.accounts)
        self._store = SqliteStore(state_file, self.state) if state_file is not None else None
        self.tasks = TaskRunner(self.state, self.transact)
        self.dispatcher = Dispatcher(self.state, self.accounts, self.tasks, self.transact)
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        if self._store is not None:
            self.transact(lambda: None)  # pick up what the file holds
            me = weakref.ref(self)  # the state must not keep its simulator alive

            def refresh() -> None:
                sim = me()
                if sim is not None:
                    sim.transact(lambda: None)
            events.set_refresher(self.state, refresh)
        if scenario is not None and self._is_empty():
            self.load_scenario(scenario)

    # --- calls -----------------------------------------------------------------------------

    def call(self, method: str, params: list[Any], *, host_address: str = "127.0.0.1",
             protocol: str = "xmlrpc", preauth: bool = False) -> Any:
        """Run one XAPI call as it arrived at ``host_address``; the result or ``SimFailure``.
        ``preauth``: it came through the local unix socket (a login there needs no password,
        and makes a local-superuser session, as on a real host)."""
        with self._counts_lock:
            self._counts[method] += 1
        try:
            return self.dispatcher.call(Call(method, list(params), host_address, protocol,
                                             preauth))
        except SimFailure:
            raise
        except Exception as exc:  # XAPI answers any bug with INTERNAL_ERROR
            raise SimFailure("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}") from exc

    def transact(self, work: Callable[[], T]) -> T:
        """Run ``work`` atomically: under the state lock, and in one SQLite transaction when
        the state is persisted (reloading first if another process wrote the file)."""
        with self.state.lock:
            if self._store is None:
                return work()
            with self._store.transaction():
                return work()

    # --- counters --------------------------------------------------------------------------

    def call_counts(self) -> dict[str, int]:
        """Calls received per method name, as sent (``Async.`` included)."""
        with self._counts_lock:
            return dict(self._counts)

    def open_session_count(self) -> int:
        return self.transact(lambda: self.state.count("session"))

    # --- pool topology ---------------------------------------------------------------------

    def host_addresses(self) -> dict[str, str]:
        """Host ref → the address it answers on (``host.address``)."""
        return self.transact(lambda: {ref: str(r.get("address", ""))
                                      for ref, r in self.state.all("host").items()})

    def master_address(self) -> str:
        return self.transact(self.dispatcher.master_address)

    def master(self) -> str:
        return self.transact(self.dispatcher.master)

    def host_is_live(self, host: str) -> bool:
        def live() -> bool:
            metrics = self.state.get("host", host).get("metrics", NULL_REF)
            record = self.state.all("host_metrics").get(metrics)
            return True if record is None else bool(record.get("live", True))
        return self.transact(live)

    def live_by_address(self) -> dict[str, bool]:
        """Address → whether the host there is alive (the wire refuses dead hosts); cached
        until the next write, so the wire may ask on every request."""
        with self.state.lock:
            return dict(self.dispatcher.live_by_address())

    def set_host_live(self, host_ref: str, live: bool) -> None:
        self.transact(lambda: set_host_live(self.state, host_ref, live))

    def designate_master(self, host_ref: str) -> None:
        self.transact(lambda: designate_master(self.state, host_ref))

    # --- sessions and tasks ----------------------------------------------------------------

    def expire_sessions(self) -> int:
        """End every session, as if they all timed out; returns how many there were."""
        def expire() -> int:
            refs = self.state.refs("session")
            for ref in refs:
                self.state.destroy("session", ref)
            self.accounts.last_use.clear()
            return len(refs)
        return self.transact(expire)

    @property
    def session_timeout(self) -> float:
        """Seconds a session may stay unused before it ends (``SESSION_INVALID``)."""
        return self.accounts.idle_timeout

    @session_timeout.setter
    def session_timeout(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("a session timeout is a positive number of seconds")
        self.accounts.idle_timeout = float(seconds)

    @property
    def task_delay(self) -> float:
        """Seconds an ``Async.`` task stays pending before it runs (cancellable meanwhile)."""
        return self.tasks.delay

    @task_delay.setter
    def task_delay(self, seconds: float) -> None:
        self.tasks.delay = max(0.0, float(seconds))

    # --- scenarios -------------------------------------------------------------------------

    def reset(self, scenario: str | None = None, **params: Any) -> None:
        """Empty the pool, then build ``scenario`` (a name in ``xapictl.sim.scenarios``)."""
        def rebuild() -> None:
            self.state.load({"generation": self.state.generation + 1, "tables": {}})
            if scenario is not None:
                scenarios = importlib.import_module("xapictl.sim.scenarios")
                scenarios.build(self.state, scenario, **params)
        with self.state.lock:
            if self._store is None:
                rebuild()
            else:
                with self._store.transaction(full=True):
                    rebuild()

    def load_scenario(self, name: str, **params: Any) -> None:
        """Replace the pool with scenario ``name`` (``seed``, ``single``, ``big`` …)."""
        self.reset(scenario=name, **params)

    def _is_empty(self) -> bool:
        return self.transact(lambda: not any(self.state.count(c) for c in self.state.dm.classes))

    def close(self) -> None:
        """Finish running tasks (waiting at most a few seconds) and release the state file."""
        self.tasks.shutdown(timeout=5.0)
        if self._store is not None:
            events.set_refresher(self.state, None)
            self._store.close()


__all__ = ["Simulator", "designate_master", "set_host_live"]
