"""House rules of the client layers: one module waits, the CLI-cheap import stays cheap."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "xapictl"
CLIENT_CODE = [*(PACKAGE / "xapi").glob("*.py"), *(PACKAGE / "client").glob("*.py"),
               PACKAGE / "state" / "collect.py", PACKAGE / "state" / "live.py",
               *(PACKAGE / "inventory").glob("*.py")]
SYNC_TYPES = {"Event", "Condition", "Barrier", "Semaphore", "BoundedSemaphore"}


def test_only_the_retry_module_sleeps() -> None:
    sleepers = [p.name for p in CLIENT_CODE
                if re.search(r"\btime\.sleep\b|\bsleep\(", p.read_text())
                and p.name != "retry.py"]
    assert sleepers == []


def _is_sync_type(expr: ast.expr | None) -> bool:
    return expr is not None and any(
        (n.attr if isinstance(n, ast.Attribute) else n.id) in SYNC_TYPES
        for n in ast.walk(expr) if isinstance(n, ast.Attribute | ast.Name))


def _name(expr: ast.expr) -> str:
    return expr.attr if isinstance(expr, ast.Attribute) else getattr(expr, "id", "")


def _timed_sync_waits(source: str) -> list[int]:
    """Lines where a ``threading`` Event/Condition/... is waited on with a timeout: a sleep in
    disguise (``stop.wait(delay)``). Its names are those assigned or annotated from those
    types in the file. Allowed, since they are no pause of ours: untimed waits (for another
    thread's signal), and waits on futures or task handles (bounded by the work itself)."""
    tree = ast.parse(source)
    synced: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and _is_sync_type(node.annotation):
            synced.add(node.arg)
        elif isinstance(node, ast.Assign) and _is_sync_type(node.value):
            synced |= {_name(t) for t in node.targets}
        elif isinstance(node, ast.AnnAssign) and (_is_sync_type(node.annotation)
                                                  or _is_sync_type(node.value)):
            synced.add(_name(node.target))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("wait", "wait_for")
            and (node.args[1:] if node.func.attr == "wait_for" else node.args) + node.keywords
            and _name(node.func.value) in synced]


def test_only_the_retry_module_waits_on_a_timer() -> None:
    waiters = {p.name: lines for p in CLIENT_CODE if p.name != "retry.py"
               for lines in [_timed_sync_waits(p.read_text())] if lines}
    assert waiters == {}


def test_the_timed_wait_check_sees_the_waits_it_forbids() -> None:
    forbidden = ("import threading\nclass S:\n    def __init__(self, stop: threading.Event"
                 " | None) -> None:\n        self.stop = stop or threading.Event()\n"
                 "    def run(self, delay: float) -> None:\n        self.stop.wait(delay)\n")
    cond = "import threading\nc = threading.Condition()\nc.wait_for(lambda: True, 5)\n"
    allowed = ("import threading\ng = threading.Barrier(2)\ng.wait()\n"
               "def f(backoff, stop: threading.Event) -> None:\n    backoff.wait(stop)\n")
    assert _timed_sync_waits(forbidden) == [6]
    assert _timed_sync_waits(cond) == [3]
    assert _timed_sync_waits(allowed) == []


def test_importing_xapictl_does_not_load_the_client() -> None:
    code = ("import sys, xapictl; assert callable(xapictl.connect); "
            "print(sorted(m for m in sys.modules if m.startswith('xapictl.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "xapictl.client" not in out and "xapictl.xapi" not in out and "httpx" not in out
