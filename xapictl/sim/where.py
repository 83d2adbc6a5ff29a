"""The filter language of the hidden ``get_all_records_where`` / ``get_all_where`` (§1.12).

    field "name__label" = "eth0 network" and not (field "MTU" = "9000")

Comparisons are string equality against the *database* serialisation of a field: namespaced
fields are spelt with a double underscore (``name__label``), bools ``true``/``false``, sets as
S-expressions ``('a' 'b')`` (empty ``()``), maps as ``(('k' 'v'))``. ``and``/``or`` are
left-associative with equal precedence. A parse error is ``INVALID_VALUE [expr, text]``; an
unknown field is ``INTERNAL_ERROR`` (only noticed when there is a row to test, as in XAPI).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from xapictl.model._types import TypeSpec, format_datetime
from xapictl.model.schema import ClassInfo
from xapictl.sim.errors import SimFailure

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]

# XAPI's lexer (db_filter_lex.mll): blanks are space, tab and newline only; each keyword is
# its letters wherever they stand (``andnot`` is ``and`` then ``not``; ``fields`` fails at
# its ``s``); a literal is any run of characters but ``"`` between two ``"``.
_BLANKS = " \t\n"
_TOKEN = re.compile(r'[ \t\n]*(?:(?P<str>"[^"]*")|(?P<word>field|and|or|not|true|false)'
                    r'|(?P<sym>[()=]))')
PARSE_ERROR_TEXT = "Parsing.Parse_error"

# Namespaces XAPI flattens with "__" in the database and "_" on the wire, per class. The name
# namespace exists in every class that has get_by_name_label (pool's name_label is plain).
_NAMESPACES: dict[str, tuple[str, ...]] = {
    "VM": ("VCPUs", "memory", "HVM", "PV", "actions"),
    "VIF": ("qos",),
    "VBD": ("qos",),
    "host": ("API_version",),
    "VM_metrics": ("VCPUs", "memory"),
    "host_metrics": ("memory",),
}


def _sexpr_atom(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def db_string(spec: TypeSpec, value: Any) -> str:
    """A value as XAPI's database stores it (what filter literals are compared with)."""
    if spec.kind == "set" and spec.item is not None:
        item = spec.item
        return "(" + " ".join(_sexpr_atom(db_string(item, v)) for v in value) + ")"
    if spec.kind == "map" and spec.key is not None and spec.item is not None:
        key, val = spec.key, spec.item
        pairs = (f"({_sexpr_atom(db_string(key, k))} {_sexpr_atom(db_string(val, v))})"
                 for k, v in value.items())
        return "(" + " ".join(pairs) + ")"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.16g}"
    if isinstance(value, _dt.datetime):
        return format_datetime(value)
    return str(value)


def db_field_names(info: ClassInfo) -> dict[str, str]:
    """Database field name → wire field name for one class."""
    names: dict[str, str] = {}
    for wire in info.fields:
        db = wire
        if info.has_name_label_namespace and wire in ("name_label", "name_description"):
            db = wire.replace("_", "__", 1)
        else:
            for ns in _NAMESPACES.get(info.name, ()):
                if wire.startswith(ns + "_"):
                    db = ns + "__" + wire[len(ns) + 1:]
                    break
        names[db] = wire
    return names


@dataclass(frozen=True, slots=True)
class _Value:
    field: str | None
    literal: str


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip(_BLANKS) == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None:
                raise ValueError(PARSE_ERROR_TEXT)
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ValueError(PARSE_ERROR_TEXT)
        self.i += 1
        return tok

    def parse(self) -> Any:
        tree = self.expr()
        if self.peek() is not None:
            raise ValueError(PARSE_ERROR_TEXT)
        return tree

    def expr(self) -> Any:
        left = self.term()
        while (tok := self.peek()) is not None and tok[1] in ("and", "or"):
            self.take()
            left = (tok[1], left, self.term())
        return left

    def term(self) -> Any:
        tok = self.peek()
        if tok is None:
            raise ValueError(PARSE_ERROR_TEXT)
        if tok[1] == "not":
            self.take()
            return ("not", self.term())
        if tok[1] == "(":
            self.take()
            inner = self.expr()
            self.take(")")
            return inner
        if tok[1] in ("true", "false"):
            self.take()
            return ("const", tok[1] == "true")
        left = self.value()
        self.take("=")
        return ("eq", left, self.value())

    def value(self) -> _Value:
        kind, text = self.take()
        if kind == "word" and text == "field":
            kind, text = self.take()
            if kind != "str":
                raise ValueError(PARSE_ERROR_TEXT)
            return _Value(text[1:-1], "")
        if kind != "str":
            raise ValueError(PARSE_ERROR_TEXT)
        return _Value(None, text[1:-1])


def compile_filter(expr: str, info: ClassInfo) -> Predicate:
    """Parse ``expr`` for class ``info``; the predicate takes a wire-keyed record."""
    try:
        tree = _Parser(expr).parse()
    except ValueError as exc:
        raise SimFailure("INVALID_VALUE", expr, str(exc)) from None
    names = db_field_names(info)

    def value_of(v: _Value, record: Record) -> str:
        if v.field is None:
            return v.literal
        wire = names.get(v.field)
        if wire is None:
            raise SimFailure("INTERNAL_ERROR", "Not_found")
        return db_string(info.fields[wire].spec, record[wire])

    def build(node: Any) -> Predicate:
        op = node[0]
        if op == "const":
            const = bool(node[1])
            return lambda r: const
        if op == "not":
            inner = build(node[1])
            return lambda r: not inner(r)
        if op == "eq":
            a, b = node[1], node[2]
            return lambda r: value_of(a, r) == value_of(b, r)
        left, right = build(node[1]), build(node[2])
        if op == "and":
            return lambda r: left(r) and right(r)
        return lambda r: left(r) or right(r)

    return build(tree)


__all__ = ["compile_filter", "db_field_names", "db_string"]
