# Diagrams (run by tests/diagram/test_diagram_docs.py on the embedded pool, in a scratch folder).
xapictl pool diagram                                     # Mermaid text on stdout
xapictl pool diagram --out pool.svg --vms                # SVG (Graphviz), VMs and VIFs too
xapictl pool diagram --format png --out pool.png
xapictl pool diagram --format dot --out pool.dot         # DOT: no Graphviz needed
xapictl pool diagram --out pool.md                       # Mermaid in a Markdown file
xapictl pool diagram --fold --host xcp-host-02 --out folded.svg
xapictl plan recipes/trunk-vlans.yaml --diagram trunk-plan.svg    # exit 3
xapictl apply recipes/trunk-vlans.yaml --yes
xapictl drift --diagram drift.svg
xapictl pool diagram --out pool.jpeg                     # exit 2
