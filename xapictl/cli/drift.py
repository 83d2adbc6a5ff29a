"""``xapictl drift``: inconsistencies between the hosts of each pool.

A VLAN or a bond present on some hosts only, MTU or bond members, mode or properties differing
between hosts, PIFs unplugged where their siblings are plugged; with ``--recipe``, also the
PIFs whose IP configuration differs from the recipe's ``interfaces:``. Exit 0 when clean,
``DRIFT_FOUND`` (6) when anything is found, 4 when a pool could not be read — 4 wins over 6,
the findings of the pools read still printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xapictl.cli.exit_codes import ExitCode
from xapictl.cli.options import current
from xapictl.cli.run import exit_codes

if TYPE_CHECKING:
    from xapictl.inventory.drift import Finding
    from xapictl.plan.desired import DesiredState
    from xapictl.state.snapshot import PoolSnapshot

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
    recipe: Annotated[Path | None, typer.Option(
        "--recipe", help="Also compare the PIFs with this recipe's interfaces: (their IP "
        "configuration, primary address type, storage marks). One live pool only.")] = None,
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
        desired = None
        if recipe is not None:
            if fleet is not None or from_export is not None:
                from xapictl.errors import UsageError

                raise UsageError("--recipe compares one live pool with the recipe; it cannot "
                                 "be combined with --fleet or --from")
            from xapictl.plan.desired import load_file

            desired = load_file(recipe)
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
        if desired is not None and snap is not None:
            findings += _interface_findings(desired, snap)
        if diagram is not None and fmt is not None and snap is not None:
            from xapictl.cli.diagram import write
            from xapictl.diagram.build import drift_diagram

            write(opts, diagram, drift_diagram(snap, findings), fmt, "--diagram")
    from xapictl.cli.render import escape

    names = {p["uuid"]: p["source"] or p["name_label"] for p in inv.of("pools")}
    if opts.output.is_data:
        from xapictl.cli.connection import pool_label
        from xapictl.cli.documents import Drift, DriftField, DriftFinding
        from xapictl.cli.render import emit_document

        one_pool = fleet is None and from_export is None
        emit_document(opts, Drift(
            pool=pool_label(opts) if one_pool else None,
            findings=[DriftFinding(pool=f.pool, kind=str(f.kind), subject=f.subject,
                                   detail=f.detail, hosts=list(f.hosts),
                                   fields=None if f.fields is None else {
                                       name: DriftField(pool=have, recipe=want)
                                       for name, have, want in f.fields})
                      for f in findings],
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


def _interface_findings(desired: DesiredState, snap: PoolSnapshot) -> list[Finding]:
    """``interface-mismatch`` findings: the PIFs whose IP configuration differs from the
    recipe's ``interfaces:`` (a recipe that cannot apply to the pool: exit 2, named)."""
    from xapictl.errors import PreflightError, UsageError
    from xapictl.inventory.drift import DriftKind, Finding
    from xapictl.plan.interface_drift import interface_drift

    pool = snap.pool.uuid if snap.pools else ""
    try:
        found = interface_drift(desired, snap)
    except PreflightError as exc:
        raise UsageError("--recipe: its interfaces: cannot be compared with this pool (has "
                         "the recipe been applied?):\n  " + "\n  ".join(exc.problems)) from None
    return [Finding(pool, DriftKind.INTERFACE_MISMATCH, d.subject, d.detail, (d.host_uuid,),
                    d.fields) for d in found]


__all__ = ["DRIFT_FOUND", "app"]
