"""The ``xapictl`` command line: a thin typer app, one module per command group.

Each group module builds its own ``typer.Typer`` and imports the library inside its commands, so
``xapictl --help`` never pays for rich, httpx, pyroute2 or the simulator.
"""

from __future__ import annotations

import typer

from xapictl._version import __version__
from xapictl.cli import sim

app = typer.Typer(
    name="xapictl",
    help="Plan and apply networking on XenServer / XCP-ng pools and plain Xen hosts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(sim.app, name="sim")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"xapictl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """xapictl: typed, idempotent, plan-before-apply networking for Xen."""


def main() -> None:
    app()


__all__ = ["app", "main"]
