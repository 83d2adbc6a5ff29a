"""One lock per namespace so admin runs and vif hotplug events never interleave (the Xen
scripts' ``claim_lock``): ``flock`` on a file under /run/lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from xapictl.errors import LocalBackendError
from xapictl.local import wait

__all__ = ["lock_dir", "locked", "state_dir"]


def lock_dir() -> Path:
    return Path(os.environ.get("XAPICTL_LOCAL_LOCK_DIR", "/run/lock"))


def state_dir() -> Path:
    """Where undo files and vif guard records live (/run: gone at reboot, as the change)."""
    return Path(os.environ.get("XAPICTL_LOCAL_STATE_DIR", "/run/xapictl"))


@contextlib.contextmanager
def locked(netns: str | None, *, timeout: float = 30.0) -> Iterator[Path]:
    """Hold the lock for ``netns`` (None: the host itself); give up after ``timeout`` s."""
    directory = lock_dir()
    path = directory / f"xapictl-local-{netns or 'host'}.lock"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise LocalBackendError(f"cannot open the lock file {path}: {exc.strerror}"
                                " (run xapictl as root, or set XAPICTL_LOCAL_LOCK_DIR)") from exc
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LocalBackendError(
                        f"another xapictl run holds {path} (waited {timeout:.0f} s)"
                    ) from None
                wait.sleep(0.02)
        yield path
    finally:
        os.close(fd)
