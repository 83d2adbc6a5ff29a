"""Live rollout progress on a terminal (rich): one row per pool with its state, steps and
elapsed time, and the counts. Fed by ``RolloutEvent``s; safe to call from worker threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from xapictl.fleet.rollout import RolloutEvent

T = TypeVar("T")

_STYLE = {"pending": "dim", "planned": "cyan", "running": "yellow", "done": "green",
          "failed": "bold red", "skipped": "dim", "stopped": "magenta", "refused": "red",
          "in doubt": "bold magenta"}


class LiveProgress:
    """``with LiveProgress(pools) as p: runner = RolloutRunner(..., on_event=p.event)``."""

    def __init__(self, pools: list[str], *, console: Any = None,
                 rows: dict[str, tuple[str, int, int]] | None = None) -> None:
        """``rows``: each pool's state, steps done and planned so far (a resumed rollout's
        finished pools show as finished); the others start ``pending``."""
        from rich.console import Console

        self.console = console or Console(stderr=True)
        known = rows or {}
        self.rows: dict[str, dict[str, Any]] = {
            p: {"state": known.get(p, ("pending", 0, 0))[0],
                "done": known.get(p, ("pending", 0, 0))[1],
                "steps": known.get(p, ("pending", 0, 0))[2], "started": None, "ended": None,
                "detail": ""} for p in pools}
        self.wave = ""
        self.began = time.monotonic()
        self._lock = threading.Lock()
        self._live: Any = None

    def __enter__(self) -> LiveProgress:
        self._start()
        return self

    def _start(self) -> None:
        from rich.live import Live

        # A new Live each time: a restarted one would move the cursor up by its last height,
        # over whatever was printed while it was stopped.
        self._live = Live(self._render(), console=self.console, refresh_per_second=4,
                          transient=False, get_renderable=self._render)
        self._live.__enter__()

    def asking(self, ask: Callable[..., T]) -> Callable[..., T]:
        """``ask`` with the table drawn one last time (the state as it is now, not as of the
        last refresh) and left alone while the question waits for its answer; then live
        again. Without this the refresh thread redraws over the prompt."""
        def paused(*args: Any) -> T:
            if self._live is None:
                return ask(*args)
            self._stop()
            try:
                return ask(*args)
            finally:
                self._start()
        return paused

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        """Draw the final frame and give the terminal back."""
        if self._live is not None:
            self._live.__exit__(None, None, None)
            if not self.console.is_terminal:  # the last frame ends without a newline there
                self.console.line()

    def event(self, e: RolloutEvent) -> None:
        with self._lock:
            if e.kind == "wave":
                self.wave = e.detail
            row = self.rows.get(e.pool)
            if row is None:
                return
            if e.kind == "pool":
                row["state"] = e.state
                row["detail"] = e.detail
                if e.steps:
                    row["steps"] = e.steps
                if e.state == "running":
                    row["started"] = time.monotonic()
                    row["done"] = 0
                elif e.state in ("done", "failed", "stopped", "refused") and \
                        row["started"] is not None:
                    row["ended"] = time.monotonic()
            elif e.kind == "step" and e.state == "done":
                row["done"] += 1

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows.values():
            out[row["state"]] = out.get(row["state"], 0) + 1
        return out

    def _render(self) -> Any:
        from rich.table import Table

        with self._lock:
            table = Table(title=f"rollout — wave {self.wave or '-'} — "
                                f"{time.monotonic() - self.began:.1f}s — " + ", ".join(
                                    f"{n} {s}" for s, n in sorted(self.counts().items())),
                          expand=False)
            for col in ("pool", "state", "steps", "elapsed", "detail"):
                table.add_column(col)
            now = time.monotonic()
            for name, row in self.rows.items():
                started = row["started"]
                elapsed = "" if started is None else f"{(row['ended'] or now) - started:.1f}s"
                table.add_row(name, f"[{_STYLE.get(row['state'], '')}]{row['state']}",
                              f"{row['done']}/{row['steps']}", elapsed, row["detail"][:60])
            return table


__all__ = ["LiveProgress"]
