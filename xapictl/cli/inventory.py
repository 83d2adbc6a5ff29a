"""``xapictl inventory``: export the network inventory, compare two exports, stream changes.

    xapictl inventory export [--fleet FILE [--select EXPR]] --format json|ndjson|csv [--out PATH]
    xapictl inventory diff OLD NEW
    xapictl inventory watch [--fleet FILE] [--base EXPORT] [--state FILE] [--since TOKEN]

Without ``--fleet`` the pool is the one the global options name (``--pool``, ``--url``, or the
embedded simulated pool). The library is imported inside the commands.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from xapictl.cli.exit_codes import ExitCode
from xapictl.cli.options import current
from xapictl.cli.run import exit_codes, fail

if TYPE_CHECKING:
    from xapictl.fleet.connect import PoolConnector
    from xapictl.fleet.fleetfile import FleetPool
    from xapictl.inventory.document import Inventory

app = typer.Typer(no_args_is_help=True,
                  help="Network inventory for CMDB sync: export, diff, change stream.")

FleetOpt = Annotated[Path | None, typer.Option("--fleet", help="A fleet file: every selected "
                                                                "pool instead of one.")]
SelectOpt = Annotated[str | None, typer.Option("--select", help="Pools of the fleet: names, "
                                                                 "globs, tag:T, and/or/not.")]


def _fleet_pools(fleet: Path, select: str | None) -> list[FleetPool]:
    from xapictl.fleet.fleetfile import load_fleet

    return list(load_fleet(fleet).select(select))


def fleet_connector(ctx: typer.Context) -> PoolConnector:
    """How fleet commands open pools: the global ``--timeout`` applies to every pool (a pool
    that does not answer is given up on after it, and reported)."""
    from xapictl.cli.connection import plain_http_warner, single_pool_options
    from xapictl.fleet.connect import PoolConnector

    given = single_pool_options(current(ctx))
    if given:
        fail(ExitCode.BAD_INPUT, f"{', '.join(given)} cannot apply to a fleet: the fleet file "
             "names each pool's URL or profile, user, credentials and TLS trust; drop the "
             "option")
    timeout = current(ctx).timeout
    if timeout is None:
        return PoolConnector(on_plain_http=plain_http_warner())
    from xapictl.xapi.retry import RetryPolicy

    return PoolConnector(timeout=timeout, retry=RetryPolicy(deadline=timeout),
                         connect_timeout=min(timeout, 10.0), on_plain_http=plain_http_warner())


def export_fleet(ctx: typer.Context, fleet: Path, select: str | None, concurrency: int
                 ) -> tuple[Inventory, dict[str, str]]:
    """Every selected pool's inventory merged into one, and the pools that failed."""
    from xapictl.fleet.each import for_each_pool
    from xapictl.inventory.document import Inventory
    from xapictl.inventory.export import export_snapshot, now_stamp
    from xapictl.state.capacity import with_sriov_details
    from xapictl.state.collect import collect_once

    found = for_each_pool(_fleet_pools(fleet, select), fleet_connector(ctx),
                          lambda pool, conn: export_snapshot(
                              with_sriov_details(conn, collect_once(conn)), source=pool.name),
                          concurrency=concurrency)
    return Inventory.merge(found.results.values(), generated_at=now_stamp()), found.errors


def single_source(ctx: typer.Context) -> str:
    opts = current(ctx)
    return opts.pool or opts.url or "embedded"


@app.command("export")
def export(
    ctx: typer.Context,
    fleet: FleetOpt = None, select: SelectOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="json, ndjson or csv.")] = "json",
    out: Annotated[Path | None, typer.Option(
        "--out", "-O", help="File (json/ndjson; default stdout) or, for csv, the directory "
                            "that gets one file per object type.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Pools read in parallel.")] = 32,
) -> None:
    """Export pools, hosts, PIFs, networks, VLANs, bonds, tunnels, VIFs and VMs, keyed by
    UUID, with the schema version (docs/inventory.schema.json)."""
    from xapictl.inventory import formats

    errors: dict[str, str] = {}
    with exit_codes():
        from xapictl.cli.render import out_file, refuse_data

        refuse_data(current(ctx), "inventory export",
                    "its format is --format json|ndjson|csv (docs/inventory.schema.json)")
        if fmt not in formats.FORMATS:
            fail(ExitCode.BAD_INPUT, f"unknown format {fmt!r}: use json, ndjson or csv")
        if fmt == "csv" and out is None:
            fail(ExitCode.BAD_INPUT, "CSV is one file per object type: give --out DIR")
        if fmt == "csv" and out is not None and not out.is_dir() and (
                out.exists() or out.suffix.lower() == ".csv"):
            fail(ExitCode.BAD_INPUT, f"--out: {out} is a file name and CSV is one file per "
                                     "object type: give a directory (--out DIR)")
        if fmt != "csv":
            out_file(out)
        if fleet is not None:
            inv, errors = export_fleet(ctx, fleet, select, concurrency)
        else:
            from xapictl.cli.connection import open_pool
            from xapictl.inventory.export import export_snapshot
            from xapictl.state.capacity import with_sriov_details
            from xapictl.state.collect import collect_once

            with open_pool(current(ctx)) as conn:  # SR-IOV NICs: one more round trip
                inv = export_snapshot(with_sriov_details(conn, collect_once(conn)),
                                      source=single_source(ctx))
        text = formats.write(inv, fmt, out)
    from xapictl.cli.render import escape

    if text is not None:
        sys.stdout.write(text)
    for name, err in errors.items():
        typer.echo(f"xapictl: pool {name} not exported: {escape(str(err))}", err=True)
    if errors:
        raise typer.Exit(int(ExitCode.FAILURE))


@app.command("diff")
def diff_cmd(
    ctx: typer.Context,
    old: Annotated[Path, typer.Argument(help="The older export (JSON or NDJSON).")],
    new: Annotated[Path, typer.Argument(help="The newer export.")],
) -> None:
    """What changed between two exports; exit 3 when something did, 0 when nothing."""
    from xapictl.inventory import formats
    from xapictl.inventory.diff import diff

    opts = current(ctx)
    with exit_codes():
        from xapictl.cli.render import emit_document, escape, refuse_name

        refuse_name(opts, "inventory diff")
        changes = diff(formats.read(old), formats.read(new))
        if opts.output.is_data:
            from xapictl.cli.documents import InventoryChange, InventoryDiff

            emit_document(opts, InventoryDiff(pool=None, changes=[
                InventoryChange(**c.to_json()) for c in changes]))
    if not opts.output.is_data:
        for change in changes:
            typer.echo(escape(change.describe()))
    if changes:
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))


class CliConnection:
    """A connection opened the way every single-pool command opens one, closable."""

    def __init__(self, ctx: typer.Context) -> None:
        from xapictl.cli.connection import open_pool

        self._stack = contextlib.ExitStack()
        self._conn = self._stack.enter_context(open_pool(current(ctx)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def close(self) -> None:
        self._stack.close()


def _load_base(base: Path | None, state: Path | None) -> tuple[Inventory | None, str]:
    from xapictl.inventory import formats
    from xapictl.inventory.checkpoint import read_checkpoint

    if state is not None and state.exists():
        return read_checkpoint(state)
    if base is not None:
        inv = formats.read(base)
        return inv, next(iter(inv.tokens.values()), "")
    return None, ""


@app.command("watch")
def watch(
    ctx: typer.Context,
    fleet: FleetOpt = None, select: SelectOpt = None,
    base: Annotated[Path | None, typer.Option(
        "--base", help="The export the consumer holds (one pool's or a fleet's; each pool "
                       "takes its part by pool UUID): first emit what changed since.")] = None,
    state: Annotated[Path | None, typer.Option(
        "--state", help="Checkpoint file (inventory + token): read at start when it exists, "
                        "written as events go out (atomically, at most every 5 s) and at the "
                        "end; resuming from it loses and repeats nothing.")
    ] = None,
    since: Annotated[str | None, typer.Option(
        "--since", help="The token the base is at (default: the one stored with it); "
                        "refused when the base says otherwise.")] = None,
    timeout: Annotated[float, typer.Option(min=0.5, help="event.from wait per call, s.")] = 5.0,
    max_seconds: Annotated[float | None, typer.Option(
        "--max-seconds", min=0.0, help="Stop after this long (for scheduled sync jobs); "
                                       "default: until Ctrl-C.")] = None,
    disks: Annotated[bool, typer.Option(
        "--disks", help="Follow the VMs' disks too (disk objects: VBDs of type Disk and their "
                        "VDIs).")] = False,
) -> None:
    """Write NDJSON change events (add, mod, del with the new record) until Ctrl-C."""
    import functools
    import time

    from xapictl.errors import UsageError
    from xapictl.inventory.checkpoint import CheckpointFile
    from xapictl.inventory.stream import ChangeStream, Checkpoint, StreamEvent
    from xapictl.xapi.retry import Backoff

    lock = threading.Lock()
    stop = threading.Event()
    out = sys.stdout  # the workers write where this command's output goes
    failures: list[str] = []
    refusals: list[str] = []

    with exit_codes():
        from xapictl.cli.render import refuse_data

        refuse_data(current(ctx), "inventory watch", "it writes NDJSON change events, one "
                                                    "JSON object per line")
        base_inv, token = _load_base(base, state)
        if since is not None:
            base_inv = _at_token(base_inv, token, since)
        if fleet is None:
            connects: list[tuple[str, Any]] = [(single_source(ctx), lambda: CliConnection(ctx))]
        else:
            connector = fleet_connector(ctx)
            connects = [(pool.name, functools.partial(connector.connect, pool))
                        for pool in _fleet_pools(fleet, select)]
        checkpoints = None if state is None else CheckpointFile(state, base_inv)

        def run(source: str, connect: Any) -> None:
            batch: list[StreamEvent] = []

            def batch_done(point: Checkpoint) -> None:
                # A batch goes out whole, then its checkpoint: a kill in between repeats it.
                with lock:
                    out.writelines(json.dumps(e.to_json()) + "\n" for e in batch)
                    out.flush()
                batch.clear()
                if checkpoints is not None:
                    checkpoints.record(point.inventory, point.token)

            stream = ChangeStream(connect, backoff=Backoff(), source=source, base=base_inv,
                                  poll_timeout=timeout, stop=stop, disks=disks)
            try:
                stream.run(batch.append, batch_done)
            except UsageError as exc:  # this pool cannot be followed from that base
                refusals.append(str(exc))
                stop.set()
            except Exception as exc:  # reported below; the other pools' streams go on
                failures.append(f"pool {source}: {type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=run, args=c, daemon=True) for c in connects]
        for t in threads:
            t.start()
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        try:
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(0.2)
                if deadline is not None and time.monotonic() >= deadline:
                    stop.set()
        except KeyboardInterrupt:
            stop.set()
            for t in threads:
                t.join(timeout + 30)
        if checkpoints is not None:
            checkpoints.flush()
    for failure in failures:
        typer.echo(f"xapictl: change stream stopped: {failure}", err=True)
    for refusal in refusals:
        typer.echo(f"xapictl: {refusal}", err=True)
    if refusals:
        raise typer.Exit(int(ExitCode.BAD_INPUT))
    if failures:
        raise typer.Exit(int(ExitCode.FAILURE))


def _at_token(base: Inventory | None, stored: str, since: str) -> Inventory:
    """The base, checked to be at ``since``. A token says where a consumer is only together
    with what it holds (deletes are reported by ref, which no export keeps), so ``--since``
    needs a base; a base that records its tokens must record this one."""
    import dataclasses

    if base is None:
        fail(ExitCode.BAD_INPUT, "--since needs the inventory that token belongs to: give "
                                 "--base EXPORT or --state FILE")
    known = set(base.tokens.values()) | ({stored} if stored else set())
    if known and since not in known:
        fail(ExitCode.BAD_INPUT, f"--since {since!r} is not the token the base was read at "
                                 f"({', '.join(sorted(known))}): the base and the token "
                                 "disagree about what you hold")
    if not base.tokens and len(base.pool_uuids) == 1:
        return dataclasses.replace(base, tokens={base.pool_uuids[0]: since})
    return base


__all__ = ["app"]
