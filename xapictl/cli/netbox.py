"""``xapictl netbox``: keep NetBox in step with a pool (docs/cmdb.md).

    xapictl netbox plan --netbox-url URL [--token SOURCE] [--site S] [--orphans POLICY]
                        [--fleet FILE [--select EXPR]]
    xapictl netbox sync  (the same options)

The pool is the one the global options name (``--pool``, ``--url``, or the embedded simulated
pool). ``plan`` reads only; ``sync`` writes and then plans again to verify. Exit codes: 0
nothing to do / synced and verified, 3 (``plan``) changes pending, 2 bad input, 4 NetBox or
the pool failed before any NetBox write, 5 NetBox refused part way or the verification found
something left.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from xapictl._frozen import Frozen, frozen
from xapictl.cli.exit_codes import ExitCode
from xapictl.cli.options import current
from xapictl.cli.run import exit_codes, fail

if TYPE_CHECKING:
    from xapictl.netbox.api import NetBoxApi
    from xapictl.netbox.model import GuestDisk, NetBoxPlan, NoOp, Step, SyncReport
    from xapictl.netbox.sync import SyncOptions
    from xapictl.state.snapshot import PoolSnapshot

app = typer.Typer(no_args_is_help=True, help="Sync the pool into NetBox (CMDB).")

UrlOpt = Annotated[str | None, typer.Option(
    "--netbox-url", envvar="XAPICTL_NETBOX_URL", show_envvar=True,
    help="NetBox's base URL (https://netbox.example).")]
TokenOpt = Annotated[str, typer.Option(
    "--token", help="Where the NetBox API token comes from: env:NAME, file:PATH, "
                    "keyring[:SERVICE], command:CMD or prompt (never the token itself).")]
SiteOpt = Annotated[str | None, typer.Option(
    "--site", help="NetBox site of the cluster and its devices (default: the pool's name).")]
GroupOpt = Annotated[str | None, typer.Option("--cluster-group",
                                              help="NetBox cluster group of the cluster.")]
OrphansOpt = Annotated[str, typer.Option(
    "--orphans", help="What happens to NetBox objects whose XAPI object is gone: delete, "
                      "mark-offline or ignore.")]
InsecureOpt = Annotated[bool, typer.Option("--netbox-insecure",
                                           help="Do not verify NetBox's TLS certificate.")]
DEFAULT_TOKEN = "env:XAPICTL_NETBOX_TOKEN"  # noqa: S105 - where it comes from, not a token


def _options(site: str | None, group: str | None, orphans: str) -> SyncOptions:
    from xapictl.errors import UsageError
    from xapictl.netbox.mapping import MappingOptions
    from xapictl.netbox.model import OrphanPolicy
    from xapictl.netbox.sync import SyncOptions

    try:
        policy = OrphanPolicy(orphans)
    except ValueError:
        raise UsageError(f"--orphans {orphans!r}: use delete, mark-offline or ignore") from None
    return SyncOptions(MappingOptions(site=site, cluster_group=group), policy)


def _api(url: str | None, token: str, insecure: bool) -> NetBoxApi:
    from xapictl.errors import UsageError
    from xapictl.netbox.api import NetBoxApi
    from xapictl.xapi.credentials import PasswordSource

    if not url:
        raise UsageError("no NetBox to talk to: give --netbox-url URL (or set "
                         "XAPICTL_NETBOX_URL)")
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--netbox-url {url!r} is not an http:// or https:// URL")
    secret = PasswordSource.parse(token).resolve(username="netbox-token", pool=url)
    return NetBoxApi(url, secret, verify=not insecure)


def _step_item(step: Step | NoOp) -> dict[str, Any]:
    from xapictl.netbox.model import Step
    from xapictl.netbox.sync import show

    if isinstance(step, Step):
        return {"action": step.action.value, "object_type": step.kind, "key": step.key,
                "object": step.label, "reason": step.reason, "netbox_id": step.netbox_id,
                "changes": {k: show(v) for k, v in step.changes.items()},
                "before": {k: show(v) for k, v in step.before.items()}}
    return {"action": "none", "object_type": step.kind, "key": step.key, "object": step.label,
            "reason": step.reason, "netbox_id": None, "changes": {}, "before": {}}


def _plan_fields(pool: str | None, api: NetBoxApi, plan: NetBoxPlan) -> dict[str, Any]:
    return {"pool": pool, "netbox": api.url, "cluster": plan.pool,
            "counts": plan.counts(), "steps": [_step_item(s) for s in plan.steps],
            "noops": [_step_item(n) for n in plan.noops]}


def _print_steps(plan: NetBoxPlan, verbose: bool) -> None:
    from xapictl.cli.render import columns, escape

    rows = [[step.action.value, f"{step.label}: {step.reason}"] for step in plan.steps]
    if verbose:
        rows += [["no-op", f"{noop.label}: {noop.reason}"] for noop in plan.noops]
    for line in columns(rows, gap=1, min_widths=(12,)):
        typer.echo(line)
    counts = ", ".join(f"{n} {a}" for a, n in plan.counts().items() if n)
    typer.echo(f"NetBox cluster {escape(plan.pool)}: {counts or 'nothing to do'} "
               f"({len(plan.noops)} objects unchanged)")


FleetOpt = Annotated[Path | None, typer.Option(
    "--fleet", help="A fleet file: every selected pool into the one NetBox, each pool its own "
                    "cluster named after its fleet entry.")]
SelectOpt = Annotated[str | None, typer.Option(
    "--select", help="With --fleet: the pools, by names, globs, tag:T, and/or/not (default: "
                     "all).")]


@frozen
class _Source(Frozen):
    """One pool to plan or sync: its label (the pool option or fleet entry), what was read
    and the options (with --fleet, the cluster is named after the entry)."""

    label: str | None
    snap: PoolSnapshot
    disks: tuple[GuestDisk, ...]
    options: SyncOptions


def _sources(ctx: typer.Context, options: SyncOptions, fleet: Path | None,
             select: str | None) -> tuple[list[_Source], dict[str, str]]:
    """The pools to work on (read in parallel with a fleet) and those that could not be
    read (pool -> error)."""
    from xapictl.netbox.disks import read_disks
    from xapictl.state.collect import collect_once

    def read(conn: Any) -> tuple[PoolSnapshot, tuple[GuestDisk, ...]]:
        snap = collect_once(conn)
        return snap, read_disks(conn, snap)

    opts = current(ctx)
    if fleet is None:
        from xapictl.cli.connection import open_pool
        from xapictl.errors import UsageError

        if select is not None:
            raise UsageError("--select picks pools of a fleet: give --fleet FILE too")
        with open_pool(opts) as conn:
            snap, disks = read(conn)
        return [_Source(opts.pool_label, snap, disks, options)], {}
    from xapictl.cli.inventory import fleet_connector
    from xapictl.fleet.each import for_each_pool
    from xapictl.fleet.fleetfile import load_fleet

    pools = load_fleet(fleet).select(select)
    connector = fleet_connector(ctx)
    connector.prime(pools)
    found = for_each_pool(pools, connector, lambda pool, conn: read(conn))
    out = [_Source(name, snap, disks, options.for_pool(name))
           for name, (snap, disks) in found.results.items()]
    return out, found.errors


def _report_unread(errors: dict[str, str], wrote: bool) -> None:
    """Pools not read (or refused by NetBox) on stderr; exit 4, or 5 once NetBox was
    written."""
    from xapictl.cli.render import escape

    for pool, err in errors.items():
        typer.echo(f"xapictl: pool {pool}: {escape(str(err))}", err=True)
    if errors:
        fail(ExitCode.PARTIAL if wrote else ExitCode.FAILURE,
             f"{len(errors)} pool(s) not synced: " + ", ".join(sorted(errors))
             + ("; nothing was undone: run sync again once the cause is fixed" if wrote
                else ""))


@app.command("plan")
def plan_cmd(ctx: typer.Context, netbox_url: UrlOpt = None, token: TokenOpt = DEFAULT_TOKEN,
             site: SiteOpt = None, cluster_group: GroupOpt = None,
             orphans: OrphansOpt = "delete", netbox_insecure: InsecureOpt = False,
             verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                                   help="Also list the no-ops.")] = False,
             fleet: FleetOpt = None, select: SelectOpt = None) -> None:
    """Show the NetBox writes that would make NetBox show the pool (or every selected pool
    of a fleet), each with its reason; exit 3 when there are some."""
    opts = current(ctx)
    with exit_codes():
        from xapictl.cli.render import refuse_name
        from xapictl.netbox.sync import plan_pool

        refuse_name(opts, "netbox plan")
        options = _options(site, cluster_group, orphans)
        with _api(netbox_url, token, netbox_insecure) as api:
            sources, errors = _sources(ctx, options, fleet, select)
            plans = [(src, plan_pool(api, src.snap, src.options, src.disks)[0])
                     for src in sources]
            docs = [_plan_fields(src.label, api, plan) for src, plan in plans]
    if opts.output.is_data:
        from xapictl.cli.documents import NetBoxPlan, NetBoxPlanList
        from xapictl.cli.render import emit_document

        emit_document(opts, NetBoxPlan(**docs[0]) if fleet is None else NetBoxPlanList(
            pool=None, items=[NetBoxPlan(**d) for d in docs]))
    else:
        for _, plan in plans:
            _print_steps(plan, verbose)
    with exit_codes():
        _report_unread(errors, wrote=False)
    if any(not plan.empty for _, plan in plans):
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))


@app.command("sync")
def sync_cmd(ctx: typer.Context, netbox_url: UrlOpt = None, token: TokenOpt = DEFAULT_TOKEN,
             site: SiteOpt = None, cluster_group: GroupOpt = None,
             orphans: OrphansOpt = "delete", netbox_insecure: InsecureOpt = False,
             fleet: FleetOpt = None, select: SelectOpt = None) -> None:
    """Make NetBox show the pool (or every selected pool of a fleet, one after the other:
    orphans are looked for in each pool's own cluster only), with bulk writes, then plan
    again to verify."""
    opts = current(ctx)
    with exit_codes():
        from xapictl.cli.render import refuse_name
        from xapictl.errors import NetBoxError
        from xapictl.netbox.sync import sync

        refuse_name(opts, "netbox sync")
        options = _options(site, cluster_group, orphans)
        with _api(netbox_url, token, netbox_insecure) as api:
            sources, errors = _sources(ctx, options, fleet, select)
            done: list[tuple[dict[str, Any], SyncReport]] = []
            for src in sources:
                try:
                    report = sync(api, src.snap, src.options, src.disks)
                except NetBoxError as exc:
                    if fleet is None:
                        fail(ExitCode.PARTIAL if api.writes else ExitCode.FAILURE,
                             str(exc) + ("\nNothing was undone: run sync again once the "
                                         "cause is fixed." if api.writes else ""), exc)
                    errors[str(src.label)] = str(exc)  # the other pools go on
                    continue
                done.append((_plan_fields(src.label, api, report.plan), report))
            wrote = api.writes > 0
    if opts.output.is_data:
        from xapictl.cli.documents import NetBoxSyncList
        from xapictl.cli.render import emit_document

        items = [_sync_doc(fields, report) for fields, report in done]
        emit_document(opts, items[0] if fleet is None else NetBoxSyncList(pool=None,
                                                                          items=items))
    else:
        for _, report in done:
            _print_steps(report.plan, False)
            remaining = report.remaining
            typer.echo(f"{report.writes} NetBox writes, {report.requests} requests; "
                       + ("verified: NetBox matches the pool" if _verified(report) else
                          f"NOT verified: {len(remaining.steps) if remaining else '?'} "
                          "steps left"))
    with exit_codes():
        _report_unread(errors, wrote)
    if not all(_verified(report) for _, report in done):
        raise typer.Exit(int(ExitCode.PARTIAL))


def _verified(report: SyncReport) -> bool:
    return report.remaining is not None and report.remaining.empty


def _sync_doc(fields: dict[str, Any], report: SyncReport) -> Any:
    from xapictl.cli.documents import NetBoxStep, NetBoxSync

    remaining = report.remaining
    return NetBoxSync(**fields, kind="NetBoxSync", writes=report.writes,
                      requests=report.requests, verified=_verified(report),
                      remaining=[NetBoxStep(**_step_item(s))
                                 for s in (remaining.steps if remaining else ())])


@app.command("recipe")
def recipe_cmd(ctx: typer.Context,
               cluster: Annotated[str, typer.Option("--cluster", help="The NetBox cluster "
                                                    "whose VLAN groups hold the VLANs.")],
               device: Annotated[str, typer.Option(
                   "--device", help="Trunk NIC of VLANs without the custom field "
                                    "xapi_trunk.")] = "eth1",
               netbox_url: UrlOpt = None, token: TokenOpt = DEFAULT_TOKEN,
               netbox_insecure: InsecureOpt = False) -> None:
    """Write (YAML, stdout) the recipe that makes the pool carry the VLANs NetBox assigns to
    the cluster: `xapictl netbox recipe --cluster C | xapictl plan -`."""
    opts = current(ctx)
    with exit_codes():
        from xapictl.cli.render import refuse_data, refuse_name
        from xapictl.netbox.recipe import cluster_recipe

        refuse_name(opts, "netbox recipe")
        refuse_data(opts, "netbox recipe", "it writes a recipe (YAML): pipe it to `xapictl "
                                           "plan -`")
        with _api(netbox_url, token, netbox_insecure) as api:
            recipe = cluster_recipe(api, cluster, device=device)
    import yaml

    typer.echo(yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True), nl=False)


@app.command("watch")
def watch_cmd(ctx: typer.Context, netbox_url: UrlOpt = None, token: TokenOpt = DEFAULT_TOKEN,
              site: SiteOpt = None, cluster_group: GroupOpt = None,
              orphans: OrphansOpt = "delete", netbox_insecure: InsecureOpt = False,
              max_seconds: Annotated[float | None, typer.Option(
                  "--max-seconds", min=0, help="Stop after this long (default: until "
                                               "Ctrl-C).")] = None,
              state: Annotated[Path | None, typer.Option(
                  "--state", help="Checkpoint file: the inventory each pool was last synced "
                                  "at, written after each sync; a restart syncs only what "
                                  "changed since.")] = None,
              fleet: FleetOpt = None, select: SelectOpt = None) -> None:
    """Sync once, then follow the pool's inventory change stream (the one `inventory watch`
    writes, with the disks) and sync each batch as it comes (one line per sync). With --state
    a restart resumes from its checkpoint: nothing is missed or written twice, and an
    unchanged pool costs NetBox no request. With --fleet every selected pool, each its own
    cluster, in one checkpoint file."""
    import sys
    import threading

    opts = current(ctx)
    with exit_codes():
        from xapictl.cli.inventory import CliConnection, fleet_connector, single_source
        from xapictl.cli.render import escape, refuse_data, refuse_name
        from xapictl.errors import UsageError
        from xapictl.netbox.watch import WatchCheckpoint, WatchedPool, watch, watch_fleet

        refuse_name(opts, "netbox watch")
        refuse_data(opts, "netbox watch", "it is a stream of lines, one per sync")
        if select is not None and fleet is None:
            raise UsageError("--select picks pools of a fleet: give --fleet FILE too")
        options = _options(site, cluster_group, orphans)
        checkpoint = WatchCheckpoint(state) if state is not None else None
        if checkpoint is not None:
            checkpoint.load()  # a file that is not a checkpoint: refused before anything
        pools: list[WatchedPool] = []
        if fleet is not None:
            import functools

            from xapictl.fleet.fleetfile import load_fleet

            connector = fleet_connector(ctx)
            for pool in load_fleet(fleet).select(select):
                pools.append(WatchedPool(pool.name, functools.partial(connector.connect, pool),
                                         options.for_pool(pool.name)))
        stop = threading.Event()
        timer = threading.Timer(max_seconds, stop.set) if max_seconds is not None else None
        lock = threading.Lock()

        def said(label: str | None, report: Any, events: int) -> None:
            counts = ", ".join(f"{n} {a}" for a, n in report.plan.counts().items() if n)
            with lock:
                typer.echo(("" if label is None else f"{escape(label)}: ")
                           + f"{events} pool events: {counts or 'nothing to do'} "
                           f"({report.writes} NetBox writes)")
                sys.stdout.flush()  # one line per sync, as it happens (a pipe buffers)

        poll = min(30.0, max_seconds or 30.0)
        with _api(netbox_url, token, netbox_insecure) as api:
            if timer is not None:
                timer.daemon = True
                timer.start()
            try:
                if fleet is None:
                    watch(api, lambda: CliConnection(ctx), options, stop=stop,
                          on_sync=lambda report, events: said(None, report, events),
                          poll_timeout=poll, checkpoint=checkpoint,
                          source=single_source(ctx))
                    errors: dict[str, str] = {}
                else:
                    errors = watch_fleet(api, pools, stop=stop, on_sync=said,
                                         poll_timeout=poll, checkpoint=checkpoint).errors
            except KeyboardInterrupt:
                stop.set()
                errors = {}
            finally:
                if timer is not None:
                    timer.cancel()
            wrote = api.writes > 0
    with exit_codes():
        _report_unread(errors, wrote)
