"""mkdocs hook: the pictures of docs/diagrams.md, drawn from the simulator at every docs build
(generated into the site, never committed, so never stale).

The SVGs need Graphviz's ``dot``: ``nox -s docs`` installs it on Debian when it runs as root,
and otherwise the build stops naming ``apt-get install graphviz``. ``generate()`` is what
tests/diagram/test_diagram_docs.py runs too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FOLDER = "images/diagrams"


@contextmanager
def simulated(scenario: str = "seed") -> Iterator[tuple[Any, Any]]:
    """(simulator, connection) on a fresh in-process pool of ``scenario``."""
    import xapictl
    from xapictl.sim.engine import Simulator
    from xapictl.sim.inprocess import InProcessTransport

    sim = Simulator(password="xapictl")  # noqa: S106 - the simulator's sandbox password
    sim.reset(scenario=scenario)
    try:
        with xapictl.connect("http://127.0.0.1", password="xapictl",  # noqa: S106
                             transport=InProcessTransport(sim)) as conn:
            yield sim, conn
    finally:
        sim.close()


def make_drift(conn: Any) -> None:
    """The drift example: VLAN 105 on eth1 of every host, then removed by hand on
    xcp-host-03, and eth2 unplugged on xcp-host-02."""
    snap = conn.snapshot()
    by_name = {h.name_label: ref for ref, h in snap.hosts.items()}
    network = conn.call("network.create", {"name_label": "VLAN 105", "other_config": {}})
    conn.call("pool.create_VLAN_from_PIF", snap.pif_on(snap.master, "eth1"), network, 105)
    snap = conn.snapshot()
    odd = snap.pif_on(by_name["xcp-host-03"], "eth1")
    conn.call("VLAN.destroy", snap.vlan_on(odd, 105))
    conn.call("PIF.unplug", snap.pif_on(by_name["xcp-host-02"], "eth2"))


def diagrams() -> dict[str, Any]:
    """The docs' diagrams (``Diagram`` models) by file stem."""
    from xapictl.diagram.build import drift_diagram, plan_diagram, pool_diagram
    from xapictl.inventory.drift import drift
    from xapictl.inventory.export import export_snapshot
    from xapictl.plan.desired import load_file
    from xapictl.plan.diff import diff

    out: dict[str, Any] = {}
    with simulated() as (_, conn):
        snap = conn.snapshot()
        out["seed-pool"] = pool_diagram(snap, vms=True)
        out["trunk-plan"] = plan_diagram(
            snap, diff(load_file(ROOT / "recipes" / "trunk-vlans.yaml"), snap))
    with simulated() as (_, conn):
        make_drift(conn)
        snap = conn.snapshot()
        out["drift"] = drift_diagram(snap, drift(export_snapshot(snap)))
    with simulated("big") as (_, conn):
        snap = conn.snapshot()
        out["big-pool"] = pool_diagram(snap, vms=True)
    return out


def generate() -> dict[str, bytes]:
    """``images/diagrams/<name>.svg`` (and the seed pool's Mermaid text) → content."""
    from xapictl.diagram.render import DiagramFormat, render, to_mermaid

    out: dict[str, bytes] = {}
    for name, drawing in diagrams().items():
        out[f"{FOLDER}/{name}.svg"] = render(drawing, DiagramFormat.SVG)
        if name == "seed-pool":
            out[f"{FOLDER}/{name}.mmd"] = to_mermaid(drawing).encode()
    return out


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    from xapictl.errors import RendererMissing

    try:
        made = generate()
    except RendererMissing as exc:
        raise PluginError(f"docs/hooks/diagrams.py: {exc}") from None
    for path, content in made.items():
        files.append(File.generated(config, path, content=content))
    return files
