"""The CLI builds only what runs (issue 12): ``main`` builds the root entry the command line
names and no other (typer builds every parameter of every command it is given), and what any
command line shows is exactly what the whole app shows. Counts of builds, never times."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from xapictl import cli
from xapictl.cli import app, build_app


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the commands typer builds, in order."""
    names: list[str] = []
    real = typer.main.get_command_from_info

    def counting(command_info: Any, **kwargs: Any) -> Any:
        command = real(command_info, **kwargs)
        names.append(command.name)
        return command

    monkeypatch.setattr(typer.main, "get_command_from_info", counting)
    yield names


def _main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["xapictl", *args])
    with pytest.raises(SystemExit) as ended:
        cli.main()
    return int(ended.value.code or 0)


def _commands(command: Any) -> int:
    subs = getattr(command, "commands", None)
    return 1 if subs is None else sum(_commands(sub) for sub in subs.values())


def test_one_command_builds_its_group_alone(monkeypatch: pytest.MonkeyPatch,
                                            built: list[str]) -> None:
    root = typer.main.get_command(app)
    whole = _commands(root)
    network = root.commands["network"]  # type: ignore[attr-defined]
    built.clear()
    assert _main(monkeypatch, "network", "create", "--help") == 0
    assert sorted(built) == sorted(network.commands)  # create, delete, list, set-mtu …
    built.clear()
    assert _main(monkeypatch, "-o", "json", "schema", "--help") == 0
    assert built == ["schema"]
    built.clear()
    assert _main(monkeypatch, "--help") == 0  # the root's help lists every entry
    assert len(built) == whole > 30


@pytest.mark.parametrize(("args", "entry"), [
    (["network", "create"], "network"), (["-o", "json", "vlan", "list"], "vlan"),
    (["--url", "plan", "plan", "x.yaml"], "plan"), (["--pool=p", "pool", "show"], "pool"),
    (["--insecure", "-q", "rollout", "r.yaml"], "rollout"),
    (["--help", "network"], None), (["network"], "network"), ([], None), (["netwrk"], None),
    (["--version"], None), (["--", "network"], None), (["--show-completion"], None),
])
def test_which_entry_a_command_line_builds(args: list[str], entry: str | None) -> None:
    assert cli._invoked(args) == entry


def test_shell_completion_builds_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_XAPICTL_COMPLETE", "bash_complete")
    assert cli._invoked(["network", "create"]) is None


def _lines(command: Any, path: list[str]) -> Iterator[list[str]]:
    yield [*path, "--help"]
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _lines(sub, [*path, name])


def test_every_help_and_refusal_is_the_whole_app_s(tmp_path: Any) -> None:
    lines = list(_lines(typer.main.get_command(app), []))
    assert len(lines) > 40, "the walk found the commands"
    lines += [["netwrk"], ["network"], ["network", "crate"], ["-o", "json", "network", "create",
                                                            "--bogus"], ["vlan", "--bogus"],
              ["pool"], ["--bogus", "network", "list"]]
    runner = CliRunner()
    env = {"HOME": str(tmp_path), "XAPICTL_EMBEDDED": "never"}
    for args in lines:
        whole = runner.invoke(app, args, env=env)
        lazy = runner.invoke(build_app(cli._invoked(args)), args, env=env)
        assert (lazy.exit_code, lazy.stdout, lazy.stderr) == (
            whole.exit_code, whole.stdout, whole.stderr), args


def test_building_twice_adds_nothing_twice() -> None:
    first = typer.main.get_command(build_app("pool"))
    again = typer.main.get_command(build_app("pool"))
    pool_first = first.commands["pool"]  # type: ignore[attr-defined]
    pool_again = again.commands["pool"]  # type: ignore[attr-defined]
    assert list(pool_first.commands) == list(pool_again.commands)
    assert "diagram" in pool_again.commands
    assert isinstance(app, typer.Typer)
