"""Network diagrams of a pool, of a plan and of drift (issue 18).

``build`` turns a snapshot (and a plan, or drift findings) into a graph model
(``model.Diagram``): pure, no I/O. ``render`` draws it as Graphviz DOT or Mermaid text (no
program needed), or as SVG/PNG through Graphviz's ``dot`` (the ``graphviz`` Python package
runs it; ``RendererMissing`` says how to install it when it is absent).
"""
