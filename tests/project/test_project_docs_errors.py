"""docs/errors.md shows the exception tree exactly as xapictl/errors.py draws it."""

from __future__ import annotations

from pathlib import Path

import xapictl.errors

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def _tree_from_docstring() -> str:
    doc = xapictl.errors.__doc__ or ""
    start = doc.index("    XapictlError")
    end = doc.index("\n\n", start)
    return "\n".join(line[4:] for line in doc[start:end].splitlines())


def test_the_errors_page_repeats_the_tree() -> None:
    assert _tree_from_docstring() in DOC.read_text()


def test_every_class_in_the_tree_exists_and_subclasses_its_parent() -> None:
    stack: list[tuple[int, type]] = []
    for line in _tree_from_docstring().splitlines():
        name_part = line.lstrip("│ ├└─")
        depth = len(line) - len(name_part)
        name = name_part.split()[0].split("(")[0]
        if name == "one":  # "one subclass per XAPI error code"
            continue
        cls = getattr(xapictl.errors, name)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            assert issubclass(cls, stack[-1][1]), f"{name} is not a {stack[-1][1].__name__}"
        stack.append((depth, cls))
