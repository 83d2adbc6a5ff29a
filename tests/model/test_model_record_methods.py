"""Every generated record behaves exactly as the frozen dataclass it was before (issue 12).

The generated classes write ``__init__`` out and take ``__eq__``, ``__hash__`` and
``__repr__`` from ``Record`` (the decorator's ``exec`` per method per class was start-up CPU).
Each one is held here to a dataclass made the ordinary way (``make_dataclass``, frozen, slots,
keyword-only) from the same fields: same signature, values, text, equality and hash.
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from typing import Any

import pytest

from xapictl.model import record_type
from xapictl.model._base import Record
from xapictl.model.schema import datamodel

CLASSES = sorted(datamodel().classes)


def _reference(cls: type[Record]) -> Any:
    spec = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.default is not dataclasses.MISSING:
            spec.append((f.name, f.type, dataclasses.field(default=f.default)))
        else:
            spec.append((f.name, f.type, dataclasses.field(default_factory=f.default_factory)))
    made = dataclasses.make_dataclass(cls.__name__, spec, frozen=True, slots=True,
                                      kw_only=True)
    made.__qualname__ = cls.__qualname__
    return made


def _values(record: Any) -> tuple[Any, ...]:
    return tuple(getattr(record, f.name) for f in dataclasses.fields(record))


@pytest.mark.parametrize("name", CLASSES)
def test_a_record_is_what_its_dataclass_would_be(name: str) -> None:
    cls = record_type(name)
    ref = _reference(cls)
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]

    # the signature: keyword-only, the same names in order, the same defaults
    mine = inspect.signature(cls).parameters
    theirs = inspect.signature(ref).parameters
    assert list(mine) == list(theirs) == names
    for param in mine.values():
        assert param.kind is inspect.Parameter.KEYWORD_ONLY
        other = theirs[param.name].default
        if other is not dataclasses.MISSING and repr(other) != "<factory>":
            assert param.default == other, param.name

    # defaults (a fresh value of a factory each time), text, equality
    assert _values(cls()) == _values(ref())
    assert repr(cls()) == repr(ref())
    assert cls() == cls()
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.default is dataclasses.MISSING:
            assert getattr(cls(), f.name) is not getattr(cls(), f.name)

    # any values: stored as given, the same text and hash, equal only field for field
    given = {n: f"value {i}" for i, n in enumerate(names)}
    record, other = cls(**given), ref(**given)
    assert _values(record) == tuple(given.values())
    assert repr(record) == repr(other)
    assert hash(record) == hash(other)
    assert record == cls(**given)
    for n in names:
        changed = {**given, n: "changed"}
        assert record != cls(**changed)
        assert (record == cls(**changed)) == (other == ref(**changed))
    assert record.__eq__(other) is NotImplemented  # another class, as a dataclass answers

    # an unhashable default (a map) makes the record unhashable, as before
    try:
        expected: object = hash(ref())
    except TypeError:
        expected = TypeError
    if expected is TypeError:
        with pytest.raises(TypeError):
            hash(cls())
    else:
        assert hash(cls()) == expected

    # frozen, no unknown keyword, replace and pickle as a dataclass
    if names:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, names[0], "x")
    with pytest.raises(TypeError):
        cls(not_a_field=1)
    assert dataclasses.is_dataclass(record)
    assert pickle.loads(pickle.dumps(record)) == record
    if names:
        assert getattr(dataclasses.replace(record, **{names[0]: "new"}), names[0]) == "new"
