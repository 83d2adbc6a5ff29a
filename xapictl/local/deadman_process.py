"""The dead-man timer's process (``python -m xapictl.local.deadman_process``), started by
``deadman.arm``: it sleeps until the deadline in the undo file, then rolls the change back
with ``apply.expire_guard``. A module of its own above both: ``apply`` starts and stops
timers through ``deadman``, and only this entry point needs ``apply``'s rollback."""

from __future__ import annotations

import argparse
from pathlib import Path

from xapictl.errors import LocalBackendError
from xapictl.local import wait
from xapictl.local.apply import expire_guard
from xapictl.local.deadman import seconds_left

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xapictl-deadman")
    parser.add_argument("undo_file", type=Path)
    parser.add_argument("--netns")
    parser.add_argument("--token", required=True)
    args = parser.parse_args(argv)

    left = seconds_left(args.undo_file, args.token)
    while left is not None:
        if left > 0:
            wait.sleep(left)  # the deadline only moves later: sleep, then read it again
            left = seconds_left(args.undo_file, args.token)
            continue
        try:
            left, errors = expire_guard(args.netns, args.token)
        except LocalBackendError:
            return 1  # damaged undo file or a lock held for an hour: 'local rollback' says
        if left is None:
            return 1 if errors else 0
    return 0  # confirmed, rolled back by hand, or finished without confirmation


if __name__ == "__main__":
    raise SystemExit(main())
