"""The SVG loads in a real browser: headless Chromium (Debian's ``chromium`` package; .ci/run
installs it) opens a page showing the diagram as an image and as a document, and reports what
it found: the image's size, script errors, XML parse errors, and the text it laid out.

Skipped, with the reason, where Chromium or Graphviz is not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from diagram_pools import ROOT, connect, docs_hook, needs_dot

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

PAGE = """<!doctype html><html><body>
<img id="img" src="diagram.svg">
<object id="obj" type="image/svg+xml" data="diagram.svg"></object>
<pre id="result">not loaded</pre>
<script>
const errors = [];
window.addEventListener('error', e => errors.push(String(e.message || e.type)), true);
window.addEventListener('load', () => {
  const img = document.getElementById('img');
  const doc = document.getElementById('obj').contentDocument;
  const root = doc && doc.querySelector('svg');
  const box = root && root.getBBox();
  document.getElementById('result').textContent = JSON.stringify({
    width: img.naturalWidth, height: img.naturalHeight, errors,
    parseErrors: doc ? doc.getElementsByTagName('parsererror').length : -1,
    texts: doc ? [...doc.querySelectorAll('text')].map(t => t.textContent) : [],
    laidOut: doc ? [...doc.querySelectorAll('text')].filter(
      t => t.getBBox().width > 0).length : 0,
    box: box ? [box.width, box.height] : null});
});
</script></body></html>
"""


def _open_in_chromium(folder: Path) -> dict[str, Any]:
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--allow-file-access-from-files", f"--user-data-dir={folder / 'profile'}",
         "--virtual-time-budget=20000", "--dump-dom", (folder / "page.html").as_uri()],
        capture_output=True, text=True, timeout=180, check=False)
    found = re.search(r'<pre id="result">(.*?)</pre>', done.stdout, re.S)
    assert found is not None, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    text = found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace(
        "&gt;", ">").replace("&amp;", "&")
    assert text != "not loaded", "the page's load event never ran"
    result: dict[str, Any] = json.loads(text)
    return result


@needs_dot
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get "
                    "install chromium; .ci/run installs it)")
@pytest.mark.parametrize("which", ["pool", "drift"])
def test_the_svg_renders_in_headless_chromium_with_every_label(which: str, sim: Any,
                                                               tmp_path: Path) -> None:
    from xapictl.diagram.build import drift_diagram, pool_diagram
    from xapictl.diagram.render import DiagramFormat, render
    from xapictl.inventory.drift import drift
    from xapictl.inventory.export import export_snapshot

    with connect(sim) as conn:
        if which == "drift":
            docs_hook().make_drift(conn)
        snap = conn.snapshot()
    drawing = (pool_diagram(snap, vms=True) if which == "pool" else
               drift_diagram(snap, drift(export_snapshot(snap))))
    (tmp_path / "diagram.svg").write_bytes(render(drawing, DiagramFormat.SVG))
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    seen = _open_in_chromium(tmp_path)
    assert seen["errors"] == [] and seen["parseErrors"] == 0
    assert seen["width"] > 200 and seen["height"] > 200  # the <img> decoded it
    assert seen["box"] is not None and min(seen["box"]) > 200
    labels = [line for node in drawing.nodes for line in node.label]
    labels += [line for group in drawing.groups for line in group.label]
    assert set(labels) <= set(seen["texts"])
    assert seen["laidOut"] == len(seen["texts"])  # every text has a size on the page
    for name in ("xcp-host-01 (pool master)", "xcp-host-02", "Pool-wide network 0"):
        assert name in seen["texts"]


MERMAID_VERSION = "11.17.2"

MERMAID_PAGE = """<!doctype html><html><body><div id="out"></div>
<pre id="result">not loaded</pre>
<script src="node_modules/mermaid/dist/mermaid.min.js"></script>
<script>
const errors = [];
window.addEventListener('error', e => errors.push(String(e.message || e.type)), true);
mermaid.initialize({startOnLoad: false, securityLevel: 'strict'});
mermaid.render('diagram', TEXT).then(({svg}) => {
  document.getElementById('out').innerHTML = svg;
  const lines = e => [...e.childNodes].map(c => c.nodeName.toLowerCase() === 'br' ? '\\n'
    : c.nodeType === 3 ? c.textContent : lines(c)).join('');
  const labels = [...document.querySelectorAll(
    '#out .nodeLabel, #out .cluster-label, #out .edgeLabel')].map(lines);
  document.getElementById('result').textContent = JSON.stringify({errors, labels});
}).catch(e => {
  document.getElementById('result').textContent = JSON.stringify(
    {errors: [...errors, String((e && e.message) || e)], labels: []});
});
</script></body></html>
"""


@pytest.fixture(scope="module")
def mermaid_dir(interop_cache: Path) -> Path:
    """The ``mermaid`` npm package (the library GitHub and GitLab draw Mermaid with), cached."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is needed to fetch mermaid for the Mermaid rendering test")
    scratch = interop_cache / f"mermaid-{MERMAID_VERSION}"
    if not (scratch / "node_modules" / "mermaid" / "dist" / "mermaid.min.js").exists():
        scratch.mkdir(parents=True, exist_ok=True)
        (scratch / "package.json").write_text('{"name": "xapictl-mermaid", "private": true}')
        try:
            subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent",
                            f"mermaid@{MERMAID_VERSION}"], cwd=scratch, check=True,
                           capture_output=True, timeout=300)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            output = getattr(exc, "stderr", b"") or b""
            pytest.skip(f"npm install mermaid failed (offline?): {output.decode()[-300:]}")
    return scratch


@pytest.mark.requires_node
@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get "
                    "install chromium; .ci/run installs it)")
@pytest.mark.parametrize("which", ["pool", "plan", "drift", "names"])
def test_the_mermaid_text_renders_with_mermaid_js(which: str, sim: Any, tmp_path: Path,
                                                  mermaid_dir: Path) -> None:
    from xapictl.diagram.build import drift_diagram, plan_diagram, pool_diagram
    from xapictl.diagram.render import to_mermaid
    from xapictl.inventory.drift import drift
    from xapictl.inventory.export import export_snapshot
    from xapictl.plan.desired import load_file
    from xapictl.plan.diff import diff

    if which == "names":
        session = sim.call("session.login_with_password", ["root", "xapictl"])
        for name in ('a "quoted" <b>name</b> &amp;', "#1 end", "x --> y"):
            sim.call("network.create", [session, {"name_label": name, "other_config": {}}])
    with connect(sim) as conn:
        if which == "drift":
            docs_hook().make_drift(conn)
        snap = conn.snapshot()
    drawing = (drift_diagram(snap, drift(export_snapshot(snap))) if which == "drift" else
               plan_diagram(snap, diff(load_file(ROOT / "recipes" / "trunk-vlans.yaml"), snap))
               if which == "plan" else pool_diagram(snap, vms=True))
    folder = tmp_path / "page"
    folder.mkdir()
    (folder / "node_modules").symlink_to(mermaid_dir / "node_modules")
    (folder / "page.html").write_text(
        MERMAID_PAGE.replace("TEXT", json.dumps(to_mermaid(drawing))), encoding="utf-8")
    seen = _open_in_chromium(folder)
    assert seen["errors"] == []
    drawn = {line for label in seen["labels"] for line in label.split("\n")}
    for node in drawing.nodes:
        assert set(node.label) <= drawn, (node.label, sorted(drawn))
