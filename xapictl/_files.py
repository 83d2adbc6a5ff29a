"""Private files: what xapictl creates that holds pool data or session refs.

The audit logs, the rollout journal, the embedded pool's state, a simulator ``--state`` file
and the known-hosts store are created mode 0600, in directories created mode 0700, whatever
the umask (a simulator's state holds live session refs, which work as credentials). A file
that already exists with a looser mode (made by an older xapictl) is tightened to 0600 when it
is opened; directories that already exist are left as they are (``/tmp``, a project's folder).

One place, standard library only, so every layer may import it (like ``xapictl.errors``).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """``path`` as a directory: created (with missing parents) mode 0700 if absent."""
    missing: list[Path] = []
    here = path
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            directory.mkdir(mode=DIR_MODE)
        with contextlib.suppress(OSError):  # mkdir's mode is masked by the umask
            os.chmod(directory, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """``path`` as a private file: created empty mode 0600 (in a private directory) if
    absent, tightened to 0600 if it exists. For files another library opens by name
    (SQLite: its ``-wal`` and ``-shm`` files take the database file's mode)."""
    os.close(_open(path, os.O_RDWR | os.O_CREAT))
    return path


def open_private(path: Path, mode: str = "a") -> IO[str]:
    """Open a private text file for appending (``a``) or rewriting (``w``), UTF-8."""
    flags = {"a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
             "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC}[mode]
    return os.fdopen(_open(path, flags), mode, encoding="utf-8")


def replace_private(path: Path, text: str) -> None:
    """Write ``text`` as the private file ``path`` whole or not at all: into a temporary file
    beside it, synced, then renamed over it (a process killed at any point leaves the old file
    or the new one, never a part)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open_private(tmp, "w") as f:  # 0600, as the rename keeps it
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _open(path: Path, flags: int) -> int:
    private_dir(path.parent)
    fd = os.open(path, flags, FILE_MODE)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            with contextlib.suppress(OSError):  # not ours to change (owned by someone else)
                os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


__all__ = ["DIR_MODE", "FILE_MODE", "open_private", "private_dir", "private_file",
           "replace_private"]
