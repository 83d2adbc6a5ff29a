"""The plan/CLI docs are executable: every example file they include runs, the generated
sections (recipe fields, exit codes) equal the code, and every included file exists."""

from __future__ import annotations

import re
import runpy
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xapictl.cli.exit_codes import MEANINGS
from xapictl.plan.desired import load_file
from xapictl.plan.recipe_model import markdown_fields

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = ["quickstart.md", "concepts.md", "recipes.md", "cli.md", "exit-codes.md",
         "identity.md", "bonds.md"]


@pytest.mark.parametrize("page", PAGES)
def test_every_snippet_a_page_includes_exists(page: str) -> None:
    text = (DOCS / page).read_text()
    for included in re.findall(r'--8<-- "([^"]+)"', text):
        assert (ROOT / included).is_file(), f"{page} includes missing {included}"


def _commands(script: Path) -> list[tuple[list[str], int]]:
    out = []
    for line in script.read_text().splitlines():
        if not line.startswith("xapictl "):
            continue
        command, _, comment = line.partition("#")
        code = int(comment.split("exit")[1]) if "exit" in comment else 0
        out.append((shlex.split(command)[1:], code))
    return out


@pytest.mark.parametrize("script", ["quickstart.sh", "cli-tour.sh", "bond-tour.sh"])
def test_shell_examples_run_on_the_embedded_pool(script: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from xapictl.cli import app

    monkeypatch.chdir(ROOT)
    env = {"XAPICTL_EMBEDDED_STATE": str(tmp_path / "pool.sqlite"),
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    commands = _commands(DOCS / "examples" / script)
    assert commands
    for args, code in commands:
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == code, (args, result.stdout, result.stderr)


def test_quickstart_says_what_the_commands_do(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The numbered claims of docs/quickstart.md, checked against the audit log."""
    import json

    from xapictl.cli import app

    monkeypatch.chdir(ROOT)
    audit = tmp_path / "audit.jsonl"
    env = {"XAPICTL_EMBEDDED_STATE": str(tmp_path / "pool.sqlite"),
           "XAPICTL_AUDIT_LOG": str(audit)}
    outputs, writes = [], []
    for args, _ in _commands(DOCS / "examples" / "quickstart.sh"):
        before = len(audit.read_text().splitlines()) if audit.exists() else 0
        result = CliRunner().invoke(app, args, env=env)
        lines = audit.read_text().splitlines() if audit.exists() else []
        outputs.append(result.stdout)
        records = [json.loads(line) for line in lines[before:]]
        writes.append([r["method"] for r in records if r["outcome"] != "intent"])
    page = " ".join((DOCS / "quickstart.md").read_text().split())
    assert writes[1] == ["network.create", "pool.create_VLAN_from_PIF"]
    claim = "network 'VLAN 105': already in place (VLAN 105 on eth1 on 3 host(s))"
    assert claim in page and claim in outputs[2]
    assert writes[2] == [], "the second run sends no write at all"
    assert writes[4] == ["VIF.create", "VIF.plug"]
    assert "VIF 1 of VM 'web-01'" in outputs[4]


@pytest.mark.parametrize("example", ["library_recipes.py", "concepts_flow.py"])
def test_python_examples_run(example: str, capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(DOCS / "examples" / example), run_name="__main__")
    assert "create" in capsys.readouterr().out


def test_adoption_example_is_refused_without_adopt_and_applies_with_it() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "recipes"))
    from recipes_simpool import SimPool

    from xapictl.errors import PreflightError
    from xapictl.plan.desired import load_text

    pool = SimPool()
    with pool.connect() as conn:
        snap = conn.snapshot()
        net = conn.call("network.create", {"name_label": "VLAN 300", "other_config": {}})
        conn.call("pool.create_VLAN_from_PIF", snap.pif_on(snap.master, "eth1"), net, 300)
    adopting = load_file(DOCS / "examples" / "adopt-existing.yaml")
    text = (DOCS / "examples" / "adopt-existing.yaml").read_text()
    with pytest.raises(PreflightError, match="which xapictl did not make"):
        pool.converge(load_text(text.replace("adopt: true", "adopt: false")))
    result = pool.converge(adopting)
    assert result.report.ok and pool.writes()[-2:] == ["network.add_to_other_config"] * 2


def _text_blocks(page: str) -> list[str]:
    return re.findall(r"```text\n(.*?)```", (DOCS / page).read_text(), flags=re.DOTALL)


def _shows(block: str, output: str) -> bool:
    """``output`` reads as the documented block; ``…`` stands for any text (uuids …)."""
    lines = [" ".join(line.split()) for line in block.strip().splitlines()]
    pattern = re.escape(" ".join(lines)).replace("…", ".*?")
    return re.search(pattern, " ".join(output.split())) is not None


def test_identity_page_shows_the_real_refusal_and_ambiguity_messages() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "recipes"))
    from recipes_simpool import SimPool

    from xapictl.errors import PreflightError
    from xapictl.plan.diff import diff
    from xapictl.plan.identity import mark
    from xapictl.recipes import ensure_network, ensure_vlan_network

    refused, ambiguous = _text_blocks("identity.md")
    pool = SimPool()
    with pool.connect() as conn:
        snap = conn.snapshot()
        net = conn.call("network.create", {"name_label": "VLAN 300", "other_config": {}})
        conn.call("pool.create_VLAN_from_PIF", snap.pif_on(snap.master, "eth1"), net, 300)
        for _ in range(2):
            conn.call("network.create", {"name_label": "App",
                                         "other_config": mark("network/App")})
        snap = conn.snapshot()
    with pytest.raises(PreflightError) as caught:
        diff(ensure_vlan_network("VLAN 300", 300, device="eth1"), snap)
    assert _shows(refused, str(caught.value)), str(caught.value)
    with pytest.raises(PreflightError) as caught:
        diff(ensure_network("App"), snap)
    assert _shows(ambiguous, str(caught.value)), str(caught.value)


def test_recipes_page_shows_the_real_validation_messages() -> None:
    from xapictl.errors import DesiredStateError
    from xapictl.plan.desired import load_text

    (block,) = _text_blocks("recipes.md")
    lab = ("version: 1\nnetworks:\n  - name: VLAN 101\n    vlan: 101\n    device: eth1\n"
           "  - name: VLAN 5000\n    vlan: 5000\n    device: eth1\n    vlna: 7\n")
    with pytest.raises(DesiredStateError) as caught:
        load_text(lab, source="recipes/lab.yaml")
    assert _shows(block, str(caught.value)), str(caught.value)


def test_recipe_field_tables_are_current() -> None:
    text = (DOCS / "recipes.md").read_text()
    section = text.split("<!-- fields:start", 1)[1].split("-->", 1)[1]
    section = section.split("<!-- fields:end -->", 1)[0]
    assert section.strip() == markdown_fields().strip()


def test_exit_code_table_equals_the_code() -> None:
    text = (DOCS / "exit-codes.md").read_text()
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", text, flags=re.MULTILINE)
    assert {int(c): m for c, m in rows} == {int(c): m for c, m in MEANINGS.items()}
