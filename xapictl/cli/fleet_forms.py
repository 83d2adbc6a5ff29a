"""The fleet options every pool command takes, and how a read renders across pools.

``--fleet FILE [--select EXPR]`` runs the command on every selected pool: a read shows one
table with a leading ``Pool`` column (JSON/YAML: each item names its ``pool``) and exits 4
when a pool could not be read (the others are still shown); a write is a rollout
(``xapictl.cli.rollout``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import typer

from xapictl.cli.exit_codes import ExitCode
from xapictl.cli.options import current
from xapictl.cli.render import escape

if TYPE_CHECKING:
    from xapictl.fleet.each import FleetResults
    from xapictl.state.snapshot import PoolSnapshot

FLEET = typer.Option(None, "--fleet", help="A fleet file: run on every selected pool of it "
                     "instead of one pool (a write becomes a rollout: see `xapictl rollout`).")
SELECT = typer.Option(None, "--select", help="With --fleet: the pools, by names, globs, "
                      "tag:T, and/or/not (default: all).")
YES = typer.Option(False, "--yes", "-y", help="Do not ask before a disruptive change (needed "
                   "off a terminal); with --fleet, before the rollout.")


def show_list(ctx: typer.Context, kind: str, items_of: Callable[[PoolSnapshot], list[Any]],
              fleet: Path | None, select: str | None) -> None:
    """The list document ``kind`` of the one pool, or of every selected pool of the fleet
    (each item naming its pool)."""
    from xapictl.cli.connection import pool_label
    from xapictl.cli.documents import DOCUMENTS
    from xapictl.cli.render import emit_list

    if fleet is not None:
        emit_fleet_list(ctx, kind, read_fleet(ctx, fleet, select, items_of))
        return
    from xapictl.cli.views import read_pool

    opts = current(ctx)
    doc_type = DOCUMENTS[kind]
    items = items_of(read_pool(opts))
    emit_list(opts, doc_type.model_validate({"pool": pool_label(opts), "items": items}),
              _item_type(kind))


def _item_type(kind: str) -> Any:
    from xapictl.cli.documents import DOCUMENTS

    return get_args(DOCUMENTS[kind].model_fields["items"].annotation)[0]


def emit_fleet_list(ctx: typer.Context, kind: str, found: FleetResults[list[Any]]) -> None:
    """Every pool's items in one list document (each naming its pool; a ``Pool`` column
    first in tables); exit 4 when a pool could not be read."""
    from xapictl.cli.documents import DOCUMENTS
    from xapictl.cli.render import emit_list

    items = [i.model_copy(update={"pool": pool}) for pool, some in found.results.items()
             for i in some]
    emit_list(current(ctx), DOCUMENTS[kind].model_validate({"pool": None, "items": items}),
              _item_type(kind), pool_column=True)
    report_unread(found)


def show_one(ctx: typer.Context, kind: str, fleet_kind: str,
             item_of: Callable[[PoolSnapshot], Any], fleet: Path | None,
             select: str | None, *, sriov_vfs: bool = False) -> None:
    """The show document ``kind`` of the one pool's object, or with a fleet the list
    document ``fleet_kind`` of every selected pool's. ``sriov_vfs``: each pool's read includes
    each SR-IOV NIC's remaining VFs (``read_pool``)."""
    from xapictl.cli.connection import pool_label
    from xapictl.cli.documents import DOCUMENTS
    from xapictl.cli.render import emit_document, emit_fields, refuse_name

    opts = current(ctx)
    refuse_name(opts, ctx.command_path.removeprefix(ctx.find_root().info_name or "")
                .strip())
    if fleet is None:
        from xapictl.cli.views import read_pool

        item = item_of(read_pool(opts, sriov_vfs=sriov_vfs))
        doc = DOCUMENTS[kind](**{**dict(item), "pool": pool_label(opts)})
        if opts.output.is_data:
            emit_document(opts, doc)
        else:
            emit_fields(opts, doc)
        return
    found = read_fleet(ctx, fleet, select, item_of, sriov_vfs=sriov_vfs)
    items = [i.model_copy(update={"pool": pool}) for pool, i in found.results.items()]
    if opts.output.is_data:
        emit_document(opts, DOCUMENTS[fleet_kind].model_validate({"pool": None,
                                                                  "items": items}))
    else:
        for item in items:
            emit_fields(opts, item, title=f"pool {item.pool}", skip=("pool",))
    report_unread(found)


def converge_on(ctx: typer.Context, desired: Any, fleet: Path | None, select: str | None, *,
                yes: bool, ask: bool = False, recipe: Path | None = None,
                only: Sequence[str] | None = None) -> None:
    """Converge the one pool, or with a fleet roll ``desired`` out to the selected pools."""
    from xapictl.cli.render import refuse_name

    opts = current(ctx)
    refuse_name(opts, ctx.command_path.split(" ", 1)[-1])
    if fleet is None:
        from xapictl.cli.run import converge

        converge(opts, desired, ask=ask, yes=yes)
        return
    from xapictl.cli.rollout import rollout_desired

    rollout_desired(ctx, desired, fleet, select, yes=yes, quiet=opts.quiet,
                    as_json=opts.output.is_data, recipe=recipe, only=only)


def read_fleet(ctx: typer.Context, fleet: Path, select: str | None,
               fn: Callable[[PoolSnapshot], Any], *, sriov_vfs: bool = False
               ) -> FleetResults[Any]:
    """``fn(snapshot)`` on every selected pool (in parallel, with the global --timeout);
    ``sriov_vfs``: as ``read_pool``'s."""
    from xapictl.cli.inventory import fleet_connector
    from xapictl.fleet.fleetfile import load_fleet
    from xapictl.fleet.forms import read_each

    pools = load_fleet(fleet).select(select)
    connector = fleet_connector(ctx)
    connector.prime(pools)
    return read_each(pools, connector, fn, sriov_vfs=sriov_vfs)


def report_unread(found: FleetResults[Any]) -> None:
    for pool, err in found.errors.items():
        typer.echo(f"xapictl: pool {pool} not read: {escape(str(err))}", err=True)
    if found.errors:
        from xapictl.cli.run import fail

        fail(ExitCode.FAILURE, f"{len(found.errors)} pool(s) not read: "
                               + ", ".join(sorted(found.errors)))


__all__ = ["FLEET", "SELECT", "YES", "converge_on", "emit_fleet_list", "read_fleet",
           "report_unread", "show_list", "show_one"]
