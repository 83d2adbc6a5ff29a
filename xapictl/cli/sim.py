"""``xapictl sim``: serve the XAPI simulator (placeholder until the simulator issue lands)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run the XAPI simulator: a sandbox pool on loopback.", no_args_is_help=True)


@app.command()
def serve() -> None:
    """Serve a simulated pool until interrupted."""
    raise typer.Exit(1)
