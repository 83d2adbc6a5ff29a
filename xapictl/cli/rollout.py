"""``xapictl rollout``: apply a recipe to many pools — canary, waves, failure budget, journal.

    xapictl rollout RECIPE --fleet FILE [--select EXPR] [--canary N] [--batch-size N]
                    [--concurrency N] [--max-failures N] [--pause-after-canary] [--yes]
                    [--plan-only]
    xapictl rollout list | status ID | resume ID | audit ID

``rollout RECIPE`` is short for ``rollout run RECIPE``. The library is imported inside the
commands so ``xapictl --help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from xapictl.cli.exit_codes import ExitCode
from xapictl.cli.options import current
from xapictl.cli.run import count_writes, exit_codes, fail

if TYPE_CHECKING:
    from xapictl.fleet.journal import Journal
    from xapictl.fleet.rollout import RolloutResult, RolloutRunner, Summary


class _RecipeFirst(TyperGroup):
    """``rollout RECIPE ...`` runs ``rollout run RECIPE ...``; subcommands keep their names."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:  # typer vendors click
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


app = typer.Typer(cls=_RecipeFirst, no_args_is_help=True,
                  help="Roll a recipe out to many pools: plan all, canary, waves, failure "
                       "budget; journaled and resumable. 'xapictl rollout RECIPE --fleet FILE "
                       "...' is short for 'xapictl rollout run RECIPE --fleet FILE ...'.")

JournalOpt = Annotated[Path | None, typer.Option(
    "--journal", envvar="XAPICTL_JOURNAL",
    help="Journal file (default: ~/.local/state/xapictl/journal.sqlite).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No live progress.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before applying.")]


def _journal(path: Path | None) -> Journal:
    """The journal at ``path`` (``--journal``, ``XAPICTL_JOURNAL`` or the default); a path
    that cannot hold one (a directory, '', under a regular file, not a journal) is bad input."""
    import sqlite3

    from xapictl.errors import UsageError
    from xapictl.fleet.journal import Journal, default_path

    try:
        return Journal(path)
    except (OSError, sqlite3.Error) as exc:
        where = path if path is not None else default_path()
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"--journal: cannot open the journal {str(where)!r} ({why}); give "
                         "--journal (or XAPICTL_JOURNAL) a journal file in a directory you "
                         "can write") from None


def _interactive() -> bool:
    """Whether a person can answer a question (stdin is a terminal)."""
    return sys.stdin.isatty()


def _confirmer(yes: bool, quiet: bool) -> Any:
    def confirm(question: str, summary: Summary) -> bool:
        if not quiet or not yes:
            from xapictl.cli.render import escape

            typer.echo(escape("\n".join(summary.lines()), keep_newlines=True), err=True)
        if yes:
            return True
        if not _interactive():
            from xapictl.errors import UsageError

            # The runner records the rollout and its pools as refused, then we exit 2.
            raise UsageError("not a terminal: give --yes to apply without asking")
        return typer.confirm(question, err=True)
    return confirm


def _exit_for(result: RolloutResult) -> ExitCode:
    """0 all done (or declined); 2 refused before any write (no --yes, or every pool that is
    not done was refused by a pre-flight check); 5 a pool was changed by this run and the
    rollout did not end done (a failure, Ctrl-C); 130 Ctrl-C before any change; 4 otherwise
    (nothing was changed)."""
    from xapictl.fleet.journal import PoolState, RolloutState

    states = set(result.pools.values())
    bad = states - {PoolState.DONE, PoolState.SKIPPED}
    if result.state is RolloutState.REFUSED:
        return ExitCode.BAD_INPUT
    if result.state in (RolloutState.DONE, RolloutState.DECLINED) and not bad:
        return ExitCode.OK
    if result.changed:
        return ExitCode.PARTIAL
    if bad == {PoolState.REFUSED}:
        return ExitCode.BAD_INPUT
    if result.state is RolloutState.STOPPED and result.reason.startswith("interrupted"):
        return ExitCode.INTERRUPTED  # Ctrl-C, and nothing was changed
    return ExitCode.FAILURE


def _as_data(ctx: typer.Context) -> bool:
    """Whether the global ``-o`` asks for a JSON/YAML document (``-o name`` is refused:
    these are not list commands)."""
    from xapictl.cli.options import current
    from xapictl.cli.render import refuse_name

    opts = current(ctx)
    refuse_name(opts, ctx.command_path.split(" ", 1)[-1])
    return opts.output.is_data


def _emit(ctx: typer.Context, doc: Any) -> None:
    from xapictl.cli.options import current
    from xapictl.cli.render import emit_document

    emit_document(current(ctx), doc)


def _result_document(result: RolloutResult, journal: Journal) -> Any:
    from xapictl.cli.documents import RolloutResult as Document

    data = result.to_json(journal)
    return Document(pool=None, rollout=data["rollout"], state=data["state"],
                    reason=data["reason"] or None, elapsed_s=data["elapsed_s"],
                    counts=data["counts"], pools=[_pool_run(r) for r in data["pools"]])


def _pool_run(r: Any) -> Any:
    from xapictl.cli.documents import PoolRun

    data = r if isinstance(r, dict) else {k: getattr(r, k) for k in PoolRun.model_fields}
    state = data["state"]
    return PoolRun.model_validate({**{k: data.get(k) for k in PoolRun.model_fields},
                                   "state": getattr(state, "value", state),
                                   "error": data.get("error") or None})


def _execute(ctx: typer.Context, runner: RolloutRunner, pools: list[str], quiet: bool,
             as_json: bool, journal: Journal, start: Any, rollout: int | None = None) -> None:
    """Run with live progress (unless quiet), print the outcome, exit with its code."""
    from xapictl.fleet.progress import LiveProgress

    if quiet or as_json:
        result = start()
    else:
        with LiveProgress(pools, rows=_rows_now(journal, rollout)) as live:
            runner.on_event = live.event
            runner.confirm = live.asking(runner.confirm)
            result = start()
    code = _exit_for(result)
    if as_json:
        _emit(ctx, _result_document(result, journal))
        if code != ExitCode.OK:  # the failure as an error document on stderr, too
            from xapictl.cli.errors_out import write_error
            from xapictl.cli.options import current

            write_error(current(ctx).output, exit_code=int(code), kind="RolloutFailed",
                        message=f"rollout {result.id}: {result.state.value}"
                        + (f" ({result.reason})" if result.reason else ""))
    elif not quiet:
        typer.echo(f"rollout {result.id}: {result.state.value}"
                   + (f" ({result.reason})" if result.reason else "")
                   + f" in {result.elapsed:.1f}s", err=True)
    if code is ExitCode.BAD_INPUT and result.reason and not as_json:
        from xapictl.cli.render import escape

        typer.echo(escape(f"xapictl: {result.reason}"), err=True)
    raise typer.Exit(int(code))


def _rows_now(journal: Journal, rollout: int | None) -> dict[str, tuple[str, int, int]]:
    """Each pool's state, steps done and planned as the journal has them (for ``resume``:
    finished pools are shown finished, not pending)."""
    if rollout is None:
        return {}
    return {r.pool: (r.state.value, r.done, r.planned) for r in journal.pool_runs_now(rollout)}


@app.command("run")
def run(
    ctx: typer.Context,
    recipe: Annotated[Path, typer.Argument(help="The recipe (YAML) to apply.")],
    fleet: Annotated[Path, typer.Option("--fleet", help="The fleet file.")],
    select: Annotated[str | None, typer.Option(
        "--select", help="Pools to act on: names, globs, tag:T, and/or/not.")] = None,
    canary: Annotated[int, typer.Option(min=0, help="Pools applied first, alone.")] = 1,
    batch_size: Annotated[int, typer.Option(min=1, help="Pools per wave.")] = 5,
    concurrency: Annotated[int, typer.Option(min=1, help="Pools in parallel.")] = 4,
    max_failures: Annotated[int, typer.Option(
        min=0, help="Failed pools tolerated before no further pool is started.")] = 0,
    pause_after_canary: Annotated[bool, typer.Option(
        "--pause-after-canary", help="Ask before the waves.")] = False,
    plan_only: Annotated[bool, typer.Option(
        "--plan-only", help="Plan every selected pool, print what would change, write "
                            "nothing (exit 3 when changes are pending, 0 when none).")] = False,
    yes: YesOpt = False, quiet: QuietOpt = False, journal_path: JournalOpt = None,
) -> None:
    """Plan every selected pool, show the summary, then canary and waves."""
    from xapictl.fleet.rollout import RolloutOptions
    from xapictl.plan.desired import load_file

    with exit_codes():
        as_json = _as_data(ctx)
        desired = load_file(recipe)
        options = RolloutOptions(canary=canary, batch_size=batch_size, concurrency=concurrency,
                                 max_failures=max_failures,
                                 pause_after_canary=pause_after_canary)
        if plan_only:
            fleet_plan(ctx, desired, fleet, select, concurrency)
        fleet_rollout(ctx, desired, recipe, fleet, select, options, yes=yes, quiet=quiet,
                      as_json=as_json, journal_path=journal_path)


def fleet_plan(ctx: typer.Context, desired: Any, fleet: Path, select: str | None,
               concurrency: int) -> None:
    """Every selected pool's plan of ``desired``; exits (see ``_plan_only``)."""
    from xapictl.cli.inventory import fleet_connector
    from xapictl.fleet.fleetfile import load_fleet
    from xapictl.fleet.xapi_work import XapiPoolWork

    pools = load_fleet(fleet).select(select)
    connector = fleet_connector(ctx)
    connector.prime(pools)
    _plan_only(ctx, XapiPoolWork(desired, connector), list(pools), concurrency,
               _as_data(ctx))


def fleet_rollout(ctx: typer.Context, desired: Any, recipe: Path, fleet: Path,
                  select: str | None, options: Any, *, yes: bool, quiet: bool, as_json: bool,
                  journal_path: Path | None, only: Sequence[str] | None = None) -> None:
    """Roll ``desired`` (read from ``recipe``, which the journal keeps) out to the selected
    pools (of those, ``only`` these when given); exits."""
    from xapictl.cli.inventory import fleet_connector
    from xapictl.fleet.fleetfile import load_fleet
    from xapictl.fleet.rollout import RolloutRunner
    from xapictl.fleet.xapi_work import XapiPoolWork

    pools = [p for p in load_fleet(fleet).select(select) if only is None or p.name in only]
    journal = _journal(journal_path)  # a bad --journal is bad input: before any connection
    connector = fleet_connector(ctx)
    connector.prime(pools)
    work = XapiPoolWork(desired, connector, journal, lock_timeout=current(ctx).lock_timeout)
    count_writes(work)
    runner = RolloutRunner(journal, work, options, confirm=_confirmer(yes, quiet))
    _execute(ctx, runner, [p.name for p in pools], quiet, as_json, journal,
             lambda: runner.start(pools, recipe=str(recipe.resolve()),
                                  fleet=str(fleet.resolve()), selection=select))


def rollout_desired(ctx: typer.Context, desired: Any, fleet: Path, select: str | None, *,
                    yes: bool, quiet: bool, as_json: bool, recipe: Path | None = None,
                    only: Sequence[str] | None = None) -> None:
    """A single-pool write command's desired state as a rollout with the default canary,
    waves and budget. Without a recipe file the state is saved as one next to the journal,
    for ``rollout resume``."""
    from xapictl.fleet.forms import save_recipe
    from xapictl.fleet.journal import default_path
    from xapictl.fleet.rollout import RolloutOptions

    if recipe is None:
        recipe = save_recipe(desired, default_path().parent / "recipes")
    fleet_rollout(ctx, desired, recipe, fleet, select, RolloutOptions(), yes=yes, quiet=quiet,
                  as_json=as_json, journal_path=None, only=only)


def _plan_document(planned: Any) -> Any:
    """One pool's plan as the structured document ``xapictl plan -o json`` prints."""
    from xapictl.plan.document import plan_document

    return plan_document(planned.plan, getattr(planned.handle, "snapshot", None))


def _plan_only(ctx: typer.Context, work: Any, pools: list[Any], concurrency: int,
               as_json: bool) -> None:
    """Print every pool's plan (steps, warnings, pools that cannot be planned); exit 4 when a
    pool could not be planned, 3 when changes are pending (or work is deferred for an offline
    host), 0 when there is nothing to do."""
    from xapictl.fleet.rollout import plan_fleet

    summary = plan_fleet(work, pools, concurrency)
    if as_json:
        from xapictl.cli.documents import FleetPlan, FleetPoolPlan

        _emit(ctx, FleetPlan(pool=None, pools=[
            FleetPoolPlan(pool=name, changes=p.changes, actions=dict(p.summary),
                          steps=[s.describe() for s in p.plan.steps],
                          warnings=list(p.plan.warnings),
                          deferred=[d.describe() for d in p.plan.deferred],
                          plan=_plan_document(p))
            for name, p in summary.plans.items()],
            errors={k: str(v) for k, v in summary.errors.items()}))
    else:
        from xapictl.cli.render import escape

        lines = [summary.lines()[0]]
        for name, p in summary.plans.items():
            lines.append(f"  {name}: {p.changes} change(s)")
            lines += [f"    + {step.describe()}" for step in p.plan.steps]
            lines += [f"    ~ deferred {deferred.describe()}" for deferred in p.plan.deferred]
            lines += [f"    warning: {warning}" for warning in p.plan.warnings]
        lines += [f"  {name}: CANNOT PLAN: {err}" for name, err in summary.errors.items()]
        typer.echo("\n".join(escape(line) for line in lines))
    if summary.errors:
        fail(ExitCode.FAILURE, f"{len(summary.errors)} pool(s) could not be planned: "
                               + ", ".join(sorted(summary.errors)))
    raise typer.Exit(int(ExitCode.CHANGES_PENDING if any(
        p.changes or p.plan.deferred for p in summary.plans.values()) else ExitCode.OK))


@app.command("resume")
def resume(
    ctx: typer.Context,
    rollout_id: Annotated[int, typer.Argument(metavar="ID")],
    fleet: Annotated[Path | None, typer.Option(
        "--fleet", help="Fleet file (default: the one the rollout used).")] = None,
    yes: YesOpt = False, quiet: QuietOpt = False, journal_path: JournalOpt = None,
) -> None:
    """Re-plan the pools of a rollout that are not done (idempotent) and continue."""
    from xapictl.cli.inventory import fleet_connector
    from xapictl.fleet.fleetfile import load_fleet
    from xapictl.fleet.rollout import RolloutOptions, RolloutRunner
    from xapictl.fleet.xapi_work import XapiPoolWork
    from xapictl.plan.desired import load_file

    with exit_codes():
        as_json = _as_data(ctx)
        journal = _journal(journal_path)
        row = journal.rollout(rollout_id)
        desired = load_file(row.recipe)
        pools = list(load_fleet(fleet or row.fleet).pools)
        connector = fleet_connector(ctx)
        connector.prime([p for p in pools if p.name in {r.pool for r in
                                                         journal.pool_runs(rollout_id)}])
        work = XapiPoolWork(desired, connector, journal,
                            lock_timeout=current(ctx).lock_timeout)
        count_writes(work)
        runner = RolloutRunner(journal, work, RolloutOptions(**row.options),
                               confirm=_confirmer(yes, quiet))
        names = [r.pool for r in journal.pool_runs(rollout_id)]
        _execute(ctx, runner, names, quiet, as_json, journal,
                 lambda: runner.resume(rollout_id, pools), rollout_id)


@app.command("list")
def list_rollouts(ctx: typer.Context, journal_path: JournalOpt = None) -> None:
    """The latest rollouts of the journal."""
    from xapictl.cli.options import current

    with exit_codes():
        from xapictl.cli.documents import RolloutItem, RolloutList
        from xapictl.cli.render import emit_list

        journal = _journal(journal_path)
        items: list[RolloutItem] = []
        for r in journal.rollouts():
            counts: dict[str, int] = {}
            for run in journal.pool_runs_now(r.id):
                counts[run.state.value] = counts.get(run.state.value, 0) + 1
            reason = r.reason
            if journal.gone(r.id):
                reason = f"its process is gone: `xapictl rollout resume {r.id}`"
            items.append(RolloutItem(id=r.id, created=r.created[:19], state=r.state.value,
                                     recipe=r.recipe, pools=counts, reason=reason or None))
        opts = current(ctx)
        if not opts.output.is_data and opts.output.value != "name":
            items = [i.model_copy(update={"recipe": Path(i.recipe).name}) for i in items]
        emit_list(opts, RolloutList(pool=None, items=items), RolloutItem)


@app.command("status")
def status(ctx: typer.Context, rollout_id: Annotated[int, typer.Argument(metavar="ID")],
           journal_path: JournalOpt = None) -> None:
    """One rollout: its state, each pool's state, steps done and error; what is in doubt."""
    from xapictl.fleet.journal import CUT, IN_DOUBT, PoolState

    with exit_codes():
        as_json = _as_data(ctx)
        journal = _journal(journal_path)
        row = journal.rollout(rollout_id)
        runs = journal.pool_runs_now(rollout_id)
        gone = journal.gone(rollout_id)
        steps = journal.steps(rollout_id)
        doubtful = [a for a in journal.audit(rollout_id) if a.outcome == IN_DOUBT]
        if as_json:
            from xapictl.cli.documents import AuditWrite, Rollout, RolloutStep

            _emit(ctx, Rollout(
                pool=None, id=row.id, state=row.state.value, reason=row.reason or None,
                recipe=row.recipe, fleet=row.fleet, selection=row.selection,
                options=dict(row.options), created=row.created, updated=row.updated,
                runner=row.runner or None, runner_gone=gone,
                pools=[_pool_run(r) for r in runs],
                steps=[RolloutStep.model_validate({k: s.get(k) for k in RolloutStep.model_fields})
                       for s in steps],
                writes_in_doubt=[AuditWrite.model_validate(
                    {k: a.to_json().get(k) for k in AuditWrite.model_fields})
                    for a in doubtful]))
            return
    from xapictl.cli.render import columns, escape

    lines = [f"rollout {row.id}: {row.state.value}" + (f" ({row.reason})" if row.reason else "")]
    if gone:
        lines.append(f"  its process ({row.runner or 'unknown'}) is gone: killed before it "
                     f"could record an end. `xapictl rollout resume {row.id}` reads each pool "
                     "that is not done and does only what is left.")
    lines.append(f"  recipe {row.recipe}\n  fleet  {row.fleet}  select {row.selection or 'all'}")
    table = columns([[r.pool, r.state.value, _wave(r.wave, bool(row.options.get("canary"))),
                      f"{r.done}/{r.planned} steps" + (f"  {r.error}" if r.error else "")]
                     for r in runs], gap=1, indent=2, min_widths=[20, 8, 8])
    for r, pool_line in zip(runs, table, strict=True):
        lines.append(pool_line)
        latest = max((s["attempt"] for s in steps if s["pool"] == r.pool), default=0)
        lines += [f"    step {s['idx'] + 1} {s['status']}: {s['description']}" for s in steps
                  if s["pool"] == r.pool and s["attempt"] == latest
                  and s["status"] in (IN_DOUBT, CUT)]
        if r.state is PoolState.IN_DOUBT:
            lines += [f"    write in doubt: {a.call} (sent {a.sent}; it may or may not have "
                      "taken effect)" for a in doubtful if a.pool == r.pool]
    typer.echo("\n".join(escape(line, keep_newlines=True) for line in lines))


@app.command("audit")
def audit(ctx: typer.Context, rollout_id: Annotated[int, typer.Argument(metavar="ID")],
          fmt: Annotated[str, typer.Option("--format", help="json, ndjson or csv.")] = "json",
          out: Annotated[Path | None, typer.Option(
              "--out", "-O", help="Write to this file (default: stdout).")] = None,
          journal_path: JournalOpt = None) -> None:
    """Every write the rollout sent: pool, host, call, arguments (no secrets), result, time."""
    from xapictl.fleet.audit import export_audit

    with exit_codes():
        from xapictl.cli.options import current
        from xapictl.cli.render import out_file, refuse_data

        refuse_data(current(ctx), "rollout audit", "its format is --format json|ndjson|csv")
        out_file(out)
        if fmt not in ("json", "ndjson", "csv"):
            fail(ExitCode.BAD_INPUT, f"unknown format {fmt!r}: use json, ndjson or csv")
        journal = _journal(journal_path)
        journal.rollout(rollout_id)
        text = export_audit(journal, rollout_id, fmt)
        if out is not None:
            _write_out(out, text)
    if out is None:
        sys.stdout.write(text)



def _wave(wave: int, canary: bool) -> str:
    return "canary" if wave == 0 and canary else (f"wave {wave}" if wave >= 0 else "-")

def _write_out(out: Path, text: str) -> None:
    """``--out``: a path that cannot be written (under a regular file, a missing folder, no
    permission) is bad input, in one line."""
    from xapictl.errors import UsageError

    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out: cannot write {str(out)!r} ({exc.strerror or exc}); give a "
                         "file path in a folder that exists and you can write") from None


__all__ = ["app", "fleet_plan", "fleet_rollout", "rollout_desired"]
