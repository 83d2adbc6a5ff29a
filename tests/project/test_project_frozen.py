"""Every ``xapictl._frozen.Frozen`` dataclass compares, hashes and prints exactly as the one the
dataclass decorator would have made from the same fields (its own ``__eq__``, ``__hash__`` and
``__repr__``), and stays frozen; a class that states ``eq=False, repr=False`` without the base
would fall back to identity, which is refused here too."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any

import pytest

from xapictl._frozen import Frozen

PACKAGE = Path(__file__).resolve().parents[2] / "xapictl"


def _modules() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "eq=False, repr=False" in text or "Frozen)" in text:
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def _subclasses() -> list[type]:
    for name in _modules():
        importlib.import_module(name)
    found: list[type] = []
    todo = list(Frozen.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.append(cls)
            todo += cls.__subclasses__()
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


CLASSES = _subclasses()


def _twin(cls: type) -> Any:
    """The dataclass the decorator makes of ``cls``'s fields, with its generated methods."""
    fields = [(f.name, Any, dataclasses.field(compare=f.compare, hash=f.hash, repr=f.repr))
              for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, fields, frozen=True)


def _instance(cls: type, values: dict[str, Any]) -> Any:
    made = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(made, name, value)
    return made


def test_the_frozen_classes_of_network_create_are_found() -> None:
    names = {c.__qualname__ for c in CLASSES}
    assert {"NetworkSpec", "DesiredState", "Plan", "XapiStep", "CreatePoolVLAN",
            "CreateNetwork", "RetryPolicy", "PoolSnapshot", "TypeSpec"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_eq_hash_and_repr_are_the_decorator_s(cls: type) -> None:
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    twin = _twin(cls)
    twin.__qualname__ = cls.__qualname__
    names = [f.name for f in dataclasses.fields(cls)]
    values = {n: (i, f"v{i}") for i, n in enumerate(names)}
    a, b = _instance(cls, values), _instance(cls, dict(values))
    assert (a == b) is twin.__eq__(a, b) is True
    assert hash(a) == twin.__hash__(a)
    assert repr(a) == twin.__repr__(a)
    for name in names:  # each field on its own: compared (and hashed) or not, as declared
        other = _instance(cls, {**values, name: ("other",)})
        assert (a == other) is twin.__eq__(a, other)
        assert (hash(a) == hash(other)) is (twin.__hash__(a) == twin.__hash__(other))
    assert a.__eq__(object()) is NotImplemented
    if names:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(a, names[0], 1)


def test_a_recursive_value_prints_as_the_decorator_s() -> None:
    cls = next(c for c in CLASSES if c.__qualname__ == "Where")
    names = [f.name for f in dataclasses.fields(cls)]
    twin = _twin(cls)
    twin.__qualname__ = cls.__qualname__
    made, other = _instance(cls, dict.fromkeys(names, 0)), _instance(twin, dict.fromkeys(names, 0))
    object.__setattr__(made, names[0], [made])
    object.__setattr__(other, names[0], [other])
    assert repr(made) == repr(other) == f"Where({names[0]}=[...], {names[1]}=0)"
