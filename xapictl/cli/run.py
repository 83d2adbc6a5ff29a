"""What every command does around the library: map errors to exit codes and clear messages
(never a traceback for a known failure), and the plan -> confirm -> apply -> verify flow.

Who is asked: ``apply`` always (``ask``), every other write command when its plan is
disruptive (``Plan.is_disruptive``). At a terminal the plan is shown and a question asked; a
"no" exits 3 (changes still pending). Off a terminal the run is refused (exit 2, nothing
sent) unless ``--yes`` was given. Work deferred for an offline host exits 3 as well.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import typer

from xapictl.cli.exit_codes import ExitCode
from xapictl.cli.options import GlobalOptions
from xapictl.cli.render import emit_document, say

if TYPE_CHECKING:
    import datetime as dt

    from xapictl.errors import FieldRef, Problem
    from xapictl.plan.core import ApplyReport, Plan, StepResult
    from xapictl.plan.desired import DesiredState
    from xapictl.plan.document import PlanDocument, PoolInfo
    from xapictl.state.snapshot import PoolSnapshot


class WriteCounts(Protocol):
    """Whatever counts a command's writes: an ``AuditLog``, a rollout's pool work."""

    @property
    def sent(self) -> int: ...

    @property
    def effective(self) -> int: ...


_AUDITS: contextvars.ContextVar[list[WriteCounts] | None] = contextvars.ContextVar(
    "xapictl_cli_audits", default=None)
"""The write counters of the command running now: what every message that says "Nothing was
sent" (and every choice between exit 4 and 5) checks first."""


def count_writes(counts: WriteCounts) -> None:
    """Count ``counts``' writes as this command's (inside ``exit_codes``)."""
    audits = _AUDITS.get()
    if audits is not None:
        audits.append(counts)


def _writes_sent() -> int:
    """Writes this command handed to a pool so far (0: truly nothing was sent)."""
    return sum(audit.sent for audit in _AUDITS.get() or [])


def _writes_changed() -> int:
    """Writes of this command that may have taken effect (answered ok, or answer lost)."""
    return sum(audit.effective for audit in _AUDITS.get() or [])


def _nothing_sent() -> str:
    """The sentence "Nothing was sent." when that is true; else how many writes were."""
    sent = _writes_sent()
    if not sent:
        return " Nothing was sent."
    return (f" {sent} write(s) had been sent before this: `xapictl plan` shows what is "
            "left.")


def fail(code: ExitCode, message: str, exc: BaseException | None = None) -> NoReturn:
    """``xapictl: message`` on stderr (with ``-o json|yaml`` also an error document, see
    ``errors_out``) and exit ``code``."""
    from xapictl.cli.errors_out import current_options, write_error
    from xapictl.cli.render import escape

    typer.echo(escape(f"xapictl: {message}", keep_newlines=True), err=True)
    opts = current_options()
    if opts is not None:
        write_error(opts.output, exit_code=int(code), exc=exc,
                    message=message.replace("\nxapictl: ", "\n"))
    raise typer.Exit(int(code))


@contextlib.contextmanager
def exit_codes() -> Iterator[None]:
    """Known errors become a message on stderr and the documented exit code."""
    from xapictl import errors as e

    token = _AUDITS.set([]) if _AUDITS.get() is None else None
    try:
        yield
    except e.UsageError as exc:
        fail(ExitCode.BAD_INPUT, _bad_input(exc), exc)
    except e.StalePlanError as exc:
        fail(ExitCode.STALE_PLAN, str(exc), exc)
    except (e.PreflightError, e.AmbiguousObjectError) as exc:
        fail(ExitCode.BAD_INPUT, f"refused before any change:\n{_indent(str(exc))}", exc)
    except e.ApplyInterrupted as exc:
        _print_report(exc.report, "apply interrupted")  # type: ignore[arg-type]
        fail(ExitCode.PARTIAL, f"{exc}\n{rerun()}", exc)
    except e.ApplyError as exc:
        report = exc.report
        _print_report(report, "apply stopped")  # type: ignore[arg-type]
        if getattr(report, "rolled_back", False):
            fail(ExitCode.FAILURE, f"{exc}\n{ROLLED_BACK}", exc)
        changed = getattr(report, "done", []) or getattr(report, "writes", 0)
        lead = PARTLY_UNDONE if getattr(report, "undone", []) else RERUN
        fail(ExitCode.PARTIAL if changed else ExitCode.FAILURE, f"{exc}\n{rerun(lead)}", exc)
    except e.VerificationError as exc:
        fail(ExitCode.PARTIAL, f"applied, but the pool does not match the recipe: {exc}", exc)
    except e.PlanDriftError as exc:
        fail(ExitCode.PARTIAL, str(exc), exc)
    except e.XapiFailure as exc:
        fail(_after_writes(), f"{exc}{_failure_hint(exc)}", exc)
    except e.TransportError as exc:
        fail(_after_writes(), f"{exc}\n{_transport_hint(exc)}", exc)
    except e.PoolLocked as exc:
        fail(ExitCode.FAILURE, str(exc), exc)
    except e.LeaseLost as exc:
        fail(_after_writes(), str(exc), exc)
    except (e.TaskError, e.LocalBackendError) as exc:
        fail(_after_writes(), str(exc), exc)
    except KeyboardInterrupt as exc:
        fail(_after_writes(ExitCode.INTERRUPTED), _interrupt_message(), exc)
    finally:
        if token is not None:
            _AUDITS.reset(token)


def _after_writes(otherwise: ExitCode = ExitCode.FAILURE) -> ExitCode:
    """5 once a write of this command may have taken effect, else ``otherwise``."""
    return ExitCode.PARTIAL if _writes_changed() else otherwise


def _interrupt_message() -> str:
    if not _writes_sent():
        return "interrupted (Ctrl-C) before any write: nothing was sent, nothing changed."
    if not _writes_changed():
        return ("interrupted (Ctrl-C): the writes sent were all refused, so nothing changed. "
                "`xapictl plan` shows what is left.")
    return f"interrupted (Ctrl-C) after a write.\n{rerun()}"


ROLLED_BACK = ("The steps done were undone: the pool is as before. Run the same command "
               "again once the cause is fixed.")
RERUN = ("Nothing was undone. Run the same command again once the cause is fixed: it reads the "
         "pool again and does only what is left.")


PARTLY_UNDONE = ("Not every step done was undone (\"Then, to roll back:\" above says what "
                 "was): the pool is not as before. Run the same command again once the cause "
                 "is fixed: it reads the pool again and does only what is left.")


def rerun(lead: str = RERUN) -> str:
    """``lead`` (``RERUN``) and the exact command that resumes (``Resume with: xapictl
    ...``)."""
    command = invoked_command()
    return f"{lead}\nResume with: {command}" if command else lead


def invoked_command() -> str | None:
    """The command running now as the user typed it, rebuilt from its click contexts (the one
    ``options.current`` saw; None before it): the words of each command level and every
    parameter given on the command line (those from the environment or defaults are left out, as
    the re-run gets them the same way)."""
    import enum
    import shlex

    from xapictl.cli.options import running

    opts = running()
    ctx: Any = opts.command if opts is not None else None
    chain: list[Any] = []  # typer's contexts (typer vendors click: no isinstance on click's)
    while ctx is not None:
        chain.append(ctx)
        ctx = ctx.parent
    if not chain:
        return None
    words = ["xapictl"]
    moved_to = opts.moved_to if opts is not None else None
    for level in reversed(chain):
        if level.parent is not None:
            words.append(level.info_name or "")
        for param in level.command.params:
            name = param.name or ""
            value = level.params.get(name)
            # the run moved the master: it answers at its new URL now (given or from
            # XAPICTL_URL, whose old value would no longer reach it)
            if name == "url" and value is not None and moved_to is not None:
                value = moved_to
            elif getattr(level.get_parameter_source(name), "name", "") != "COMMANDLINE":
                continue
            values = list(value) if isinstance(value, (list, tuple)) else [value]
            texts = [str(v.value if isinstance(v, enum.Enum) else v) for v in values]
            if param.param_type_name == "argument":
                words += texts
            elif getattr(param, "is_flag", False):
                off = getattr(param, "secondary_opts", [])
                words.append(param.opts[0] if value or not off else off[0])
            else:
                words += [w for t in texts for w in (param.opts[0], t)]
    return shlex.join(words)


def _failure_hint(exc: Exception) -> str:
    if getattr(exc, "code", "") == "SESSION_AUTHENTICATION_FAILED":
        return ("\nThe pool refused the login: check the user (--user, XAPICTL_USER; default "
                "root) and the password (--password-file, XAPICTL_PASSWORD, or the profile's "
                f"password source).{_nothing_sent()}")
    return ""


def _transport_hint(exc: Exception) -> str:
    """What to do about a pool that cannot be reached or stopped answering."""
    from xapictl import errors as e

    if isinstance(exc, e.FingerprintMismatch):
        return ("The pool's certificate is not the pinned one: if it was renewed on purpose, "
                "pin the new fingerprint with --fingerprint.")
    if isinstance(exc, e.TLSError):
        return ("Trust the pool's certificate with --ca BUNDLE or --fingerprint SHA256 (or, "
                "knowingly, --insecure), or check that the URL's scheme is right.")
    if isinstance(exc, e.ConnectError):
        return ("Check the URL (--url, XAPICTL_URL or the --pool profile) and that the pool "
                f"master is up.{_nothing_sent()}")
    return ("The pool stopped answering (--timeout sets how long to wait). Run the same "
            "command again when it answers: it reads the pool again and does only what is "
            "left.")


@contextlib.contextmanager
def cli_values(flags: Mapping[str, str]) -> Iterator[None]:
    """Problems found in ``ensure_*`` arguments, worded for the command line: the option
    (``--vlan``) instead of the recipe field, and the fix as an option (``--vlan 105``).
    ``flags`` maps each argument's field to its option (or ARGUMENT) name."""
    from xapictl.errors import DesiredStateError, UsageError

    try:
        yield
    except DesiredStateError as exc:
        raise UsageError("\n".join(_as_option(p, flags) for p in exc.details)) from None


def _as_option(problem: Problem, flags: Mapping[str, str]) -> str:
    """``vlan`` / ``5000 is out of range 0-4094; e.g. `vlan: 105``
    -> ``--vlan: 5000 is out of range 0-4094; e.g. `--vlan 105```."""
    from xapictl.errors import recipe_words

    def words(ref: FieldRef) -> str:
        flag = flags.get(ref.field)
        if flag is None:
            return recipe_words(ref)
        if not ref.value:
            return f"`{flag}`"
        return f"`{ref.value}`" if flag.isupper() else f"`{flag} {ref.value}`"

    field = flags.get(problem.field, problem.field)
    text = problem.message(words)
    return f"{field}: {text}" if field else text


def _bad_input(exc: Exception) -> str:
    """One line per problem, each ``FILE:LINE: FIELD: message (hint)`` for a recipe (the
    style of every validation error: see ``validation_lines``)."""
    return "\nxapictl: ".join(validation_lines(exc))


def validation_lines(exc: Exception) -> list[str]:
    """The lines of a validation error: a recipe's problems one per line (``FILE:LINE: FIELD:
    message``), another bad value's message as it is."""
    problems = getattr(exc, "problems", None)
    if problems:
        return [str(p) for p in problems]
    return str(exc).splitlines() or [type(exc).__name__]


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def _print_report(report: ApplyReport, how: str) -> None:
    from xapictl.cli.render import columns

    lines = [f"{how}. What happened:"]
    def rows(results: list[StepResult]) -> list[str]:
        return columns([[r.status.value, r.step.describe() + (f" ({r.detail})" if r.detail
                                                              else "")]
                        for r in results], indent=2, min_widths=[11], right=[0])

    lines += rows(list(report.results))
    if report.undone:
        lines.append("Then, to roll back:")
        lines += rows(list(report.undone))
    typer.echo("\n".join(lines), err=True)


def interactive() -> bool:
    """Whether someone can answer a question (stdin is a terminal)."""
    return sys.stdin.isatty()


def show_plan(opts: GlobalOptions, plan: Plan) -> None:
    from xapictl.cli.render import escape
    from xapictl.plan.text import render_text

    if opts.output.is_data:
        return
    if opts.quiet:
        text = "".join(line + "\n" for line in render_text(plan).splitlines()
                       if line.startswith(("+", "~", "!")))
    else:
        text = render_text(plan)
    sys.stdout.write(escape(text, keep_newlines=True))


def pool_info(opts: GlobalOptions, snap: PoolSnapshot | None) -> PoolInfo:
    """The pool as documents name it: its URL (``embedded`` for the embedded simulated
    pool), and its uuid."""
    from xapictl.cli.connection import pool_label
    from xapictl.plan.document import PoolInfo

    return PoolInfo(url=pool_label(opts),
                    uuid=snap.pool.uuid if snap is not None and snap.pools else None)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only (0600, also when it existed)."""
    from xapictl._files import open_private

    with open_private(path, "w") as f:
        f.write(text)


def plan_only(opts: GlobalOptions, desired: DesiredState,
              save: tuple[Path, str, str] | None = None,
              draw: Callable[[PoolSnapshot, Plan], None] | None = None) -> Plan:
    """Read the pool, diff, run the role pre-flight; print. Sends no write. ``save``:
    (file, recipe text, recipe name) to write the saved plan to. ``draw``: called with the
    snapshot and the plan (``plan --diagram``), which then reads every class, not just the
    recipe's."""
    import datetime as dt

    from xapictl.cli.connection import open_pool
    from xapictl.cli.render import refuse_name
    from xapictl.plan.backend import XapiBackend, classes_needed
    from xapictl.plan.diff import diff
    from xapictl.plan.document import plan_document
    from xapictl.plan.preflight import preflight

    refuse_name(opts, "plan")
    with open_pool(opts) as conn:
        backend = XapiBackend(conn)
        # as converge reads it; a diagram draws the whole pool
        snap = backend.collect(None if draw is not None else classes_needed(desired))
        plan = diff(desired, snap)
        preflight(plan, backend.permissions(), reach=backend.reach)
        pool = pool_info(opts, snap)
    doc = plan_document(plan, snap, pool=pool)
    if save is not None:
        from xapictl.plan.saved import dumps, save_plan

        out, text, source = save
        doc = save_plan(plan, snap, pool_url=pool.url, recipe_text=text, recipe_source=source,
                        now=dt.datetime.now(dt.UTC))
        try:
            write_private(out, dumps(doc))
        except OSError as exc:
            from xapictl.errors import UsageError

            raise UsageError(f"--out: cannot write {out} ({exc.strerror or exc}); "
                             "give a writable file") from None
    if draw is not None:
        draw(snap, plan)
    show_plan(opts, plan)
    if opts.output.is_data:
        emit_document(opts, doc)
    elif save is not None:
        say(opts, f"Saved the plan to {save[0]}: apply exactly it with `xapictl apply "
                  f"{save[0]}` (refused once the pool changes, or after --max-age, 1h by "
                  "default).")
    return plan


def confirmed(plan: Plan, *, ask: bool, yes: bool) -> bool:
    """Whether to apply ``plan``: yes without a question when ``--yes`` was given or the plan
    is additive (and ``ask`` is off); else the question at a terminal, and off a terminal a
    refusal (exit 2) naming ``--yes`` and what the plan would disrupt."""
    if yes or not (ask or plan.is_disruptive):
        return True
    disrupted = plan.disruptive_steps
    if not interactive():
        if not disrupted:
            from xapictl.errors import UsageError

            raise UsageError("apply needs a confirmation and stdin is not a terminal: "
                             "review with `xapictl plan`, then pass --yes")
        steps = "\n".join(f"{s.action} {s.subject}: {s.disruption}" for s in disrupted)
        fail(ExitCode.BAD_INPUT, "refused: stdin is not a terminal, so nobody can confirm "
             f"{len(disrupted)} disruptive step(s):\n{_indent(steps)}\n"
             "Nothing was sent. Review the plan, then pass --yes to apply it.")
    of_them = f", {len(disrupted)} of them disruptive" if disrupted else ""
    from xapictl.cli.options import running

    opts = running()  # under -o json|yaml the question goes to stderr: stdout is the document
    return typer.confirm(f"Apply these {len(plan.steps)} step(s){of_them}?", default=False,
                         err=opts is not None and opts.output.is_data)


def converge(opts: GlobalOptions, desired: DesiredState, *, ask: bool, yes: bool,
             saved: PlanDocument | None = None, max_age: dt.timedelta | None = None,
             source: str = "") -> Any:
    """Plan, (confirm,) apply, verify and re-plan; print what happened. Exit 3 when the
    question was declined or work is deferred (the pool does not match yet). ``saved``: the
    saved plan (read from ``source``) that the plan made now must match, no older than
    ``max_age``; checked on the pre-write read, before any write."""
    import datetime as dt

    from xapictl.cli.connection import audit_log_path, open_pool
    from xapictl.cli.render import escape, refuse_name
    from xapictl.plan.audit import AuditLog

    refuse_name(opts, "apply")
    check = None
    if saved is not None:
        from xapictl.plan.saved import DEFAULT_MAX_AGE, check_saved

        def check(snap: PoolSnapshot, plan: Plan | None) -> None:
            check_saved(saved, snap, plan, now=dt.datetime.now(dt.UTC),
                        max_age=max_age or DEFAULT_MAX_AGE, source=source)

    audit = AuditLog(audit_log_path())
    count_writes(audit)
    try:
        # The login travels while the plan engine loads: the recipe is checked already.
        with open_pool(opts, login_ahead=True) as conn:
            from xapictl.plan.apply import converge as run
            from xapictl.plan.backend import XapiBackend

            audit.pool = opts.pool_label or str(conn.url)
            audit.user = str(getattr(getattr(conn, "session", None), "username", "") or "")
            backend = XapiBackend(conn, audit=audit, lock_timeout=opts.lock_timeout,
                                  closing=True)
            result = run(desired, backend,
                         confirm=lambda plan: confirmed(plan, ask=ask, yes=yes),
                         on_plan=lambda plan: show_plan(opts, plan), check=check)
    finally:
        audit.close()
    final = result.replan if result.replan is not None else result.plan
    if opts.output.is_data:  # the document's models are built only for documents
        emit_document(opts, apply_document(result, pool_info(opts, result.snapshot)))
    elif result.applied:
        if opts.verbose:
            for record in audit.outcomes:
                say(opts, f"  XAPI {record['method']} -> {record['outcome']}")
        for r in result.report.results:
            detail = f" ({r.detail})" if r.detail else ""
            say(opts, f"done: {r.step.action} {r.step.subject}{detail}")
        if final.deferred:
            say(opts, "Verified on the live hosts, and a new plan is empty.")
        else:
            say(opts, "Verified: the pool matches, and a new plan is empty.")
    elif result.settled:
        say(opts, "Nothing to do: read again under the pool's write lease, the pool already "
                  "matches (another run made these changes meanwhile).")
    elif not result.plan.is_empty:
        say(opts, "Not applied.")
    if not result.applied and not result.settled and not result.plan.is_empty:
        typer.echo(f"xapictl: declined: nothing was sent; {len(result.plan.steps)} step(s) "
                   "still pending (exit 3)", err=True)
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))
    if final.deferred:
        typer.echo(f"xapictl: the pool does not match yet: {len(final.deferred)} item(s) "
                   "deferred until their host is back (exit 3); re-run then:\n"
                   + escape(_indent("\n".join(d.describe() for d in final.deferred)),
                            keep_newlines=True), err=True)
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))
    return result


def apply_document(result: Any, pool: PoolInfo) -> Any:
    """The ``Apply`` document: the plan document, what ran, whether the pool verified."""
    from xapictl.plan.document import ApplyDocument, StepOutcome, plan_document

    doc = plan_document(result.plan, result.snapshot, pool=pool)
    outcomes = [StepOutcome(change=i, status=r.status.value, detail=r.detail,
                            subject=r.step.subject, title=r.step.action)
                for i, r in enumerate(result.report.results)]
    return ApplyDocument(pool=pool.url, pool_uuid=pool.uuid, plan=doc, applied=result.applied,
                         settled=result.settled, results=outcomes,
                         verified=None if result.replan is None else result.replan.is_empty)


__all__ = ["WriteCounts", "apply_document", "cli_values", "confirmed", "converge",
           "count_writes", "exit_codes", "fail", "plan_only", "pool_info", "show_plan",
           "validation_lines", "write_private"]
