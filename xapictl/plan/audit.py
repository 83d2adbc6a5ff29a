"""The audit log: one JSON line per write sent to XAPI, with its outcome.

Only method names, object refs and the values the plan stated are written; the caller never
hands credentials to a step, so none can reach the log. Reads are not logged.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
from pathlib import Path
from typing import IO, Any

from xapictl._files import open_private
from xapictl.errors import XapiFailure

_READ_CLASSES = ("session", "event")


def is_write(method: str) -> bool:
    """Getters, sessions and events are reads; everything else is a write."""
    cls, _, message = method.partition(".")
    return not (message.startswith("get_") or cls in _READ_CLASSES)


class AuditLog:
    """Appends to ``path`` (created with its directory); ``None`` keeps records in memory."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stream: IO[str] | None = None
        if path is not None:
            self._stream = open_private(path)

    def write(self, method: str, args: tuple[Any, ...], outcome: str, *,
              result: Any = None, error: BaseException | None = None, step: str = "") -> None:
        record: dict[str, Any] = {
            "time": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds"),
            "method": method, "args": [_plain(a) for a in args], "outcome": outcome,
            "step": step}
        if result is not None:
            record["result"] = _plain(result)
        if isinstance(error, XapiFailure):
            record["error"] = [error.code, *error.params]
        elif error is not None:
            record["error"] = [type(error).__name__]
        with self._lock:
            self.records.append(record)
            if self._stream is not None:
                self._stream.write(json.dumps(record, sort_keys=True) + "\n")
                self._stream.flush()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


__all__ = ["AuditLog", "is_write"]
