"""Python source as ruff formats it, for the generators (``_codegen`` and
``_codegen_clients``): import lines and ``__all__`` in ruff's order."""

from __future__ import annotations

from collections.abc import Iterable


def isort_key(name: str) -> tuple[int, str]:
    """The order ruff's isort gives imported names and ``__all__``: CONSTANTS, Classes, rest."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name.lower()


def from_import(module: str, names: Iterable[str]) -> str:
    """One ``from … import …`` line, wrapped one name a line as ruff formats long ones."""
    ordered = sorted(names, key=isort_key)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= 100:
        return line
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in ordered) + ")"


def all_list(names: Iterable[str]) -> str:
    """``__all__`` as ruff's RUF022 wants it: CONSTANTS first, then case-sensitive order."""
    ordered = sorted(names, key=lambda n: (not n.isupper(), n))
    return "__all__ = [\n" + "".join(f'    "{n}",\n' for n in ordered) + "]"


__all__ = ["all_list", "from_import", "isort_key"]
