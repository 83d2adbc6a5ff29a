"""The rollback guard: a detached process, started before an apply's first step, that rolls
the change back when the deadline in its undo file passes, unless the apply finishes
without ``--confirm-within`` or ``xapictl local confirm`` disarms it first (nmstate's
checkpoint timeout: for an apply killed half way, and for changes made over an SSH session
the change might cut). The deadline lives in the undo file so the apply can move it on."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

__all__ = ["arm", "disarm", "seconds_left"]

_MODULE = "xapictl.local.deadman_process"  # the timer's own command line


def arm(undo_file: Path, netns: str | None, token: str) -> int:
    """Start the timer; returns its pid. Double-forked into its own session, so it outlives
    the caller (and an SSH session the change cut) and is nobody's zombie; it runs
    ``xapictl.local.deadman_process``. It rolls back
    only while the undo file still carries ``token``, once the file's deadline passed."""
    cmd = [sys.executable, "-m", _MODULE, "--token", token, str(undo_file)]
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
                # keep the pipe (close-on-exec) open until the exec: the caller reads to
                # EOF, so it returns only once /proc shows the timer (disarm checks that)
                os.closerange(3, write_end)
                os.closerange(write_end + 1, 65536)
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


def seconds_left(undo_file: Path, token: str) -> float | None:
    """Until the deadline of the change ``token`` guards; None when there is none (the
    file is gone, unreadable or another change's)."""
    try:
        raw = json.loads(undo_file.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("token") != token:
        return None
    return float(raw.get("deadline") or 0) - time.monotonic()
