"""``xapictl local``: the plain-Xen backend (bridges, VLAN trunks, guest vifs via netlink).

Exit codes: 0 done / nothing to do, 2 bad input (and ``check`` without root), 3 changes
pending (``plan``), 4 failed or refused and the host left as it was (rolled back), 5 rollback
incomplete (look at the host).
"""


from pathlib import Path
from typing import Any, NoReturn

import typer

from xapictl.cli.exit_codes import ExitCode
from xapictl.cli.options import GlobalOptions, current

app = typer.Typer(
    help="Plain Xen hosts (no XAPI): bridges, VLAN trunks and guest vifs through netlink.",
    no_args_is_help=True,
)

EXIT_OK, EXIT_BAD_INPUT, EXIT_PENDING, EXIT_FAILED, EXIT_PARTIAL = 0, 2, 3, 4, 5


NETNS = typer.Option(None, "--netns", help="Work inside this network namespace.")
RECIPE = typer.Argument(..., exists=False, help="A recipe file with a top-level 'local:'.")
ROOT = typer.Option(
    None, "--root", metavar="DIR",
    help="Where the boot recipe lives (DIR/var/lib/xapictl/local); default / for the host."
    " With --netns nothing is persisted unless --root is given.")
CHECK_RECIPE = typer.Argument(
    None, help="A recipe: also check what it needs (802.1Q, bonding, VLAN filtering).")


def _options(ctx: typer.Context, what: str) -> GlobalOptions:
    """The global options; ``-o name`` is refused (no local command lists identifiers)."""
    from xapictl.cli.render import refuse_name
    from xapictl.errors import UsageError

    opts = current(ctx)
    try:
        refuse_name(opts, f"local {what}")
    except UsageError as exc:
        _fail(EXIT_BAD_INPUT, str(exc), exc)
    return opts


def _fail(code: int, message: str, exc: BaseException | None = None) -> NoReturn:
    from xapictl.cli.run import fail

    fail(ExitCode(code), message, exc)


def _emit(opts: GlobalOptions, doc: Any, text: str) -> None:
    from xapictl.cli.render import emit_document, escape

    if opts.output.is_data:
        emit_document(opts, doc)
    else:
        typer.echo(escape(text, keep_newlines=True))


def _load(path: Path) -> Any:
    from xapictl.cli.run import validation_lines
    from xapictl.errors import DesiredStateError
    from xapictl.local.desired import load_recipe

    try:
        return load_recipe(path)
    except DesiredStateError as exc:  # one line per problem, as for pool recipes
        _fail(EXIT_BAD_INPUT, "\nxapictl: ".join(validation_lines(exc)), exc)


def _document(kind: str, plan: Any, **extra: Any) -> Any:
    from xapictl.cli.documents import DOCUMENTS

    return DOCUMENTS[kind](pool=None, **_plan_json(plan), **extra)


def _plan_json(plan: Any) -> dict[str, Any]:
    return {
        "steps": [{"action": s.action, "subject": s.subject, "reason": s.reason}
                  for s in plan.steps],
        "noops": [{"subject": n.subject, "reason": n.reason} for n in plan.noops],
        "warnings": list(plan.warnings),
    }


def _plan_text(plan: Any) -> str:
    if plan.is_empty:
        lines = ["No changes: the host already matches."]
    else:
        from xapictl.cli.render import columns

        lines = [f"{len(plan.steps)} change(s):"]
        lines += columns([[f"{i + 1}.", s.describe()] for i, s in enumerate(plan.steps)],
                         gap=1, indent=2, min_widths=[3], right=[0])
    lines += [f"  ok  {n.describe()}" for n in plan.noops]
    lines += [f"  warning: {w}" for w in plan.warnings]
    return "\n".join(lines)


def _refused(problems: list[str], exc: BaseException | None = None) -> NoReturn:
    """Exit 4 with every refusal, listed on stderr (with -o json|yaml also an error
    document; the refusals are in the stdout document as well)."""
    _fail(EXIT_FAILED, "refused before any change:\n"
          + "\n".join(f"  - {p}" for p in problems), exc)


@app.command()
def plan(ctx: typer.Context, path: Path = RECIPE, netns: str | None = NETNS) -> None:
    """Show what apply would change, with reasons. Exit 3 when changes are pending."""
    from xapictl.errors import HostReadError, LocalBackendError
    from xapictl.local.apply import current_plan
    from xapictl.local.preflight import problems

    opts = _options(ctx, "plan")
    desired = _load(path)
    try:
        the_plan, snap = current_plan(desired, netns)
    except HostReadError as exc:
        _fail(EXIT_FAILED, str(exc), exc)
    except LocalBackendError as exc:
        _fail(EXIT_BAD_INPUT, str(exc), exc)
    # an empty plan is refused too: a vif that does not exist plans nothing
    found = problems(desired, snap, the_plan.steps)
    _emit(opts, _document("LocalPlan", the_plan, refusals=found), _plan_text(the_plan))
    if found:
        _refused(found)
    raise typer.Exit(EXIT_OK if the_plan.is_empty else EXIT_PENDING)


@app.command("apply")
def apply_cmd(
    ctx: typer.Context,
    path: Path = RECIPE,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before changing."),
    confirm_within: float | None = typer.Option(
        None, "--confirm-within", metavar="N",
        help="Roll back after N seconds unless 'xapictl local confirm' runs first.",
    ),
    no_probe: bool = typer.Option(False, "--no-probe", help="Skip the connectivity probe."),
    netns: str | None = NETNS,
    root: Path | None = ROOT,
) -> None:
    """Apply a recipe safely: verify, probe connectivity, roll back on any failure. A
    settled change (no --confirm-within, or confirmed) is re-applied at boot."""
    from xapictl.errors import LocalBackendError, PreflightError
    from xapictl.local import persist
    from xapictl.local.apply import LocalApplyFailed, apply, current_plan
    from xapictl.local.preflight import problems

    opts = _options(ctx, "apply")
    desired = _load(path)
    pending = None
    try:
        pending, snap = current_plan(desired, netns)
        found = problems(desired, snap, pending.steps)
        if found:  # before "No changes": a missing vif plans nothing yet is refused
            raise PreflightError(found)
        if pending.is_empty:
            _emit(opts, _applied(pending, 0), _plan_text(pending))
            raise typer.Exit(EXIT_OK)
        if not yes:
            from xapictl.cli.render import escape

            typer.echo(escape(_plan_text(pending), keep_newlines=True),
                       err=opts.output.is_data)
            if not typer.confirm("Apply these changes?", err=opts.output.is_data):
                raise typer.Exit(EXIT_PENDING)
        boot_root = _boot_root(netns, root)
        if boot_root is not None:
            persist.stage(netns, path)  # before the change: a confirm must find it
        try:
            outcome = apply(desired, netns=netns, run_probe=not no_probe,
                            confirm_within=confirm_within)
        except LocalBackendError:
            persist.discard(netns)
            raise
        persisted: Path | None = None
        if boot_root is not None and not outcome.pending_confirmation:
            persisted = persist.commit(netns, boot_root)
    except PreflightError as exc:
        if pending is not None and opts.output.is_data:
            _emit(opts, _applied(pending, 0, refusals=list(exc.problems)), "")
        _refused(exc.problems, exc)
    except LocalApplyFailed as exc:
        _fail(EXIT_PARTIAL if exc.rollback_errors else EXIT_FAILED, str(exc), exc)
    except LocalBackendError as exc:
        _fail(EXIT_FAILED, str(exc), exc)
    done = len(outcome.report.done)
    probes = [{"target": p.target, "sent": p.sent, "received": p.received}
              for p in outcome.probes]
    text = f"{_plan_text(outcome.plan)}\napplied {done} change(s) in {outcome.seconds:.3f} s"
    if outcome.pending_confirmation:
        text += (f"\nrolls back in {confirm_within:g} s unless you run"
                 f" 'xapictl local confirm{' --netns ' + netns if netns else ''}"
                 f"{' --root ' + str(root) if root else ''}'"
                 + ("; only then is it re-applied at boot" if boot_root else ""))
    elif persisted is not None:
        text += f"\npersisted: re-applied at boot from {persisted}"
    _emit(opts, _applied(outcome.plan, done, seconds=outcome.seconds, probes=probes,
                         pending_confirmation=outcome.pending_confirmation), text)


def _applied(plan: Any, done: int, **extra: Any) -> Any:
    """The LocalApply document."""
    fields = {"refusals": [], "seconds": None, "probes": [], "pending_confirmation": False,
              **extra}
    return _document("LocalApply", plan, applied=done, **fields)


def _boot_root(netns: str | None, root: Path | None) -> Path | None:
    """Where a settled change is persisted: the host's /, or --root; a namespace without
    --root persists nothing (it does not survive a reboot anyway)."""
    if root is not None:
        return root
    return None if netns else Path("/")


@app.command()
def confirm(ctx: typer.Context, netns: str | None = NETNS, root: Path | None = ROOT) -> None:
    """Keep a change applied with --confirm-within (disarms the rollback timer) and
    persist its recipe for boot."""
    from xapictl.errors import LocalBackendError
    from xapictl.local import persist
    from xapictl.local.apply import confirm as do_confirm

    _no_document(ctx, "confirm")
    try:
        confirmed = do_confirm(netns)
    except LocalBackendError as exc:
        _fail(EXIT_BAD_INPUT, str(exc), exc)
    if not confirmed:
        _fail(EXIT_BAD_INPUT, "nothing awaits confirmation")
    boot_root = _boot_root(netns, root)
    persisted = persist.commit(netns, boot_root) if boot_root is not None else None
    typer.echo("confirmed: the change stays"
               + (f"; re-applied at boot from {persisted}" if persisted else ""))


def _no_document(ctx: typer.Context, what: str) -> None:
    """Commands that print one line of text refuse -o json|yaml|name (exit 2)."""
    from xapictl.cli.render import refuse_data
    from xapictl.errors import UsageError

    try:
        refuse_data(current(ctx), f"local {what}", "its answer is its exit code and one line")
    except UsageError as exc:
        _fail(EXIT_BAD_INPUT, str(exc), exc)


@app.command()
def rollback(ctx: typer.Context, netns: str | None = NETNS) -> None:
    """Undo the last unconfirmed or interrupted apply, and any vif hotplug change whose own
    rollback was incomplete, from their undo files (newest first)."""
    from xapictl.errors import LocalBackendError
    from xapictl.local import persist
    from xapictl.local.apply import rollback_undo_files, undo_path

    _no_document(ctx, "rollback")
    try:
        replayed, errors = rollback_undo_files(netns)
        persist.discard(netns)
    except LocalBackendError as exc:
        _fail(EXIT_BAD_INPUT, str(exc), exc)
    if errors:
        _fail(EXIT_PARTIAL, "rollback incomplete:\n"
              + "\n".join(f"  rollback step failed: {e}" for e in errors))
    hotplug = [p.name for p in replayed if p != undo_path(netns)]
    typer.echo("rolled back" + (f" (vif hotplug: {', '.join(hotplug)})" if hotplug else ""))


@app.command()
def show(ctx: typer.Context, netns: str | None = NETNS, root: Path | None = ROOT) -> None:
    """The host's links, addresses and routes as xapictl sees them, any undo file a
    change left to settle, and what is persisted for boot."""
    from xapictl.errors import HostReadError, LocalBackendError
    from xapictl.local import netlink, persist
    from xapictl.local.apply import undo_files
    from xapictl.local.observe import observe

    opts = _options(ctx, "show")
    try:
        ipr = netlink.open_ipr(netns)
        try:
            with netlink.kernel_errors("reading the host's network state"):
                snap = observe(ipr)
        finally:
            ipr.close()
    except HostReadError as exc:
        _fail(EXIT_FAILED, str(exc), exc)
    except LocalBackendError as exc:
        _fail(EXIT_BAD_INPUT, str(exc), exc)
    from xapictl.cli.render import columns

    lines = ["links:"]
    lines += columns([[lk.name, lk.kind or "-", "UP" if lk.up else "down",
                       f"mtu={lk.mtu} mac={lk.mac}" + (f" master={lk.master}" if lk.master
                                                       else "")
                       + (" (xapictl)" if lk.owned else "")]
                      for lk in sorted(snap.links.values(), key=lambda x: x.index)],
                     gap=1, indent=2, min_widths=[15, 7, 4])
    lines.append("addresses:")
    lines += columns([[a.ifname, a.cidr + (f" label={a.label}" if a.label else "")]
                      for a in snap.addresses], gap=1, indent=2, min_widths=[15])
    lines.append("routes:")
    lines += [f"  {r.dst} dev {r.oif}" + (f" via {r.gateway}" if r.gateway else "")
              + (f" metric {r.priority}" if r.priority else "") for r in snap.routes]
    pending = [str(p) for p in undo_files(netns)]
    if pending:
        lines.append("not settled (run 'xapictl local confirm' or 'xapictl local rollback'):")
        lines += [f"  {p}" for p in pending]
    boot_root = _boot_root(netns, root)  # a namespace without --root: nothing to say
    kept = persist.persisted(boot_root) if boot_root is not None else None
    if boot_root is not None:
        lines.append(f"persisted: {kept}, re-applied at boot by 'xapictl local boot'" if kept
                     else "persisted: nothing; at boot the host's own network configuration"
                          " applies")
    from xapictl.cli.documents import LocalHost

    _emit(opts, LocalHost(pool=None, **snap.to_dict(), undo_files=pending,
                          persisted=str(kept) if kept else None), "\n".join(lines))


@app.command()
def boot(ctx: typer.Context, netns: str | None = NETNS, root: Path | None = ROOT) -> None:
    """Re-apply the last confirmed recipe (the boot unit runs this before the Xen services).
    Exit 0 when done or nothing is persisted, 2 when the boot recipe is unreadable, 4 when
    it failed and was rolled back, 5 when the rollback was incomplete."""
    from xapictl.errors import LocalBackendError
    from xapictl.local import persist
    from xapictl.local.apply import LocalApplyFailed, apply

    _no_document(ctx, "boot")
    boot_root = root if root is not None else Path("/")
    kept = persist.persisted(boot_root)
    if kept is None:
        typer.echo(f"nothing persisted ({persist.persisted_path(boot_root)} does not exist):"
                   " the host's own network configuration stays")
        raise typer.Exit(EXIT_OK)
    desired = _load(kept)
    try:  # no probe: at boot the gateway may not answer yet, and that is no reason to undo
        outcome = apply(desired, netns=netns, run_probe=False)
    except LocalApplyFailed as exc:
        _fail(EXIT_PARTIAL if exc.rollback_errors else EXIT_FAILED, str(exc), exc)
    except LocalBackendError as exc:
        _fail(EXIT_FAILED, str(exc), exc)
    typer.echo(f"boot: {len(outcome.report.done)} change(s) from {kept}")


@app.command()
def check(
    ctx: typer.Context,
    path: Path | None = CHECK_RECIPE,
    netns: str | None = NETNS,
) -> None:
    """What this host can do: kernel features (tried), Xen dom0, CPU, bridge netfilter.
    Exit 4 when something the backend (or the recipe) needs is missing."""
    from xapictl.errors import LocalBackendError
    from xapictl.local.check import BACKEND_NEEDS, check_host, missing_needs, recipe_needs

    opts = _options(ctx, "check")
    needs = recipe_needs(_load(path)) if path is not None else BACKEND_NEEDS
    try:
        findings = check_host(netns=netns, needs=needs)
    except LocalBackendError as exc:
        _fail(EXIT_BAD_INPUT, str(exc), exc)
    text = "\n".join(
        f"{'ok ' if f.ok else 'NO '} {f.name}: {f.detail}"
        + (" (needed)" if f.needed and not f.ok else "")
        + (f"\n     -> {f.advice}" if f.advice else "")
        for f in findings
    )
    from xapictl.cli.documents import LocalCheck, LocalFinding

    _emit(opts, LocalCheck(pool=None, findings=[
        LocalFinding(name=f.name, ok=f.ok, detail=f.detail, advice=f.advice or None,
                     needed=f.needed)
        for f in findings]), text)
    lacking = missing_needs(findings)
    if lacking:
        _fail(EXIT_FAILED, f"this host lacks what {path.name if path else 'the local backend'}"
              f" needs: {', '.join(f.name for f in lacking)}; the advice is under each NO"
              " line (exit 4 until then)")


@app.command("vif-hotplug", context_settings={"allow_extra_args": True,
                                             "ignore_unknown_options": True})
def vif_hotplug(
    ctx: typer.Context,
    action: str = typer.Argument(..., help="online/offline (vif) or add/remove (tap)."),
    netns: str | None = NETNS,
) -> None:
    """Use as an xl vif script=: attach/detach the vif as vif-bridge does, with vlan=."""
    import os

    from xapictl.errors import UsageError
    from xapictl.local.hotplug import run_hotplug, setup_logging

    _no_document(ctx, "vif-hotplug")
    setup_logging()
    try:
        result = run_hotplug(action, os.environ, netns=netns, args=list(ctx.args))
    except UsageError as exc:
        _fail(EXIT_BAD_INPUT, str(exc), exc)
    if result.error:
        raise typer.Exit(EXIT_FAILED)


__all__ = ["app"]
