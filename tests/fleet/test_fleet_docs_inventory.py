"""docs/inventory.md is executable: its export, diff, watch and drift sessions run against
simulated pools and print what the page shows; its document skeleton validates against the
published schema; its tables are the code's; its CMDB example excerpt is the file's own."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fleet_docs_harness import DOCS, ROOT, Command, assert_shown_in, block, blocks, commands
from typer.testing import CliRunner

import xapictl
from xapictl.inventory import DriftKind, diff, export_snapshot
from xapictl.inventory.fields import OBJECT_FIELDS
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer

PAGE = "inventory.md"
EXPORT = block(PAGE, "console", "$ xapictl --url https://pool.example inventory export")
DOCUMENT = block(PAGE, "json", "{")
DIFF = block(PAGE, "console", "$ xapictl inventory diff")
WATCH = block(PAGE, "console", "$ xapictl inventory watch")
DRIFT = block(PAGE, "console", "$ xapictl drift")
DRIFT_RECIPE = block(PAGE, "console", "$ xapictl --url https://pool.example drift --recipe")
SYNC = block(PAGE, "python", "def sync(")
RUN_SYNC = block(PAGE, "console", "$ xapictl sim serve")
CHECKED = [EXPORT, DOCUMENT, DIFF, WATCH, DRIFT, DRIFT_RECIPE, SYNC, RUN_SYNC]
SCHEMA = json.loads((DOCS / "inventory.schema.json").read_text())
PASSWORD = "pw-inv-docs-5517"


@dataclass
class DocPools:
    """par1 and nyc1 (tag prod) served by simulators, a fleet.yaml naming them, cwd there."""

    sims: dict[str, Simulator]
    urls: dict[str, str]
    dir: Path

    @property
    def replace(self) -> dict[str, str]:
        return {"https://pool.example": self.urls["par1"]}

    def connect(self, name: str) -> Any:
        return xapictl.connect(self.urls[name], password=PASSWORD)


@pytest.fixture
def pools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DocPools]:
    sims = {name: Simulator(scenario="seed", password=PASSWORD) for name in ("par1", "nyc1")}
    servers = {name: SimServer(sim).start() for name, sim in sims.items()}
    try:
        (tmp_path / "fleet.yaml").write_text(
            "version: 1\ndefaults:\n  credentials: env:XAPI_PASSWORD\npools:\n" + "".join(
                f"  - {{name: {n}, url: '{s.url}', tags: [prod]}}\n"
                for n, s in servers.items()))
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("XAPI_PASSWORD", PASSWORD)
        monkeypatch.setenv("XAPICTL_PASSWORD", PASSWORD)  # for the global --url
        yield DocPools(sims, {n: s.url for n, s in servers.items()}, tmp_path)
    finally:
        for server in servers.values():
            server.stop()


def _run(cmd: Command) -> Any:
    from xapictl.cli import app

    assert cmd.argv[0] == "xapictl", cmd.argv
    return CliRunner().invoke(app, cmd.argv[1:], catch_exceptions=False)


def _session(cmds: list[Command]) -> None:
    """Run a console block: each command's output as shown, ``echo $?`` its exit code."""
    code = None
    for cmd in cmds:
        if cmd.argv == ["echo", "$?"]:
            assert [str(code)] == cmd.shown
            continue
        result = _run(cmd)
        code = result.exit_code
        assert_shown_in(cmd.shown, result.output)


def test_every_example_of_the_page_is_checked() -> None:
    assert [b.first_line for b in blocks(PAGE)] == [b.first_line for b in CHECKED]


def test_the_export_commands_write_what_the_page_says(pools: DocPools) -> None:
    cmds = commands(EXPORT.text, pools.replace)
    assert len(cmds) == 3
    for cmd in cmds:
        result = _run(cmd)
        assert result.exit_code == 0, (cmd.argv, result.output)
    single = json.loads((pools.dir / "inv.json").read_text())
    jsonschema.validate(single, SCHEMA)
    assert [p["source"] for p in single["pools"]] == [pools.urls["par1"]]
    lines = [json.loads(line) for line in (pools.dir / "inv.ndjson").read_text().splitlines()]
    assert lines[0]["object"] == "inventory" and len(lines[0]["tokens"]) == 2
    for line in lines[1:]:  # each object line validates against its $defs entry
        kind = line.pop("object")
        jsonschema.validate(line, {**SCHEMA["$defs"][kind], "$defs": SCHEMA["$defs"]})
    assert sorted(p.name for p in (pools.dir / "inv").iterdir()) == sorted(
        f"{t}.csv" for t in OBJECT_FIELDS)


def test_the_document_skeleton_is_a_valid_empty_export() -> None:
    doc = json.loads(DOCUMENT.text.replace("[...]", "[]"))
    jsonschema.validate(doc, SCHEMA)
    assert list(doc) == list(SCHEMA["properties"])


def test_the_field_table_lists_every_field_of_every_type() -> None:
    page = (DOCS / PAGE).read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| (.+) \|$", page, re.M))
    assert [t for t in rows if t in OBJECT_FIELDS] == list(OBJECT_FIELDS)
    for object_type, fields in OBJECT_FIELDS.items():
        words = set(re.findall(r"\w+", rows[object_type]))
        missing = [f.name for f in fields if f.name not in words]
        assert not missing, f"{object_type}: the page does not list {missing}"


def test_the_drift_table_lists_every_kind() -> None:
    page = (DOCS / PAGE).read_text()
    section = page[page.index("## Drift between hosts"):]
    assert re.findall(r"^\| `([a-z-]+)` \|", section, re.M) == [str(k) for k in DriftKind]


def _eth_pif(sim: Simulator, device: str, host_index: int) -> str:
    with sim.state.lock:
        host = sorted(sim.state.all("host").items(), key=lambda kv: kv[1]["name_label"])[
            host_index][0]
        return next(r for r, p in sim.state.all("PIF").items()
                    if p["host"] == host and p["device"] == device and p["VLAN"] == -1)


def _change_par1(pools: DocPools) -> None:
    """What happened between Monday and Tuesday: a VLAN 105 network, a PIF's MTU raised,
    a VIF removed."""
    sim = pools.sims["par1"]
    with pools.connect("par1") as conn:
        net = conn.call("network.create", {"name_label": "VLAN 105", "name_description": "",
                                           "MTU": 1500, "other_config": {}})
        conn.call("pool.create_VLAN_from_PIF", _eth_pif(sim, "eth1", 0), net, 105)
    with sim.state.lock:
        sim.state.set_field("PIF", _eth_pif(sim, "eth2", 2), "MTU", 9000)
        vm = next(r for r, v in sim.state.all("VM").items() if v["name_label"] == "build-01")
        vif = next(r for r, v in sim.state.all("VIF").items() if v["VM"] == vm)
        sim.state.destroy("VIF", vif)


def test_diff_of_two_exports_prints_what_the_page_shows(pools: DocPools) -> None:
    for name in ("monday.json", "tuesday.json"):
        if name == "tuesday.json":
            _change_par1(pools)
        result = _run(Command(["xapictl", "--url", pools.urls["par1"], "inventory", "export",
                               "-O", name], []))
        assert result.exit_code == 0, result.output
    _session(commands(DIFF.text, pools.replace))


def _pattern(shown: str) -> re.Pattern[str]:
    """A shown NDJSON line as a pattern: ``"…"`` any string, ``{…}`` any record."""
    parts = []
    for piece in re.split(r'("…"|\{…[^}]*\})', shown):
        if piece == '"…"':
            parts.append('"[^"]*"')
        elif piece.startswith("{…"):
            parts.append(r"\{.*?\}")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts))


def test_the_change_stream_prints_what_the_page_shows(pools: DocPools) -> None:
    assert _run(Command(["xapictl", "inventory", "export", "--fleet", "fleet.yaml",
                         "-O", "inv.json"], [])).exit_code == 0
    (cmd,) = commands(WATCH.text)
    # The page's watch runs until Ctrl-C; here it stops by itself once the changes are in.
    cmd = Command([*cmd.argv, "--max-seconds", "6", "--timeout", "1"], cmd.shown)
    outcome: dict[str, Any] = {}
    watcher = threading.Thread(target=lambda: outcome.setdefault("r", _run(cmd)))
    watcher.start()
    try:
        _change_par1(pools)
    finally:
        watcher.join(60)
    result = outcome["r"]
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for shown in cmd.shown:
        assert any(_pattern(shown).fullmatch(line) for line in lines), (shown, lines)
    state = json.loads((pools.dir / "cmdb.checkpoint").read_text())
    assert set(state["tokens"]) == {p["uuid"] for p in state["inventory"]["pools"]}


def test_drift_prints_what_the_page_shows(pools: DocPools) -> None:
    sim = pools.sims["nyc1"]
    with pools.connect("nyc1") as conn:  # VLAN 105 on two hosts of three
        net = conn.call("network.create", {"name_label": "VLAN 105", "name_description": "",
                                           "MTU": 1500, "other_config": {}})
        for host in (0, 1):
            conn.call("VLAN.create", _eth_pif(sim, "eth1", host), 105, net)
    with sim.state.lock:  # one host's storage NIC at another MTU
        eth2 = _eth_pif(sim, "eth2", 2)
        sim.state.set_field("PIF", eth2, "MTU", 9000)
        sim.state.set_field("network", sim.state.get("PIF", eth2)["network"], "name_label",
                            "storage")
    cmds = commands(DRIFT.text)
    drift_cmd, echo = cmds
    result = _run(drift_cmd)
    assert [str(result.exit_code)] == echo.shown
    assert sorted(result.stdout.splitlines()) == sorted(drift_cmd.shown)


def test_drift_against_a_recipe_prints_what_the_page_shows(pools: DocPools) -> None:
    """par1 gets recipes/host-networking.yaml, then xcp-host-02's storage PIF is switched to
    IPv6 DHCP by hand (as ``xe pif-reconfigure-ipv6`` would): one interface-mismatch."""
    (pools.dir / "recipes").mkdir()
    shutil.copy(ROOT / "recipes" / "host-networking.yaml", pools.dir / "recipes")
    url = pools.urls["par1"]
    applied = _run(Command(["xapictl", "--url", url, "apply",
                            "recipes/host-networking.yaml", "--yes"], []))
    assert applied.exit_code == 0, applied.output
    clean = _run(Command(["xapictl", "--url", url, "drift", "--recipe",
                          "recipes/host-networking.yaml"], []))
    assert clean.exit_code == 0, clean.output
    with pools.connect("par1") as conn:
        conn.call("PIF.reconfigure_ipv6", _eth_pif(pools.sims["par1"], "eth2", 1), "DHCP", "",
                  "", "")
    _session(commands(DRIFT_RECIPE.text, pools.replace))


def _example() -> Any:
    spec = importlib.util.spec_from_file_location("cmdb_sync_docs",
                                                  DOCS / "examples" / "cmdb_sync.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sync_excerpt_is_the_example_files_own() -> None:
    assert SYNC.text in (DOCS / "examples" / "cmdb_sync.py").read_text()


def test_the_cmdb_example_runs_as_the_page_says(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    serve, run = commands(RUN_SYNC.text)
    assert serve.argv[:3] == ["xapictl", "sim", "serve"]
    env, python, script, url, *rest = run.argv
    assert env == "XAPI_PASSWORD=xapictl" and python == "python"
    assert (ROOT / script).is_file()
    sim = Simulator(scenario="seed")  # what 'xapictl sim serve' serves: password xapictl
    monkeypatch.setenv("XAPI_PASSWORD", env.split("=", 1)[1])
    monkeypatch.chdir(tmp_path)
    with SimServer(sim) as server:
        argv = [server.url if a == url else a for a in [url, *rest]]
        argv[argv.index("--seconds") + 1] = "2"
        _example().main(argv)
        with xapictl.connect(server.url, password="xapictl") as conn:
            pool_now = export_snapshot(conn.snapshot(), generated_at="")
    db = sqlite3.connect(tmp_path / "cmdb.sqlite")
    try:
        held = _example().cmdb_inventory(db)
    finally:
        db.close()
    assert held is not None and diff(held, pool_now) == []
    assert sim.open_session_count() == 0
