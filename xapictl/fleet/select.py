"""Selection expressions over a fleet: which pools a command acts on.

Grammar (case-sensitive names, keywords in either spelling)::

    expr  := term (("or" | "|" | ",") term)*
    term  := factor (("and" | "&") factor)*
    factor:= ("not" | "!") factor | "(" expr ")" | atom
    atom  := "tag:" NAME | "name:" GLOB | GLOB | "all"

``prod,lab`` is two names; ``tag:prod and not tag:canary``; ``par*`` is a glob on the pool name.
An expression that selects nothing is the caller's to refuse (``Fleet.select`` does).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Collection

from xapictl.errors import UsageError

Predicate = Callable[[str, Collection[str]], bool]
"""(pool name, pool tags) -> selected?"""

_TOKEN = re.compile(r"\s*(\(|\)|,|\||&|!|[^\s(),|&!]+)")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # pragma: no cover - the pattern matches any non-space character
            raise UsageError(f"cannot read selection {text!r} at {pos}")
        out.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise UsageError(f"selection {self.text!r} ends too early")
        self.i += 1
        return tok

    def parse(self) -> Predicate:
        if not self.toks:
            raise UsageError("empty selection; use 'all' to select every pool")
        pred = self.expr()
        if self.peek() is not None:
            raise UsageError(f"selection {self.text!r}: unexpected {self.peek()!r}")
        return pred

    def expr(self) -> Predicate:
        parts = [self.term()]
        while self.peek() in ("or", "|", ","):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (
            lambda n, t: any(p(n, t) for p in parts))

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self.peek() in ("and", "&"):
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else (
            lambda n, t: all(p(n, t) for p in parts))

    def factor(self) -> Predicate:
        tok = self.take()
        if tok in ("not", "!"):
            inner = self.factor()
            return lambda n, t: not inner(n, t)
        if tok == "(":
            inner = self.expr()
            if self.take() != ")":
                raise UsageError(f"selection {self.text!r}: missing ')'")
            return inner
        if tok in (")", ",", "|", "&", "and", "or"):
            raise UsageError(f"selection {self.text!r}: unexpected {tok!r}")
        return _atom(tok)


def _atom(tok: str) -> Predicate:
    if tok == "all":
        return lambda n, t: True
    if tok.startswith("tag:"):
        tag = tok[4:]
        if not tag:
            raise UsageError("'tag:' needs a tag name")
        return lambda n, t: tag in t
    pattern = tok[5:] if tok.startswith("name:") else tok
    return lambda n, t: fnmatch.fnmatchcase(n, pattern)


def parse_selection(text: str) -> Predicate:
    """Compile a selection expression; a malformed one is a ``UsageError`` naming the problem."""
    return _Parser(text).parse()


__all__ = ["Predicate", "parse_selection"]
