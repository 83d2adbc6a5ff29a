"""No import circles inside xapictl/: the import graph, built with ``ast``, has no cycle.

Every import counts: module level, under ``if TYPE_CHECKING:``, and inside functions alike (a
lazy import is still a dependency, as in test_project_layers.py). An edge goes to the module
named: ``from xapictl.client import base`` is an edge to ``xapictl.client.base``, ``from
xapictl.client.base import ClassClient`` one to ``xapictl.client.base``; the implicit import
of parent packages is not an edge (every submodule would otherwise be in a circle with its
package's ``__init__``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "xapictl"

# Circles known and owned elsewhere, each with why it is still there. The test fails when one
# of them is gone too, so the list only shrinks.
KNOWN: dict[frozenset[str], str] = {}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """``{module: modules of the package it imports}``, every import counted."""
    modules = {module_name(p, package): p for p in sorted(package.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name in modules}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    prefix = here[:len(here) - node.level + 1]
                    base = ".".join([*prefix, *([node.module] if node.module else [])])
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    if sub in modules:
                        targets.add(sub)
                    elif base in modules:
                        targets.add(base)
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, set())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def test_the_import_graph_has_no_circle() -> None:
    found = cycles(import_graph())
    new = [sorted(c) for c in found if c not in KNOWN]
    assert new == [], f"import circles (move what both sides need to the lower module): {new}"
    gone = [sorted(c) for c in KNOWN if c not in found]
    assert gone == [], f"circles fixed: drop them from KNOWN: {gone}"


def test_the_three_circles_of_issue_17_are_gone() -> None:
    graph = import_graph()
    for low, high in [("xapictl.client.base", "xapictl.client.connection"),
                      ("xapictl.local.deadman", "xapictl.local.apply"),
                      ("xapictl.model.enums", "xapictl.model._base")]:
        assert high not in graph[low], f"{low} imports {high} again"


def test_the_graph_sees_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    # the detector itself: a circle through a function-level and a TYPE_CHECKING import
    pkg = tmp_path / "xapictl"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text("def f():\n    from xapictl.sub import b\n")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import C\n")
    (pkg / "sub" / "c.py").write_text("import xapictl.sub.a\n")
    (pkg / "sub" / "d.py").write_text("from xapictl.sub import a\n")
    assert cycles(import_graph(pkg)) == [
        frozenset({"xapictl.sub.a", "xapictl.sub.b", "xapictl.sub.c"})]
