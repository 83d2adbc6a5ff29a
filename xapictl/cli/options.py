"""The global options (``xapictl --url … network create …``), kept on the typer context."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

import typer


class Output(enum.StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


@dataclass
class GlobalOptions:
    pool: str | None = None
    url: str | None = None
    user: str | None = None
    password_file: Path | None = None
    ca: Path | None = None
    fingerprint: list[str] | None = None
    insecure: bool = False
    output: Output = Output.table
    verbose: bool = False
    quiet: bool = False
    timeout: float | None = None


def current(ctx: typer.Context) -> GlobalOptions:
    """The options given before the command (defaults when called bare, e.g. in tests)."""
    root = ctx.find_root()
    obj = root.obj
    if isinstance(obj, GlobalOptions):
        return obj
    opts = GlobalOptions()
    root.obj = opts
    return opts


__all__ = ["GlobalOptions", "Output", "current"]
