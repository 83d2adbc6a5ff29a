"""docs/cli.md and the real typer app name the same commands and options: every command has
a row naming it with each of its long options, the global options table names every root
option, and the page names no command or option the app does not have."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperOption

from xapictl.cli import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
# The page says once, under the table, that every pool command also takes these.
FLEET_OPTIONS = {"--fleet", "--select"}
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def _commands() -> tuple[set[str], dict[str, set[str]]]:
    """The root's options, and every command path (a leaf, or a group that runs by itself,
    like ``drift``) with its options."""
    found: dict[str, set[str]] = {}

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        subs = getattr(cmd, "commands", None) or {}
        options = {o for p in cmd.params if isinstance(p, TyperOption) and not p.hidden
                   for o in (*p.opts, *p.secondary_opts)}
        if path and (not subs or options):
            found[" ".join(path)] = options
        for name, sub in subs.items():
            if not getattr(sub, "hidden", False):
                walk(sub, (*path, name))

    root = typer.main.get_command(app)
    walk(root, ())
    root_options = {o for p in root.params if isinstance(p, TyperOption)
                    for o in (*p.opts, *p.secondary_opts)}
    return root_options, found


ROOT_OPTIONS, COMMANDS = _commands()


def _long(options: set[str]) -> set[str]:
    return {o for o in options if o.startswith("--")}


def _section_rows(title: str) -> list[list[str]]:
    """The table rows under ``## title`` (up to the next ``## ``), as cells."""
    text = DOC.read_text(encoding="utf-8")
    body = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    return [re.split(r"(?<!\\)\|", line.strip().strip("|"))
            for line in body.splitlines()
            if line.startswith("|") and not re.match(r"^\|[-| ]+\|$", line)][1:]


def _spans(text: str) -> list[str]:
    return [s.replace("\\|", "|") for s in re.findall(r"`([^`]+)`", text)]


def _options(text: str) -> set[str]:
    return {o for span in _spans(text) for o in OPTION.findall(span)}


def _command_of(span: str) -> str | None:
    """The longest run of leading words of ``span`` that is a command."""
    words = span.split()
    for n in range(len(words), 0, -1):
        if " ".join(words[:n]) in COMMANDS:
            return " ".join(words[:n])
    return None


def _command_rows() -> list[tuple[list[str], set[str]]]:
    rows = []
    for cells in _section_rows("Commands"):
        named = [c for c in map(_command_of, _spans(cells[0])) if c is not None]
        rows.append((named, _options("|".join(cells))))
    return rows


def test_the_app_walk_finds_the_commands() -> None:
    """Guards the walk itself: a broken walk would make the tests below vacuous."""
    assert {"plan", "network set-mtu", "vif attach", "sim serve", "local apply",
            "rollout audit", "inventory watch", "drift"} <= set(COMMANDS)
    assert {"--fleet", "--select", "--yes"} <= COMMANDS["network delete"]
    assert {"--url", "--output", "--install-completion"} <= ROOT_OPTIONS


def test_global_options_table_names_every_root_option_and_nothing_else() -> None:
    named = set().union(*(_options(cells[0]) for cells in _section_rows(
        "Global options (before the command; `-o` and `--no-headers` anywhere)")))
    assert _long(ROOT_OPTIONS) - named == set(), "root options missing from the table"
    assert named - ROOT_OPTIONS == set(), "options in the table that the root does not have"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_a_row_naming_each_of_its_options(command: str) -> None:
    rows = [options for named, options in _command_rows() if command in named]
    assert rows, f"docs/cli.md has no row for `{command}`"
    missing = _long(COMMANDS[command]) - FLEET_OPTIONS - set().union(*rows)
    assert missing == set(), f"`{command}`: options not in docs/cli.md"


def test_every_command_row_names_only_real_commands_and_their_options() -> None:
    for cells in _section_rows("Commands"):
        first = _spans(cells[0])
        commands = [_command_of(s) for s in first if not s.startswith("-")]
        assert None not in commands, f"not a command of the app: {first}"
        allowed = set().union(*(COMMANDS[c] for c in commands if c is not None))
        extra = _options("|".join(cells)) - allowed
        assert extra == set(), f"{first}: options the command does not have"


def test_the_page_names_no_option_the_app_does_not_have() -> None:
    text = re.sub(r"```.*?```", "", DOC.read_text(encoding="utf-8"), flags=re.S)
    help_options = typer.main.get_command(app).context_settings["help_option_names"]
    every = ROOT_OPTIONS.union(*COMMANDS.values(), help_options)  # -h/--help: every command
    assert _options(text) - every == set()
