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
from xapictl.plan.recipe_schema import markdown_fields

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = ["quickstart.md", "concepts.md", "recipes.md", "cli.md", "exit-codes.md",
         "identity.md"]


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


@pytest.mark.parametrize("script", ["quickstart.sh", "cli-tour.sh"])
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


def test_recipe_field_tables_are_current() -> None:
    text = (DOCS / "recipes.md").read_text()
    section = text.split("<!-- fields:start", 1)[1].split("-->", 1)[1]
    section = section.split("<!-- fields:end -->", 1)[0]
    assert section.strip() == markdown_fields().strip()


def test_exit_code_table_equals_the_code() -> None:
    text = (DOCS / "exit-codes.md").read_text()
    rows = re.findall(r"^\| (\d) \| (.+) \|$", text, flags=re.MULTILINE)
    assert {int(c): m for c, m in rows} == {int(c): m for c, m in MEANINGS.items()}
