"""THE retry and wait policy of the client: what is retried, how often, for how long.

Nothing else in xapictl's client sleeps. The rules (ARCHITECTURE "Retries"):

* a failure before the request was sent (``ConnectError``, not a TLS refusal) → retried, read
  or write, since the host never saw it; but when first contacting a pool (the login), an
  answer that waiting does not change (connection refused, unknown host, no route:
  ``FAST_KINDS``) is retried once, after ``first_contact_wait``, then raised: a dead or
  mistyped pool fails within seconds, not after the whole deadline;
* a lost answer (``RequestTimeout``, ``ConnectionLost``) → retried for reads only; a write
  becomes ``OutcomeUnknown`` in the session and is never re-sent;
* known transient XAPI errors (``TRANSIENT_CODES``: the host refused before acting) → retried;
* everything else → raised at once.

Backoff is exponential with jitter, capped, inside an overall deadline. ``sleep`` and
``clock`` are injectable, so tests run every wait at zero cost (``RetryPolicy.immediate()``).
Each failed attempt is logged (``xapictl.retry``, INFO) as it happens: what failed, where,
and the next wait or that it gives up (``xapictl -v`` prints these lines).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import field, replace
from typing import TYPE_CHECKING, TypeVar

from xapictl._frozen import Frozen, Mutable, frozen, mutable
from xapictl._log import logger
from xapictl.errors import ConnectError, RequestTimeout, TLSError, XapiFailure
from xapictl.xapi.transport import ConnectionLost

if TYPE_CHECKING:
    import tenacity

T = TypeVar("T")

log = logger("xapictl.retry")

FAST_KINDS: frozenset[str] = frozenset({"refused", "unknown host", "no route"})
"""``ConnectError.kind`` values that come at once and that waiting does not change."""

TRANSIENT_CODES: frozenset[str] = frozenset({
    "OTHER_OPERATION_IN_PROGRESS",   # another task holds the object's lock
    "TOO_BUSY",                      # the host sheds load
    "HOST_STILL_BOOTING",            # xapi is up but not ready
    "DB_UNREADY",
})

_READ_PREFIXES = ("get_", "get")
_READ_METHODS = frozenset({
    "event.from", "event.next", "event.inject", "event.get_current_id", "event.register",
    "event.unregister", "system.listMethods", "system.isAlive", "session.get_this_host",
    "session.get_this_user", "task.get_status",
})


def is_read(method: str) -> bool:
    """Whether re-sending ``method`` cannot change the pool (getters, ``event.*``, …)."""
    name = method.removeprefix("Async.")
    if name in _READ_METHODS:
        return True
    message = name.rsplit(".", 1)[-1]
    return message.startswith(_READ_PREFIXES[0]) or message == _READ_PREFIXES[1]


def retryable(exc: BaseException, *, read: bool) -> bool:
    """The classification above, as one predicate."""
    if isinstance(exc, TLSError):
        return False
    if isinstance(exc, ConnectError):
        return True
    if isinstance(exc, RequestTimeout | ConnectionLost):
        return read
    if isinstance(exc, XapiFailure):
        return exc.code in TRANSIENT_CODES
    return False


@frozen
class Deadline(Frozen):
    """A point in time on the policy's clock."""

    at: float
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """A deadline on the real clock: for waits that block on the server (``event.from``),
        not on our own sleeps."""
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - self.clock())

    @property
    def expired(self) -> bool:
        return self.clock() >= self.at


@frozen
class RetryPolicy(Frozen):
    """Backoff and deadline for one pool's calls."""

    deadline: float = 30.0
    """Seconds after the first attempt when no new attempt starts."""
    initial: float = 0.2
    maximum: float = 3.0
    first_contact_attempts: int = 2
    """Attempts at a first contact (the login) answered by a ``FAST_KINDS`` failure."""
    first_contact_wait: float = 0.5
    """The wait before the one retry of such a first contact."""
    logout_deadline: float = 5.0
    """Seconds ``close()`` keeps trying to log out (redirects, failover, drops): short, so
    exit and Ctrl-C stay fast."""
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    @classmethod
    def immediate(cls, deadline: float = 30.0, attempts_clock_step: float = 0.5) -> RetryPolicy:
        """No real waiting: every sleep advances a fake clock instead (for tests)."""
        now = [0.0]

        def sleep(seconds: float) -> None:
            now[0] += max(seconds, attempts_clock_step)

        return cls(deadline=deadline, sleep=sleep, clock=lambda: now[0])

    def for_logout(self) -> RetryPolicy:
        """The same policy with the short logout deadline."""
        return replace(self, deadline=min(self.deadline, self.logout_deadline))

    def deadline_in(self, seconds: float) -> Deadline:
        return Deadline(self.clock() + seconds, self.clock)

    def run(self, attempt: Callable[[], T], *, read: bool,
            on_retry: Callable[[BaseException], None] | None = None,
            first_contact: bool = False) -> T:
        """Call ``attempt`` until it succeeds, fails for good, or the deadline passes.
        ``first_contact``: the login to a pool, where ``FAST_KINDS`` failures give up early."""
        end = self.deadline_in(self.deadline)
        # Most calls succeed at once: the first attempt runs before any retry machinery is
        # built (a tenacity loop per call was a tenth of a request's client CPU). A failure
        # worth retrying becomes the loop's first attempt, replayed without being sent again,
        # so attempts, waits and messages are exactly the loop's own.
        try:
            return attempt()
        except BaseException as exc:
            if not retryable(exc, read=read):
                raise
            replay: list[BaseException] = [exc]

        def again() -> T:
            if replay:
                raise replay.pop()
            return attempt()

        import tenacity  # only a failure worth retrying loads the retry loop

        backoff = (tenacity.wait_exponential(multiplier=self.initial, max=self.maximum)
                   + tenacity.wait_random(0, self.initial))

        def fast(state: tenacity.RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome is not None else None
            return first_contact and getattr(exc, "kind", "") in FAST_KINDS

        def wait(state: tenacity.RetryCallState) -> float:
            if fast(state):
                return min(self.first_contact_wait, end.remaining())
            return min(backoff(state), end.remaining())

        def stop(state: tenacity.RetryCallState) -> bool:
            done = end.expired or (fast(state)
                                   and state.attempt_number >= self.first_contact_attempts)
            if done:
                _say(state, "giving up")
            return done

        def before_sleep(state: tenacity.RetryCallState) -> None:
            seconds = state.next_action.sleep if state.next_action is not None else 0.0
            _say(state, f"next attempt in {seconds:.1f} s")
            if on_retry is not None and state.outcome is not None:
                exc = state.outcome.exception()
                if exc is not None:
                    on_retry(exc)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda e: retryable(e, read=read)),
            stop=stop,
            wait=wait,
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(again)

    def pause(self, seconds: float) -> None:
        """The one sanctioned pause outside ``run`` (the master search between rounds)."""
        self.sleep(seconds)


def _say(state: tenacity.RetryCallState, then: str) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    if exc is not None:
        log.info("attempt %d failed: %s; %s", state.attempt_number, exc, then)


@mutable
class Backoff(Mutable):
    """The wait between reconnects of something that follows a pool for hours (the change
    stream): doubling from ``initial`` up to ``maximum`` (tenacity's ``wait_exponential``, as
    ``RetryPolicy`` uses), back to ``initial`` after ``reset``, and cut short by ``stop``. A
    follower never gives up, so there is no deadline here."""

    initial: float = 0.5
    maximum: float = 30.0
    _failures: int = field(default=0, init=False, repr=False)

    def delay(self) -> float:
        """The wait before the next reconnect."""
        import tenacity  # loaded by the first reconnect, as in RetryPolicy.run

        state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
        state.attempt_number = self._failures + 1
        return float(tenacity.wait_exponential(multiplier=self.initial,
                                               max=self.maximum)(state))

    def wait(self, stop: threading.Event) -> bool:
        """Wait the current delay (less if ``stop`` is set meanwhile); True: stop."""
        delay = self.delay()
        self._failures += 1
        return stop.wait(delay)

    def reset(self) -> None:
        """After a success: the next failure waits ``initial`` again."""
        self._failures = 0


def _wait_on(stop: threading.Event, seconds: float) -> bool:
    return stop.wait(seconds)


@frozen
class Pacer(Frozen):
    """The waits of something that keeps a rhythm against a pool: the pool lease's renewals
    (a background thread) and a second run's polls while it waits for the lease. ``clock``
    measures (monotonic seconds); ``wait(stop, seconds)`` waits, returning True as soon as
    ``stop`` is set. Both are injectable, so tests drive a lease on a fake clock at no cost
    (``Pacer.manual()``)."""

    clock: Callable[[], float] = field(default=time.monotonic, compare=False)
    wait: Callable[[threading.Event, float], bool] = field(default=_wait_on, compare=False)

    @classmethod
    def manual(cls, start: float = 1000.0) -> tuple[Pacer, Callable[[float], None]]:
        """A pacer on a fake clock, and the function that moves that clock on. A wait
        advances the clock by its length at once, unless ``stop`` is set (then True)."""
        now = [start]

        def advance(seconds: float) -> None:
            now[0] += seconds

        def wait(stop: threading.Event, seconds: float) -> bool:
            if stop.is_set():
                return True
            now[0] += seconds
            return stop.is_set()

        return cls(clock=lambda: now[0], wait=wait), advance


__all__ = ["FAST_KINDS", "TRANSIENT_CODES", "Backoff", "Deadline", "Pacer", "RetryPolicy",
           "is_read", "retryable"]
