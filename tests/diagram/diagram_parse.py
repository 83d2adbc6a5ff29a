"""Read a drawn diagram back into a graph, one reader per format, and what a pool's records
say the graph must be (from the simulator's records, not from xapictl's builder).

* DOT: the statements ``to_dot`` writes (one per line), attributes unquoted.
* SVG: Graphviz's own output. Clusters are boxes and nodes are drawn apart from them, so a
  node belongs to the host box that holds its text on the page (geometry, as a reader sees).
* Mermaid: ``subgraph``/``end`` blocks, node shapes, the four arrows, ``class`` statements.

Each gives a ``Graph``; ``semantic`` turns one into format-free facts: hosts, each host's
interfaces by label, networks by name, edges between them, and the marks of each.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class Graph:
    clusters: dict[str, list[str]] = field(default_factory=dict)
    """cluster id -> label lines."""
    members: dict[str, str] = field(default_factory=dict)
    """node id -> cluster id."""
    nodes: dict[str, list[str]] = field(default_factory=dict)
    """node id -> label lines."""
    classes: dict[str, set[str]] = field(default_factory=dict)
    """node or cluster id -> classes (kind and marks)."""
    edges: list[tuple[str, str, set[str]]] = field(default_factory=list)


# --- DOT -----------------------------------------------------------------------------------------

_STRING = r'"((?:[^"\\]|\\.)*)"'
_ATTR = re.compile(rf'(\w+)=(?:{_STRING}|([^,\]\s]+))')


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def _attrs(text: str) -> dict[str, str]:
    return {m.group(1): _unquote(m.group(2)) if m.group(2) is not None else m.group(3)
            for m in _ATTR.finditer(text)}


def parse_dot(text: str) -> Graph:
    graph = Graph()
    cluster: str | None = None
    lines = text.splitlines()
    assert lines[0] == "digraph pool {" and lines[-1] == "}", "one digraph"
    for line in lines[1:-1]:
        line = line.strip()
        if m := re.fullmatch(rf"subgraph {_STRING} \{{", line):
            cluster = _unquote(m.group(1)).removeprefix("cluster_")
            graph.clusters[cluster] = []
        elif line == "}":
            cluster = None
        elif cluster is not None and (m := re.fullmatch(rf"(\w+)={_STRING};", line)):
            if m.group(1) == "label":
                graph.clusters[cluster] = _unquote(m.group(2)).split("\n")
            elif m.group(1) == "class":
                graph.classes[cluster] = set(_unquote(m.group(2)).split())
        elif m := re.fullmatch(rf"{_STRING} -> {_STRING} \[(.*)\];", line):
            attrs = _attrs(m.group(3))
            graph.edges.append((_unquote(m.group(1)), _unquote(m.group(2)),
                                set(attrs.get("class", "").split())))
        elif m := re.fullmatch(rf"{_STRING} \[(.*)\];", line):
            node, attrs = _unquote(m.group(1)), _attrs(m.group(2))
            graph.nodes[node] = attrs["label"].split("\n")
            graph.classes[node] = set(attrs.get("class", "").split())
            if cluster is not None:
                graph.members[node] = cluster
        elif line.startswith(("graph [", "node [", "edge [")):
            continue
        else:
            raise AssertionError(f"unexpected DOT line: {line!r}")
    return graph


# --- SVG -----------------------------------------------------------------------------------------


def _numbers(element: Any) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for shape in element:
        raw = shape.get("points") or shape.get("d") or ""
        values = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", raw)]
        points += list(zip(values[::2], values[1::2], strict=False))
    return points


def parse_svg(data: bytes) -> Graph:
    root = ET.fromstring(data)
    graph = Graph()
    boxes: dict[str, tuple[float, float, float, float]] = {}
    texts: dict[str, list[tuple[str, float, float]]] = {}
    for g in root.iter(f"{SVG}g"):
        kinds = (g.get("class") or "").split()
        if not kinds or kinds[0] not in ("cluster", "node", "edge"):
            continue
        title = g.findtext(f"{SVG}title") or ""
        lines = [(t.text or "", float(t.get("x", 0)), float(t.get("y", 0)))
                 for t in g.iter(f"{SVG}text")]
        classes = set(kinds[1:])
        if kinds[0] == "cluster":
            ident = title.removeprefix("cluster_")
            graph.clusters[ident] = [t for t, _, _ in lines]
            graph.classes[ident] = classes
            xs, ys = zip(*_numbers(g), strict=True)
            boxes[ident] = (min(xs), min(ys), max(xs), max(ys))
        elif kinds[0] == "node":
            graph.nodes[title] = [t for t, _, _ in lines]
            graph.classes[title] = classes
            texts[title] = lines
        else:
            source, target = title.split("->")
            graph.edges.append((source, target, classes))
    for node, lines in texts.items():
        for cluster, (x0, y0, x1, y1) in boxes.items():
            if lines and all(x0 < x < x1 and y0 < y < y1 for _, x, y in lines):
                graph.members[node] = cluster
    return graph


# --- Mermaid -------------------------------------------------------------------------------------

_LABEL = r'"((?:[^"])*)"'
_SHAPES = r"(?:\(\[|\[\[|\(|\[)"
_ENDS = r"(?:\]\)|\]\]|\)|\])"
_ARROW = r"(-->|==>|-\.->|---)"


def _mermaid_text(text: str) -> list[str]:
    lines = text.split("<br/>")
    for code, raw in (("&quot;", '"'), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")):
        lines = [line.replace(code, raw) for line in lines]
    return lines


def parse_mermaid(text: str) -> Graph:
    graph = Graph()
    lines = text.splitlines()
    assert lines[:2] == ["---", lines[1]] and lines[1].startswith("title: ") and \
        lines[2:4] == ["---", "flowchart LR"], "front matter, then a flowchart"
    cluster: str | None = None
    marks_of: dict[str, str] = {}
    for line in lines[4:]:
        line = line.strip()
        if m := re.fullmatch(rf"subgraph (\w+)\[{_LABEL}\]", line):
            cluster = m.group(1)
            graph.clusters[cluster] = _mermaid_text(m.group(2))[0].split(" · ")
            graph.classes.setdefault(cluster, set())
        elif line == "end":
            cluster = None
        elif m := re.fullmatch(rf"(\w+) {_ARROW}(?:\|{_LABEL}\|)? (\w+)", line):
            graph.edges.append((m.group(1), m.group(4), {"arrow" + m.group(2)}))
        elif m := re.fullmatch(rf"(\w+){_SHAPES}{_LABEL}{_ENDS}", line):
            graph.nodes[m.group(1)] = _mermaid_text(m.group(2))
            graph.classes.setdefault(m.group(1), set())
            if cluster is not None:
                graph.members[m.group(1)] = cluster
        elif m := re.fullmatch(r"class ([\w,]+) (\w+)", line):
            for ident in m.group(1).split(","):
                marks_of[ident] = m.group(2)
        elif m := re.fullmatch(r"style (\w+) stroke:(#\w+),stroke-width:3px", line):
            graph.classes.setdefault(m.group(1), set()).add("outline" + m.group(2))
        elif line.startswith(("classDef ", "linkStyle ")):
            continue
        else:
            raise AssertionError(f"unexpected Mermaid line: {line!r}")
    for ident, mark in marks_of.items():
        graph.classes.setdefault(ident, set()).add(mark)
    return graph


# --- what the graph means ------------------------------------------------------------------------


@dataclass
class Facts:
    hosts: Counter[str]
    interfaces: Counter[tuple[str, str]]
    """(host, first label line)."""
    networks: Counter[str]
    edges: Counter[tuple[tuple[str, str], tuple[str, str]]]
    """((host or "network" or "vm", name), (…, name))."""


def _host_name(label: list[str]) -> str:
    return label[0].removesuffix(" (pool master)")


def semantic(graph: Graph) -> Facts:
    """Format-free facts of a drawn pool (one host per box: no folding)."""
    hosts = {c: _host_name(lines) for c, lines in graph.clusters.items() if c != "legend"}
    where: dict[str, tuple[str, str]] = {}
    for node, lines in graph.nodes.items():
        cluster = graph.members.get(node)
        if cluster == "legend" or node.startswith("legend_"):
            continue
        if cluster is not None:
            where[node] = (hosts[cluster], lines[0])
        elif node.startswith(("net_", "new_")):
            where[node] = ("network", lines[0])
        else:
            where[node] = ("vm", lines[0])
    return Facts(
        hosts=Counter(hosts.values()),
        interfaces=Counter(w for w in where.values() if w[0] not in ("network", "vm")),
        networks=Counter(w[1] for w in where.values() if w[0] == "network"),
        edges=Counter((where[s], where[t]) for s, t, _ in graph.edges
                      if s in where and t in where))


def expected(records: dict[str, dict[str, dict[str, Any]]]) -> Facts:
    """What the pool's records say must be drawn: ``records`` is ``{class: {ref: record}}``
    as ``get_all_records`` answers (the simulator's wire records)."""
    hosts = {ref: h["name_label"] for ref, h in records["host"].items()}
    nets = {ref: n["name_label"] for ref, n in records["network"].items()}
    pifs = records["PIF"]

    def name(ref: str) -> tuple[str, str]:
        p = pifs[ref]
        if int(p["VLAN"]) >= 0:
            label = f"VLAN {p['VLAN']}"
        elif p["tunnel_access_PIF_of"]:
            label = f"tunnel {p['device']}"
        elif p["sriov_logical_PIF_of"]:
            label = f"SR-IOV {p['device']}"
        else:
            label = p["device"]
        return hosts[p["host"]], label

    edges: Counter[tuple[tuple[str, str], tuple[str, str]]] = Counter()
    for ref, p in pifs.items():
        if p["bond_slave_of"] not in records["Bond"]:
            edges[(name(ref), ("network", nets[p["network"]]))] += 1
    for bond in records["Bond"].values():
        for member in bond["slaves"]:
            edges[(name(member), name(bond["master"]))] += 1
    for vlan in records["VLAN"].values():
        edges[(name(vlan["tagged_PIF"]), name(vlan["untagged_PIF"]))] += 1
    for tunnel in records["tunnel"].values():
        edges[(name(tunnel["transport_PIF"]), name(tunnel["access_PIF"]))] += 1
    for sriov in records.get("network_sriov", {}).values():
        edges[(name(sriov["physical_PIF"]), name(sriov["logical_PIF"]))] += 1
    return Facts(hosts=Counter(hosts.values()), interfaces=Counter(name(r) for r in pifs),
                 networks=Counter(nets.values()), edges=edges)


def node_of(graph: Graph, host: str, label: str) -> str:
    """The id of the one node in ``host``'s box whose label starts with ``label``."""
    boxes = {c for c, lines in graph.clusters.items() if lines and _host_name(lines) == host}
    found = [n for n, lines in graph.nodes.items()
             if graph.members.get(n) in boxes and lines[0] == label]
    assert len(found) == 1, (host, label, found)
    return found[0]


def network_of(graph: Graph, name: str) -> str:
    found = [n for n, lines in graph.nodes.items()
             if n not in graph.members and n.startswith(("net_", "new_")) and lines[0] == name]
    assert len(found) == 1, (name, found)
    return found[0]
