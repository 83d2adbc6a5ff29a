"""``xapictl plan FILE`` and ``xapictl apply FILE [--yes]``."""

from __future__ import annotations

from pathlib import Path

import typer

from xapictl.cli.exit_codes import ExitCode
from xapictl.cli.fleet_forms import FLEET, SELECT, converge_on
from xapictl.cli.options import current
from xapictl.cli.run import exit_codes, plan_only

RECIPE = typer.Argument(..., help="A recipe file (YAML): see docs/recipes.md.")


def plan(ctx: typer.Context, recipe: Path = RECIPE, fleet: Path | None = FLEET,
         select: str | None = SELECT) -> None:
    """Print every step and no-op with its reason. Writes nothing. Exit 3 when changes are
    pending (work deferred for an offline host included), 0 when the pool already matches.
    With --fleet: every selected pool's plan (as
    `xapictl rollout RECIPE --plan-only`; exit 4 when a pool cannot be planned)."""
    opts = current(ctx)
    with exit_codes():
        from xapictl.plan.desired import load_file

        desired = load_file(recipe)
        if fleet is not None:
            from xapictl.cli.rollout import fleet_plan

            fleet_plan(ctx, desired, fleet, select, 4)
        result = plan_only(opts, desired)
    if result.pending:  # a step to run, or work deferred for an offline host
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))


def apply(
    ctx: typer.Context,
    recipe: Path = RECIPE,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before changing anything."),
    fleet: Path | None = FLEET, select: str | None = SELECT,
) -> None:
    """Plan, ask, apply (each step re-checked when it runs), verify, and re-plan (must be
    empty). Stops at the first failure with what was done, what failed and what did not
    run. With --fleet: a rollout to every selected pool (as `xapictl rollout RECIPE`)."""
    with exit_codes():
        from xapictl.plan.desired import load_file

        desired = load_file(recipe)
        converge_on(ctx, desired, fleet, select, yes=yes, ask=True, recipe=recipe)


__all__ = ["apply", "plan"]
