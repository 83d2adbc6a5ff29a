"""``xapictl netbox``: keep NetBox in step with a pool (docs/cmdb.md).

    xapictl netbox plan --netbox-url URL [--token SOURCE] [--site S] [--orphans POLICY]
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

from xapictl.cli.exit_codes import ExitCode
from xapictl.cli.options import current
from xapictl.cli.run import exit_codes, fail

if TYPE_CHECKING:
    from xapictl.cli.options import GlobalOptions
    from xapictl.netbox.api import NetBoxApi
    from xapictl.netbox.model import NetBoxPlan, NoOp, Step
    from xapictl.netbox.sync import SyncOptions

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


def _plan_fields(opts: GlobalOptions, api: NetBoxApi, plan: NetBoxPlan) -> dict[str, Any]:
    return {"pool": opts.pool_label, "netbox": api.url, "cluster": plan.pool,
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


@app.command("plan")
def plan_cmd(ctx: typer.Context, netbox_url: UrlOpt = None, token: TokenOpt = DEFAULT_TOKEN,
             site: SiteOpt = None, cluster_group: GroupOpt = None,
             orphans: OrphansOpt = "delete", netbox_insecure: InsecureOpt = False,
             verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                                   help="Also list the no-ops.")] = False,
             ) -> None:
    """Show the NetBox writes that would make NetBox show the pool, each with its reason;
    exit 3 when there are some."""
    opts = current(ctx)
    with exit_codes():
        from xapictl.cli.connection import open_pool
        from xapictl.cli.render import refuse_name
        from xapictl.netbox.disks import read_disks
        from xapictl.netbox.sync import plan_pool
        from xapictl.state.collect import collect_once

        refuse_name(opts, "netbox plan")
        options = _options(site, cluster_group, orphans)
        with _api(netbox_url, token, netbox_insecure) as api:
            with open_pool(opts) as conn:
                snap = collect_once(conn)
                disks = read_disks(conn, snap)
            plan = plan_pool(api, snap, options, disks)[0]
            fields = _plan_fields(opts, api, plan)
    if opts.output.is_data:
        from xapictl.cli.documents import NetBoxPlan
        from xapictl.cli.render import emit_document

        emit_document(opts, NetBoxPlan(**fields))
    else:
        _print_steps(plan, verbose)
    if not plan.empty:
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))


@app.command("sync")
def sync_cmd(ctx: typer.Context, netbox_url: UrlOpt = None, token: TokenOpt = DEFAULT_TOKEN,
             site: SiteOpt = None, cluster_group: GroupOpt = None,
             orphans: OrphansOpt = "delete", netbox_insecure: InsecureOpt = False) -> None:
    """Make NetBox show the pool (bulk writes), then plan again to verify."""
    opts = current(ctx)
    with exit_codes():
        from xapictl.cli.connection import open_pool
        from xapictl.cli.render import refuse_name
        from xapictl.errors import NetBoxError
        from xapictl.netbox.disks import read_disks
        from xapictl.netbox.sync import sync
        from xapictl.state.collect import collect_once

        refuse_name(opts, "netbox sync")
        options = _options(site, cluster_group, orphans)
        with _api(netbox_url, token, netbox_insecure) as api:
            with open_pool(opts) as conn:
                snap = collect_once(conn)
                disks = read_disks(conn, snap)
            try:
                report = sync(api, snap, options, disks)
            except NetBoxError as exc:
                fail(ExitCode.PARTIAL if api.writes else ExitCode.FAILURE,
                     str(exc) + ("\nNothing was undone: run sync again once the cause is "
                                 "fixed." if api.writes else ""), exc)
            fields = _plan_fields(opts, api, report.plan)
    remaining = report.remaining
    verified = remaining is not None and remaining.empty
    if opts.output.is_data:
        from xapictl.cli.documents import NetBoxStep, NetBoxSync
        from xapictl.cli.render import emit_document

        emit_document(opts, NetBoxSync(
            **fields, kind="NetBoxSync", writes=report.writes, requests=report.requests,
            verified=verified,
            remaining=[NetBoxStep(**_step_item(s))
                       for s in (remaining.steps if remaining else ())]))
    else:
        _print_steps(report.plan, False)
        typer.echo(f"{report.writes} NetBox writes, {report.requests} requests; "
                   + ("verified: NetBox matches the pool" if verified else
                      f"NOT verified: {len(remaining.steps) if remaining else '?'} steps left"))
    if not verified:
        raise typer.Exit(int(ExitCode.PARTIAL))


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
                  "--state", help="Checkpoint file: the event token of the state last "
                                  "synced, written after each sync; a restart syncs only "
                                  "if the pool changed since.")] = None) -> None:
    """Sync once, then follow the pool's changes and sync each batch as it comes (one line
    per sync). With --state a restart resumes from its checkpoint: nothing is missed or
    written twice, and an unchanged pool costs NetBox no request."""
    import sys
    import threading

    opts = current(ctx)
    with exit_codes():
        from xapictl.cli.connection import open_pool
        from xapictl.cli.render import refuse_data, refuse_name
        from xapictl.netbox.watch import WatchCheckpoint, watch

        refuse_name(opts, "netbox watch")
        refuse_data(opts, "netbox watch", "it is a stream of lines, one per sync")
        options = _options(site, cluster_group, orphans)
        stop = threading.Event()
        timer = threading.Timer(max_seconds, stop.set) if max_seconds is not None else None

        def said(report: Any, events: int) -> None:
            counts = ", ".join(f"{n} {a}" for a, n in report.plan.counts().items() if n)
            typer.echo(f"{events} pool events: {counts or 'nothing to do'} "
                       f"({report.writes} NetBox writes)")
            sys.stdout.flush()  # one line per sync, as it happens (a pipe buffers)

        with _api(netbox_url, token, netbox_insecure) as api, open_pool(opts) as conn:
            if timer is not None:
                timer.daemon = True
                timer.start()
            try:
                watch(api, conn, options, stop=stop, on_sync=said,
                      poll_timeout=min(30.0, max_seconds or 30.0),
                      checkpoint=WatchCheckpoint(state) if state is not None else None)
            finally:
                if timer is not None:
                    timer.cancel()
