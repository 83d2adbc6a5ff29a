"""``--confirm-within N``: a detached process that rolls the change back after N seconds
unless ``xapictl local confirm`` disarms it first (nmstate's checkpoint timeout, for changes
made over an SSH session the change might cut)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from xapictl.local import wait

__all__ = ["arm", "disarm"]

_MODULE = "xapictl.local.deadman"


def arm(undo_file: Path, netns: str | None, seconds: float) -> int:
    """Start the timer; returns its pid. It survives the caller (own session)."""
    cmd = [sys.executable, "-m", _MODULE, "--after", str(seconds), str(undo_file)]
    if netns:
        cmd += ["--netns", netns]
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        cmd, start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, close_fds=True,
    )
    return proc.pid


def _is_deadman(pid: int) -> bool:
    try:
        return _MODULE.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def disarm(pid: int | None) -> None:
    """Stop the timer (only if that pid really is our timer)."""
    if pid and _is_deadman(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xapictl-deadman")
    parser.add_argument("undo_file", type=Path)
    parser.add_argument("--after", type=float, required=True)
    parser.add_argument("--netns")
    args = parser.parse_args(argv)
    wait.sleep(args.after)
    try:
        raw = json.loads(args.undo_file.read_text())
    except (OSError, ValueError):
        return 0  # confirmed (file removed) in the meantime
    if not raw.get("pending"):
        return 0
    from xapictl.local.apply import rollback_pending

    errors = rollback_pending(args.netns)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
