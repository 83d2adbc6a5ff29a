"""``-h`` is ``--help`` on every command: the same text, exit 0, nothing run."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from xapictl.cli import app


def _paths() -> list[tuple[str, ...]]:
    """The root, every group and every command (hidden ones too)."""
    found: list[tuple[str, ...]] = []

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


PATHS = _paths()


def test_the_walk_reaches_every_group() -> None:
    assert {p[0] for p in PATHS if p} >= {"network", "vif", "plan", "apply", "sim", "local",
                                           "rollout", "inventory", "drift", "schema"}
    assert len(PATHS) > 30


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "xapictl")
def test_dash_h_prints_the_same_help_as_dash_dash_help(path: tuple[str, ...]) -> None:
    # typer's runner (click is typer's own, not a dependency of ours) takes the Typer app
    runner = CliRunner()
    long = runner.invoke(app, [*path, "--help"], prog_name="xapictl")
    short = runner.invoke(app, [*path, "-h"], prog_name="xapictl")
    assert long.exit_code == 0, long.output
    assert (short.exit_code, short.output) == (0, long.output)
    assert "-h, --help" in long.output  # the help says so too
