"""A figure the docs quote comes from a benchmark's generated table, or says why not.

Benchmarks write their figures to ``docs/bench/<name>.md`` (``nox -s bench``) and the docs
include those files (``--8<-- "docs/bench/<name>.md"``). In the docs' own text (prose and
hand-written tables; code blocks, inline code and HTML comments are not text a reader takes as
a measurement) every number with a unit of time, size, rate or ratio (``ms``, ``s``, ``µs``,
``seconds``, ``minutes``, ``calls/s``, ``KB``, ``MB``, ``GB``, ``×``, ``x``) must be either

* written exactly so in a generated table (quoting a generated figure: it goes stale when the
  table is regenerated, and this test says so), or
* listed in ``CONSTANTS`` for its page with the reason it is not a measurement (a default,
  a protocol constant, a scenario's size or injected latency, a goal), or
* listed in ``NOT_YET_GENERATED``: hand-typed measurements of benchmarks that do not write a
  table yet. That list may only shrink: an entry the page no longer quotes fails the test.

Keys are the figure's text, not its line, so moving a sentence breaks nothing; a figure that
is a constant on one page and a measurement on another is listed per page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GENERATED = DOCS / "bench"

_NUMBER = r"~?\d[\d,]*(?:\.\d+)?"
_UNIT = r"(?:µs|us|ms|s|seconds?|minutes?|calls/s|requests/s|KB|MB|GB|×|x)"
FIGURE = re.compile(
    rf"(?<![\w.\-/]){_NUMBER}(?:\s*(?:/|–|-|to)\s*{_NUMBER})*\s?{_UNIT}(?![\w/])")
INCLUDE = re.compile(r'^\s*--8<--\s+"(docs/bench/[^"]+)"\s*$', re.M)  # a snippet line

# page -> figure -> why it is not a measurement
CONSTANTS: dict[str, dict[str, str]] = {
    "cli.md": {
        "30 s": "default connect timeout", "60 s": "default per-call timeout",
        "0.5 s": "shortest retry pause", "10 s": "default --lock-timeout",
    },
    "concepts.md": {
        "50 ms": "the benchmark's injected latency (a setting, not a result)",
    },
    "inventory.md": {
        "30 s": "a documented interval", "5 seconds": "a documented interval",
        "20 ms": "the fleet benchmark's injected latency (a setting)",
        "200 KB": "the size of one pool's export (an input)",
        "5 ms": "issue 12's goal per pool (a goal, not a result)",
    },
    "library.md": {
        "5 s": "a documented default", "10 s": "a documented default",
        "60 s": "default per-call timeout",
        "50 ms": "the benchmark's injected latency (a setting)",
    },
    "local-backend.md": {
        "1.5 s": "a documented timeout", "20 ms": "a documented poll interval",
        "30 s": "a documented timeout", "40 s": "a documented timeout",
        "1 s": "a documented interval", "31 s": "a documented bound",
        "15 s": "a documented interval", "2 s": "a documented interval",
        "1 ms": "the teardown pingers' echo interval (a setting)",
        "90 s": "a documented timeout (a DHCP client's start)",
    },
    "recipes.md": {"5 ×": "a retry count in an example", "2 ×": "a backoff factor",
                   "3 ×": "calls repeated per host in the recipes table (a count)"},
    "rollouts.md": {"60 s": "the write lease's lifetime (a default)"},
    "simulator-networking.md": {
        "2-3 s": "a documented carrier delay", "30 s": "a documented timeout",
    },
    "simulator.md": {
        "500 MB": "download size of an opt-in tier", "5 s": "a documented default",
        "50 ms": "an example latency setting", "0.25 s": "a documented default",
        "2 ms": "the round-trip counter's slack for the log's clock (a constant)",
        "10 s": "the server's per-read header timeout (a setting)",
        "60 s": "the server's whole-header timeout (a setting)",
        "120 s": "the default --idle-timeout (a setting)",
    },
    "unattended.md": {
        "10 s": "default --lock-timeout", "60 s": "lease lifetime",
        "15 s": "lease renewal interval", "45 s": "lease margin",
        "0.5 s": "shortest retry pause", "30 s": "default connect timeout",
        "1 s": "the clock skew a first lease record may have (CLOCK_SLACK, a constant)",
    },
}

# page -> hand-typed measurements from benchmarks that do not write a table yet (issue 12
# item 5: each benchmark should move to docs/bench/ and its page include it instead)
NOT_YET_GENERATED: dict[str, set[str]] = {
    "simulator-networking.md": {"2.13 s", "3.10 s"},  # the UML tier's carrier delays
}


def prose(markdown: str) -> str:
    """The text a reader takes as statements: without fenced code, inline code and HTML
    comments (line breaks kept, so line numbers stay right)."""
    def blank(match: re.Match[str]) -> str:
        return "\n" * match.group(0).count("\n")

    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", blank, markdown, flags=re.S | re.M)
    text = re.sub(r"<!--.*?-->", blank, text, flags=re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def figures(markdown: str) -> list[tuple[int, str]]:
    """``(line, figure)`` of every number with a unit in the page's prose."""
    return [(number, match.group(0))
            for number, line in enumerate(prose(markdown).splitlines(), 1)
            for match in FIGURE.finditer(line)]


def generated_figures(generated: str) -> set[str]:
    """Every figure of the generated tables, whole (``2.29/2.38/2.75 s``) and each of its
    numbers with the unit (``2.38 s``): what a page may quote from them."""
    found: set[str] = set()
    for match in FIGURE.finditer(generated):
        whole = match.group(0)
        found.add(whole)
        unit = re.search(rf"{_UNIT}$", whole)
        if unit:
            found |= {f"{number} {unit.group(0)}" for number in
                      re.findall(_NUMBER, whole[:unit.start()])}
    return found


def unexplained(pages: Mapping[str, str], generated: str,
                constants: Mapping[str, Mapping[str, str]],
                pending: Mapping[str, set[str]]) -> list[str]:
    """Every figure of ``pages`` that no generated table holds and no list explains, and
    every pending entry a page no longer quotes."""
    problems = []
    produced = generated_figures(generated)
    for page, text in sorted(pages.items()):
        quoted = figures(text)
        for line, figure in quoted:
            if figure in constants.get(page, {}) or figure in pending.get(page, set()):
                continue
            if figure in produced:
                continue
            problems.append(f"docs/{page}:{line}: {figure!r} is no benchmark's figure: "
                            "include the generated table (docs/bench/) instead, or list it "
                            "in CONSTANTS with the reason it is not a measurement")
        still = {figure for _, figure in quoted}
        problems += [f"docs/{page}: {figure!r} is listed in NOT_YET_GENERATED but no longer "
                     "quoted: remove it from the list" for figure in
                     sorted(pending.get(page, set()) - still)]
    return problems


def doc_pages() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md"))}


def generated_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(GENERATED.glob("*.md")))


# --- the docs as they are ---------------------------------------------------------------------

def test_every_figure_in_the_docs_comes_from_a_generated_table_or_says_why_not() -> None:
    problems = unexplained(doc_pages(), generated_text(), CONSTANTS, NOT_YET_GENERATED)
    assert not problems, "\n".join(problems)


def test_every_included_table_is_generated_and_every_generated_table_is_shown() -> None:
    included = {name for text in doc_pages().values() for name in INCLUDE.findall(text)}
    generated = {f"docs/bench/{p.name}" for p in GENERATED.glob("*.md")}
    assert included <= generated, f"included but never generated: {included - generated}"
    assert generated <= included, f"generated but no page shows it: {generated - included}"


def test_every_generated_table_says_where_and_when_it_was_measured() -> None:
    for table in sorted(GENERATED.glob("*.md")):
        text = table.read_text(encoding="utf-8")
        assert text.startswith("<!-- generated by tests/bench/bench_"), table
        machine = re.search(r"\*Measured (\d{4}-\d\d-\d\d) .* on (.+), (\d+) cores .*load "
                            r"average [\d.]+ before, [\d.]+ after\), Python (\d+\.\d+)", text)
        assert machine, f"{table.name}: no machine/load/date/Python line"
        script = ROOT / "tests" / "bench" / re.findall(r"tests/bench/(\S+\.py)", text)[0]
        assert script.exists(), f"{table.name}: written by {script.name}, which is gone"


def test_the_constants_still_name_figures_the_pages_quote() -> None:
    pages = doc_pages()
    stale = [f"{page}: {figure!r}" for page, listed in CONSTANTS.items()
             for figure in listed if figure not in {f for _, f in figures(pages[page])}]
    assert not stale, "listed in CONSTANTS but no longer quoted:\n" + "\n".join(stale)


# --- the rule itself, on synthetic pages --------------------------------------------------------

GENERATED_SAMPLE = "| xapictl | 54 | 16 | 2.25/2.41/2.57 s | 1.06/1.09/1.12 s |\n"


@pytest.mark.parametrize(("text", "found"), [
    ("takes 1.25 s of wall time", ["1.25 s"]),
    ("about 5,140 ms, ~847× slower", ["5,140 ms", "~847×"]),
    ("figures 2.25/2.41/2.57 s and 151 / 153 ms", ["2.25/2.41/2.57 s", "151 / 153 ms"]),
    ("4x faster, 250-270 µs per call, 2,065 calls/s, 4.4 MB", ["4x", "250-270 µs",
                                                              "2,065 calls/s", "4.4 MB"]),
    ("VLAN 105 on eth1, 64 hosts, 2 writes, issue 12", []),
    ("```\nreal 0m1.25s 3 s\n```\n`--timeout 30 s` <!-- 9 ms -->", []),
    ("interface eth1.5x, key a1s, v2.5s2", []),
])
def test_figures_are_numbers_with_a_unit_outside_code(text: str, found: list[str]) -> None:
    assert [figure for _, figure in figures(text)] == found


def test_a_hand_typed_figure_fails_and_names_its_line() -> None:
    problems = unexplained({"p.md": "intro\n\nIt takes 1.3 s.\n"}, GENERATED_SAMPLE, {}, {})
    assert len(problems) == 1
    assert problems[0].startswith("docs/p.md:3: '1.3 s' is no benchmark's figure")


def test_a_generated_figure_a_constant_or_a_pending_one_passes() -> None:
    page = "Measured 2.25/2.41/2.57 s; timeout 30 s; old 4.4 MB.\n"
    assert unexplained({"p.md": page}, GENERATED_SAMPLE, {"p.md": {"30 s": "a default"}},
                       {"p.md": {"4.4 MB"}}) == []
    # the same constant on another page is not explained there
    assert len(unexplained({"q.md": page}, GENERATED_SAMPLE, {"p.md": {"30 s": "a default"}},
                           {"q.md": {"4.4 MB"}})) == 1


def test_a_figure_counts_only_whole_not_inside_another() -> None:
    # "5 ms" is not in "95 ms"; the median of a min/median/max figure may be quoted alone
    assert len(unexplained({"p.md": "It takes 5 ms.\n"}, "| x | 95 ms |\n", {}, {})) == 1
    assert unexplained({"p.md": "Median 2.41 s.\n"}, GENERATED_SAMPLE, {}, {}) == []


def test_a_pending_figure_no_longer_quoted_fails() -> None:
    problems = unexplained({"p.md": "no figures now\n"}, "", {}, {"p.md": {"4.4 MB"}})
    assert problems == ["docs/p.md: '4.4 MB' is listed in NOT_YET_GENERATED but no longer "
                        "quoted: remove it from the list"]
