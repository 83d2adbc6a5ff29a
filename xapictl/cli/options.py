"""The global options (``xapictl --url … network create …``), kept on the typer context."""

from __future__ import annotations

import enum
from dataclasses import field
from pathlib import Path
from typing import Literal

import typer

from xapictl._frozen import Frozen, Mutable, frozen, mutable


class Output(enum.StrEnum):
    """``-o``: ``table`` for people (``wide``: every column), ``json``/``yaml`` documents for
    programs (docs/output.md), ``name``: one identifier per line (list commands)."""

    table = "table"
    wide = "wide"
    json = "json"
    yaml = "yaml"
    name = "name"

    @property
    def is_data(self) -> bool:
        """A JSON or YAML document."""
        return self in (Output.json, Output.yaml)


EMBEDDED = "embedded"
"""``--pool embedded`` (``XAPICTL_POOL=embedded``): the embedded simulated pool, by name."""


@frozen
class PoolChoice(Frozen):
    """The pool a run works on, as chosen from the options (``cli.connection.choose_pool``)."""

    kind: Literal["url", "profile", "embedded"]
    url: str
    """The URL given, the profile's URL, or ``embedded``."""
    profile: str | None = None

    @property
    def label(self) -> str:
        """How outputs name the pool: its URL (a profile's URL), or ``embedded``."""
        return self.url


@mutable
class GlobalOptions(Mutable):
    """The root command's options (pool, connection, output), as one run parsed them."""

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
    lock_timeout: float | None = None
    no_headers: bool = False
    sources: dict[str, str] = field(default_factory=dict)
    """Options that came from an environment variable: field name -> the variable."""
    chosen: PoolChoice | None = None
    """The pool opened (set by ``open_pool``)."""
    moved_to: str | None = None
    """The URL the pool master answers at after this run moved its management interface
    (set by ``open_pool``): the ``--url`` of the command that resumes."""
    command: typer.Context | None = field(default=None, repr=False, compare=False)
    """The context of the command that asked for these options (set by ``current``): what
    ``run.invoked_command`` rebuilds the command line from."""

    @property
    def pool_label(self) -> str | None:
        """The pool this run opened, for outputs: URL, profile's URL, or ``embedded``
        (None before a pool was opened)."""
        return self.chosen.label if self.chosen is not None else None


_RUNNING: list[GlobalOptions] = []


def running() -> GlobalOptions | None:
    """The global options of the command running now (set by the root callback), if any."""
    return _RUNNING[-1] if _RUNNING else None


def set_running(opts: GlobalOptions | None) -> None:
    _RUNNING[:] = [] if opts is None else [opts]


def current(ctx: typer.Context) -> GlobalOptions:
    """The options given before the command (defaults when called bare, e.g. in tests)."""
    root = ctx.find_root()
    obj = root.obj
    if not isinstance(obj, GlobalOptions):
        obj = root.obj = GlobalOptions()
        set_running(obj)
    obj.command = ctx
    return obj


__all__ = ["EMBEDDED", "GlobalOptions", "Output", "PoolChoice", "current", "running",
           "set_running"]
