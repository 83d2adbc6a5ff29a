"""The one way xapictl reads YAML it did not write: recipes, plain-Xen recipes and fleet files.

``yaml.safe_load`` is safe from code execution, not from input that costs time or hides
mistakes. This loader composes the document (nodes keep their line numbers) and refuses, with
one line naming the file and line:

- **aliases** (``*name``): no xapictl format needs them (``defaults:`` in a fleet file does the
  job of a merge key), and an alias bomb ("billion laughs") expands a few hundred bytes into
  billions of nodes for whoever walks the tree. An anchor alone (``&name``) is harmless and
  accepted; the first alias is refused before anything is expanded.
- **deep nesting**: more than ``MAX_DEPTH`` levels of lists and mappings (the composer recurses,
  so ``[[[[…`` would otherwise end in a ``RecursionError``).
- **big documents**: more than ``MAX_BYTES`` bytes (recipes and fleet files are kilobytes).
- **tags** other than YAML's plain core types (``!!binary``, ``!!set``, ``!custom`` …).
- **duplicate mapping keys**, anywhere: YAML says a key is unique, PyYAML silently keeps the
  last one (a ``networks:`` given twice drops the first list). Every duplicate is reported with
  the line of each occurrence.

It lives in ``plan/`` because the layer table lets ``plan``, ``local``, ``fleet`` and the CLI
all import it. Refusals raise ``DesiredStateError`` (problems one per line, ``FILE:LINE: …``);
the fleet loader re-raises them as ``ConfigError``.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent

from xapictl.errors import DesiredStateError

MAX_DEPTH = 32
"""Lists and mappings nested deeper than this are refused (recipes use 4 levels)."""
MAX_BYTES = 2 * 1024 * 1024
"""Documents bigger than this (2 MiB) are refused before parsing."""

_CORE = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(_CORE + t for t in ("null", "bool", "int", "float", "str", "seq",
                                              "map", "timestamp", "merge"))


class _Refused(Exception):
    """Raised inside the composer to stop at once; turned into one problem line."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(message)


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader whose composer refuses aliases, depth, odd tags and duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.path: list[str] = []
        self.duplicates: list[tuple[str, int, int]] = []  # (path, first line, second line)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.get_event()  # type: ignore[no-untyped-call]
            raise _Refused(event.start_mark.line + 1,
                           f"YAML alias *{event.anchor} is not accepted in xapictl files "
                           "(aliases can expand without bound); write the value out")
        pushed = False
        if isinstance(parent, yaml.MappingNode) and isinstance(index, yaml.ScalarNode):
            self.path.append(f".{index.value}" if self.path else str(index.value))
            pushed = True
        elif isinstance(parent, yaml.SequenceNode) and isinstance(index, int):
            self.path.append(f"[{index}]")
            pushed = True
        self.depth += 1
        if self.depth > MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise _Refused(mark.line + 1, f"nested more than {MAX_DEPTH} levels deep; "
                           "xapictl files are shallow, check the indentation")
        try:
            node: yaml.Node | None = super().compose_node(parent, index)
        finally:
            self.depth -= 1
            if pushed:
                self.path.pop()
        if node is not None and node.tag not in _PLAIN_TAGS:
            raise _Refused(node.start_mark.line + 1,
                           f"YAML tag {_short(node.tag)} is not accepted; remove it (plain "
                           "strings, numbers, true/false, lists and mappings only)")
        return node

    def compose_mapping_node(self, anchor: Any) -> Any:
        node = super().compose_mapping_node(anchor)
        first: dict[tuple[str, str], int] = {}
        for key, _value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            ident = (key.tag, key.value)
            line = key.start_mark.line + 1
            if ident in first:
                prefix = "".join(self.path)
                where = f"{prefix}.{key.value}" if prefix else str(key.value)
                self.duplicates.append((where, first[ident], line))
            else:
                first[ident] = line
        return node


def _short(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def compose(text: str, source: str) -> yaml.Node | None:
    """The node tree of one YAML document, or None for an empty one.

    Raises ``DesiredStateError`` with ``FILE:LINE: …`` problems for invalid YAML, aliases,
    deep nesting, a big document, odd tags and duplicate keys (all of them, both lines each).
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise DesiredStateError([f"{source}: {size} bytes is more than the {MAX_BYTES} a "
                                 "YAML file xapictl reads may hold; split it"])
    loader: _StrictLoader | None = None
    try:
        loader = _StrictLoader(text)
        root: yaml.Node | None = loader.get_single_node()
    except yaml.reader.ReaderError as exc:
        raise DesiredStateError([f"{source}: not valid YAML: the control character "
                                 f"U+{exc.character:04X} at position {exc.position}; remove "
                                 "it"]) from None
    except _Refused as exc:
        raise DesiredStateError([f"{source}:{exc.line}: {exc.message}"]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise DesiredStateError([f"{source}{line}: not valid YAML: {exc.problem or exc}; "
                                 "check indentation and quoting"]) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise DesiredStateError([f"{source}: not valid YAML ({exc.__class__.__name__}); "
                                 "check the file is a YAML mapping"]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if loader.duplicates:
        raise DesiredStateError([
            f"{source}:{second}: {path}: given twice, at {source}:{first} and "
            f"{source}:{second}; keep one (YAML would silently keep only the last)"
            for path, first, second in sorted(loader.duplicates, key=lambda d: d[2])])
    return root


def scalar_value(node: yaml.Node) -> Any:
    """The plain Python value of a scalar node (YAML 1.1 core schema), or None for others.

    Raises ``ValueError`` for a scalar that cannot be built (an integer of more than 4300
    digits, a malformed timestamp).
    """
    if not isinstance(node, yaml.ScalarNode):
        return None
    try:
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except (yaml.YAMLError, TypeError, OverflowError) as exc:
        raise ValueError(str(exc)) from None


def load(text: str, source: str) -> Any:
    """Plain Python data (dicts, lists, scalars) of a document ``compose`` accepts."""
    root = compose(text, source)
    if root is None:
        return None
    todo = [root]  # a tree: compose refused aliases, so every node is visited once
    while todo:
        node = todo.pop()
        if isinstance(node, yaml.MappingNode):
            todo += [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            todo += node.value
        else:
            try:
                scalar_value(node)
            except ValueError:
                raise DesiredStateError([f"{source}:{node.start_mark.line + 1}: this value "
                                         "cannot be read; quote it as a string"]) from None
    try:
        return yaml.constructor.SafeConstructor().construct_document(root)
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # unhashable keys, bad merges
        raise DesiredStateError([f"{source}: cannot be read as data "
                                 f"({exc.__class__.__name__}); check the file's "
                                 "structure"]) from None


__all__ = ["MAX_BYTES", "MAX_DEPTH", "compose", "load", "scalar_value"]
