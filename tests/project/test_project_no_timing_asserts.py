"""Tests assert logic, benchmarks measure time (issue 10, clause 10).

A test that asserts on a measured duration fails on a loaded machine (the 2-core build machine
runs six jobs at once): tests/client/test_client_loopback.py once failed on ``< 1.0`` s. Tests
bound the *work* instead (requests in the simulator's log, retries a ``RetryPolicy`` slept,
waits the simulator chose on a fake clock, calls counted), and timing figures live in
``tests/bench/`` (run by ``nox -s bench``; they print, they assert nothing).

This scan reads every test module's AST and fails on an ``assert`` that compares

* a duration: the difference of two clock readings (``time.monotonic()``, ``perf_counter()``,
  ``time.time()`` and their ``_ns`` forms, ``datetime.now()``, or a name, attribute or
  subscript assigned from one), or a name assigned from such a difference
  (``elapsed = perf_counter() - started``), or
* a clock reading against a sum or difference (``ended <= started + 0.6``,
  ``stamp > datetime.now() - timedelta(minutes=1)``): a duration bound in disguise.

Comparing clock readings with each other (``started <= steps[0]``: an order of events) is
fine, and so are deadline loops (``while time.monotonic() < deadline``: not an assert).

Escape hatch: an assert whose line ends with ``# duration-ok: REASON`` is allowed. There is
none today; a reviewer should ask why a count or a fake clock cannot do the job.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
CLOCKS = {"monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns", "time", "time_ns",
          "now", "utcnow", "process_time", "thread_time"}
ESCAPE = "# duration-ok:"


def _is_clock_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(
        func, ast.Name) else ""
    return name in CLOCKS


class _Scan(ast.NodeVisitor):
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.clocks: set[str] = set()  # names/targets holding a clock reading
        self.durations: set[str] = set()  # names/targets holding a difference of readings
        self.found: list[int] = []

    def _mentions(self, node: ast.AST, names: set[str]) -> bool:
        return any(ast.unparse(n) in names for n in ast.walk(node)
                   if isinstance(n, ast.Name | ast.Attribute | ast.Subscript))

    def _has_clock(self, node: ast.AST) -> bool:
        return any(_is_clock_call(n) for n in ast.walk(node)) or self._mentions(
            node, self.clocks)

    def _is_duration(self, node: ast.AST) -> bool:
        """A difference of two clock readings (a reading minus an offset is a reading)."""
        for n in ast.walk(node):
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) and (
                    self._has_clock(n.left) and self._has_clock(n.right)):
                return True
        return self._mentions(node, self.durations)

    def _assign(self, targets: list[ast.expr], value: ast.AST) -> None:
        names = {ast.unparse(t) for t in targets}
        if self._is_duration(value):
            self.durations |= names
        elif self._has_clock(value):
            self.clocks |= names

    def visit_Assign(self, node: ast.Assign) -> None:
        self._assign(node.targets, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assign([node.target], node.value)
        self.generic_visit(node)

    def visit_Assert(self, node: ast.Assert) -> None:
        for cmp in (n for n in ast.walk(node.test) if isinstance(n, ast.Compare)):
            sides = [cmp.left, *cmp.comparators]
            duration = any(self._is_duration(s) for s in sides)
            clock_vs_offset = any(self._has_clock(s) for s in sides) and any(
                isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add | ast.Sub)
                for s in sides for n in ast.walk(s))
            if (duration or clock_vs_offset) and ESCAPE not in self.lines[node.lineno - 1]:
                self.found.append(node.lineno)
                break
        self.generic_visit(node)


def timing_asserts(source: str) -> list[int]:
    """Line numbers of asserts on measured durations in ``source``."""
    scan = _Scan(source.splitlines())
    scan.visit(ast.parse(source))
    return scan.found


def _test_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py")
                  if "bench" not in p.relative_to(TESTS).parts[:1])


def test_no_test_asserts_on_a_measured_duration() -> None:
    found = [f"{p.relative_to(TESTS.parent)}:{line}" for p in _test_files()
             for line in timing_asserts(p.read_text(encoding="utf-8"))]
    assert found == [], ("these asserts compare wall-clock durations; bound the work "
                         f"(requests, attempts, calls) or use a fake clock instead: {found}")


@pytest.mark.parametrize("source", [
    "started = time.perf_counter()\nrun()\nassert 0.3 <= time.perf_counter() - started < 1.0",
    "t = monotonic()\nrun()\nelapsed = monotonic() - t\nassert elapsed < 5",
    "s = time.time()\nresult['waited'] = time.time() - s\nassert result['waited'] >= 4.5",
    "ended = time.monotonic()\nassert ended <= result['started'] + 0.6",
    "start = time.perf_counter_ns()\ntook = time.perf_counter_ns() - start\nassert took < 10**9",
    "start = datetime.now()\nassert (datetime.now() - start).total_seconds() < 1",
])
def test_the_scan_catches_duration_asserts(source: str) -> None:
    assert timing_asserts(source) != []


@pytest.mark.parametrize("source", [
    "deadline = time.monotonic() + 5\nwhile time.monotonic() < deadline:\n    poll()",
    "before = datetime.now() - timedelta(seconds=5)\nassert get_since(before) == {ref}",
    "steps = [time.monotonic()]\nassert result['started'] <= steps[0]",
    "assert len(control.request_log()) == 4",
    "assert sum(waits) == pytest.approx(0.3)",
    "t = time.monotonic()\nassert time.monotonic() - t < 9  # duration-ok: a reason",
])
def test_the_scan_lets_logic_through(source: str) -> None:
    assert timing_asserts(source) == []
