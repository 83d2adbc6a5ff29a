"""What survives a reboot: the last confirmed recipe, re-applied by ``xapictl local boot``.

The mechanism is a boot unit, not the distribution's network configuration: xapictl never
writes /etc/network/interfaces or systemd-networkd files, so it never fights them. An apply
stages its recipe in the state directory (/run: a tmpfs, gone at reboot); only a settled
change (an apply without ``--confirm-within`` that verified, or ``local confirm``) copies
it to ``ROOT/var/lib/xapictl/local/boot-recipe.yaml``. An unconfirmed apply therefore never
persists: its staged copy dies with /run, and a rollback removes it at once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from xapictl.local.apply import state_dir

__all__ = ["BOOT_RECIPE", "commit", "discard", "persisted", "persisted_path", "stage"]

BOOT_RECIPE = Path("var/lib/xapictl/local/boot-recipe.yaml")
"""Relative to the root (``--root``, default /)."""


def persisted_path(root: Path) -> Path:
    return root / BOOT_RECIPE


def _staged(netns: str | None) -> Path:
    return state_dir() / f"recipe-{netns or 'host'}.yaml"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    with tmp.open("rb") as f:
        os.fsync(f.fileno())  # a power cut right after confirm must not leave half a file
    tmp.replace(path)


def stage(netns: str | None, recipe: Path) -> None:
    """Remember the recipe an apply used, until it is confirmed or rolled back."""
    header = (f"# xapictl local: re-applied at boot by 'xapictl local boot'\n"
              f"# from {recipe.resolve()}, confirmed {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n")
    _atomic_write(_staged(netns), header + recipe.read_text(encoding="utf-8"))


def commit(netns: str | None, root: Path) -> Path | None:
    """The staged recipe becomes the boot recipe; None when nothing was staged."""
    staged = _staged(netns)
    try:
        text = staged.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    target = persisted_path(root)
    _atomic_write(target, text)
    staged.unlink(missing_ok=True)
    return target


def discard(netns: str | None) -> None:
    """A rolled-back change is never persisted."""
    _staged(netns).unlink(missing_ok=True)


def persisted(root: Path) -> Path | None:
    path = persisted_path(root)
    return path if path.is_file() else None
