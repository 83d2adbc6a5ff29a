"""docs/contributing.md stays true: its layer table is the one the layer test enforces, and
every function its walk-through of ``network create --vlan 105`` names runs in that command."""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import threading
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import pytest
from test_project_layers import ALLOWED, THIRD_PARTY

DOC = Path(__file__).resolve().parents[2] / "docs" / "contributing.md"
COMMAND = ["network", "create", "--name", "VLAN 105", "--vlan", "105", "--device", "eth1"]


def _section(title: str) -> str:
    return DOC.read_text(encoding="utf-8").split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _cell_set(cell: str) -> set[str]:
    text = cell.strip()
    return set() if text in ("—", "") else {w.strip() for w in text.split(",")}


def _expected_rows() -> dict[str, tuple[set[str], set[str]]]:
    """package -> (xapictl packages it may import, third-party modules), from the layer test."""
    rows = {layer: (set(allowed), THIRD_PARTY[layer]) for layer, allowed in ALLOWED.items()}
    rows["cli"] = ({"everything"}, THIRD_PARTY["cli"])
    return rows


def test_the_layer_table_is_the_one_the_layer_test_enforces() -> None:
    found: dict[str, tuple[set[str], set[str]]] = {}
    for line in _section("The layers").splitlines():
        match = re.match(r"\| `xapictl/(\w+)/` \|[^|]*\|([^|]*)\|([^|]*)\|$", line)
        if match:
            found[match[1]] = (_cell_set(match[2]), _cell_set(match[3]))
    expected = _expected_rows()
    wrong = {p: {"doc": found.get(p), "test_project_layers.py": expected[p]}
             for p in expected if found.get(p) != expected[p]}
    assert wrong == {}, ("docs/contributing.md's layer table differs from ALLOWED / "
                         f"THIRD_PARTY (the enforced ones): {wrong}")
    assert set(found) == set(expected), sorted(set(found) ^ set(expected))


def test_the_walkthrough_is_of_the_command_the_section_names() -> None:
    assert "`xapictl network create --name \"VLAN 105\" --vlan 105 --device eth1`" in \
        _section("One command, end to end")


def _named() -> list[str]:
    return sorted(set(re.findall(r"`(xapictl(?:\.\w+)+)`", _section("One command, end to end"))))


def _resolve(dotted: str) -> tuple[ModuleType, list[str]]:
    """The longest importable module prefix of ``dotted``, and the attribute path after it."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        return module, parts[cut:]
    raise AssertionError(f"{dotted}: no such module")


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    """(module, qualified name) of every xapictl function that ran in the command, in any
    thread, on the embedded simulated pool of a fresh home."""
    home = tmp_path_factory.mktemp("walkthrough")
    seen: set[tuple[str, str]] = set()

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call":
            name = frame.f_globals.get("__name__", "")
            if name.startswith("xapictl"):
                seen.add((name, frame.f_code.co_qualname))

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        for var in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            mp.setenv(var, str(home / var.lower()))
        mp.setattr(sys, "argv", ["xapictl", *COMMAND])
        from xapictl.cli import main

        threading.setprofile(profile)
        sys.setprofile(profile)
        try:
            with pytest.raises(SystemExit) as done:
                main()
        finally:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]
    assert done.value.code in (0, None)
    assert ("xapictl.plan.steps.vlan", "CreatePoolVLAN.execute") in seen  # it did write
    return seen


@pytest.mark.parametrize("dotted", _named())
def test_each_function_the_walkthrough_names_runs_in_the_command(
        dotted: str, ran: set[tuple[str, str]]) -> None:
    module, path = _resolve(dotted)
    target: Any = module
    for attr in path:
        target = getattr(target, attr, None)
        assert target is not None, f"{dotted}: {module.__name__} has no {'.'.join(path)}"
    code = getattr(inspect.unwrap(target), "__code__", None)  # through @contextmanager
    if code is not None:  # a function or method: it ran
        assert (inspect.unwrap(target).__module__, code.co_qualname) in ran, f"{dotted} did not run"
    elif isinstance(target, type):  # a class: one of its methods ran
        assert any(m == target.__module__ and q.startswith(f"{target.__qualname__}.")
                   for m, q in ran), f"no method of {dotted} ran"
    else:  # a module or package: one of its functions ran
        prefix = module.__name__
        assert any(m == prefix or m.startswith(f"{prefix}.") for m, _ in ran), \
            f"nothing in {dotted} ran"


def _inner_loop_commands() -> list[list[str]]:
    [block] = re.findall(r"```sh\n(.+?)```", _section("The fast inner loop"), flags=re.S)
    return [line.split("#", 1)[0].split() for line in block.splitlines() if line.strip()]


# Every command in one interpreter: the imports and the collection of tests/plan are paid once.
_COLLECT_EACH = """
import pytest
for argv in {commands!r}:
    print("::command", " ".join(argv), flush=True)
    code = pytest.main([*argv[1:], "--collect-only", "-q", "-o", "cache_dir={cache}"])
    print("::exit", int(code), flush=True)
"""


def test_each_inner_loop_command_collects_tests(tmp_path: Path) -> None:
    """Each command is a pytest command line whose options and paths pytest accepts, and
    that collects tests."""
    import subprocess

    commands = _inner_loop_commands()
    assert commands and all(argv[0] == "pytest" for argv in commands)
    done = subprocess.run([sys.executable, "-c", _COLLECT_EACH.format(
        commands=commands, cache=tmp_path)], cwd=DOC.parents[1], capture_output=True,
        text=True, timeout=600, check=False)
    runs = done.stdout.split("::command ")[1:]
    assert len(runs) == len(commands), done.stdout[-2000:] + done.stderr[-2000:]
    for argv, out in zip(commands, runs, strict=True):
        assert out.rstrip().endswith("::exit 0"), out[-2000:]
        assert re.search(r"^tests/\S+: [1-9]\d*$", out, flags=re.M), (argv, out[-2000:])


def test_the_inner_loop_table_names_test_paths_that_exist() -> None:
    table = _section("The fast inner loop").split("| you changed | run |", 1)[1]
    named = set(re.findall(r"\btests/[\w/.]*\w", table))
    missing = sorted(p for p in named if not (DOC.parents[1] / p).exists())
    assert named and missing == []
