"""``xapictl pool diagram``, ``plan --diagram`` and ``drift --diagram`` as a user types them,
against the simulator on loopback: every format, the files, and every refusal (exit 2,
nothing sent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from diagram_parse import network_of, node_of, parse_dot, parse_mermaid, parse_svg, semantic
from diagram_pools import ROOT, docs_hook, needs_dot

TRUNK = str(ROOT / "recipes" / "trunk-vlans.yaml")
HOSTS = ("xcp-host-01", "xcp-host-02", "xcp-host-03")


def _sent(sim_server: Any) -> list[str]:
    return [e["method"] for e in sim_server.control.request_log()]


def test_pool_diagram_prints_mermaid_by_default(cli: Any) -> None:
    ran = cli("pool", "diagram")
    assert ran.code == 0, ran.stderr
    graph = parse_mermaid(ran.stdout)
    assert semantic(graph).hosts == dict.fromkeys(HOSTS, 1)


def test_pool_diagram_dot_with_vms(cli: Any) -> None:
    ran = cli("pool", "diagram", "--format", "dot", "--vms")
    assert ran.code == 0, ran.stderr
    graph = parse_dot(ran.stdout)
    assert {lines[0] for n, lines in graph.nodes.items() if n.startswith("vm_")} >= {
        "web-01", "db-01", "build-01"}


@needs_dot
@pytest.mark.parametrize("name", ["pool.svg", "pool.png"])
def test_pool_diagram_writes_the_format_its_out_file_names(cli: Any, tmp_path: Path,
                                                            name: str) -> None:
    out = tmp_path / name
    ran = cli("pool", "diagram", "--out", str(out))
    assert ran.code == 0, ran.stderr
    assert ran.stdout == "" and f"Wrote {out} ({out.suffix[1:]}): pool seed-pool" in ran.stderr
    data = out.read_bytes()
    if name.endswith(".png"):
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert semantic(parse_svg(data)).hosts == dict.fromkeys(HOSTS, 1)


@needs_dot
def test_pool_diagram_png_to_a_pipe_is_the_image(cli: Any) -> None:
    ran = cli("pool", "diagram", "--format", "png", "--no-fold")
    assert ran.code == 0 and ran.stdout_bytes[:4] == b"\x89PNG"


def test_plan_diagram_draws_the_pool_as_it_will_be(cli: Any, tmp_path: Path,
                                                   sim_server: Any) -> None:
    out = tmp_path / "trunk.mmd"
    ran = cli("plan", TRUNK, "--diagram", str(out))
    assert ran.code == 3, ran.stderr
    assert "create VLAN pool-wide" in ran.stdout
    graph = parse_mermaid(out.read_text())
    for host in HOSTS:
        assert "(added)" in graph.nodes[node_of(graph, host, "VLAN 105")]
    assert not [m for m in _sent(sim_server) if m.split(".")[-1].startswith(
        ("create", "destroy", "set_", "plug", "add_"))]  # still a plan: nothing written


@needs_dot
def test_drift_diagram_marks_what_disagrees(cli: Any, tmp_path: Path, sim: Any) -> None:
    from diagram_pools import connect

    with connect(sim) as conn:
        docs_hook().make_drift(conn)
    out = tmp_path / "drift.svg"
    ran = cli("drift", "--diagram", str(out))
    assert ran.code == 6, ran.stderr
    assert "[vlan-missing]" in ran.stdout and f"Wrote {out} (svg)" in ran.stderr
    graph = parse_svg(out.read_bytes())
    assert "missing" in graph.classes[node_of(graph, "xcp-host-03", "VLAN 105")]
    assert "drift" in graph.classes[network_of(graph, "VLAN 105")]


def test_drift_diagram_of_a_clean_pool_exits_0(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "clean.dot"
    ran = cli("drift", "--diagram", str(out))
    assert ran.code == 0, ran.stderr
    assert parse_dot(out.read_text()).nodes


@pytest.fixture
def no_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine without Graphviz's dot program (the package runs ``dot -V``)."""
    import graphviz

    def missing(*args: Any, **kwargs: Any) -> Any:
        raise graphviz.ExecutableNotFound(("dot", "-V"))

    monkeypatch.setattr(graphviz, "version", missing)
    monkeypatch.setattr(graphviz.Source, "pipe", missing)


MISSING = ("needs Graphviz's dot program, which is not installed: apt-get install graphviz "
           "(Debian, Ubuntu), or use --format dot or mermaid")


@pytest.mark.parametrize(("args", "asked"), [
    (("pool", "diagram", "--format", "svg"), "--format svg"),
    (("pool", "diagram", "--out", "x.png"), "--out x.png"),
    (("plan", TRUNK, "--diagram", "plan.svg"), "--diagram plan.svg"),
    (("drift", "--diagram", "drift.png"), "--diagram drift.png")])
def test_without_graphviz_svg_and_png_are_refused_before_anything_is_read(
        cli: Any, sim_server: Any, no_dot: None, args: tuple[str, ...], asked: str,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    ran = cli(*args)
    assert ran.code == 2 and f"xapictl: {asked} {MISSING}" in ran.stderr, ran.stderr
    assert _sent(sim_server) == [] and list(tmp_path.iterdir()) == []


def test_without_graphviz_dot_and_mermaid_still_work(cli: Any, no_dot: None) -> None:
    for fmt, parse in (("dot", parse_dot), ("mermaid", parse_mermaid)):
        ran = cli("pool", "diagram", "--format", fmt)
        assert ran.code == 0, ran.stderr
        assert semantic(parse(ran.stdout)).hosts == dict.fromkeys(HOSTS, 1)


def test_without_the_graphviz_package_the_message_names_pip(
        cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "graphviz", None)
    ran = cli("pool", "diagram", "--format", "svg")
    assert ran.code == 2 and "pip install graphviz" in ran.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("plan", TRUNK, "--diagram", "plan.txt"),
     "--diagram: cannot tell the format from 'plan.txt'; end the file name in .svg, .png, "
     ".dot (or .gv), .mmd or .md (Mermaid)"),
    (("pool", "diagram", "--out", "x.jpeg"), "--out: cannot tell the format from 'x.jpeg'"),
    (("pool", "diagram", "--format", "dot", "--out", "no/such/dir/x.dot"),
     "--out: the folder no/such/dir does not exist; create it first"),
    (("pool", "diagram", "--host", "xcp-host-1"),
     "--host: no host named 'xcp-host-1' in the pool (did you mean xcp-host-01?)"),
    (("pool", "diagram", "-o", "json"), "-o json does not apply to `pool diagram`"),
    (("drift", "--from", "x.json", "--diagram", "d.svg"),
     "--diagram draws one live pool; it cannot be combined with --fleet or --from"),
    (("plan", TRUNK, "--diagram", "p.svg", "--fleet", "f.yaml"),
     "--diagram draws the plan of one pool; it cannot be combined with --fleet"),
])
def test_bad_input_is_refused_with_one_line_and_exit_2(
        cli: Any, sim_server: Any, args: tuple[str, ...], message: str,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    ran = cli(*args)
    assert ran.code == 2 and message in ran.stderr, ran.stderr
    assert list(tmp_path.iterdir()) == []
    if "--host" not in args:  # a host name is checked against the pool it reads
        assert _sent(sim_server) == []


def test_fleet_draws_one_diagram_per_pool(cli: Any, sim_server: Any, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_PW", "xapictl")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("version: 1\ndefaults:\n  credentials: env:FLEET_PW\npools:\n"
                     f"  - name: par1\n    url: {sim_server.url}\n"
                     f"  - name: nyc1\n    url: {sim_server.url}\n")
    ran = cli("pool", "diagram", "--fleet", str(fleet), extra_env={"XAPICTL_URL": None})
    assert ran.code == 0, ran.stderr
    assert ran.stdout.count("```mermaid") == 2 and "## par1: pool seed-pool" in ran.stdout
    folder = tmp_path / "out"
    folder.mkdir()
    ran = cli("pool", "diagram", "--fleet", str(fleet), "--format", "dot", "--out",
              str(folder), extra_env={"XAPICTL_URL": None})
    assert ran.code == 0, ran.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["nyc1.dot", "par1.dot"]
    assert semantic(parse_dot((folder / "par1.dot").read_text())).hosts == dict.fromkeys(HOSTS, 1)
    ran = cli("pool", "diagram", "--fleet", str(fleet), "--host", "xcp-host-01",
              extra_env={"XAPICTL_URL": None})
    assert ran.code == 2 and "--host names a host of one pool" in ran.stderr


def test_plan_json_and_a_saved_plan_with_a_diagram(cli: Any, tmp_path: Path) -> None:
    """--diagram beside -o json and --out: stdout stays one document, the saved plan still
    applies (the diagram's whole-pool read does not change what the plan relies on)."""
    import json

    picture, saved = tmp_path / "p.dot", tmp_path / "plan.json"
    ran = cli("-o", "json", "plan", TRUNK, "--diagram", str(picture), "--out", str(saved))
    assert ran.code == 3, ran.stderr
    assert json.loads(ran.stdout)["kind"] == "Plan" and picture.is_file()
    applied = cli("apply", str(saved), "--yes")
    assert applied.code == 0, applied.stderr


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["mermaid", "dot", pytest.param("svg", marks=needs_dot),
                                 pytest.param("png", marks=needs_dot)])
def test_the_big_scenario_in_every_format(cli: Any, sim: Any, tmp_path: Path,
                                          fmt: str) -> None:
    """64 hosts, 500 VLANs, 500 VMs: two folded columns whose counts add up to every host."""
    sim.reset(scenario="big")
    out = tmp_path / f"big.{'mmd' if fmt == 'mermaid' else fmt}"
    ran = cli("pool", "diagram", "--vms", "--out", str(out))
    assert ran.code == 0, ran.stderr
    assert "pool big-pool; 64 host(s) in 2 column(s)" in ran.stderr
    if fmt == "png":
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        return
    graph = (parse_mermaid(out.read_text()) if fmt == "mermaid" else
             parse_dot(out.read_text()) if fmt == "dot" else parse_svg(out.read_bytes()))
    columns = sorted((lines[0] for c, lines in graph.clusters.items() if c != "legend"),
                     key=lambda label: label.split(" · ")[0])
    heads = [label.split(" · ")[0] for label in columns]
    assert heads == ["12 hosts with this layout", "52 hosts with this layout"]
