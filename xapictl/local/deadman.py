"""``--confirm-within N``: a detached process that rolls the change back after N seconds
unless ``xapictl local confirm`` disarms it first (nmstate's checkpoint timeout, for changes
made over an SSH session the change might cut)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from pathlib import Path

from xapictl.local import wait

__all__ = ["arm", "disarm"]

_MODULE = "xapictl.local.deadman"


def arm(undo_file: Path, netns: str | None, seconds: float, token: str) -> int:
    """Start the timer; returns its pid. Double-forked into its own session, so it outlives
    the caller (and an SSH session the change cut) and is nobody's zombie. It rolls back
    only while the undo file still carries ``token``."""
    cmd = [sys.executable, "-m", _MODULE, "--after", str(seconds), "--token", token,
           str(undo_file)]
    if netns:
        cmd += ["--netns", netns]
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked child
        try:
            os.close(read_end)
            os.setsid()
            grandchild = os.fork()
            if grandchild == 0:
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                os.closerange(3, 65536)
                os.execv(sys.executable, cmd)  # noqa: S606 - our own interpreter and module
            os.write(write_end, str(grandchild).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        pid = int(pipe.read() or 0)
    os.waitpid(child, 0)
    if not pid:
        raise OSError("could not start the dead-man timer")
    return pid


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
    parser.add_argument("--token", required=True)
    args = parser.parse_args(argv)
    wait.sleep(args.after)
    try:
        raw = json.loads(args.undo_file.read_text())
    except (OSError, ValueError):
        return 0  # confirmed (file removed) in the meantime
    if not raw.get("pending") or raw.get("token") != args.token:
        return 0  # not (or no longer) the change this timer guards
    from xapictl.errors import LocalBackendError
    from xapictl.local.apply import rollback_pending

    try:
        errors = rollback_pending(args.netns, token=args.token)
    except LocalBackendError:
        return 0  # confirmed or rolled back by hand while we waited for the lock
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
