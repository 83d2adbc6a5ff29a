"""The layer table of ARCHITECTURE.md, enforced: each package imports only what its row allows.

Imports inside functions count too: the table is about dependencies, not import time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "xapictl"

# Every layer may use these shared leaves.
SHARED = {"xapictl.errors", "xapictl._version"}

# package -> xapictl packages it may import (besides itself and SHARED)
ALLOWED: dict[str, set[str]] = {
    "xapi": set(),
    "model": set(),
    "client": {"xapi", "model"},
    "state": {"client", "model"},
    "plan": {"state", "model"},
    "recipes": {"plan", "model"},
    "local": {"plan", "model"},
    "fleet": {"plan", "client", "state", "model", "xapi"},
    "inventory": {"state", "model"},
    "sim": {"model"},
}

# third-party module -> the only packages that may import it
THIRD_PARTY_OWNERS: dict[str, set[str]] = {
    "pyroute2": {"local"},
    "typer": {"cli"},
    "rich": {"cli", "fleet"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _layer_files() -> list[tuple[str, Path]]:
    out = []
    for layer in ALLOWED:
        base = PACKAGE / layer
        out += [(layer, p) for p in sorted(base.rglob("*.py"))]
    return out


@pytest.mark.parametrize(("layer", "path"), _layer_files(),
                         ids=lambda v: str(v.relative_to(PACKAGE)) if isinstance(v, Path) else v)
def test_module_imports_only_what_its_layer_allows(layer: str, path: Path) -> None:
    wrong = []
    for line, module in _imports(path):
        top = module.split(".")[0]
        if top == "xapictl":
            if module in SHARED or module == "xapictl":
                continue
            target = module.split(".")[1]
            if target != layer and target not in ALLOWED[layer]:
                wrong.append(f"line {line}: {module}")
        elif top in THIRD_PARTY_OWNERS and layer not in THIRD_PARTY_OWNERS[top]:
            wrong.append(f"line {line}: {module} (only {sorted(THIRD_PARTY_OWNERS[top])})")
    assert wrong == [], f"{path.relative_to(PACKAGE)} crosses the layer table: {wrong}"


def test_pyroute2_is_imported_only_under_local() -> None:
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if p.parts[len(PACKAGE.parts)] != "local"
                 and any(m.split(".")[0] == "pyroute2" for _, m in _imports(p))]
    assert offenders == []
