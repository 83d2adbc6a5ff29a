"""``xapictl drift``: inconsistencies between the hosts of each pool.

A VLAN or a bond present on some hosts only, MTU or bond members, mode or properties differing
between hosts, PIFs unplugged where their siblings are plugged. Exit 0 when clean,
``DRIFT_FOUND`` (6) when anything is found, 4 when a pool could not be read — 4 wins over 6,
the findings of the pools read still printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xapictl.cli.exit_codes import ExitCode
from xapictl.cli.options import current
from xapictl.cli.run import exit_codes

DRIFT_FOUND = ExitCode.DRIFT_FOUND
"""Distinct from every other exit code, so a scheduled job can tell drift from failure."""

app = typer.Typer(help="Report inconsistencies between the hosts of each pool.")


@app.callback(invoke_without_command=True)
def drift(
    ctx: typer.Context,
    fleet: Annotated[Path | None, typer.Option("--fleet", help="Check every selected pool of "
                                                               "this fleet file.")] = None,
    select: Annotated[str | None, typer.Option("--select", help="Pools of the fleet.")] = None,
    from_export: Annotated[Path | None, typer.Option(
        "--from", help="Check an inventory export instead of live pools.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Pools read in parallel.")] = 32,
    diagram: Annotated[Path | None, typer.Option(
        "--diagram", help="Also draw the pool to this file, the hosts and objects that "
        "disagree marked; the format comes from the extension: .svg, .png (Graphviz), "
        ".dot/.gv, .mmd/.md (Mermaid). One live pool only.")] = None,
) -> None:
    """Check pools for drift between their hosts; exit 6 when any is found."""
    if ctx.invoked_subcommand is not None:
        return
    from xapictl.inventory.drift import drift as find_drift

    errors: dict[str, str] = {}
    opts = current(ctx)
    with exit_codes():
        from xapictl.cli.render import refuse_name

        refuse_name(opts, "drift")
        if diagram is not None and (fleet is not None or from_export is not None):
            from xapictl.errors import UsageError

            raise UsageError("--diagram draws one live pool; it cannot be combined with "
                             "--fleet or --from")
        from xapictl.cli.diagram import prepare

        fmt = prepare(diagram)
        snap = None
        if from_export is not None:
            from xapictl.inventory import formats

            inv = formats.read(from_export)
        elif fleet is not None:
            from xapictl.cli.inventory import export_fleet

            inv, errors = export_fleet(ctx, fleet, select, concurrency)
        else:
            from xapictl.cli.connection import open_pool
            from xapictl.inventory.export import export_snapshot
            from xapictl.state.collect import collect_once

            with open_pool(opts) as conn:
                snap = collect_once(conn)
                inv = export_snapshot(snap, source=opts.pool or opts.url or "")
        findings = find_drift(inv)
        if diagram is not None and fmt is not None and snap is not None:
            from xapictl.cli.diagram import write
            from xapictl.diagram.build import drift_diagram

            write(opts, diagram, drift_diagram(snap, findings), fmt, "--diagram")
    from xapictl.cli.render import escape

    names = {p["uuid"]: p["source"] or p["name_label"] for p in inv.of("pools")}
    if opts.output.is_data:
        from xapictl.cli.connection import pool_label
        from xapictl.cli.documents import Drift, DriftFinding
        from xapictl.cli.render import emit_document

        one_pool = fleet is None and from_export is None
        emit_document(opts, Drift(
            pool=pool_label(opts) if one_pool else None,
            findings=[DriftFinding(pool=f.pool, kind=str(f.kind), subject=f.subject,
                                   detail=f.detail, hosts=list(f.hosts)) for f in findings],
            errors={k: str(v) for k, v in errors.items()}))
    else:
        for f in findings:
            typer.echo(escape(f"{names.get(f.pool, f.pool)}: {f.describe()}"))
        if not findings:
            typer.echo(f"no drift in {len(names)} pool(s)", err=True)
    for name, err in errors.items():
        typer.echo(f"xapictl: pool {name} not checked: {escape(str(err))}", err=True)
    if errors:  # a pool not looked at is not hidden behind the others' findings
        from xapictl.cli.run import fail

        fail(ExitCode.FAILURE, f"{len(errors)} pool(s) not checked: "
                               + ", ".join(sorted(errors)))
    if findings:
        raise typer.Exit(int(DRIFT_FOUND))


__all__ = ["DRIFT_FOUND", "app"]
