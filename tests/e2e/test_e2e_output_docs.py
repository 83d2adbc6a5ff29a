"""docs/output.md: every ``$ xapictl …`` example runs through the CLI against the ``seed``
simulated pool and prints what the page shows (``…`` stands for any text), and the page's table
of kinds names every document kind the CLI has."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from xapictl.cli import app
from xapictl.cli.documents import DOCUMENTS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "output.md"


def _examples() -> list[tuple[list[str], list[str]]]:
    """(argv after ``xapictl``, the lines the page shows) for every console example."""
    out: list[tuple[list[str], list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, *shown = chunk.rstrip("\n").split("\n")
            words = shlex.split(command)
            assert words[0] == "xapictl", command
            out.append((words[1:], shown))
    return out


def _pattern(shown: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(p) for p in shown.rstrip().split("…")) + r"\s*")


def _assert_shown(shown: list[str], actual: str) -> None:
    lines = actual.splitlines()
    at = 0
    for want in shown:
        if want.strip() in ("", "…"):
            continue
        pattern = _pattern(want)
        while at < len(lines) and not pattern.fullmatch(lines[at]):
            at += 1
        assert at < len(lines), f"the page shows {want!r}; the command printed:\n{actual}"
        at += 1


def test_every_example_prints_what_the_page_shows(sim_server: Any, tmp_path: Path) -> None:
    env = {"XAPICTL_URL": sim_server.url, "XAPICTL_PASSWORD": "xapictl",
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    examples = _examples()
    assert len(examples) >= 5, "the page's examples were found"
    for argv, shown in examples:
        result = CliRunner().invoke(app, argv, env=env)
        assert result.exception is None or isinstance(result.exception, SystemExit), argv
        _assert_shown(shown, result.stdout + result.stderr)


def test_the_table_of_kinds_names_every_document_kind() -> None:
    text = PAGE.read_text(encoding="utf-8")
    table = text.split("| kind | printed by |", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"^\| (.*?) \|", table, re.M))
    kinds = {k for cell in named for k in re.findall(r"`(\w+)`", cell)}
    assert kinds == set(DOCUMENTS)
