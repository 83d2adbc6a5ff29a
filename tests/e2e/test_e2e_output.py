"""The output contract (docs/output.md), through the real CLI against simulators on loopback:
every command's JSON/YAML is a document of its kind that validates against the schema
``xapictl schema KIND`` prints, on the ``seed`` and ``big`` scenarios; ``-o`` anywhere on the
line; ``-o name``; tables for people (plain ASCII when piped, UUIDs never split, control
characters escaped); error documents on stderr; ``--out`` refuses a directory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from xapictl.cli import app
from xapictl.cli.documents import DOCUMENTS, schema_of
from xapictl.cli.exit_codes import ExitCode
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-output-7d1e"
SCENARIOS = {"seed": {}, "big": {"hosts": 12, "vms": 60}}
RECIPE = "version: 1\nnetworks:\n  - name: OUT 3001\n    vlan: 3001\n    device: eth1\n"


class Pool:
    """One simulated pool served on loopback, and the CLI pointed at it."""

    def __init__(self, scenario: str, tmp: Path) -> None:
        self.sim = Simulator(password=PASSWORD)
        self.sim.reset(scenario=scenario, **SCENARIOS[scenario])
        self.server = SimServer(self.sim).start()
        self.tmp = tmp
        self.env = {"XAPICTL_URL": self.server.url, "XAPICTL_PASSWORD": PASSWORD,
                    "XAPICTL_AUDIT_LOG": str(tmp / "audit.jsonl"),
                    "XAPICTL_JOURNAL": str(tmp / "journal.sqlite")}

    def run(self, *args: str) -> Any:
        result = CliRunner().invoke(app, list(args), env=self.env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    def close(self) -> None:
        self.server.stop()
        self.sim.close()


@pytest.fixture(params=sorted(SCENARIOS))
def pool(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pool]:
    served = Pool(request.param, tmp_path)
    try:
        yield served
    finally:
        served.close()


def valid(text: str, kind: str, *, fmt: str = "json") -> dict[str, Any]:
    """The one document in ``text``, checked against the schema of ``kind``."""
    doc = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    assert doc["kind"] == kind, doc.get("kind")
    schema = schema_of(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc)
    return doc


READS: list[tuple[tuple[str, ...], str]] = [
    (("network", "list"), "NetworkList"),
    (("network", "show", "Pool-wide network 0"), "Network"),
    (("vlan", "list"), "VlanList"),
    (("pif", "list"), "PifList"),
    (("host", "list"), "HostList"),
    (("pool", "show"), "Pool"),
    (("vif", "list"), "VifList"),
    (("drift",), "Drift"),
]


def test_every_read_command_prints_a_valid_document_in_json_and_yaml(pool: Pool) -> None:
    for args, kind in READS:
        for fmt in ("json", "yaml"):
            ran = pool.run("-o", fmt, *args)
            assert ran.exit_code in (0, ExitCode.DRIFT_FOUND), (args, ran.stderr)
            doc = valid(ran.stdout, kind, fmt=fmt)
            assert doc["schema_version"] == 1 and doc["pool"] == pool.server.url


def test_values_are_typed_and_keys_are_the_same_in_list_and_show(pool: Pool) -> None:
    listed = valid(pool.run("network", "list", "-o", "json").stdout, "NetworkList")["items"]
    assert all(isinstance(n["mtu"], int) and isinstance(n["vlans"], list) for n in listed)
    assert any(n["owner"] is None for n in listed), "absent is null, never '-' or ''"
    shown = valid(pool.run("network", "show", listed[0]["uuid"], "-o", "json").stdout,
                  "Network")
    assert set(listed[0]) <= set(shown), "show has every key of list"
    for pif in valid(pool.run("pif", "list", "-o", "json").stdout, "PifList")["items"]:
        assert isinstance(pif["plugged"], bool) and isinstance(pif["management"], bool)
        assert pif["vlan"] is None or isinstance(pif["vlan"], int)
    hosts = valid(pool.run("host", "list", "-o", "json").stdout, "HostList")["items"]
    assert all(isinstance(h["live"], bool) for h in hosts)
    assert isinstance(valid(pool.run("pool", "show", "-o", "json").stdout,
                            "Pool")["ha_enabled"], bool)


def _recipe(pool: Pool) -> str:
    path = pool.tmp / "recipe.yaml"
    path.write_text(RECIPE)
    return str(path)


def test_plan_apply_and_a_clean_plan_print_valid_documents(pool: Pool) -> None:
    recipe = _recipe(pool)
    planned = pool.run("plan", recipe, "-o", "json")
    assert planned.exit_code == ExitCode.CHANGES_PENDING, planned.stderr
    assert valid(planned.stdout, "Plan")["changes_pending"] is True
    applied = pool.run("-o", "yaml", "apply", recipe, "--yes")
    assert applied.exit_code == 0, applied.stderr
    doc = valid(applied.stdout, "Apply", fmt="yaml")
    assert doc["applied"] is True and doc["verified"] is True
    again = pool.run("plan", recipe, "-o", "json")
    assert again.exit_code == 0 and valid(again.stdout, "Plan")["changes_pending"] is False
    vlans = valid(pool.run("vlan", "list", "-o", "json").stdout, "VlanList")["items"]
    assert 3001 in {v["tag"] for v in vlans}
    assert all(isinstance(v["tag"], int) for v in vlans)


def test_a_write_command_prints_an_apply_document(pool: Pool) -> None:
    ran = pool.run("network", "create", "--name", "VLAN 777", "--vlan", "777", "--device",
                   "eth1", "-o", "json")
    assert ran.exit_code == 0, ran.stderr
    assert valid(ran.stdout, "Apply")["applied"] is True


def test_inventory_diff_prints_a_valid_document(pool: Pool) -> None:
    old, new = pool.tmp / "old.json", pool.tmp / "new.json"
    assert pool.run("inventory", "export", "--out", str(old)).exit_code == 0
    pool.run("network", "create", "--name", "VLAN 778", "--vlan", "778", "--device", "eth1")
    assert pool.run("inventory", "export", "--out", str(new)).exit_code == 0
    ran = pool.run("inventory", "diff", str(old), str(new), "-o", "json")
    assert ran.exit_code == ExitCode.CHANGES_PENDING
    doc = valid(ran.stdout, "InventoryDiff")
    assert {c["op"] for c in doc["changes"]} >= {"add"}


def test_output_options_work_before_and_after_the_command(pool: Pool) -> None:
    before = pool.run("-o", "json", "host", "list")
    after = pool.run("host", "list", "-o", "json")
    equals = pool.run("host", "list", "--output=json")
    assert before.stdout == after.stdout == equals.stdout
    assert pool.run("host", "list", "--no-headers").stdout == \
        pool.run("--no-headers", "host", "list").stdout


def test_o_name_prints_one_identifier_per_line_and_non_lists_refuse_it(pool: Pool) -> None:
    names = pool.run("network", "list", "-o", "name").stdout.splitlines()
    listed = valid(pool.run("network", "list", "-o", "json").stdout, "NetworkList")["items"]
    assert names == [n["uuid"] for n in listed]
    refused = pool.run("pool", "show", "-o", "name")
    assert refused.exit_code == ExitCode.BAD_INPUT
    assert "-o name" in refused.stderr and refused.stdout == ""


def test_piped_tables_are_plain_ascii_one_row_per_line_with_whole_uuids(pool: Pool) -> None:
    ran = pool.run("network", "list")
    lines = ran.stdout.splitlines()
    assert lines[0].split()[:2] == ["Name", "UUID"]
    assert ran.stdout.isascii(), "no box drawing when piped"
    listed = valid(pool.run("network", "list", "-o", "json").stdout, "NetworkList")["items"]
    assert len(lines) == len(listed) + 1
    for row, network in zip(lines[1:], listed, strict=True):
        assert network["uuid"] in row
    bare = pool.run("network", "list", "--no-headers").stdout.splitlines()
    assert [line.split() for line in bare] == [line.split() for line in lines[1:]]


def test_a_narrow_terminal_drops_uuid_columns_and_never_splits_one() -> None:
    from xapictl.cli.render import format_table

    uuid = "35a21d91-5b49-488c-99cd-68995156b72f"
    rows = [["Host internal management network", uuid, "xenapi"]]
    narrow = format_table(["Name", "UUID", "Bridge"], rows, [False, True, False], width=30)
    assert uuid not in narrow and "UUID" not in narrow
    assert all(len(line) <= 30 for line in narrow.splitlines())
    assert "…" in narrow, "long text is elided, not wrapped"
    wide = format_table(["Name", "UUID", "Bridge"], rows, [False, True, False], width=None)
    assert uuid in wide and len(wide.splitlines()) == 2


def test_every_column_layout_is_richs_plain_text() -> None:
    from xapictl.cli.render import columns

    assert columns([["a", "bb", "c"], ["dddd", "e"]]) == ["a     bb  c", "dddd  e"]
    # one space apart, a minimum width, the first column right-aligned, indented
    assert columns([["1.", "x"], ["10.", "y"]], gap=1, indent=2, min_widths=[4],
                   right=[0]) == ["    1. x", "   10. y"]
    # a cell longer than the minimum widens its column for every row (no ragged lines)
    assert columns([["a-very-long-pool-name", "done"], ["p2", "planned"]], gap=1,
                   min_widths=[8]) == ["a-very-long-pool-name done",
                                       "p2                    planned"]
    # never markup, emoji codes, colour or a wrapped line; control characters escaped
    shown = columns([["[bold]x[/]", ":smile:", "a\x1b[31mb", "z" * 300]])
    assert shown == ["[bold]x[/]  :smile:  a\\x1b[31mb  " + "z" * 300]
    assert columns([]) == []


def test_no_column_is_padded_by_hand_in_the_cli() -> None:
    import re
    from pathlib import Path

    cli = Path(__file__).resolve().parents[2] / "xapictl" / "cli"
    by_hand = re.compile(r"\{[^{}]*:[<>^]\d+\}|\.ljust\(|\.rjust\(")
    found = [f"{p.name}:{n}" for p in sorted(cli.glob("*.py"))
             for n, line in enumerate(p.read_text().splitlines(), start=1) if by_hand.search(line)]
    assert found == [], "lay columns out with xapictl.cli.render.columns (rich)"


def test_pool_supplied_control_characters_are_escaped_in_tables(pool: Pool) -> None:
    evil = "\x1b[31mred\x07"
    with pool.sim.state.lock:
        net = next(r for r in pool.sim.state.all("network").values()
                   if r["name_label"] == "Pool-wide network 0")
        net["name_label"] = evil
        net["other_config"] = {**net["other_config"], "note": "a\rb"}
    table = pool.run("network", "list").stdout
    assert "\x1b" not in table and "\x07" not in table
    assert "\\x1b[31mred\\x07" in table
    shown = pool.run("network", "show", evil).stdout
    assert "\x1b" not in shown and "\r" not in shown and "note=a\\rb" in shown
    data = valid(pool.run("network", "list", "-o", "json").stdout, "NetworkList")
    assert evil in [n["name"] for n in data["items"]], "JSON keeps the value; it escapes it"


def test_failures_write_an_error_document_on_stderr(pool: Pool, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nnetworks:\n  - name: x\n    vlan: 5000\n    device: eth1\n")
    ran = pool.run("plan", str(bad), "-o", "json")
    assert ran.exit_code == ExitCode.BAD_INPUT and ran.stdout == ""
    error = valid(ran.stderr.splitlines()[-1], "Error")["error"]
    assert error == {**error, "exit_code": 2, "kind": "DesiredStateError", "file": str(bad),
                     "line": 4, "field": "networks[0].vlan"}
    assert ran.stderr.splitlines()[0] == (
        f"xapictl: {bad}:4: networks[0].vlan: 5000 is out of range 0-4094; e.g. `vlan: 105`")
    missing = pool.run("network", "show", "nope", "-o", "yaml")
    assert missing.exit_code == ExitCode.BAD_INPUT
    doc = valid(missing.stderr.split("---\n", 1)[1], "Error", fmt="yaml")
    assert doc["pool"] == pool.server.url
    usage = pool.run("network", "lisst", "-o", "json")
    assert usage.exit_code == 2
    assert valid(usage.stderr.splitlines()[-1], "Error")["error"]["kind"] == "usage"


def test_a_xapi_failure_carries_its_code_and_params(pool: Pool) -> None:
    pool.env["XAPICTL_PASSWORD"] = "wrong"
    ran = pool.run("-o", "json", "host", "list")
    assert ran.exit_code == ExitCode.FAILURE and ran.stdout == ""
    error = valid(ran.stderr.splitlines()[-1], "Error")["error"]
    assert error["xapi_code"] == "SESSION_AUTHENTICATION_FAILED"
    assert isinstance(error["xapi_params"], list)


def test_out_refuses_a_directory_and_a_csv_file_name_and_writes_nothing(pool: Pool) -> None:
    target = pool.tmp / "dir"
    target.mkdir()
    ran = pool.run("inventory", "export", "--out", str(target))
    assert ran.exit_code == ExitCode.BAD_INPUT and "is a directory" in ran.stderr
    single = pool.tmp / "single.csv"
    ran = pool.run("inventory", "export", "--format", "csv", "--out", str(single))
    assert ran.exit_code == ExitCode.BAD_INPUT and not single.exists()
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("args", [("inventory", "export"), ("inventory", "watch"),
                                  ("rollout", "audit", "1"), ("sim", "control", "counters"),
                                  ("sim", "serve"), ("local", "rollback"), ("pool", "unlock"),
                                  ("local", "vif-hotplug", "online")])
def test_commands_without_a_document_refuse_json_instead_of_ignoring_it(
        pool: Pool, args: tuple[str, ...]) -> None:
    ran = pool.run(*args, "-o", "json")
    assert ran.exit_code == ExitCode.BAD_INPUT, ran.stdout
    assert "does not apply" in ran.stderr and ran.stdout == ""


def test_rollout_commands_honour_o_json(pool: Pool, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("version: 1\ndefaults:\n  credentials: env:OUT_PW\npools:\n"
                     f"  - name: one\n    url: {pool.server.url}\n")
    pool.env["OUT_PW"] = PASSWORD
    recipe = _recipe(pool)
    planned = pool.run("-o", "json", "rollout", recipe, "--fleet", str(fleet), "--plan-only")
    assert planned.exit_code == ExitCode.CHANGES_PENDING, planned.stderr
    assert valid(planned.stdout, "FleetPlan")["pools"][0]["changes"] > 0
    ran = pool.run("-o", "json", "rollout", recipe, "--fleet", str(fleet), "--yes")
    assert ran.exit_code == 0, ran.stderr
    result = valid(ran.stdout, "RolloutResult")
    rid = str(result["rollout"])
    listed = valid(pool.run("rollout", "list", "-o", "json").stdout, "RolloutList")
    assert [r["id"] for r in listed["items"]] == [result["rollout"]]
    assert pool.run("rollout", "list", "-o", "name").stdout == f"{rid}\n"
    status = valid(pool.run("rollout", "status", rid, "-o", "yaml").stdout, "Rollout",
                   fmt="yaml")
    assert status["pools"][0]["pool"] == "one"
    resumed = pool.run("rollout", "resume", rid, "--yes", "-o", "json")
    valid(resumed.stdout, "RolloutResult")
    listed_fleet = pool.run("network", "list", "--fleet", str(fleet), "-o", "json")
    items = valid(listed_fleet.stdout, "NetworkList")["items"]
    assert {i["pool"] for i in items} == {"one"}
    shown = pool.run("pool", "show", "--fleet", str(fleet), "-o", "json")
    assert valid(shown.stdout, "PoolDetailList")["items"][0]["pool"] == "one"
    network = pool.run("network", "show", "OUT 3001", "--fleet", str(fleet), "-o", "yaml")
    assert valid(network.stdout, "NetworkDetailList", fmt="yaml")["items"][0]["vlans"] == [3001]


def test_output_options_move_before_the_command_and_nothing_else_does() -> None:
    from xapictl.cli import hoist_output_options as hoist

    assert hoist(["network", "list", "-o", "json"]) == ["-o", "json", "network", "list"]
    assert hoist(["--url", "u", "host", "list", "-ojson", "--no-headers"]) == [
        "--url", "u", "-ojson", "--no-headers", "host", "list"]
    assert hoist(["network", "create", "--name", "-orange"]) == [
        "network", "create", "--name", "-orange"], "a value that merely starts with -o stays"
    assert hoist(["vif", "list", "--", "-o", "json"]) == ["vif", "list", "--", "-o", "json"]
    assert hoist(["--lock-timeout", "5", "apply", "r.yaml", "-o", "json"]) == [
        "--lock-timeout", "5", "-o", "json", "apply", "r.yaml"]


def test_escape_shows_every_control_character_and_keeps_text() -> None:
    from xapictl.cli.render import escape

    assert escape("plain ünïcode / back\\slash") == "plain ünïcode / back\\slash"
    assert escape("\x1b[2J\x9b\x7f\n\t") == "\\x1b[2J\\x9b\\x7f\\n\\t"
    assert escape("a\nb", keep_newlines=True) == "a\nb"


def test_the_schemas_shipped_in_the_package_are_the_models(tmp_path: Path) -> None:
    from xapictl.cli.documents import SHIPPED, write_schemas

    fresh = {p.name: p.read_text() for p in write_schemas(tmp_path)}
    shipped = {p.name: p.read_text() for p in SHIPPED.glob("*.schema.json")}
    assert shipped == fresh, "run `python -m xapictl.cli.documents` and commit the result"


FILE_FORMATS = {"InventoryExport": "inventory.schema.json",
                "LocalRecipe": "local-recipe.schema.json", "Recipe": "recipe.schema.json"}


@pytest.mark.parametrize(("kind", "published"), sorted(FILE_FORMATS.items()))
def test_schema_prints_the_file_formats_as_published_in_the_docs(kind: str,
                                                                 published: str) -> None:
    out = CliRunner().invoke(app, ["schema", kind])
    assert out.exit_code == 0, out.stderr
    schema = json.loads(out.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    docs = Path(__file__).resolve().parents[2] / "docs" / published
    assert schema == json.loads(docs.read_text())


def test_schema_prints_every_kind_and_refuses_an_unknown_one() -> None:
    runner = CliRunner()
    kinds = runner.invoke(app, ["schema"]).stdout.split()
    assert kinds == [*sorted(DOCUMENTS), *FILE_FORMATS]
    for kind in sorted(DOCUMENTS):
        schema = json.loads(runner.invoke(app, ["schema", kind]).stdout)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)
        assert {"kind", "schema_version", "pool"} <= set(schema["properties"])
    refused = runner.invoke(app, ["schema", "Pol"])
    assert refused.exit_code == 2 and "did you mean Pool?" in refused.stderr


def _help_texts() -> Iterator[tuple[str, str]]:
    import typer

    def walk(cmd: Any, path: str) -> Iterator[tuple[str, str]]:
        yield path, cmd.help or ""
        for p in cmd.params:
            yield f"{path} {getattr(p, 'name', '')}", getattr(p, "help", None) or ""
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            yield from walk(sub, f"{path} {name}")

    yield from walk(typer.main.get_command(app), "xapictl")


def test_help_texts_show_no_rest_markup() -> None:
    texts = list(_help_texts())
    assert len(texts) > 100, "the walk found the commands"
    marked = [path for path, text in texts if "``" in text]
    assert marked == []


def test_local_commands_print_valid_documents(tmp_path: Path) -> None:
    local = pytest.importorskip("pyroute2")
    del local
    runner = CliRunner()
    shown = runner.invoke(app, ["local", "show", "-o", "json"])
    if shown.exit_code != 0:
        pytest.skip(f"cannot read this host's links: {shown.stderr.strip()}")
    valid(shown.stdout, "LocalHost")
    planned = runner.invoke(app, ["-o", "json", "local", "plan",
                                  str(ROOT / "recipes" / "local-xenbr0.yaml")])
    assert planned.exit_code in (0, 3, 4), planned.stderr
    valid(planned.stdout, "LocalPlan")


# Every command of the app, classified: the document kind(s) -o json|yaml prints, or refused.
DOCUMENT_OF = {
    "network create": "Apply", "network list": "NetworkList", "network show": "Network",
    "network delete": "Apply", "network set-mtu": "Apply", "vlan list": "VlanList",
    "bond create": "Apply", "bond list": "BondList", "bond show": "Bond", "bond delete": "Apply",
    "bond set-mode": "Apply",
    "pif list": "PifList", "pif scan": "PifList", "pif set-ip": "Apply",
    "host list": "HostList", "host set-management": "Apply", "pool show": "Pool",
    "vif attach": "Apply",
    "vif detach": "Apply", "vif move": "Apply", "vif list": "VifList", "plan": "Plan",
    "apply": "Apply", "drift": "Drift", "inventory diff": "InventoryDiff",
    "rollout run": "RolloutResult", "rollout resume": "RolloutResult",
    "rollout list": "RolloutList", "rollout status": "Rollout", "local plan": "LocalPlan",
    "local apply": "LocalApply", "local show": "LocalHost", "local check": "LocalCheck",
    "netbox plan": "NetBoxPlan", "netbox sync": "NetBoxSync",
    "schema": None,  # prints a JSON Schema (as YAML with -o yaml), not a document
}
REFUSED = {"pool unlock", "inventory export", "inventory watch", "rollout audit", "local confirm",
           "local rollback", "local boot", "local vif-hotplug", "sim serve", "sim control",
           "pool diagram",  # the diagram (a file format) is its output
           "netbox recipe", "netbox watch",  # a recipe file; a stream of lines
           "ansible install", "ansible path"}  # one line: where the collection is


def test_every_command_is_classified_as_printing_a_document_or_refusing_json() -> None:
    import typer

    found: set[str] = set()

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        subs = getattr(cmd, "commands", None) or {}
        if (path and not subs) or path == ("drift",):
            found.add(" ".join(path))
        for name, sub in subs.items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    assert found == set(DOCUMENT_OF) | REFUSED
    assert {k for k in DOCUMENT_OF.values() if k} <= set(DOCUMENTS)


def test_a_command_help_says_the_output_options_may_follow_it() -> None:
    shown = CliRunner().invoke(app, ["network", "list", "--help"], terminal_width=200)
    assert "-o table|wide|json|yaml|name and --no-headers may follow the command" in \
        shown.stdout


def test_the_question_goes_to_stderr_under_json_and_stdout_stays_one_document(
        pool: Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("xapictl.cli.run.interactive", lambda: True)
    result = CliRunner().invoke(app, ["-o", "json", "apply", _recipe(pool)], env=pool.env,
                                input="y\n")
    assert result.exit_code == 0, result.stderr
    assert "Apply these" in result.stderr
    # CliRunner echoes the answer ("y") where a terminal would; click's input() writes the
    # prompt's last space to stdout: whitespace before the document, which JSON allows.
    echoed = " y\n"
    assert result.stdout.startswith(echoed)
    assert valid(result.stdout[len(echoed):], "Apply")["applied"] is True
