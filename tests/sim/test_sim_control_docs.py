"""docs/simulator.md stays true: its coverage table is the engine's, and every example on the
page runs and prints what the page shows — the included Python files are executed, and the
console blocks are typed into a shell against a real ``xapictl sim serve`` on loopback."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from xapictl.sim.control import COVERAGE_BEGIN as BEGIN
from xapictl.sim.control import COVERAGE_END as END
from xapictl.sim.control import coverage_table

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "simulator.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)
XAPICTL = [sys.executable, "-c", "from xapictl.cli import main; main()"]


def blocks(lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(DOC.read_text()) if kind == lang]


def console_sessions() -> list[tuple[str, list[str]]]:
    """Every ``$ command`` of the console blocks with the lines the page shows after it."""
    out = []
    for body in blocks("console"):
        for chunk in re.split(r"^\$ ", body, flags=re.M)[1:]:
            command, _, shown = chunk.partition("\n")
            out.append((command, shown.splitlines()))
    return out


def printed_comment(path: Path) -> list[str]:
    """The trailing ``# …`` lines of an example: what it prints."""
    lines = path.read_text().rstrip().splitlines()
    shown: list[str] = []
    while lines and lines[-1].startswith("# "):
        shown.insert(0, lines.pop().removeprefix("# "))
    return shown


def test_the_coverage_table_in_the_docs_is_the_generated_one():
    text = DOC.read_text()
    documented = text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip()
    assert documented == coverage_table().strip(), (
        "docs/simulator.md is stale; regenerate its table with: python -c "
        "'from xapictl.sim.control import update_coverage_doc; update_coverage_doc()'")


def test_every_example_on_the_page_is_one_this_file_runs():
    python = blocks("python")
    assert python == ['--8<-- "docs/examples/sim_server.py"\n',
                      '--8<-- "docs/examples/sim_engine.py"\n']
    assert [" ".join(command.split()[:3]) for command, _ in console_sessions()] == [
        "xapictl sim serve", "curl -s -X", "xapictl sim control", "xapictl sim control"]
    assert set(FENCE.findall(DOC.read_text())) <= {("python", b) for b in python} | {
        ("console", b) for b in blocks("console")}


@pytest.mark.parametrize("name", ["sim_server", "sim_engine"])
def test_the_included_python_example_prints_what_its_comment_says(name, capsys):
    path = REPO / "docs" / "examples" / f"{name}.py"
    runpy.run_path(str(path), run_name="__main__")
    printed = capsys.readouterr().out.splitlines()
    assert printed == printed_comment(path) and printed


def _normalise(line: str, port: str) -> str:
    line = line.replace(f":{port}", ":40217")
    return re.sub(r"OpaqueRef:[0-9a-f-]{36}", "OpaqueRef:…", line)


@pytest.fixture
def served_as_documented(tmp_path: Path) -> Iterator[tuple[str, list[str], list[str]]]:
    """The page's ``xapictl sim serve`` running: (master URL, lines it printed, page lines)."""
    command, shown = console_sessions()[0]
    words = command.split()
    process = subprocess.Popen([*XAPICTL, *words[1:]], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    printed = [process.stdout.readline().rstrip("\n") for _ in shown]
    try:
        yield printed[0], printed, shown
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 0, rest
        assert "Traceback" not in rest


def test_the_console_examples_print_what_the_page_shows(served_as_documented):
    url, printed, shown = served_as_documented
    port = url.rsplit(":", 1)[1]
    assert [_normalise(line, port) for line in printed] == shown
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    for command, expected in console_sessions()[1:]:
        done = subprocess.run(["bash", "-c", command],
                              env={**os.environ, "URL": url, "PATH": path},
                              capture_output=True, text=True, timeout=60, check=True)
        assert done.stdout.splitlines() == expected, command
