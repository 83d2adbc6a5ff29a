"""docs/diagrams.md is executable: the docs build's generator draws every picture the page
shows (from the simulator), the shell and Python examples run, and the quoted message is the
one the CLI prints."""

from __future__ import annotations

import re
import runpy
import shlex
from pathlib import Path
from typing import Any

import pytest
from diagram_parse import parse_mermaid, parse_svg, semantic
from diagram_pools import ROOT, docs_hook, needs_dot
from typer.testing import CliRunner

PAGE = ROOT / "docs" / "diagrams.md"


def test_every_included_file_exists_and_the_page_is_in_the_nav() -> None:
    text = PAGE.read_text(encoding="utf-8")
    included = re.findall(r'--8<-- "([^"]+)"', text)
    assert included == ["docs/examples/diagrams.sh", "docs/examples/diagrams_library.py"]
    assert all((ROOT / f).is_file() for f in included)
    mkdocs = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "Diagrams: diagrams.md" in mkdocs and "- docs/hooks/diagrams.py" in mkdocs


@needs_dot
def test_the_docs_build_draws_every_picture_the_page_shows() -> None:
    made = docs_hook().generate()
    shown = set(re.findall(r"\((images/diagrams/[^)]+)\)", PAGE.read_text(encoding="utf-8")))
    assert shown == set(made)
    seed = semantic(parse_svg(made["images/diagrams/seed-pool.svg"]))
    assert seed.hosts == {"xcp-host-01": 1, "xcp-host-02": 1, "xcp-host-03": 1}
    assert {"web-01", "db-01"} <= {name for (_, name), _ in [
        (t, s) for s, t in seed.edges if s[0] == "network"]}
    plan = parse_svg(made["images/diagrams/trunk-plan.svg"])
    assert sum("added" in c for c in plan.classes.values()) >= 15 + 5
    drift = parse_svg(made["images/diagrams/drift.svg"])
    assert {c for c, classes in drift.classes.items() if "drift" in classes
            and c in drift.clusters} == {"host_xcp_host_02", "host_xcp_host_03"}
    big = parse_svg(made["images/diagrams/big-pool.svg"])
    assert [lines[0] for c, lines in big.clusters.items() if c != "legend"] == [
        "52 hosts with this layout", "12 hosts with this layout"]
    assert parse_mermaid(made["images/diagrams/seed-pool.mmd"].decode()).nodes


def _commands(script: Path) -> list[tuple[list[str], int]]:
    out = []
    for line in script.read_text().splitlines():
        if line.startswith("xapictl "):
            command, _, comment = line.partition("#")
            code = int(comment.split("exit")[1]) if "exit" in comment else 0
            out.append((shlex.split(command)[1:], code))
    return out


@needs_dot
def test_the_shell_examples_run_on_the_embedded_pool(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from xapictl.cli import app

    (tmp_path / "recipes").symlink_to(ROOT / "recipes")
    monkeypatch.chdir(tmp_path)
    env = {"XAPICTL_EMBEDDED_STATE": str(tmp_path / "state" / "pool.sqlite"),
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    commands = _commands(ROOT / "docs" / "examples" / "diagrams.sh")
    assert len(commands) == 10
    for args, code in commands:
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
    written = {p.name for p in tmp_path.iterdir() if p.is_file()}
    assert written >= {"pool.svg", "pool.png", "pool.dot", "pool.md", "folded.svg",
                       "trunk-plan.svg", "drift.svg"}
    assert "pool.jpeg" not in written
    assert (tmp_path / "pool.md").read_text().startswith("## pool seed-pool\n\n```mermaid\n")
    folded = parse_svg((tmp_path / "folded.svg").read_bytes())
    assert sorted(lines[0] for c, lines in folded.clusters.items() if c != "legend") == [
        "2 hosts with this layout", "xcp-host-02"]


@needs_dot
def test_the_python_example_runs(sim_server: Any) -> None:
    example = runpy.run_path(str(ROOT / "docs" / "examples" / "diagrams_library.py"))
    svg, mermaid = example["main"](sim_server.url, "xapictl",
                                   ROOT / "recipes" / "trunk-vlans.yaml")
    assert semantic(parse_svg(svg)).hosts["xcp-host-01"] == 1
    assert "(added)" in mermaid


def test_the_quoted_message_is_the_one_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    import graphviz

    from xapictl.diagram.render import DiagramFormat, require_graphviz
    from xapictl.errors import RendererMissing

    def missing() -> Any:
        raise graphviz.ExecutableNotFound(("dot", "-V"))

    monkeypatch.setattr(graphviz, "version", missing)
    quoted = re.search(r"```text\nxapictl: (.*)\n```", PAGE.read_text(encoding="utf-8"))
    assert quoted is not None
    with pytest.raises(RendererMissing) as caught:
        require_graphviz(DiagramFormat.SVG)
    assert str(caught.value) == quoted.group(1)
