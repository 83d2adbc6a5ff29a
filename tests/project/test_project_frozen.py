"""Every ``xapictl._frozen.Frozen`` dataclass compares, hashes and prints exactly as the one the
dataclass decorator would have made from the same fields (its own ``__eq__``, ``__hash__`` and
``__repr__``), and stays frozen; a class that states ``eq=False, repr=False`` without the base
would fall back to identity, which is refused here too. Every ``@frozen`` class's shared
``__init__`` takes and fills in the same arguments as the decorator's compiled one."""

from __future__ import annotations

import dataclasses
import importlib
import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest

from xapictl._frozen import Frozen, Mutable, _declared, _Init, frozen

PACKAGE = Path(__file__).resolve().parents[2] / "xapictl"


def _modules() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "eq=False, repr=False" in text or "Frozen)" in text or "@frozen" in text or (
                "@mutable" in text):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def _subclasses(base: type = Frozen) -> list[type]:
    for name in _modules():
        importlib.import_module(name)
    found: list[type] = []
    todo = list(base.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.append(cls)
            todo += cls.__subclasses__()
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


CLASSES = _subclasses()
MUTABLE = _subclasses(Mutable)


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
    assert dataclasses.is_dataclass(cls)
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


@pytest.mark.parametrize("cls", MUTABLE, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_a_mutable_one_compares_and_prints_as_the_decorator_s(cls: type) -> None:
    fields = [(f.name, Any, dataclasses.field(compare=f.compare, repr=f.repr))
              for f in dataclasses.fields(cls)]
    twin = dataclasses.make_dataclass(cls.__name__, fields)
    twin.__qualname__ = cls.__qualname__
    names = [f.name for f in dataclasses.fields(cls)]
    values = {n: (i, f"v{i}") for i, n in enumerate(names)}
    a, b = _instance(cls, values), _instance(cls, dict(values))
    assert (a == b) is twin.__eq__(a, b) is True and repr(a) == twin.__repr__(a)
    for name in names:
        other = _instance(cls, {**values, name: ("other",)})
        assert (a == other) is twin.__eq__(a, other)
    assert cls.__hash__ is None is twin.__hash__
    setattr(a, names[0], "changed")
    assert getattr(a, names[0]) == "changed"


def test_the_mutable_classes_of_network_create_are_found() -> None:
    assert {"Planner", "ApplyReport", "StepResult", "GlobalOptions"} <= {
        c.__qualname__ for c in MUTABLE}


def test_a_recursive_value_prints_as_the_decorator_s() -> None:
    cls = next(c for c in CLASSES if c.__qualname__ == "Where")
    names = [f.name for f in dataclasses.fields(cls)]
    twin = _twin(cls)
    twin.__qualname__ = cls.__qualname__
    made, other = _instance(cls, dict.fromkeys(names, 0)), _instance(twin, dict.fromkeys(names, 0))
    object.__setattr__(made, names[0], [made])
    object.__setattr__(other, names[0], [other])
    assert repr(made) == repr(other) == f"Where({names[0]}=[...], {names[1]}=0)"


def _init_twin(cls: type) -> Any:
    """The decorator's dataclass of ``cls``'s fields with its compiled ``__init__``: the same
    defaults, factories, ``init`` and ``kw_only`` (and no ``__post_init__``)."""
    fields = []
    for f in dataclasses.fields(cls):
        extra: dict[str, Any] = {}
        if f.default is not dataclasses.MISSING:
            extra["default"] = f.default
        if f.default_factory is not dataclasses.MISSING:
            extra["default_factory"] = f.default_factory
        fields.append((f.name, Any, dataclasses.field(init=f.init, kw_only=f.kw_only, **extra)))
    return dataclasses.make_dataclass(cls.__name__, fields, frozen=True)


FROZEN_INIT = [c for c in CLASSES + MUTABLE if c.__init__.__qualname__ == "_init"]


def test_the_shared_init_serves_the_classes_of_network_create() -> None:
    assert {"NetworkSpec", "Plan", "CreatePoolVLAN", "PoolSnapshot"} <= {
        c.__qualname__ for c in FROZEN_INIT}


@pytest.mark.parametrize("cls", FROZEN_INIT, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_the_shared_init_takes_what_the_decorator_s_takes(cls: type) -> None:
    """Required fields by position and by keyword, every default and factory filled in,
    ``init=False`` fields as the decorator leaves them; and the same refusals."""
    twin, table = _init_twin(cls), _Init(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    needed = [f for f in fields if f.default is dataclasses.MISSING
              and f.default_factory is dataclasses.MISSING]
    positional = [f"p{i}" for i, f in enumerate(needed) if not f.kw_only]
    keywords = {f.name: f"k{i}" for i, f in enumerate(needed) if f.kw_only}
    assert table.values(tuple(positional), dict(keywords)) == vars(twin(*positional, **keywords))
    everything = {f.name: f"v{i}" for i, f in enumerate(fields)}
    assert table.values((), dict(everything)) == vars(twin(**everything))
    refusals: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((*positional, *["extra"] * (len(fields) + 1)), keywords),
        (tuple(positional), {**keywords, "no_such_field": 1})]
    if needed:
        refusals.append(((), {}))
    for args, kwargs in refusals:
        with pytest.raises(TypeError):
            twin(*args, **kwargs)
        with pytest.raises(TypeError):
            table.values(args, kwargs)


_FIELD_ATTRS = ("name", "default", "default_factory", "init", "repr", "hash", "compare",
                "kw_only")
SHOW = ("def show(value):\n"
        "    if value is dataclasses.MISSING:\n"
        "        return 'MISSING'\n"
        "    if callable(value):  # a factory: by name, the same in any process\n"
        "        return f'{value.__module__}.{value.__qualname__}'\n"
        "    return repr(value)\n")
"""How a field attribute is compared across processes (no addresses)."""
_names: dict[str, Any] = {"dataclasses": dataclasses}
exec(SHOW, _names)  # the same function here as in the fresh interpreter
_show = _names["show"]


def _declared_in_a_fresh_interpreter(classes: list[type]) -> list[Any]:
    """Each class's field table as the shared methods read it, before anything has made the
    class a dataclass (this process's tests have): name and the repr of each attribute."""
    import json
    import subprocess
    import sys

    code = ("import dataclasses, importlib, json, sys\n"
            "from xapictl._frozen import _declared\n" + SHOW +
            "out = []\n"
            "for spec in sys.argv[1:]:\n"
            "    module, name = spec.split(':')\n"
            "    cls = importlib.import_module(module)\n"
            "    for part in name.split('.'):\n"
            "        cls = getattr(cls, part)\n"
            "    made = isinstance(vars(cls)['__dataclass_fields__'], dict)\n"
            f"    out.append([made, [[show(getattr(f, a)) for a in {_FIELD_ATTRS!r}]\n"
            "                       for f in _declared(cls).values()]])\n"
            "print(json.dumps(out))\n")
    names = [f"{c.__module__}:{c.__qualname__}" for c in classes]
    done = subprocess.run([sys.executable, "-c", code, *names], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_each_field_table_is_the_decorator_s_fields() -> None:
    """The table the shared methods read from the declarations (no decorator run) is the
    decorator's ``fields()``: names, order, defaults, factories, flags."""
    classes = [c for c in CLASSES + MUTABLE if "<locals>" not in c.__qualname__]
    tables = _declared_in_a_fresh_interpreter(classes)
    for cls, (_, table) in zip(classes, tables, strict=True):
        expected = [[_show(getattr(f, a)) for a in _FIELD_ATTRS]
                    for f in dataclasses.fields(cls)]
        assert table == expected, cls.__qualname__
        # once made, the table still reads the same (from the decorator's fields)
        assert [[_show(getattr(f, a)) for a in _FIELD_ATTRS]
                for f in _declared(cls).values()] == expected
    # the comparison read the @frozen and @mutable classes' declarations (not the fields of a
    # class something made a dataclass at import: pydantic reads VifVlans's)
    read = [c for c, (made, _) in zip(classes, tables, strict=True)
            if c.__init__.__qualname__ == "_init" and not made]
    assert len(read) > 100


def test_a_field_spec_leaves_the_class_as_the_decorator_would_and_comes_back() -> None:
    @frozen
    class Spec(Frozen):
        size: int
        label: str = dataclasses.field(default="x", repr=False)
        tags: list[str] = dataclasses.field(default_factory=list, compare=False)
        limit: ClassVar[int] = 3

    made = Spec(1)
    assert (made.size, made.label, made.tags, Spec.label, Spec.limit) == (1, "x", [], "x", 3)
    assert "tags" not in vars(Spec) and repr(made).endswith(".Spec(size=1, tags=[])")
    assert made == Spec(1, tags=["other"]) and not isinstance(vars(Spec)[
        "__dataclass_fields__"], dict)
    fields = {f.name: f for f in dataclasses.fields(Spec)}  # the decorator runs now
    assert list(fields) == ["size", "label", "tags"]
    assert not fields["label"].repr and not fields["tags"].compare
    assert fields["tags"].default_factory is list and Spec.label == "x"


def test_post_init_runs_and_a_class_is_made_once_across_threads() -> None:
    seen: list[int] = []

    @frozen(kw_only=True)
    class Checked(Frozen):
        size: int
        tags: list[str] = dataclasses.field(default_factory=list)

        def __post_init__(self) -> None:
            seen.append(self.size)

    start = threading.Barrier(8)
    made: list[Checked] = []

    def make(i: int) -> None:
        start.wait(timeout=60)
        made.append(Checked(size=i))

    workers = [threading.Thread(target=make, args=(i,)) for i in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert sorted(seen) == list(range(8)) and len(made) == 8
    assert [f.name for f in dataclasses.fields(Checked)] == ["size", "tags"]
    assert made[0].tags is not made[1].tags
    with pytest.raises(dataclasses.FrozenInstanceError):
        made[0].size = 1  # type: ignore[misc]


def test_frozen_refuses_a_class_without_the_base_and_initvar() -> None:
    with pytest.raises(TypeError, match="must derive from Frozen"):
        frozen(type("Plain", (), {}))

    @frozen
    class WithInitVar(Frozen):
        secret: dataclasses.InitVar[str]

    with pytest.raises(TypeError, match="InitVar"):
        WithInitVar("x")  # type: ignore[call-arg]


def test_every_field_by_position_or_by_keyword_takes_the_short_way_to_the_same_object() -> None:
    @frozen
    class Pair(Frozen):
        left: int
        right: tuple[int, ...] = ()

    @frozen(kw_only=True)
    class Named(Frozen):
        name: str
        size: int = 0

    assert vars(Pair(1, (2,))) == vars(Pair(right=(2,), left=1)) == {"left": 1, "right": (2,)}
    assert vars(Pair(1)) == {"left": 1, "right": ()}
    assert vars(Named(size=3, name="a")) == {"name": "a", "size": 3}
    for wrong in (lambda: Pair(1, (2,), 3), lambda: Named("a", 3),  # type: ignore[call-arg,misc]
                  lambda: Pair(left=1, other=2)):  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            wrong()
