"""Rendering for the CLI: tables and lines for people, JSON/YAML documents for programs.

Commands build a typed document (``xapictl.cli.documents``) and hand it here:

- ``-o json|yaml``: the document, as its schema says (``xapictl schema KIND``);
- ``-o table`` (default): list documents as a table of the item model's columns, one row per
  line, plain ASCII; at a terminal, columns that do not fit are dropped (wide-only ones, such
  as UUIDs, first — a UUID is never split or elided) and long text is elided with ``…``;
  ``-o wide`` keeps every column; show documents as ``field  value`` lines;
- ``-o name``: list documents as one identifier per line (for ``xargs``).

Every pool-supplied string reaches the terminal with its control characters escaped
(``escape``): a network named ``\\x1b[31m…`` cannot colour or rewrite the screen. Every column
layout (tables, ``field  value`` lines, the aligned lines of ``local show``, ``rollout
status``…) is rich's (``columns``), rendered as plain text: no markup, no colour, no box.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from xapictl.cli.options import GlobalOptions, Output

if TYPE_CHECKING:
    from pydantic import BaseModel

    from xapictl.cli.documents import Item

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def escape(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character (C0, DEL, C1) shown as an escape (``\\x1b``,
    ``\\n``): printable, one line (unless ``keep_newlines``), never a terminal command.
    Backslashes are left alone unless a control character was escaped."""
    if all(ch.isprintable() or (keep_newlines and ch == "\n") for ch in text):
        return text
    out = []
    for ch in text:
        if keep_newlines and ch == "\n":
            out.append(ch)
        elif ch in _NAMED and ch != "\\":
            out.append(_NAMED[ch])
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            out.append(f"\\x{ord(ch):02x}")
        elif not ch.isprintable() and ch != " ":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def emit_data(opts: GlobalOptions, data: Any) -> None:
    """JSON (indented) or YAML of plain data."""
    if opts.output is Output.yaml:
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    else:
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False)
                         + "\n")


def emit_document(opts: GlobalOptions, doc: BaseModel) -> None:
    """A document as JSON/YAML (the caller renders the table form of non-list documents)."""
    from xapictl.cli.documents import dump

    emit_data(opts, dump(doc))


def refuse_name(opts: GlobalOptions, what: str) -> None:
    """``-o name`` is for list commands: anything else exits 2, nothing sent."""
    if opts.output is Output.name:
        from xapictl.errors import UsageError

        raise UsageError(f"-o name lists identifiers and `{what}` is not a list command: "
                         "use -o table, wide, json or yaml")


def refuse_data(opts: GlobalOptions, what: str, instead: str) -> None:
    """A command whose output is not a document (a file format, a stream, a server) refuses
    ``-o json|yaml|name``: exit 2, nothing sent, and what to use instead."""
    if opts.output.is_data or opts.output is Output.name:
        from xapictl.errors import UsageError

        raise UsageError(f"-o {opts.output.value} does not apply to `{what}`: {instead}")


def out_file(path: Any, option: str = "--out") -> Any:
    """A file a command writes (``--out FILE``): a directory is refused (exit 2), nothing
    written."""
    if path is not None and path.is_dir():
        from xapictl.errors import UsageError

        raise UsageError(f"{option}: {path} is a directory; give a file path (e.g. "
                         f"{option} {path}/out.json)")
    return path


def cell(value: Any) -> str:
    """How a value shows in a table cell or a ``field  value`` line (escaped)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return escape(", ".join(f"{k}={cell(v)}" for k, v in value.items())) or "-"
    if isinstance(value, list | tuple):
        return escape(", ".join(cell(v) for v in value)) or "-"
    return escape(str(value))


def emit_list(opts: GlobalOptions, doc: BaseModel, item_type: type[Item], *,
              pool_column: bool = False) -> None:
    """A list document (``items``) in the form ``-o`` asks for."""
    items: Sequence[Item] = doc.items  # type: ignore[attr-defined]
    if opts.output.is_data:
        emit_document(opts, doc)
        return
    if opts.output is Output.name:
        sys.stdout.writelines(f"{cell(getattr(i, item_type.name_field))}\n" for i in items)
        return
    columns = list(item_type.columns)
    if pool_column:
        columns.insert(0, ("Pool", "pool", False))
    rows = [[cell(getattr(i, field)) for _, field, _ in columns] for i in items]
    write_table([h for h, _, _ in columns], rows, [w for _, _, w in columns], opts)


def terminal_width() -> int | None:
    """The terminal's width, or None when stdout is not a terminal (piped: no limit)."""
    if not sys.stdout.isatty():
        return None
    import shutil

    return shutil.get_terminal_size().columns


def write_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                wide_only: Sequence[bool], opts: GlobalOptions) -> None:
    width = None if opts.output is Output.wide else terminal_width()
    sys.stdout.write(format_table(headers, rows, wide_only, width=width,
                                  headers_shown=not opts.no_headers))


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                 wide_only: Sequence[bool], *, width: int | None,
                 headers_shown: bool = True) -> str:
    """Columns separated by two spaces, one row per line, plain ASCII. With a ``width``:
    wide-only columns are dropped (rightmost first) until the table fits, then the widest
    other text column is elided with ``…`` (never below 8 characters); a column holding
    UUIDs is dropped, never elided."""
    keep = list(range(len(headers)))

    def widths(cols: list[int], cells: list[list[str]]) -> list[int]:
        shown = [headers[c] for c in cols] if headers_shown else ["" for _ in cols]
        return [max([len(shown[k]), *(len(r[k]) for r in cells)]) for k in range(len(cols))]

    cells = [list(r) for r in rows]

    def total(cols: list[int]) -> int:
        w = widths(cols, [[r[c] for c in cols] for r in cells])
        return sum(w) + 2 * max(len(w) - 1, 0)

    if width is not None:
        for c in reversed(range(len(headers))):
            if total(keep) <= width:
                break
            if wide_only[c]:
                keep.remove(c)
        while total(keep) > width:
            current = widths(keep, [[r[c] for c in keep] for r in cells])
            k = max(range(len(keep)), key=lambda i: current[i])
            limit = current[k] - (total(keep) - width)
            if limit < 8 or _holds_uuid(cells, keep[k]):
                break
            col = keep[k]
            for r in cells:
                if len(r[col]) > limit:
                    r[col] = r[col][:limit - 1] + "…"
    lines = [[headers[c] for c in keep]] if headers_shown else []
    lines += [[r[c] for c in keep] for r in cells]
    return "".join(f"{line}\n" for line in columns(lines))


def columns(rows: Sequence[Sequence[str]], *, gap: int = 2, indent: int = 0,
            min_widths: Sequence[int] = (), right: Collection[int] = ()) -> list[str]:
    """Rows of cells as aligned lines, laid out by rich: columns ``gap`` spaces apart (at
    least ``min_widths`` wide; the ones in ``right`` right-aligned), each line indented by
    ``indent`` spaces, trailing spaces dropped. Plain text: cells are escaped and never read
    as markup, no colour, no box, never wrapped."""
    if not rows:
        return []
    import io

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    count = max(len(row) for row in rows)
    table = Table(box=None, show_header=False, show_edge=False, pad_edge=False,
                  padding=(0, gap, 0, 0))
    for i in range(count):
        table.add_column(justify="right" if i in right else "left", no_wrap=True,
                         min_width=min_widths[i] if i < len(min_widths) else None)
    cells = [[escape(c) for c in row] for row in rows]
    for row in cells:
        table.add_row(*(Text(c) for c in row))
    widest = sum(max(len(row[i]) if i < len(row) else 0 for row in cells) for i in range(count))
    out = io.StringIO()
    Console(file=out, width=widest + sum(min_widths) + (gap + 1) * count + 1,
            color_system=None, highlight=False, markup=False, emoji=False, no_color=True,
            force_terminal=False, legacy_windows=False).print(table)
    return [" " * indent + line.rstrip() for line in out.getvalue().splitlines()]


def _holds_uuid(cells: list[list[str]], col: int) -> bool:
    import re

    return any(re.fullmatch(r"[0-9a-fA-F-]{36}", r[col]) for r in cells)


def emit_fields(opts: GlobalOptions, doc: BaseModel, *, title: str = "",
                skip: Sequence[str] = ("kind", "schema_version", "pool")) -> None:
    """One object as ``field  value`` lines (table form of a show document)."""
    data = {k: getattr(doc, k) for k in type(doc).model_fields if k not in skip}
    lines = [escape(title)] if title else []
    lines += columns([[k, cell(v)] for k, v in data.items()])
    sys.stdout.write("\n".join(lines) + "\n")


def say(opts: GlobalOptions, text: str) -> None:
    """Progress and outcome lines in table mode (silent with --quiet or json/yaml); control
    characters from pool-supplied names are escaped."""
    if not opts.output.is_data and not opts.quiet:
        text = escape(text, keep_newlines=True)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


__all__ = ["cell", "columns", "emit_data", "emit_document", "emit_fields", "emit_list",
           "escape", "format_table", "out_file", "refuse_data", "refuse_name", "say"]
