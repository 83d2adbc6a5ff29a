"""Result values that need a wire form other than their Python type's default."""

from __future__ import annotations


class I4(int):
    """An int XAPI sends as ``<i4>`` over XML-RPC (only ``valid_ref_counts`` in ``event.from``);
    every other int goes out as an untyped ``<value>`` string."""


class Bare(list[object]):
    """A result sent without the ``Status``/``Value`` envelope (``system.listMethods``)."""


_BASES = {"x": 16, "o": 8, "b": 2, "u": 10}
_INT64_ERROR = "Int64.of_string"


def int64_of_string(text: str) -> int:
    """OCaml's ``Int64.of_string`` (runtime/ints.c ``caml_int64_of_string``), which xapi's
    ``rpc.ml`` ``int64_of_rpc`` applies to an int parameter sent as a string: an optional
    ``-``/``+``, an optional ``0x``/``0o``/``0b``/``0u`` prefix, a digit, then digits or ``_``.
    Decimal must fit a signed 64-bit int; the prefixed forms take up to 2**64-1 and wrap
    (``0xFFFFFFFFFFFFFFFF`` is -1). Anything else — spaces, an empty string, overflow — raises
    ``ValueError("Int64.of_string")``, OCaml's ``Failure`` text."""
    p, sign = 0, 1
    if text[:1] in ("-", "+"):
        sign, p = (-1 if text[0] == "-" else 1), 1
    base, signed = 10, True
    if text[p:p + 1] == "0" and text[p + 1:p + 2].lower() in _BASES:
        base, signed = _BASES[text[p + 1].lower()], False
        p += 2
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"[:base]
    if p >= len(text) or text[p].lower() not in digits:
        raise ValueError(_INT64_ERROR)
    value = 0
    for char in text[p:]:
        if char == "_":
            continue
        digit = digits.find(char.lower())
        if digit < 0:
            raise ValueError(_INT64_ERROR)
        value = value * base + digit
        if value >= 1 << 64:
            raise ValueError(_INT64_ERROR)
    if signed and value > (1 << 63) - (1 if sign > 0 else 0):
        raise ValueError(_INT64_ERROR)
    value = (sign * value) & ((1 << 64) - 1)
    return value - (1 << 64) if value >= 1 << 63 else value


__all__ = ["I4", "Bare", "int64_of_string"]
