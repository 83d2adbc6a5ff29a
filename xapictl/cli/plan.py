"""``xapictl plan RECIPE [--out FILE]`` and ``xapictl apply RECIPE|PLANFILE [--yes]``.

``-`` reads the recipe from stdin. ``apply`` tells a saved plan (``plan --out``) from a recipe
by its ``kind``; see ``xapictl.plan.saved``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from xapictl.cli.diagram import DIAGRAM
from xapictl.cli.exit_codes import ExitCode
from xapictl.cli.fleet_forms import FLEET, SELECT, converge_on
from xapictl.cli.options import current
from xapictl.cli.run import exit_codes, plan_only

if TYPE_CHECKING:
    from xapictl.plan.core import Plan
    from xapictl.plan.desired import DesiredState
    from xapictl.state.snapshot import PoolSnapshot

RECIPE = typer.Argument(..., help="A recipe file (YAML; see docs/recipes.md), or - to read "
                        "it from stdin.")
PLANFILE = typer.Argument(..., help="A recipe file (YAML), - to read one from stdin, or a "
                          "saved plan written by `xapictl plan RECIPE --out FILE`.")
OUT = typer.Option(None, "--out", help="Also save the plan, with what it was computed from "
                   "(recipe, pool, fingerprints of the objects it relies on), to this file "
                   "(mode 0600), for `xapictl apply FILE`.")
MAX_AGE = typer.Option(None, "--max-age", help="With a saved plan: refuse it (exit 7) when "
                       "it is older than this: 90s, 30m, 1h, 2d (default 1h).")


def _read(recipe: Path) -> tuple[str | None, str]:
    """The text and its name (``<stdin>`` for ``-``); ``None`` when the file cannot be read
    (``load_file`` then says why, as for any recipe)."""
    if str(recipe) == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        return recipe.read_text(encoding="utf-8"), str(recipe)
    except (OSError, UnicodeDecodeError):
        return None, str(recipe)


def _load(recipe: Path, text: str | None, source: str) -> DesiredState:
    from xapictl.plan.desired import load_file, load_text

    if text is not None:  # the very text a saved plan keeps (read once)
        return load_text(text, source=source)
    return load_file(recipe)  # says why the file cannot be read


def _check_out(out: Path) -> None:
    from xapictl.errors import UsageError

    if out.is_dir():
        raise UsageError(f"--out: {out} is a directory; give a file name, e.g. "
                         f"`--out {out / 'plan.json'}`")
    if not out.parent.is_dir():
        raise UsageError(f"--out: the folder {out.parent} does not exist; create it first")


def plan(ctx: typer.Context, recipe: Path = RECIPE, out: Path | None = OUT,
         fleet: Path | None = FLEET, select: str | None = SELECT,
         diagram: Path | None = DIAGRAM) -> None:
    """Print every step and no-op with its reason. Writes nothing to the pool. Exit 3 when
    changes are pending (work deferred for an offline host included), 0 when the pool
    already matches. With --out FILE: also save the plan for `xapictl apply FILE`. With
    --diagram FILE: also draw the pool as it will be, each step's objects marked. With
    --fleet: every selected pool's plan (as `xapictl rollout RECIPE --plan-only`; exit 4
    when a pool cannot be planned)."""
    opts = current(ctx)
    with exit_codes():
        from xapictl.errors import UsageError

        text, source = _read(recipe)
        desired = _load(recipe, text, source)
        if out is not None:
            if fleet is not None:
                raise UsageError("--out saves the plan of one pool; it cannot be combined "
                                 "with --fleet")
            _check_out(out)
        if diagram is not None and fleet is not None:
            raise UsageError("--diagram draws the plan of one pool; it cannot be combined "
                             "with --fleet")
        drawing = _diagram_writer(ctx, diagram)
        if fleet is not None:
            from xapictl.cli.rollout import fleet_plan

            fleet_plan(ctx, desired, fleet, select, 4)
        saving = (out, text or "", source) if out is not None else None
        result = plan_only(opts, desired, save=saving, draw=drawing)
    if result.pending:  # a step to run, or work deferred for an offline host
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))


def _diagram_writer(ctx: typer.Context, path: Path | None
                    ) -> Callable[[PoolSnapshot, Plan], None] | None:
    """For ``--diagram FILE``: checked now (format, folder, Graphviz), drawn once planned."""
    from xapictl.cli.diagram import prepare

    fmt = prepare(path)
    if path is None or fmt is None:
        return None

    def draw(snap: PoolSnapshot, plan: Plan) -> None:
        from xapictl.cli.diagram import write
        from xapictl.diagram.build import plan_diagram

        write(current(ctx), path, plan_diagram(snap, plan), fmt, "--diagram")

    return draw


def apply(
    ctx: typer.Context,
    recipe: Path = PLANFILE,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before changing anything."),
    max_age: str | None = MAX_AGE,
    fleet: Path | None = FLEET, select: str | None = SELECT,
) -> None:
    """Plan, ask, apply (each step re-checked when it runs), verify, and re-plan (must be
    empty). Stops at the first failure with what was done, what failed and what did not
    run. Given a saved plan: applies exactly its steps, or refuses before the first write
    when it is stale (exit 7), altered or for another pool (exit 2). With --fleet: a
    rollout to every selected pool (as `xapictl rollout RECIPE`)."""
    with exit_codes():
        from xapictl.errors import UsageError
        from xapictl.plan.saved import is_saved_plan_text

        text, source = _read(recipe)
        if text is not None and is_saved_plan_text(text):
            if fleet is not None:
                raise UsageError(f"{source} is a saved plan, made for one pool: --fleet takes "
                                 "a recipe")
            _apply_saved(ctx, text, source, yes=yes, max_age=max_age)
            return
        if max_age is not None:
            raise UsageError(f"--max-age applies to a saved plan (`xapictl apply PLANFILE`); "
                             f"{source} is a recipe")
        desired = _load(recipe, text, source)
        converge_on(ctx, desired, fleet, select, yes=yes, ask=True,
                    recipe=None if str(recipe) == "-" else recipe)


def _apply_saved(ctx: typer.Context, text: str, source: str, *, yes: bool,
                 max_age: str | None) -> None:
    from xapictl.cli.run import converge
    from xapictl.plan.desired import load_text
    from xapictl.plan.saved import DEFAULT_MAX_AGE, load_saved, parse_age

    limit = parse_age(max_age) if max_age is not None else DEFAULT_MAX_AGE
    doc = load_saved(text, source)
    assert doc.saved is not None  # noqa: S101 - load_saved checked it
    desired = load_text(doc.saved.recipe.text, source=doc.saved.recipe.source)
    converge(current(ctx), desired, ask=True, yes=yes, saved=doc, max_age=limit,
             source=source)


__all__ = ["apply", "plan"]
