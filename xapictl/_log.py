"""``logger(name)``: a ``logging.Logger`` that imports ``logging`` on first use.

The library logs only when something goes wrong or is retried (a failed attempt, a token XAPI
refused, a scoped read that was not closed), yet importing ``logging`` (and ``string``) is some
2 ms of every run's start-up (issue 12). A module declares ``log = logger("xapictl.retry")``
as it would ``logging.getLogger``; an attribute read (``log.warning``, ``log.isEnabledFor``, …)
imports ``logging`` and answers from the real logger of that name, so handlers, levels and
``caplog`` see exactly the records they did. ``log.debug`` and ``log.info`` while nothing has
imported ``logging`` are dropped without importing it: with ``logging`` never loaded no level
or handler can have been set, and the root logger's default (``WARNING``) drops them too.

For the client's run-once paths. What runs for hours (the simulator, the change streams
of ``inventory watch`` and live snapshots) imports ``logging`` itself: a first warning there
may come when the process is short of file descriptors, when importing could fail too.

Stdlib only, no xapictl import: every layer may use it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import logging


_BELOW_WARNING = frozenset({"debug", "info"})


def _dropped(*args: Any, **kwargs: Any) -> None:
    """A debug or info record while ``logging`` is not loaded: nobody could want it."""


class _OnFirstUse:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        if attribute in _BELOW_WARNING and "logging" not in sys.modules:
            return _dropped
        import logging

        return getattr(logging.getLogger(self._name), attribute)

    def __repr__(self) -> str:
        return f"<logger {self._name} (logging not loaded yet)>"


def logger(name: str) -> logging.Logger:
    """The logger ``name``, ``logging`` imported when it is first used."""
    return cast("logging.Logger", _OnFirstUse(name))


__all__ = ["logger"]
