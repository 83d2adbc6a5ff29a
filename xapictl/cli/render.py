"""Rendering for the CLI: tables (rich, imported inside functions), JSON and YAML.

Every command builds plain rows (lists of strings) and hands them here with the columns;
``--output json|yaml`` prints the same rows as a list of objects.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from xapictl.cli.options import GlobalOptions, Output


def emit_data(opts: GlobalOptions, data: Any) -> None:
    if opts.output is Output.yaml:
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    else:
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def emit_rows(opts: GlobalOptions, columns: Sequence[str], rows: Sequence[Sequence[Any]],
              *, title: str = "") -> None:
    """A table, or (json/yaml) a list of ``{column: value}`` objects."""
    if opts.output is not Output.table:
        keys = [c.lower().replace(" ", "_") for c in columns]
        emit_data(opts, [dict(zip(keys, row, strict=True)) for row in rows])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None, show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console = Console(soft_wrap=False)
    if not console.is_terminal:
        # Piped or captured: no terminal width to respect, so keep every row on one line.
        console = Console(soft_wrap=False, width=200)
    console.print(table)


def emit_pairs(opts: GlobalOptions, pairs: Sequence[tuple[str, Any]], *, title: str = ""
               ) -> None:
    """One object: ``field  value`` lines, or a JSON/YAML mapping."""
    if opts.output is not Output.table:
        emit_data(opts, dict(pairs))
        return
    width = max((len(k) for k, _ in pairs), default=0)
    lines = [title] if title else []
    lines += [f"{k.ljust(width)}  {_show(v)}" for k, v in pairs]
    sys.stdout.write("\n".join(lines) + "\n")


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "-"
    return str(value)


def say(opts: GlobalOptions, text: str) -> None:
    """Progress and outcome lines in table mode (silent with --quiet or json/yaml)."""
    if opts.output is Output.table and not opts.quiet:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


__all__ = ["emit_data", "emit_pairs", "emit_rows", "say"]
