"""Every error xapictl raises, in one tree.

Classes follow the phase that failed and what the user should do about it::

    XapictlError
    ├── UsageError (ValueError)               bad input: a value, a file, an option  → exit 2
    │   ├── ConfigError                       a profile, fleet file or credential source is wrong
    │   ├── DesiredStateError                 a recipe does not validate (file, line, field, fix)
    │   ├── SavedPlanError                    a saved plan is garbled, altered or for another pool
    │   └── RendererMissing                   a diagram format needs Graphviz, not installed here
    ├── TransportError                        could not talk to the host at all
    │   ├── ConnectError                      nothing was sent (refused, host down): safe to retry
    │   ├── RequestTimeout                    no answer in time
    │   ├── TLSError                          certificate not trusted
    │   │   └── FingerprintMismatch           a pinned / known fingerprint changed
    │   ├── ProtocolError                     the answer is not XAPI's wire format
    │   ├── ConnectionLost                    sent, then the connection broke: reads may retry
    │   └── OutcomeUnknown                    lost after a write was sent: re-read, never re-send
    ├── XapiFailure(code, params)             XAPI answered with an error code
    │   └── one subclass per XAPI error code  (``xapictl.xapi.failures``; keeps code and params)
    ├── TaskError                             an ``Async.*`` call did not give a result
    │   ├── TaskFailed                        the task failed: ``.failure`` is the XapiFailure
    │   ├── TaskCancelled
    │   └── TaskTimeout
    ├── PlanError                             the plan cannot be made or run as asked
    │   ├── AmbiguousObjectError              several objects match an identity: all are named
    │   ├── PreflightError                    a check refused the plan before any write
    │   ├── PlanDriftError                    a step's precondition no longer holds at apply time
    │   ├── StalePlanError                    a saved plan is expired, or the pool changed since
    │   └── ApplyError                        apply stopped part way: ``.report`` says what ran
    │       └── ApplyInterrupted              Ctrl-C after a write (a KeyboardInterrupt)
    ├── LeaseError                            the pool's write lease (one writer per pool)
    │   ├── PoolLocked                        another run holds it: ``.holder`` names it
    │   └── LeaseLost                         this run lost it: it stopped before a write
    ├── VerificationError                     apply ran but the pool does not match the recipe
    ├── NetBoxError                           NetBox refused a request or did not answer
    └── LocalBackendError                     the plain-Xen netlink backend failed (rolled back)
        └── HostReadError                     the kernel refused to show the host (nothing changed)

Secrets never reach an exception text: callers pass the failing *thing* (a URL, a ref, a
field path), never credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from xapictl._frozen import Frozen, frozen

__all__ = [
    "AmbiguousObjectError",
    "ApplyError",
    "ApplyInterrupted",
    "ConfigError",
    "ConnectError",
    "ConnectionLost",
    "DesiredStateError",
    "FieldRef",
    "FingerprintMismatch",
    "LeaseError",
    "LeaseLost",
    "LocalBackendError",
    "NetBoxError",
    "OutcomeUnknown",
    "PlanDriftError",
    "PlanError",
    "PoolLocked",
    "PreflightError",
    "Problem",
    "ProtocolError",
    "RendererMissing",
    "RequestTimeout",
    "SavedPlanError",
    "StalePlanError",
    "TLSError",
    "TaskCancelled",
    "TaskError",
    "TaskFailed",
    "TaskTimeout",
    "TransportError",
    "UsageError",
    "VerificationError",
    "XapiFailure",
    "XapictlError",
]


class XapictlError(Exception):
    """Root of every error xapictl raises on purpose."""


# --- bad input ----------------------------------------------------------------------------


class UsageError(XapictlError, ValueError):
    """The user gave a value, file or option that cannot work. Nothing was sent."""


class ConfigError(UsageError):
    """A profile, fleet file or credential source is missing or malformed."""


@frozen
class FieldRef(Frozen):
    """A field named inside a problem's message, with the value to show (``vlan: 105``)."""

    field: str
    value: str = ""


def recipe_words(ref: FieldRef) -> str:
    """How a recipe file names a field: `` `vlan: 105` `` or `` `vlan` ``."""
    return f"`{ref.field}: {ref.value}`" if ref.value else f"`{ref.field}`"


@frozen
class Problem(Frozen):
    """One validation problem: where it is, the field path it is about (``networks[0].vlan``;
    empty for the whole file or entry) and the message, whose ``FieldRef`` parts each reader
    words its own way (a recipe field, or a CLI option)."""

    where: str = ""
    field: str = ""
    parts: tuple[str | FieldRef, ...] = ()

    def message(self, words: Callable[[FieldRef], str] = recipe_words) -> str:
        return "".join(p if isinstance(p, str) else words(p) for p in self.parts)

    def __str__(self) -> str:
        return ": ".join(x for x in (self.where, self.field, self.message()) if x)


class DesiredStateError(UsageError):
    """A recipe does not validate.

    ``details`` holds one ``Problem`` per problem (where, field path, message), each naming
    the file, line and field and saying how to fix it; ``problems`` is their text, one line
    each; ``str()`` joins them.
    """

    def __init__(self, problems: Sequence[Problem] | Sequence[str]) -> None:
        self.details = [p if isinstance(p, Problem) else Problem(parts=(p,)) for p in problems]
        self.problems = [str(p) for p in self.details]
        super().__init__("\n".join(self.problems))


class SavedPlanError(UsageError):
    """A saved plan file cannot be used: not a saved plan, garbled, altered since it was
    written, or made for another pool. Nothing was sent."""


class RendererMissing(UsageError):
    """A diagram format (SVG, PNG) needs Graphviz's ``dot`` program (or the ``graphviz``
    Python package) and this machine lacks it; the message says how to install it and which
    formats need nothing. Checked before anything is read from a pool."""


# --- the wire ------------------------------------------------------------------------------


class TransportError(XapictlError):
    """Could not exchange a request with the host. ``url`` names the host (never credentials)."""

    def __init__(self, message: str, *, url: str = "") -> None:
        self.url = url
        super().__init__(message)


class ConnectError(TransportError):
    """The connection failed before the request was sent: retrying is safe.

    ``kind`` says why when it is known: ``refused`` (nothing listens), ``unknown host`` (the
    name does not resolve), ``no route`` (network or host unreachable) — the answers that
    come at once and do not change by waiting — or ``timeout``; empty otherwise."""

    def __init__(self, message: str, *, url: str = "", kind: str = "") -> None:
        self.kind = kind
        super().__init__(message, url=url)


class RequestTimeout(TransportError):
    """The host did not answer in time. For a write, see ``OutcomeUnknown``."""


class TLSError(TransportError):
    """The host's certificate is not trusted (unknown CA, wrong name, expired)."""


class FingerprintMismatch(TLSError):
    """The certificate's SHA-256 fingerprint differs from the pinned or known one."""

    def __init__(self, message: str, *, url: str = "", expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(message, url=url)


class ProtocolError(TransportError):
    """The host answered, but not in XAPI's wire format."""


class ConnectionLost(TransportError):
    """The request was sent and the connection broke before the answer came back.

    A read can simply be sent again (the retry policy does); for a write the session turns this
    into ``OutcomeUnknown``.
    """


class OutcomeUnknown(TransportError):
    """A write was sent and the connection was lost before the answer.

    The change may or may not have happened. Never re-send it blindly: re-read the state and
    decide (the plan engine does exactly that).
    """

    def __init__(self, message: str, *, url: str = "", method: str = "") -> None:
        self.method = method
        super().__init__(message, url=url)


# --- XAPI said no ---------------------------------------------------------------------------


class XapiFailure(XapictlError):
    """XAPI answered ``Failure`` with an error code and its parameters.

    ``code`` and ``params`` are exactly what XAPI sent; ``method`` is the call that failed.
    Subclasses per error code live in ``xapictl.xapi.failures`` and are what ``raise_failure``
    builds, so ``except VlanTagInvalid`` works and ``except XapiFailure`` catches them all.
    """

    code: str = ""

    def __init__(
        self, code: str, params: Sequence[str] = (), *, method: str = "", explanation: str = ""
    ) -> None:
        self.code = code
        self.params = [str(p) for p in params]
        self.method = method
        self.explanation = explanation
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.code}" + (f" {self.params}" if self.params else "")
        where = f" from {self.method}" if self.method else ""
        words = f": {self.explanation}" if self.explanation else ""
        return f"XAPI failure {head}{where}{words}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.code, self.params), {"method": self.method})


# --- tasks ----------------------------------------------------------------------------------


class TaskError(XapictlError):
    """An asynchronous XAPI task did not deliver a result."""

    def __init__(self, message: str, *, task_ref: str = "") -> None:
        self.task_ref = task_ref
        super().__init__(message)


class TaskFailed(TaskError):
    """The task ended in ``failure``; ``failure`` is the typed XAPI error from ``error_info``."""

    def __init__(self, failure: XapiFailure, *, task_ref: str = "") -> None:
        self.failure = failure
        super().__init__(f"task {task_ref} failed: {failure}", task_ref=task_ref)


class TaskCancelled(TaskError):
    """The task was cancelled (``task.cancel`` or by the host)."""


class TaskTimeout(TaskError):
    """The task did not finish before the deadline; it may still be running on the pool."""


# --- planning and applying ------------------------------------------------------------------


class PlanError(XapictlError):
    """The plan cannot be made or carried out as asked."""


class AmbiguousObjectError(PlanError):
    """Several objects match one identity. ``candidates`` names every one; nothing is guessed."""

    def __init__(self, message: str, candidates: Sequence[str]) -> None:
        self.candidates = list(candidates)
        listing = "".join(f"\n  - {c}" for c in self.candidates)
        super().__init__(f"{message}{listing}")


class PreflightError(PlanError):
    """A pre-flight check refused the plan before the first write. ``problems`` lists why."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class PlanDriftError(PlanError):
    """At apply time a step's precondition no longer holds: the pool changed since planning."""


class StalePlanError(PlanError):
    """A saved plan no longer describes the pool (an object it relies on changed, the plan
    made now differs) or is older than allowed. ``changes`` names each object and how it
    changed. Nothing was sent: make a new plan."""

    def __init__(self, message: str, changes: Sequence[str] = ()) -> None:
        self.changes = list(changes)
        super().__init__(message + "".join(f"\n  {c}" for c in self.changes))


class ApplyError(PlanError):
    """Apply stopped part way. ``report`` holds what was done, what failed and what did not run."""

    def __init__(self, message: str, report: object) -> None:
        self.report = report
        super().__init__(message)


# --- one writer per pool --------------------------------------------------------------------


class LeaseError(XapictlError):
    """The pool-wide write lease (``xapictl.client.lease``) could not be had or kept."""


class PoolLocked(LeaseError):
    """Another run holds the pool's write lease and did not release it in time. ``holder``
    is its record (user, host, pid, command, started); nothing was sent."""

    def __init__(self, message: str, *, holder: object = None) -> None:
        self.holder = holder
        super().__init__(message)


class LeaseLost(LeaseError):
    """This run no longer holds the pool's write lease (it was paused or cut off longer than
    the lease lives, and another run may have taken it): it stopped before its next write."""


class ApplyInterrupted(ApplyError, KeyboardInterrupt):
    """Ctrl-C (or SIGINT) during apply or verify, after a write may have been sent. Still a
    ``KeyboardInterrupt``; ``report`` says what was done, what was interrupted and what did
    not run."""


class VerificationError(XapictlError):
    """After apply, the pool does not match the recipe: ``path``, ``desired``, ``current``."""

    def __init__(self, path: str, desired: object, current: object) -> None:
        self.path = path
        self.desired = desired
        self.current = current
        super().__init__(f"{path}: wanted {desired!r}, found {current!r}")


class NetBoxError(XapictlError):
    """NetBox (the CMDB ``xapictl netbox`` syncs into) refused a request or could not be
    reached. The message names the object; ``status`` is the HTTP status (0: no answer),
    ``index`` the failing object of a bulk request, ``detail`` NetBox's own words."""

    def __init__(self, message: str, *, status: int = 0, index: int | None = None,
                 detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.index = index
        self.detail = detail


class LocalBackendError(XapictlError):
    """The plain-Xen (netlink) backend failed; the host was rolled back when possible."""


class HostReadError(LocalBackendError):
    """The kernel refused to show the host's network state (netlink or OS error): nothing
    was changed."""
