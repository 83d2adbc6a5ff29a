"""Every package says what it is: a real docstring, and a module list that is complete."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "xapictl"
INITS = sorted(PACKAGE.rglob("__init__.py"))
STALE = re.compile(r"placeholder|filled in by|\bTODO\b|\bTBD\b|\bFIXME\b", re.IGNORECASE)


def _docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text(), filename=str(path))) or ""


@pytest.mark.parametrize("init", INITS, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_each_package_docstring_says_what_the_package_is(init: Path) -> None:
    text = _docstring(init)
    assert len(text.split()) >= 12, f"{init.relative_to(PACKAGE.parent)}: no real docstring"
    assert not STALE.search(text), f"{init.relative_to(PACKAGE.parent)}: {text[:80]!r}"


def _named_modules(init: Path) -> set[str]:
    """``engine.py`` names a module of the package; ``classes/vlan.py`` is a path below it."""
    return set(re.findall(r"(?<![/\w])(\w+)\.py\b", _docstring(init)))


# A docstring naming three modules or more is a module list (one or two are examples).
LISTING = [init for init in INITS if len(_named_modules(init)) >= 3]


def test_the_module_lists_are_where_they_should_be() -> None:
    assert {i.parent.name for i in LISTING} >= {"sim", "state", "local"}


@pytest.mark.parametrize("init", LISTING, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_a_package_docstring_that_lists_modules_lists_them_all(init: Path) -> None:
    """Once a docstring names its modules (``engine.py``), a new module must join the list."""
    named = _named_modules(init)
    modules = {p.stem for p in init.parent.glob("*.py") if p.stem != "__init__"}
    modules |= {p.name for p in init.parent.iterdir() if (p / "__init__.py").exists()}
    missing = {m for m in modules if m not in named and f"{m}/" not in _docstring(init)}
    assert missing == set(), f"{init.relative_to(PACKAGE.parent)} does not name {sorted(missing)}"
    assert named <= modules, f"names modules that do not exist: {sorted(named - modules)}"


def test_the_two_former_placeholders_name_their_central_types() -> None:
    assert "Simulator" in _docstring(PACKAGE / "sim" / "__init__.py")
    assert "PoolSnapshot" in _docstring(PACKAGE / "state" / "__init__.py")
