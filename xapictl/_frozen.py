"""``Frozen``: the shared ``__eq__``, ``__hash__`` and ``__repr__`` of frozen dataclasses.

The dataclass decorator writes each method it adds as source text and compiles it with
``exec``, per class, when the module is imported: six methods for a frozen dataclass
(``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``, ``__delattr__``), a few
hundred microseconds of CPU per class. ``network create`` imports some seventy of them (plan
steps and specs, retry policies, the wire's settings), a visible part of every run's start-up
(issue 12, ``docs/bench/main-job.md``). A class declared

    @dataclass(frozen=True, eq=False, repr=False)
    class Spec(Frozen):
        ...

gets the three compared, hashed and printed methods from here instead, built from its fields
once, on first use, without ``exec``; the decorator still writes ``__init__`` (its signature
is what type checkers and callers see) and the two frozen methods. They behave exactly as the
decorator's would: ``__eq__`` compares the fields with ``compare=True`` of two objects of the
same class (else ``NotImplemented``), ``__hash__`` hashes the fields a frozen dataclass hashes
(``hash=True``, or ``hash=None`` and ``compare=True``), ``__repr__`` is
``QualName(field=value, ...)`` of the fields with ``repr=True``, guarded against recursion.
``tests/project/test_project_frozen.py`` holds every subclass to a dataclass made the ordinary
way from the same fields.

Stdlib only, no xapictl import: every layer may use it.
"""

from __future__ import annotations

import dataclasses
import operator
import reprlib
from collections.abc import Callable
from typing import Any

_Values = Callable[[Any], tuple[Any, ...]]


def _getter(names: tuple[str, ...]) -> _Values:
    if len(names) >= 2:
        return operator.attrgetter(*names)
    if names:
        name = names[0]
        return lambda o: (getattr(o, name),)
    return lambda o: ()


class _Methods:
    """What one class's shared methods need, worked out from its fields once."""

    __slots__ = ("compared", "hashed", "shown")

    def __init__(self, cls: type) -> None:
        fields = dataclasses.fields(cls)
        self.compared = _getter(tuple(f.name for f in fields if f.compare))
        self.hashed = _getter(tuple(
            f.name for f in fields if (f.compare if f.hash is None else f.hash)))
        self.shown = tuple(f.name for f in fields if f.repr)


_made: dict[type, _Methods] = {}


def _methods(cls: type) -> _Methods:
    found = _made.get(cls)
    if found is None:
        found = _made[cls] = _Methods(cls)
    return found


class Frozen:
    """Base of frozen dataclasses declared with ``eq=False, repr=False`` (see the module)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        values = _methods(self.__class__).compared
        return values(self) == values(other)

    def __hash__(self) -> int:
        return hash(_methods(self.__class__).hashed(self))

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}"
                          for name in _methods(self.__class__).shown)
        return f"{self.__class__.__qualname__}({shown})"


__all__ = ["Frozen"]
