"""``xapictl plan FILE`` and ``xapictl apply FILE [--yes]``."""

from __future__ import annotations

from pathlib import Path

import typer

from xapictl.cli.exit_codes import ExitCode
from xapictl.cli.options import current
from xapictl.cli.run import converge, exit_codes, plan_only

RECIPE = typer.Argument(..., help="A recipe file (YAML): see docs/recipes.md.")


def plan(ctx: typer.Context, recipe: Path = RECIPE) -> None:
    """Print every step and no-op with its reason. Writes nothing. Exit 3 when changes are
    pending, 0 when the pool already matches."""
    opts = current(ctx)
    with exit_codes():
        from xapictl.plan.desired import load_file

        desired = load_file(recipe)
        result = plan_only(opts, desired)
    if not result.is_empty:
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))


def apply(
    ctx: typer.Context,
    recipe: Path = RECIPE,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before changing anything."),
) -> None:
    """Plan, ask, apply (each step re-checked when it runs), verify, and re-plan (must be
    empty). Stops at the first failure with what was done, what failed and what did not
    run."""
    opts = current(ctx)
    with exit_codes():
        from xapictl.plan.desired import load_file

        desired = load_file(recipe)
        converge(opts, desired, ask=True, yes=yes)


__all__ = ["apply", "plan"]
