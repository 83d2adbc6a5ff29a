"""Diagrams from Python: the pool as SVG, a plan as Mermaid (run by
tests/diagram/test_diagram_docs.py against the simulator)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xapictl
from xapictl.diagram.build import plan_diagram, pool_diagram
from xapictl.diagram.render import DiagramFormat, render, to_mermaid
from xapictl.plan.desired import load_file
from xapictl.plan.diff import diff


def main(url: str, password: str, recipe: Path, **options: Any) -> tuple[bytes, str]:
    with xapictl.connect(url, password=password, **options) as conn:
        snap = conn.snapshot()  # read once; drawing is pure
    drawing = pool_diagram(snap, vms=True)  # a graph model: groups, nodes, edges, marks
    svg = render(drawing, DiagramFormat.SVG)  # Graphviz's dot; RendererMissing without it
    plan = diff(load_file(recipe), snap)  # nothing written
    return svg, to_mermaid(plan_diagram(snap, plan))  # the pool as the plan will leave it
