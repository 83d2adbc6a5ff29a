"""The drawn graph, read back from DOT, SVG and Mermaid, is the pool's graph: every host, PIF,
bond, VLAN, tunnel, SR-IOV interface and network once, the right edges, the right marks.

What must be drawn comes from the simulator's records (``diagram_parse.expected``), not from
xapictl's builder; what was drawn is parsed from the rendered text or image.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from diagram_parse import (
    Graph,
    expected,
    network_of,
    node_of,
    parse_dot,
    parse_mermaid,
    parse_svg,
    semantic,
)
from diagram_pools import ROOT, connect, docs_hook, needs_dot, records

from xapictl.diagram.build import drift_diagram, plan_diagram, pool_diagram
from xapictl.diagram.model import Diagram
from xapictl.diagram.render import DiagramFormat, render, to_dot, to_mermaid
from xapictl.inventory.drift import drift
from xapictl.inventory.export import export_snapshot
from xapictl.plan.desired import load_file
from xapictl.plan.diff import diff


def _read(diagram: Diagram, fmt: str) -> Graph:
    if fmt == "dot":
        return parse_dot(to_dot(diagram))
    if fmt == "mermaid":
        return parse_mermaid(to_mermaid(diagram))
    return parse_svg(render(diagram, DiagramFormat.SVG))


FORMATS = ["dot", "mermaid", pytest.param("svg", marks=needs_dot)]


def _marks(graph: Graph, node: str) -> set[str]:
    """A node's marks as the picture says them: its classes and its ``(mark)`` lines."""
    words = {line.strip("()").replace("-", "") for line in graph.nodes.get(node, [])
             if line.startswith("(")}
    return {c for c in graph.classes.get(node, set()) if not c.startswith("kind-")} | words


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("pool", ["seed", "rich"])
def test_every_object_is_drawn_once_with_the_right_edges(pool: str, fmt: str, sim: Any,
                                                         request: pytest.FixtureRequest
                                                         ) -> None:
    if pool == "rich":
        request.getfixturevalue("rich")
    with connect(sim) as conn:
        snap = conn.snapshot()
    graph = _read(pool_diagram(snap), fmt)
    drawn, wanted = semantic(graph), expected(records(sim))
    assert drawn.hosts == wanted.hosts
    assert drawn.interfaces == wanted.interfaces
    assert drawn.networks == wanted.networks
    assert drawn.edges == wanted.edges
    assert max(drawn.interfaces.values()) == 1 and max(drawn.networks.values()) == 1
    if pool == "rich":  # the richer pool's kinds are all there
        assert {"bond0", "VLAN 105", "tunnel tunnel0", "SR-IOV eth0"} <= {
            name for _, name in drawn.interfaces}


@pytest.mark.parametrize("fmt", FORMATS)
def test_management_interfaces_and_the_master_are_marked(fmt: str, sim: Any) -> None:
    with connect(sim) as conn:
        snap = conn.snapshot()
    graph = _read(pool_diagram(snap), fmt)
    for host in ("xcp-host-01", "xcp-host-02", "xcp-host-03"):
        assert "management" in _marks(graph, node_of(graph, host, "eth0"))
        assert "management" not in _marks(graph, node_of(graph, host, "eth1"))
    master = [c for c, lines in graph.clusters.items() if "(pool master)" in lines[0]]
    assert [graph.clusters[c][0] for c in master] == ["xcp-host-01 (pool master)"]
    assert ("outline#000000" if fmt == "mermaid" else "master") in graph.classes[master[0]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_vms_vifs_are_edges_from_their_network_with_the_locking_mode(fmt: str,
                                                                        sim: Any) -> None:
    with connect(sim) as conn:
        snap = conn.snapshot()
    graph = _read(pool_diagram(snap, vms=True), fmt)
    vms = {n: lines[0] for n, lines in graph.nodes.items() if n.startswith("vm_")}
    guests = {vm.name_label for vm in snap.guest_vms().values()}
    assert sorted(vms.values()) == sorted(guests)
    management = network_of(graph, "Pool-wide network 0")
    assert Counter(vms[t] for s, t, _ in graph.edges if t in vms and s == management) == \
        Counter(dict.fromkeys(guests, 1))
    dot = to_dot(pool_diagram(snap, vms=True))
    assert 'label="VIF 0 · network_default"' in dot


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_trunk_plan_adds_five_vlans_on_every_host_and_four_vifs(fmt: str,
                                                                    sim: Any) -> None:
    with connect(sim) as conn:
        snap = conn.snapshot()
    plan = diff(load_file(ROOT / "recipes" / "trunk-vlans.yaml"), snap)
    drawing = plan_diagram(snap, plan)
    graph = _read(drawing, fmt)
    assert drawing.notes == ()  # every step has its place in the picture
    for tag in range(101, 106):
        network = network_of(graph, f"VLAN {tag}")
        assert "added" in _marks(graph, network)
        for host in ("xcp-host-01", "xcp-host-02", "xcp-host-03"):
            vlan = node_of(graph, host, f"VLAN {tag}")
            trunk = node_of(graph, host, "eth1")
            assert "added" in _marks(graph, vlan)
            assert [(s, t) for s, t, _ in graph.edges if t == vlan] == [(trunk, vlan)]
            assert [t for s, t, _ in graph.edges if s == vlan] == [network]
    added_vifs = {graph.nodes[t][0]: graph.nodes[s][0] for s, t, c in graph.edges
                  if t.startswith("vm_")}
    assert added_vifs == {"web-01": "VLAN 101", "web-02": "VLAN 101", "db-01": "VLAN 102",
                          "build-01": "VLAN 103"}
    assert "added" in _marks(graph, node_of(graph, "xcp-host-01", "VLAN 101"))
    assert "added" not in _marks(graph, node_of(graph, "xcp-host-01", "eth1"))
    legend = [lines[0] for n, lines in graph.nodes.items() if n.startswith("legend_")]
    assert "added: the plan creates it" in legend


def test_a_plan_marks_what_it_changes_removes_and_replugs(sim: Any) -> None:
    from xapictl.plan.desired import load_text

    with connect(sim) as conn:
        snap = conn.snapshot()
    recipe = ("version: 1\nnetworks:\n  - name: Pool-wide network 2\n    mtu: 9000\n"
              "    replug: true\n    adopt: true\nvifs:\n"
              "  - {vm: web-01, network: Pool-wide network 0, device: 0, present: false}\n")
    plan = diff(load_text(recipe, source="t.yaml"), snap)
    actions = sorted(s.action for s in plan.steps)
    assert actions == ["destroy", "re-plug", "re-plug", "re-plug", "set MTU",
                       "set other_config", "unplug"]
    drawing = plan_diagram(snap, plan)
    assert drawing.notes == ()
    graph = parse_dot(to_dot(drawing))
    assert "changed" in _marks(graph, network_of(graph, "Pool-wide network 2"))
    for host in ("xcp-host-01", "xcp-host-02", "xcp-host-03"):
        assert "replugged" in _marks(graph, node_of(graph, host, "eth2"))
        assert "replugged" not in _marks(graph, node_of(graph, host, "eth1"))
    to_web = [c for s, t, c in graph.edges if graph.nodes.get(t, [""])[0] == "web-01"]
    assert len(to_web) == 1 and "removed" in to_web[0]  # the VM drawn though --vms is off
    assert [lines[0] for n, lines in graph.nodes.items() if n.startswith("vm_")] == ["web-01"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_drift_marks_the_odd_hosts_and_what_they_lack(fmt: str, sim: Any) -> None:
    with connect(sim) as conn:
        docs_hook().make_drift(conn)
        snap = conn.snapshot()
    findings = drift(export_snapshot(snap))
    assert sorted(str(f.kind) for f in findings) == ["pif-unplugged", "vlan-missing"]
    graph = _read(drift_diagram(snap, findings), fmt)
    missing = node_of(graph, "xcp-host-03", "VLAN 105")
    assert "missing" in _marks(graph, missing)
    assert {t for s, t, _ in graph.edges if s == missing} == {network_of(graph, "VLAN 105")}
    assert "drift" in _marks(graph, node_of(graph, "xcp-host-02", "eth2"))
    for host in ("xcp-host-01", "xcp-host-02"):
        assert "missing" not in _marks(graph, node_of(graph, host, "VLAN 105"))
    assert "drift" not in _marks(graph, node_of(graph, "xcp-host-01", "eth2"))
    drift_mark = "outline#c62828" if fmt == "mermaid" else "drift"  # Mermaid: a red outline
    odd = {graph.clusters[c][0] for c in graph.clusters
           if drift_mark in graph.classes.get(c, set())}
    assert odd == {"xcp-host-02", "xcp-host-03"}
    notes = [lines[0] for n, lines in graph.nodes.items() if n.startswith("legend_")]
    assert any(n.startswith("[vlan-missing]") for n in notes)


def test_hosts_of_one_layout_fold_into_one_column_and_host_expands_one(sim: Any) -> None:
    sim.reset(scenario="big", hosts=10, vms=60, vlans=25, vifs=90)
    with connect(sim) as conn:
        snap = conn.snapshot()
    folded = pool_diagram(snap, vms=True)
    names = sorted(h.name_label for h in snap.hosts.values())
    assert sorted(h for g in folded.groups for h in g.hosts) == names  # each host once
    assert [len(g.hosts) for g in folded.groups] == [5, 5]  # 25 VLANs: 3 tags on 5 hosts
    assert folded.groups[0].label[0] == "5 hosts with this layout"
    assert folded.groups[0].hosts[0] == snap.hosts[snap.master].name_label
    assert any("60 VMs" in n for n in folded.notes)
    assert {n.label[0] for n in folded.nodes if n.id.startswith("vms_on_")} >= {"60 VMs"}
    expanded = pool_diagram(snap, expand=["xcp-big-003"])
    assert [g.hosts for g in expanded.groups if len(g.hosts) == 1] == [("xcp-big-003",)]
    assert sorted(h for g in expanded.groups for h in g.hosts) == names
    assert len(pool_diagram(snap, fold=False).groups) == 10
    assert len(pool_diagram(snap.__class__(), fold=True).groups) == 0


def test_an_unknown_host_to_expand_is_named_with_a_near_match(sim: Any) -> None:
    from xapictl.errors import UsageError

    with connect(sim) as conn:
        snap = conn.snapshot()
    with pytest.raises(UsageError, match=r"no host named 'xcp-host-1' .*did you mean"):
        pool_diagram(snap, expand=["xcp-host-1"])


def test_the_big_scenario_folds_into_two_columns(sim: Any) -> None:
    sim.reset(scenario="big")
    with connect(sim) as conn:
        snap = conn.snapshot()
    drawing = pool_diagram(snap, vms=True)
    assert [len(g.hosts) for g in drawing.groups] == [52, 12]
    assert len(drawing.nodes) < 80  # 64 hosts, 500 VMs: still a page
    graph = parse_mermaid(to_mermaid(drawing))
    assert len(graph.nodes) == len(drawing.nodes) + len(
        [n for n in graph.nodes if n.startswith("legend_")])


@pytest.mark.parametrize("text", ['a "quoted" name', "<b>#1</b> &amp;", "back\\slash", "x\ny",
                                  "end", "a --> b"])
def test_names_with_markup_characters_survive_every_format(text: str, sim: Any) -> None:
    session = sim.call("session.login_with_password", ["root", "xapictl"])
    sim.call("network.create", [session, {"name_label": text, "other_config": {}}])
    with connect(sim) as conn:
        snap = conn.snapshot()
    drawing = pool_diagram(snap)
    for graph in (parse_dot(to_dot(drawing)), parse_mermaid(to_mermaid(drawing))):
        names = [lines[0] for n, lines in graph.nodes.items() if n.startswith("net_")]
        assert text.split("\n")[0] in names


@pytest.mark.parametrize("recipe", sorted(p.name for p in (ROOT / "recipes").glob("*.yaml")
                                          if not p.name.startswith("local-")))
def test_every_recipes_plan_is_drawn_whole(recipe: str, sim: Any) -> None:
    """Each step of each XAPI recipe's plan has its place (no "not drawn" note), and a VLAN
    made pool-wide is on every host it is planned for — over a bond the plan makes too."""
    from xapictl.plan.steps.vlan import CreatePoolVLAN

    if recipe == "sriov-network.yaml":  # its NICs must be able to do SR-IOV
        sim.reset(scenario="sriov")
    with connect(sim) as conn:
        snap = conn.snapshot()
    plan = diff(load_file(ROOT / "recipes" / recipe), snap)
    drawing = plan_diagram(snap, plan)
    assert plan.steps and drawing.notes == ()
    graph = parse_dot(to_dot(drawing))
    for step in plan.steps:
        if isinstance(step, CreatePoolVLAN):
            for host in step.hosts:
                vlan = node_of(graph, host, f"VLAN {step.tag}")
                assert "added" in _marks(graph, vlan)
                trunk = [s for s, t, _ in graph.edges if t == vlan]
                assert len(trunk) == 1 and graph.members[trunk[0]] == graph.members[vlan]


def test_a_private_network_plan_draws_a_new_tunnel_over_eth2_on_every_host(sim: Any) -> None:
    from xapictl.plan.apply import converge
    from xapictl.plan.backend import XapiBackend
    from xapictl.recipes import ensure_deleted, ensure_private_network

    desired = ensure_private_network("Lab", "Pool-wide network 2", protocol="vxlan")
    with connect(sim) as conn:
        snap = conn.snapshot()
    drawing = plan_diagram(snap, diff(desired, snap))
    assert drawing.notes == ()
    graph = parse_dot(to_dot(drawing))
    hosts = sorted(h.name_label for h in snap.hosts.values())
    for host in hosts:
        tunnel = node_of(graph, host, "new tunnel")
        assert "added" in _marks(graph, tunnel) and "vxlan" in graph.nodes[tunnel]
        assert (node_of(graph, host, "eth2"), tunnel) in {(s, t) for s, t, _ in graph.edges}
    with connect(sim) as conn:
        converge(desired, XapiBackend(conn))
        snap = conn.snapshot()
    removal = diff(ensure_deleted({"name": "Lab", "tunnel": {"protocol": "vxlan",
                                                             "transport": "Pool-wide network 2"}}),
                   snap)
    graph = parse_dot(to_dot(plan_diagram(snap, removal)))
    for host in hosts:
        assert "removed" in _marks(graph, node_of(graph, host, "tunnel tunnel0"))
