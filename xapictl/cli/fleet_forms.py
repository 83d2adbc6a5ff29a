"""The fleet options every pool command takes, and how a read renders across pools.

``--fleet FILE [--select EXPR]`` runs the command on every selected pool: a read shows one
table with a leading ``Pool`` column (JSON/YAML keyed by pool) and exits 4 when a pool could
not be read (the others are still shown); a write is a rollout (``xapictl.cli.rollout``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from xapictl.cli.exit_codes import ExitCode
from xapictl.cli.options import Output, current

if TYPE_CHECKING:
    from xapictl.fleet.each import FleetResults
    from xapictl.state.snapshot import PoolSnapshot

FLEET = typer.Option(None, "--fleet", help="A fleet file: run on every selected pool of it "
                     "instead of one pool (a write becomes a rollout: see `xapictl rollout`).")
SELECT = typer.Option(None, "--select", help="With --fleet: the pools, by names, globs, "
                      "tag:T, and/or/not (default: all).")
YES = typer.Option(False, "--yes", "-y", help="Do not ask before a disruptive change (needed "
                   "off a terminal); with --fleet, before the rollout.")


def show_rows(ctx: typer.Context, columns: Sequence[str],
              rows_of: Callable[[PoolSnapshot], list[list[Any]]], fleet: Path | None,
              select: str | None) -> None:
    """The rows of the one pool, or of every selected pool of the fleet."""
    if fleet is not None:
        emit_fleet_rows(ctx, columns, read_fleet(ctx, fleet, select, rows_of))
        return
    from xapictl.cli.render import emit_rows
    from xapictl.cli.views import read_pool

    opts = current(ctx)
    emit_rows(opts, columns, rows_of(read_pool(opts)))


def show_pairs(ctx: typer.Context, pairs_of: Callable[[PoolSnapshot], list[tuple[str, Any]]],
               fleet: Path | None, select: str | None) -> None:
    """The fields of the one pool's object, or of every selected pool's."""
    if fleet is not None:
        emit_fleet_pairs(ctx, read_fleet(ctx, fleet, select, pairs_of))
        return
    from xapictl.cli.render import emit_pairs
    from xapictl.cli.views import read_pool

    opts = current(ctx)
    emit_pairs(opts, pairs_of(read_pool(opts)))


def converge_on(ctx: typer.Context, desired: Any, fleet: Path | None, select: str | None, *,
                yes: bool, ask: bool = False, recipe: Path | None = None,
                only: Sequence[str] | None = None) -> None:
    """Converge the one pool, or with a fleet roll ``desired`` out to the selected pools."""
    opts = current(ctx)
    if fleet is None:
        from xapictl.cli.run import converge

        converge(opts, desired, ask=ask, yes=yes)
        return
    from xapictl.cli.rollout import rollout_desired

    rollout_desired(ctx, desired, fleet, select, yes=yes, quiet=opts.quiet,
                    as_json=opts.output is not Output.table, recipe=recipe, only=only)


def read_fleet(ctx: typer.Context, fleet: Path, select: str | None,
               fn: Callable[[PoolSnapshot], Any]) -> FleetResults[Any]:
    """``fn(snapshot)`` on every selected pool (in parallel, with the global --timeout)."""
    from xapictl.cli.inventory import fleet_connector
    from xapictl.fleet.fleetfile import load_fleet
    from xapictl.fleet.forms import read_each

    pools = load_fleet(fleet).select(select)
    connector = fleet_connector(ctx)
    connector.prime(pools)
    return read_each(pools, connector, fn)


def emit_fleet_rows(ctx: typer.Context, columns: Sequence[str],
                    found: FleetResults[list[list[Any]]]) -> None:
    """One table, a ``Pool`` column first; JSON/YAML as ``{pool: [rows]}``."""
    from xapictl.cli.render import emit_data, emit_rows

    opts = current(ctx)
    if opts.output is Output.table:
        emit_rows(opts, ["Pool", *columns],
                  [[pool, *row] for pool, rows in found.results.items() for row in rows])
    else:
        keys = [c.lower().replace(" ", "_") for c in columns]
        emit_data(opts, {pool: [dict(zip(keys, row, strict=True)) for row in rows]
                         for pool, rows in found.results.items()})
    _report(found)


def emit_fleet_pairs(ctx: typer.Context, found: FleetResults[list[tuple[str, Any]]]) -> None:
    """Each pool's fields under its name; JSON/YAML as ``{pool: {field: value}}``."""
    from xapictl.cli.render import emit_data, emit_pairs

    opts = current(ctx)
    if opts.output is Output.table:
        for pool, pairs in found.results.items():
            emit_pairs(opts, pairs, title=f"pool {pool}")
    else:
        emit_data(opts, {pool: dict(pairs) for pool, pairs in found.results.items()})
    _report(found)


def _report(found: FleetResults[Any]) -> None:
    for pool, err in found.errors.items():
        typer.echo(f"xapictl: pool {pool} not read: {err}", err=True)
    if found.errors:
        raise typer.Exit(int(ExitCode.FAILURE))


__all__ = ["FLEET", "SELECT", "YES", "converge_on", "emit_fleet_pairs", "emit_fleet_rows",
           "read_fleet", "show_pairs", "show_rows"]
