"""The audit log: every write a rollout sends, with pool, host, call, arguments and result.

``AuditedCaller`` wraps a connection (anything with ``call(method, *args)``, which is what plan
steps send through) and records each write in the journal ahead of sending it: a row with its
intent (``outcome`` ``intent``) committed before the call, completed with the outcome (``ok``,
``failed``, ``unknown``) after it returns or fails. A process killed in between leaves the row
``intent``, which readers show as ``in doubt``. Rows name the XAPI ``user`` and the pool's
``url`` (its master's, at the time of the write) too. Its
``host`` is the host the call acted on when the call's object is bound to one (``host_of``:
a host, PIF, VLAN, Bond, VM or VIF known from the plan's snapshot), else the connection URL. Reads
(getters, records, events, sessions) are not writes and are not recorded. Arguments that the
datamodel names as secrets (``*password*``, ``*secret*``, ``*token*``) and map values under such
keys are replaced by ``"<redacted>"`` before anything is stored.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from xapictl.fleet.journal import AuditRow, Journal, now
from xapictl.plan.audit import host_of

REDACTED = "<redacted>"
_SECRET_WORDS = ("password", "secret", "token", "credential")
_READ_PREFIXES = ("get_", "login", "logout", "slave_local_login")
_READ_CLASSES = ("event", "session")


def is_write(method: str) -> bool:
    """Whether an XAPI call changes state (``Async.`` calls are judged by their target)."""
    name = method.removeprefix("Async.")
    cls, _, msg = name.partition(".")
    if cls in _READ_CLASSES:
        return False
    return not msg.startswith(_READ_PREFIXES)


def _secretish(name: str) -> bool:
    low = name.lower()
    return any(w in low for w in _SECRET_WORDS)


@functools.lru_cache(maxsize=512)
def _param_names(method: str) -> tuple[str, ...]:
    from xapictl.model.schema import datamodel

    cls, _, msg = method.removeprefix("Async.").partition(".")
    klass = datamodel().find_class(cls)
    if klass is None or msg not in klass.messages:
        return ()
    return tuple(p.name for p in klass.messages[msg].params)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): REDACTED if _secretish(str(k)) else _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def redact_args(method: str, args: tuple[Any, ...]) -> list[Any]:
    """The arguments as stored: secrets by parameter name or map key replaced."""
    names = _param_names(method)
    out = []
    for i, arg in enumerate(args):
        name = names[i] if i < len(names) else ""
        out.append(REDACTED if name and _secretish(name) else _plain(arg))
    return out


class AuditedCaller:
    """A connection whose writes land in the journal's audit table, tagged with the rollout and
    pool. Everything else is passed through untouched."""

    def __init__(self, conn: Any, journal: Journal, *, pool: str, rollout: int | None,
                 host: str | Callable[[], str],
                 host_of: Callable[[str, tuple[Any, ...]], str | None] | None = None,
                 user: str = "") -> None:
        self._conn = conn
        self._user = user
        self.step_of: Callable[[], str] = lambda: ""
        """The step being run (set by whoever runs steps through this caller)."""
        self.sent = 0
        """Writes handed to the connection."""
        self.effective = 0
        """Writes that may have taken effect (answered ok, or the answer lost)."""
        self._journal = journal
        self._pool = pool
        self._rollout = rollout
        self._host = host
        self._host_of = host_of or (lambda method, args: None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def _url(self) -> str:
        return str(getattr(self._conn, "url", "") or "")

    def _host_now(self, method: str, args: tuple[Any, ...]) -> str:
        acted_on = self._host_of(method, args)
        if acted_on:
            return acted_on
        return self._host() if callable(self._host) else self._host

    def call(self, method: str, *args: Any) -> Any:
        if not is_write(method):
            return self._conn.call(method, *args)
        stored = redact_args(method, args)
        stamp = now()
        row = self._journal.record_write(AuditRow(
            self._rollout, self._pool, self._host_now(method, args), method, stored, None,
            False, stamp, "intent", self._user, self.step_of(), stamp, self._url()))
        self.sent += 1
        self.effective += 1  # it may take effect from now on, unless XAPI refuses it
        try:
            result = self._conn.call(method, *args)
        except BaseException as exc:  # Ctrl-C mid-call too: the row must not stay "intent"
            from xapictl.errors import XapiFailure

            if isinstance(exc, XapiFailure):
                self.effective -= 1
            self._journal.record_outcome(
                row, outcome="failed" if isinstance(exc, XapiFailure) else "unknown",
                result={"error": type(exc).__name__, "detail": str(exc)}, ok=False)
            raise
        self._journal.record_outcome(row, outcome="ok", result=_plain(result), ok=True)
        return result


def export_audit(journal: Journal, rollout: int, fmt: str = "json") -> str:
    """The audit of one rollout as JSON (a list), NDJSON or CSV."""
    import csv
    import io
    import json

    rows = [r.to_json() for r in journal.audit(rollout)]
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    if fmt == "ndjson":
        return "".join(json.dumps(r) + "\n" for r in rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, ["at", "rollout", "pool", "host", "call", "args", "result",
                                  "ok", "outcome", "user", "step", "sent", "url"],
                            lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({**r, "args": json.dumps(r["args"]), "result": json.dumps(r["result"])})
    return buf.getvalue()


__all__ = ["REDACTED", "AuditedCaller", "export_audit", "host_of", "is_write", "redact_args"]
