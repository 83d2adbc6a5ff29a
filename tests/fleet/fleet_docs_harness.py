"""Reading the examples of docs/rollouts.md and docs/inventory.md, and checking a console
example's output against what the command really prints.

A console block is ``$ command`` lines each followed by the output the page shows. The page's
output matches when every shown line matches an actual line, in order (lines the page leaves
out are allowed); in a shown line ``…`` stands for any text and an ISO timestamp for any
timestamp. Literal values the page invents (URLs, paths, rollout ids) are mapped to the test's
own by ``replace`` before matching.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:\+00:00|Z)?")


@dataclass(frozen=True)
class Block:
    lang: str
    text: str

    @property
    def first_line(self) -> str:
        return self.text.splitlines()[0]


def blocks(page: str) -> list[Block]:
    """Every fenced block of a docs page, in order."""
    return [Block(m.group(1), m.group(2)) for m in _FENCE.finditer((DOCS / page).read_text())]


def block(page: str, lang: str, first_line_startswith: str) -> Block:
    """The one block of ``page`` in ``lang`` whose first line starts so."""
    found = [b for b in blocks(page)
             if b.lang == lang and b.first_line.startswith(first_line_startswith)]
    assert len(found) == 1, (page, lang, first_line_startswith, len(found))
    return found[0]


@dataclass(frozen=True)
class Command:
    argv: list[str]
    shown: list[str]


def commands(text: str, replace: Mapping[str, str] = {}) -> list[Command]:
    """The ``$ xapictl ...`` commands of a console block and the output shown after each.
    A command continued with a trailing backslash goes on on the next line."""
    for old, new in replace.items():
        text = text.replace(old, new)
    out: list[Command] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.startswith("$ "):
            assert out, f"output before the first command: {line!r}"
            out[-1].shown.append(line)
            continue
        cmd = line[2:]
        while cmd.endswith("\\"):
            cmd = cmd[:-1] + " " + lines[i].strip()
            i += 1
        argv = shlex.split(cmd, comments=True)
        out.append(Command(argv, []))
    return out


def _pattern(shown: str) -> re.Pattern[str]:
    parts = []
    for piece in re.split(f"([0-9a-f]*…|{_STAMP.pattern})", shown.rstrip()):
        if piece.endswith("…"):
            parts.append(".*?")
        elif piece and _STAMP.fullmatch(piece):
            parts.append(_STAMP.pattern)
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts) + r"\s*")


def assert_shown_in(shown: list[str], actual: str) -> None:
    """Every shown line (but a lone ``…``) matches an actual line, in the page's order."""
    lines = actual.splitlines()
    at = 0
    for want in shown:
        if want.strip() in ("", "…"):
            continue
        pattern = _pattern(want)
        while at < len(lines) and not pattern.fullmatch(lines[at]):
            at += 1
        assert at < len(lines), f"the page shows {want!r}; the command printed:\n{actual}"
        at += 1


__all__ = ["DOCS", "ROOT", "Block", "Command", "assert_shown_in", "block", "blocks", "commands"]
