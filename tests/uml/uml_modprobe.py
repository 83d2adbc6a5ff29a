"""A tiny ``modprobe`` for the UML test kernel: the build machines have no kmod, so load
modules (and their dependencies from modules.dep) with the finit_module syscall.

Usage: python uml_modprobe.py MODULE_DIR NAME [NAME...]
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
from pathlib import Path

SYS_FINIT_MODULE = 313  # x86_64; UML guest processes use the host's syscall table


def _deps(moddir: Path) -> dict[str, list[str]]:
    table = {}
    for line in (moddir / "modules.dep").read_text().splitlines():
        mod, _, rest = line.partition(":")
        table[Path(mod).name.removesuffix(".ko").replace("-", "_")] = [mod, *rest.split()]
    return table


def _builtin(moddir: Path) -> set[str]:
    """Modules built into the kernel: nothing to load. modules.builtin lists tristate
    options built in; ipv6, a bool option in newer kernels, is only in modules.builtin.modinfo
    (NUL-separated ``module.key=value``)."""
    names = set()
    listing, modinfo = moddir / "modules.builtin", moddir / "modules.builtin.modinfo"
    if listing.exists():
        names |= {Path(line).name.removesuffix(".ko") for line in listing.read_text().split()}
    if modinfo.exists():
        names |= {entry.partition(b".")[0].decode() for entry in modinfo.read_bytes().split(b"\0")}
    return {name.replace("-", "_") for name in names}


def _load(path: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.syscall(SYS_FINIT_MODULE, fd, b"", 0) != 0:
            err = ctypes.get_errno()
            if err != errno.EEXIST:
                raise OSError(err, f"finit_module {path.name}: {os.strerror(err)}")
    finally:
        os.close(fd)


def modprobe(moddir: Path, name: str) -> None:
    table = _deps(moddir)
    key = name.replace("-", "_")
    if key in _builtin(moddir):
        return
    if key not in table:
        raise SystemExit(f"uml_modprobe: no module {name} in {moddir}")
    mod, *deps = table[key]
    for rel in [*reversed(deps), mod]:
        _load(moddir / rel)


if __name__ == "__main__":
    directory = Path(sys.argv[1])
    for module in sys.argv[2:]:
        modprobe(directory, module)
