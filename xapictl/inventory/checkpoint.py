"""The ``watch --state`` file: the inventory a consumer holds and the token each pool is at.

Written as the watch goes (after a batch of events, at most every ``every`` seconds, and at
the end), atomically: a temporary file renamed over the old one, so a watch killed at any point
leaves a whole checkpoint. Each pool's part is recorded only once its events are out, so
resuming from the file repeats and loses nothing.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from xapictl._files import replace_private
from xapictl.inventory.document import Inventory


class CheckpointFile:
    """Pool parts by pool UUID; ``base`` keeps the pools no stream has read yet."""

    def __init__(self, path: Path, base: Inventory | None, every: float = 5.0) -> None:
        self.path = path
        self.every = every
        self._parts: dict[str, tuple[Inventory, str]] = {}
        if base is not None:
            self._parts = {u: (base.pool_part(u), base.tokens.get(u, ""))
                           for u in base.pool_uuids}
        self._lock = threading.Lock()
        self._written = float("-inf")

    def record(self, inventory: Inventory, token: str) -> None:
        """A pool's events up to ``token`` are out; write the file if it is due."""
        with self._lock:
            for pool in inventory.pool_uuids:
                self._parts[pool] = (inventory, token)
            if time.monotonic() - self._written >= self.every:
                self._write()

    def flush(self) -> None:
        with self._lock:
            self._write()

    def _write(self) -> None:
        tokens = {pool: token for pool, (_, token) in self._parts.items() if token}
        merged = Inventory.merge(inv for inv, _ in self._parts.values())
        text = json.dumps({"token": next(iter(tokens.values()), ""), "tokens": tokens,
                           "inventory": merged.to_document()}) + "\n"
        replace_private(self.path, text)  # pool data: 0600
        self._written = time.monotonic()


def read_checkpoint(path: Path) -> tuple[Inventory, str]:
    """The inventory and the (first) token of a checkpoint file."""
    from xapictl.errors import UsageError
    from xapictl.inventory.formats import read_text

    text = read_text(path, "checkpoint file")
    try:
        data = json.loads(text)
        return Inventory.from_document(data["inventory"]), str(data.get("token", ""))
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise UsageError(f"{path}: not an xapictl checkpoint file (written by `inventory "
                         "watch --state`); give another path or remove it") from None


__all__ = ["CheckpointFile", "read_checkpoint"]
