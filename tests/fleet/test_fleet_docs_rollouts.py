"""docs/rollouts.md is executable: its fleet file, recipe, selections, console sessions, JSON
summary and Python example run against simulated pools and print what the page shows."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fleet_docs_harness import DOCS, Command, assert_shown_in, block, blocks, commands
from typer.testing import CliRunner

from xapictl.fleet.fleetfile import load_fleet, parse_fleet
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer

PAGE = "rollouts.md"
FLEET = block(PAGE, "yaml", "# fleet.yaml")
RECIPE = block(PAGE, "yaml", "# vlan105.yaml")
FORMS = block(PAGE, "console", "$ xapictl -q network create")
RUN = block(PAGE, "console", "$ xapictl rollout vlan105.yaml")
SUMMARY = block(PAGE, "json", "{")
JOURNAL = block(PAGE, "console", "$ xapictl rollout list")
DOUBT = block(PAGE, "console", "$ xapictl rollout status 1   # after kill -9")
"""Checked by tests/fleet/test_fleet_truth_after_writes.py (it needs a killed process)."""
AUDIT = block(PAGE, "console", "$ xapictl rollout audit")
PYTHON = block(PAGE, "python", "from xapictl.fleet")
CHECKED = [FLEET, FORMS, RECIPE, RUN, SUMMARY, DOUBT, JOURNAL, AUDIT, PYTHON]
PASSWORD = "pw-docs-7781"


@dataclass
class DocFleet:
    """The page's fleet (par1, par2 served by simulators; ``lab`` is a profile, not served),
    in a directory holding the page's fleet.yaml and vlan105.yaml."""

    sims: dict[str, Simulator]
    replace: dict[str, str]
    dir: Path

    def vlan_pifs(self, name: str) -> int:
        sim = self.sims[name]
        with sim.state.lock:
            return sum(1 for p in sim.state.all("PIF").values() if p["VLAN"] == 105)


@pytest.fixture
def doc_fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DocFleet]:
    sims = {name: Simulator(scenario="seed", password=PASSWORD) for name in ("par1", "par2")}
    servers = {name: SimServer(sim).start() for name, sim in sims.items()}
    try:
        replace = {"https://10.1.0.1": servers["par1"].url,
                   "https://10.1.0.2": servers["par2"].url, "/home/ops": str(tmp_path)}
        text = FLEET.text
        for old, new in replace.items():
            text = text.replace(old, new)
        # The page pins a TLS fingerprint; the simulators here speak plain HTTP.
        text = re.sub(r"^\s*fingerprint:.*\n", "", text, flags=re.M)
        (tmp_path / "fleet.yaml").write_text(text)
        (tmp_path / "vlan105.yaml").write_text(RECIPE.text)
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("XAPI_PASSWORD", PASSWORD)
        monkeypatch.setenv("XAPICTL_JOURNAL", str(tmp_path / "journal.sqlite"))
        yield DocFleet(sims, replace, tmp_path)
    finally:
        for server in servers.values():
            server.stop()


def _run(cmd: Command, stdin: str | None = None) -> Any:
    from xapictl.cli import app

    assert cmd.argv[0] == "xapictl", cmd.argv
    return CliRunner().invoke(app, cmd.argv[1:], input=stdin, catch_exceptions=False)


def test_every_example_of_the_page_is_checked() -> None:
    assert [b.first_line for b in blocks(PAGE)] == [b.first_line for b in CHECKED]


def test_the_fleet_file_example_reads_as_the_page_says() -> None:
    fleet = parse_fleet(__import__("yaml").safe_load(FLEET.text), PAGE)
    assert [p.name for p in fleet.pools] == ["par1", "par2", "lab"]
    par1, par2, lab = fleet.pools
    assert par1.url == "https://10.1.0.1" and par1.fingerprint
    assert par1.tags == ("prod", "eu", "canary") and lab.profile == "lab"
    assert {str(p.credentials) for p in (par1, par2)} == {"env:XAPI_PASSWORD"}
    assert all(p.username == "root" for p in fleet.pools)


# What each expression of the page's selection table picks from the page's fleet file.
SELECTED = {
    "par1,par2": ["par1", "par2"],
    "par*": ["par1", "par2"],
    "tag:prod and not tag:canary": ["par2"],
    "(tag:eu | tag:us) & !lab": ["par1", "par2"],
    "all": ["par1", "par2", "lab"],
}


def test_the_selection_table_selects_what_it_says() -> None:
    page = (DOCS / PAGE).read_text()
    text = page[page.index("### Selecting pools"):page.index("### Fleet forms")]
    table = [m.replace("\\|", "|") for m in re.findall(r"^\| `((?:[^`])+)` \|", text, re.M)]
    assert table == list(SELECTED)
    fleet = parse_fleet(__import__("yaml").safe_load(FLEET.text), PAGE)
    for expr, names in SELECTED.items():
        assert [p.name for p in fleet.select(expr)] == names, expr


def test_running_a_rollout_prints_what_the_page_shows(doc_fleet: DocFleet,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import xapictl.cli.rollout

    monkeypatch.setattr(xapictl.cli.rollout, "_interactive", lambda: True)
    (cmd,) = commands(RUN.text, doc_fleet.replace)
    result = _run(cmd, stdin="y\n")
    assert result.exit_code == 0, result.output
    assert_shown_in(cmd.shown, result.output)
    # The VLAN is on every host of both pools (3 hosts each).
    assert [doc_fleet.vlan_pifs(n) for n in ("par1", "par2")] == [3, 3]


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__ if value is not None else "NoneType"


def test_the_json_summary_has_the_shape_the_page_shows(doc_fleet: DocFleet) -> None:
    cmd = Command(["xapictl", "rollout", "vlan105.yaml", "--fleet", "fleet.yaml",
                   "--select", "tag:prod", "--yes", "-o", "json"], [])
    result = _run(cmd)
    assert result.exit_code == 0, result.output
    page = json.loads(SUMMARY.text)
    real = json.loads(result.stdout)
    assert _shape(real) == _shape(page)
    assert real["state"] == "done" and real["counts"] == {"done": 2}


def _stopped_rollout(d: DocFleet) -> int:
    """A rollout of the page's recipe to tag:prod, interrupted once par1 (the canary) is done."""
    from xapictl.fleet.connect import PoolConnector
    from xapictl.fleet.journal import Journal
    from xapictl.fleet.rollout import RolloutEvent, RolloutOptions, RolloutRunner
    from xapictl.fleet.xapi_work import XapiPoolWork
    from xapictl.plan.desired import load_file

    stop = threading.Event()

    def on_event(e: RolloutEvent) -> None:
        if e.kind == "pool" and e.pool == "par1" and e.state == "done":
            stop.set()

    pools = load_fleet(d.dir / "fleet.yaml").select("tag:prod")
    with Journal() as journal:
        work = XapiPoolWork(load_file(d.dir / "vlan105.yaml"), PoolConnector(), journal)
        runner = RolloutRunner(journal, work, RolloutOptions(canary=1), on_event=on_event,
                               stop=stop)
        result = runner.start(pools, recipe=str(d.dir / "vlan105.yaml"),
                              fleet=str(d.dir / "fleet.yaml"), selection="tag:prod")
    return result.id


def test_journal_commands_print_what_the_page_shows(doc_fleet: DocFleet) -> None:
    assert _stopped_rollout(doc_fleet) == 1
    assert doc_fleet.vlan_pifs("par2") == 0
    cmds = commands(JOURNAL.text, doc_fleet.replace)
    assert [c.argv[:3] for c in cmds] == [["xapictl", "rollout", "list"],
                                          ["xapictl", "rollout", "status"],
                                          ["xapictl", "rollout", "resume"],
                                          ["xapictl", "rollout", "status"]]
    for cmd in cmds:
        result = _run(cmd)
        assert result.exit_code == 0, (cmd.argv, result.output)
        assert_shown_in(cmd.shown, result.output)
    assert doc_fleet.vlan_pifs("par2") == 3


def test_the_audit_export_prints_what_the_page_shows(doc_fleet: DocFleet) -> None:
    run = Command(["xapictl", "rollout", "vlan105.yaml", "--fleet", "fleet.yaml", "--select",
                   "tag:prod", "--yes", "--quiet"], [])
    assert _run(run).exit_code == 0
    for cmd in commands(AUDIT.text, doc_fleet.replace):
        result = _run(cmd)
        assert result.exit_code == 0, result.output
        assert_shown_in(cmd.shown, result.output)
        assert PASSWORD not in result.output
    csv_file = doc_fleet.dir / "rollout-1-audit.csv"
    assert csv_file.read_text().count("\n") == 5  # header + 2 writes in each of 2 pools


def test_the_python_example_runs(doc_fleet: DocFleet, capsys: pytest.CaptureFixture[str]
                                 ) -> None:
    exec(compile(PYTHON.text, f"{PAGE}:python", "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out.split()[0] == "done"
    assert [doc_fleet.vlan_pifs(n) for n in ("par1", "par2")] == [3, 3]


def test_the_fleet_forms_table_names_commands_and_options_that_exist() -> None:
    """Each row's commands exist, and the fleet form takes every option the page gives it."""
    from xapictl.cli import app

    page = (DOCS / PAGE).read_text()
    table = page[page.index("### Fleet forms"):page.index("## Running a rollout")]
    rows = re.findall(r"^\| (.+) \| `(xapictl [^`]+)` \|$", table, re.M)
    assert len(rows) == 30
    for singles, fleet_form in rows:
        for command in [*re.findall(r"`(xapictl [^`]+)`", singles), fleet_form]:
            words = command.split()[1:]
            path = [w for w in words if re.fullmatch(r"[a-z][a-z-]*", w)]
            if path == ["rollout"]:  # 'rollout RECIPE' is 'rollout run RECIPE'
                path = ["rollout", "run"]
            result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
            assert result.exit_code == 0, (command, result.output)
            for option in (w for w in words if w.startswith("--")):
                assert option in result.output, (command, option)


def _pool_commands() -> list[str]:
    """Every command of the real app that acts on pools (not the simulator, plain Xen hosts,
    the rollout journal, exports already on disk, `pool unlock`, or the output schemas)."""
    import typer.main

    from xapictl.cli import app

    out: list[str] = []

    def walk(cmd: Any, path: list[str]) -> None:
        if getattr(cmd, "commands", None):  # a group with subcommands (drift has none)
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
        elif path[0] not in ("sim", "local", "rollout", "schema", "ansible") and path not in (
                ["inventory", "diff"],
                # reads NetBox only: no pool to select
                ["netbox", "recipe"],
                # one pool's write lease, removed by hand: never fleet-wide on purpose
                ["pool", "unlock"]):
            out.append(" ".join(path))
    walk(typer.main.get_command(app), [])
    return out


def test_every_pool_command_takes_a_fleet_and_has_a_row_in_the_fleet_forms_table() -> None:
    from xapictl.cli import app

    page = (DOCS / PAGE).read_text()
    table = page[page.index("### Fleet forms"):page.index("## Running a rollout")]
    singles = {" ".join(w for w in c.split()[1:] if re.fullmatch(r"[a-z][a-z-]*", w))
               for c in re.findall(r"^\| `(xapictl [^`]+)` \|", table, re.M)}
    commands_ = _pool_commands()
    assert len(commands_) >= 17
    assert set(commands_) == singles
    for command in commands_:
        result = CliRunner().invoke(app, [*command.split(), "--help"], terminal_width=200)
        assert "--fleet" in result.output and "--select" in result.output, command


def test_the_fleet_forms_example_prints_what_the_page_shows(doc_fleet: DocFleet) -> None:
    create, vlans, journal = commands(FORMS.text, doc_fleet.replace)
    result = _run(create)
    assert (result.exit_code, result.stdout) == (0, ""), result.output
    assert [doc_fleet.vlan_pifs(n) for n in ("par1", "par2")] == [3, 3]
    for cmd in (vlans, journal):
        result = _run(cmd)
        assert result.exit_code == 0, result.output
        assert_shown_in(cmd.shown, result.stdout)
    # Run again: nothing left to do, nothing written.
    assert _run(create).exit_code == 0
    audit = _run(Command(["xapictl", "rollout", "audit", "2"], []))
    assert audit.exit_code == 0 and json.loads(audit.stdout) == []
