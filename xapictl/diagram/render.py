"""Draw a ``Diagram``: Graphviz DOT and Mermaid as text (no program needed), SVG and PNG
through Graphviz's ``dot`` program (run by the ``graphviz`` Python package).

Every mark shows twice: as a style (colour, border) and in words (a ``(added)`` line in the
node, the legend), so the picture also reads in grey scale and as text. DOT nodes carry
``id`` (the node's id) and ``class`` (``kind-vlan added``) attributes, which Graphviz copies
into the SVG.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from pathlib import Path

from xapictl.diagram.model import LEGEND, Diagram, Edge, EdgeKind, Group, Kind, Mark, Node
from xapictl.errors import RendererMissing, UsageError


class DiagramFormat(enum.StrEnum):
    SVG = "svg"
    PNG = "png"
    DOT = "dot"
    MERMAID = "mermaid"

    @property
    def needs_graphviz(self) -> bool:
        return self in (DiagramFormat.SVG, DiagramFormat.PNG)

    @property
    def is_text(self) -> bool:
        return self is not DiagramFormat.PNG


SUFFIXES: dict[str, DiagramFormat] = {
    ".svg": DiagramFormat.SVG, ".png": DiagramFormat.PNG, ".dot": DiagramFormat.DOT,
    ".gv": DiagramFormat.DOT, ".mmd": DiagramFormat.MERMAID, ".md": DiagramFormat.MERMAID,
}


def format_for(path: Path, option: str = "--diagram") -> DiagramFormat:
    """The format a file name asks for by its suffix (``UsageError`` naming the choices)."""
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise UsageError(f"{option}: cannot tell the format from {path.name!r}; end the file "
                         "name in .svg, .png, .dot (or .gv), .mmd or .md (Mermaid)")
    return found


INSTALL = "apt-get install graphviz"


def require_graphviz(fmt: DiagramFormat, asked: str = "") -> None:
    """Check, before anything is read from a pool, that ``fmt`` can be drawn here. ``asked``
    names what asked for it in the message (default ``--format FMT``)."""
    if not fmt.needs_graphviz:
        return
    asked = asked or f"--format {fmt}"
    try:
        import graphviz
    except ImportError:
        raise RendererMissing(f"{asked} needs the graphviz Python package, which is not "
                              f"installed: pip install graphviz (and the dot program: "
                              f"{INSTALL}), or use --format dot or mermaid") from None
    try:
        graphviz.version()
    except graphviz.ExecutableNotFound:
        raise RendererMissing(f"{asked} needs Graphviz's dot program, which is not "
                              f"installed: {INSTALL} (Debian, Ubuntu), or use --format dot "
                              "or mermaid") from None


def render(diagram: Diagram, fmt: DiagramFormat) -> bytes:
    """The diagram in ``fmt``; ``RendererMissing`` when SVG/PNG cannot be drawn here."""
    if fmt is DiagramFormat.MERMAID:
        return to_mermaid(diagram).encode()
    if fmt is DiagramFormat.DOT:
        return to_dot(diagram).encode()
    require_graphviz(fmt)
    import graphviz

    image: bytes = graphviz.Source(to_dot(diagram)).pipe(format=str(fmt))
    return image


# --- styles ------------------------------------------------------------------------------------

FILL: dict[Kind, str] = {
    Kind.NIC: "#eceff1", Kind.BOND: "#e3f2fd", Kind.VLAN: "#f3e5f5", Kind.TUNNEL: "#fff3e0",
    Kind.SRIOV: "#e0f2f1", Kind.NETWORK: "#fffde7", Kind.VM: "#ffffff", Kind.VMS: "#ffffff",
}
SHAPE: dict[Kind, str] = {Kind.NETWORK: "oval", Kind.VM: "component", Kind.VMS: "folder"}

# mark -> (line colour, fill, dashed): the first mark of a node in this order decides
COLOURS: dict[Mark, tuple[str, str, bool]] = {
    Mark.REMOVED: ("#b71c1c", "#ffcdd2", True),
    Mark.MISSING: ("#c62828", "#ffffff", True),
    Mark.DRIFT: ("#c62828", "#ffcdd2", False),
    Mark.ADDED: ("#1b5e20", "#c8e6c9", False),
    Mark.REPLUGGED: ("#0d47a1", "#bbdefb", False),
    Mark.CHANGED: ("#e65100", "#ffe0b2", False),
    Mark.UNPLUGGED: ("#757575", "#f5f5f5", True),
    Mark.MANAGEMENT: ("#000000", "", False),
    Mark.MASTER: ("#000000", "", False),
}


def _colour(marks: Iterable[Mark]) -> tuple[str, str, bool] | None:
    marks = set(marks)
    return next((COLOURS[m] for m in COLOURS if m in marks), None)


def _classes(kind: str, marks: Iterable[Mark]) -> str:
    return " ".join([f"kind-{kind}".replace(" ", "-"),
                     *(m.value.replace("-", "") for m in Mark if m in set(marks))])


# --- DOT ---------------------------------------------------------------------------------------


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**values: object) -> str:
    return "[" + ", ".join(f"{k}={_q(str(v))}" for k, v in values.items() if v != "") + "]"


def _node_dot(node: Node, indent: str, kind: str = "") -> str:
    colour = _colour(node.marks)
    style = ["filled"] + (["rounded"] if node.kind not in SHAPE else [])
    attrs: dict[str, object] = {"id": node.id,
                                "class": _classes(kind or node.kind, node.marks),
                                "label": "\n".join(node.label),
                                "shape": SHAPE.get(node.kind, "box"),
                                "fillcolor": FILL[node.kind]}
    if colour is not None:
        line, fill, dashed = colour
        attrs.update(color=line, fontcolor=line if line != "#000000" else "",
                     penwidth=2.5, fillcolor=fill or FILL[node.kind])
        style += ["dashed"] if dashed else []
    if Mark.MANAGEMENT in node.marks:
        attrs["peripheries"] = 2
    attrs["style"] = ",".join(style)
    return f"{indent}{_q(node.id)} {_attrs(**attrs)};"


def _edge_dot(edge: Edge) -> str:
    colour = _colour(edge.marks)
    attrs: dict[str, object] = {"class": _classes(edge.kind, edge.marks), "label": edge.label}
    if edge.kind is EdgeKind.MEMBER:
        attrs["arrowhead"] = "none"
    if colour is not None:
        attrs.update(color=colour[0], penwidth=2.5, style="dashed" if colour[2] else "")
    return f"  {_q(edge.source)} -> {_q(edge.target)} {_attrs(**attrs)};"


def _group_dot(group: Group, nodes: list[Node]) -> list[str]:
    colour = _colour(group.marks - {Mark.MASTER})
    attrs = {"label": "\n".join(group.label), "id": group.id,
             "class": _classes("host", group.marks),
             "style": "rounded,bold" if Mark.MASTER in group.marks else "rounded"}
    if colour is not None:
        attrs.update(color=colour[0], penwidth="3")
    out = [f"  subgraph {_q('cluster_' + group.id)} {{"]
    out += [f"    {k}={_q(v)};" for k, v in attrs.items()]
    out += [_node_dot(n, "    ") for n in nodes]
    return [*out, "  }"]


def _legend_lines(diagram: Diagram) -> list[tuple[Mark | None, str]]:
    lines: list[tuple[Mark | None, str]] = [(m, f"{m}: {LEGEND[m]}") for m in diagram.marks]
    notes = list(diagram.notes)
    if len(notes) > 12:
        notes = [*notes[:11], f"… and {len(notes) - 11} more"]
    return lines + [(None, n) for n in notes]


def to_dot(diagram: Diagram) -> str:
    """Graphviz DOT text, left to right: NICs, bonds, VLANs, then networks, then VMs."""
    out = ["digraph pool {",
           f"  graph [label={_q(diagram.title)}, labelloc=t, fontname=Helvetica, "
           "fontsize=16, rankdir=LR, newrank=true, nodesep=0.25, ranksep=0.6];",
           "  node [fontname=Helvetica, fontsize=10];",
           "  edge [fontname=Helvetica, fontsize=9, color=\"#546e7a\"];"]
    by_group: dict[str | None, list[Node]] = {}
    for node in diagram.nodes:
        by_group.setdefault(node.group, []).append(node)
    for group in diagram.groups:
        out += _group_dot(group, by_group.get(group.id, []))
    out += [_node_dot(n, "  ") for n in by_group.get(None, [])]
    out += [_edge_dot(e) for e in diagram.edges]
    legend = _legend_lines(diagram)
    if legend:
        out += ['  subgraph "cluster_legend" {', '    label="Legend";', '    id="legend";',
                '    style="rounded";', '    color="#9e9e9e";']
        for i, (mark, text) in enumerate(legend):
            node = Node(f"legend_{i}", Kind.NIC, (text,), marks=frozenset(
                [mark] if mark is not None else []))
            line = _node_dot(node, "    ", "legend")
            if mark is None:
                line = f"    {_q(node.id)} {_attrs(id=node.id, label=text, shape='note')};"
            out.append(line)
        out.append("  }")
    return "\n".join([*out, "}", ""])


# --- Mermaid -------------------------------------------------------------------------------------


def _m(*lines: str) -> str:
    """A Mermaid label of these lines: HTML entities for what its syntax or its HTML labels
    would take (``&`` first; Mermaid's own ``#quot;`` codes are not decoded by its ``render``
    API), ``<br/>`` between lines (and for a newline inside a name)."""
    out = []
    for line in lines:
        for raw, code in (("&", "&amp;"), ('"', "&quot;"), ("<", "&lt;"), (">", "&gt;")):
            line = line.replace(raw, code)
        out.append(line.replace("\n", "<br/>"))
    return '"' + "<br/>".join(out) + '"'


MERMAID_SHAPES: dict[Kind, tuple[str, str]] = {
    Kind.NETWORK: ("([", "])"), Kind.VM: ("[[", "]]"), Kind.VMS: ("[[", "]]"),
}


def _node_mermaid(node: Node, indent: str) -> str:
    left, right = MERMAID_SHAPES.get(node.kind, ("(", ")"))
    return f"{indent}{node.id}{left}{_m(*node.label)}{right}"


def _class_defs() -> list[str]:
    out = []
    for mark, (line, fill, dashed) in COLOURS.items():
        style = f"stroke:{line},stroke-width:3px" + (f",fill:{fill}" if fill else "")
        style += ",stroke-dasharray:5 5" if dashed else ""
        out.append(f"  classDef {mark.value.replace('-', '')} {style}")
    return out


def to_mermaid(diagram: Diagram) -> str:
    """A Mermaid flowchart (paste it into Markdown in a ```mermaid block)."""
    out = ["---", f"title: {_m(diagram.title)}", "---", "flowchart LR"]
    by_group: dict[str | None, list[Node]] = {}
    for node in diagram.nodes:
        by_group.setdefault(node.group, []).append(node)
    marked: dict[str, list[str]] = {}
    group_styles: list[str] = []
    for group in diagram.groups:
        out.append(f"  subgraph {group.id}[{_m(' · '.join(group.label))}]")
        out += [_node_mermaid(n, "    ") for n in by_group.get(group.id, [])]
        out.append("  end")
        if colour := _colour(group.marks):  # an outline only: a fill would hide the rest
            group_styles.append(f"  style {group.id} stroke:{colour[0]},stroke-width:3px")
    out += [_node_mermaid(n, "  ") for n in by_group.get(None, [])]
    for node in diagram.nodes:
        if mark := next((m for m in COLOURS if m in node.marks), None):
            marked.setdefault(mark.value.replace("-", ""), []).append(node.id)
    styles: list[str] = []
    for i, edge in enumerate(diagram.edges):
        arrow = ("-.->" if Mark.REMOVED in edge.marks or Mark.MISSING in edge.marks else
                 "==>" if Mark.ADDED in edge.marks else "---" if edge.kind is EdgeKind.MEMBER
                 else "-->")
        label = f"|{_m(edge.label)}|" if edge.label else ""
        out.append(f"  {edge.source} {arrow}{label} {edge.target}")
        if colour := _colour(edge.marks):
            styles.append(f"  linkStyle {i} stroke:{colour[0]},stroke-width:3px")
    legend = _legend_lines(diagram)
    if legend:
        out.append(f"  subgraph legend[{_m('Legend')}]")
        for i, (mark, text) in enumerate(legend):
            out.append(f"    legend_{i}[{_m(text)}]")
            if mark is not None and mark in COLOURS:
                marked.setdefault(mark.value.replace("-", ""), []).append(f"legend_{i}")
        out.append("  end")
    out += _class_defs()
    out += [f"  class {','.join(ids)} {cls}" for cls, ids in sorted(marked.items())]
    return "\n".join([*out, *group_styles, *styles, ""])


def to_markdown(diagram: Diagram) -> str:
    """The Mermaid flowchart in a Markdown code block under a heading."""
    return f"## {diagram.title}\n\n```mermaid\n{to_mermaid(diagram)}```\n"


__all__ = ["INSTALL", "SUFFIXES", "DiagramFormat", "format_for", "render", "require_graphviz",
           "to_dot", "to_markdown", "to_mermaid"]
