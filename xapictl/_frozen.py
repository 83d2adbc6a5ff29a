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

``frozen`` goes further: it leaves the decorator nothing to compile. Even with those three
methods shared, the decorator compiles ``__init__``, ``__setattr__`` and ``__delattr__`` for
every class a module declares, at import, although one run of ``network create`` makes objects
of about half of them. A class declared

    @frozen
    class Spec(Frozen):
        ...

is, to type checkers, ``@dataclass(frozen=True, eq=False, repr=False)`` (``dataclass_transform``:
the same fields, ``__init__`` signature, ``replace`` and read-only attributes). At run time:

- ``Frozen`` refuses assignment and deletion (``FrozenInstanceError``) for every subclass;
- ``__init__`` is one shared function, driven by a table of the class's fields (positional and
  keyword-only parameters, defaults, default factories, ``init=False`` fields,
  ``__post_init__``) made on the class's first object;
- that table is read from the class's declarations (``_declared``); the decorator itself runs
  (``init=False``: nothing compiled) only when something reads ``__dataclass_fields__``:
  ``dataclasses.fields``, ``is_dataclass``, ``replace``. A subclass makes its dataclass bases
  first, as the decorator needs. One lock covers the step, so two threads never make a class
  twice.

``frozen(kw_only=True)`` is the decorator's ``kw_only``. ``InitVar`` fields are refused.
``Mutable`` and ``mutable`` are the same for the few mutable dataclasses of the path (results
and builders filled in as a run goes): ``@dataclass`` to type checkers, fields assignable,
compared and printed as the decorator's ``__eq__`` and ``__repr__`` would, not hashable.
``tests/project/test_project_frozen.py`` holds every ``__init__`` to the decorator's too.

Stdlib only, no xapictl import: every layer may use it.
"""

from __future__ import annotations

import dataclasses
import inspect  # loaded with dataclasses, which imports it
import operator
import reprlib
import threading
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, dataclass_transform, get_origin, overload

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
        fields = _declared(cls).values()
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

    def __setattr__(self, name: str, value: object) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}"
                          for name in _methods(self.__class__).shown)
        return f"{self.__class__.__qualname__}({shown})"


class Mutable:
    """Base of mutable dataclasses declared with ``@mutable`` (see the module)."""

    __slots__ = ()
    __eq__ = Frozen.__eq__
    __hash__ = None  # type: ignore[assignment]  # as the decorator's, for eq without frozen
    __repr__ = Frozen.__repr__


_T = TypeVar("_T", bound=type)
_making = threading.RLock()
_MISSING = dataclasses.MISSING


class _Pending:
    """Stands in a class's ``__dataclass_fields__`` until the decorator has run on it."""

    __slots__ = ("cls", "kw_only", "specs")

    def __init__(self, cls: type, kw_only: bool) -> None:
        self.cls, self.kw_only = cls, kw_only
        self.specs: dict[str, dataclasses.Field[Any]] = {}  # field() values moved off the class

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        return _make(self.cls).__dict__["__dataclass_fields__"]


def _make(cls: type) -> type:
    """Run the dataclass decorator on ``cls`` if it has not run yet (bases first, by the
    decorator's own reading of their fields)."""
    with _making:
        pending = cls.__dict__.get("__dataclass_fields__")
        if isinstance(pending, _Pending):
            delattr(cls, "__dataclass_fields__")
            for name, spec in pending.specs.items():  # as declared, for the decorator to read
                setattr(cls, name, spec)
            # frozen=False: Frozen refuses assignment itself; init=False: the shared one.
            dataclasses.dataclass(cls, init=False, eq=False, repr=False,
                                  kw_only=pending.kw_only)
    return cls


class _Field:
    """What the shared methods need of one field: ``dataclasses.Field``'s attributes of the
    same names, ``kw_only`` resolved."""

    __slots__ = ("compare", "default", "default_factory", "hash", "init", "kw_only", "name",
                 "repr")

    default: Any
    default_factory: Any
    kw_only: bool

    def __init__(self, name: str, spec: Any, kw_only: bool) -> None:
        self.name = name
        if isinstance(spec, dataclasses.Field):
            self.default, self.default_factory = spec.default, spec.default_factory
            self.init, self.repr, self.hash, self.compare = (spec.init, spec.repr, spec.hash,
                                                             spec.compare)
            self.kw_only = kw_only if spec.kw_only is _MISSING else bool(spec.kw_only)
        else:
            self.default, self.default_factory = spec, _MISSING
            self.init, self.repr, self.hash, self.compare = True, True, None, True
            self.kw_only = kw_only


_fields: dict[type, dict[str, _Field]] = {}


def _kind(annotation: Any) -> str:
    """``ClassVar``, ``KW_ONLY``, ``InitVar`` or ``""`` (a field), of an annotation as the
    source wrote it (text, with ``from __future__ import annotations``) or as an object."""
    if isinstance(annotation, str):
        head = annotation.split("[", 1)[0].strip()
        head = head.removeprefix("typing.").removeprefix("dataclasses.")
        return head if head in ("ClassVar", "KW_ONLY", "InitVar") else ""
    if annotation is ClassVar or get_origin(annotation) is ClassVar:
        return "ClassVar"
    if annotation is dataclasses.KW_ONLY:
        return "KW_ONLY"
    return "InitVar" if isinstance(annotation, dataclasses.InitVar) else ""


def _declared(cls: type) -> dict[str, _Field]:
    """``cls``'s fields by name, in the decorator's order (its dataclass bases' first), read
    from the declarations without running the decorator: its work (a ``Field`` per field,
    each annotation resolved) was a visible part of every run's start-up (issue 12). The
    ``field()`` values move off the class as the decorator moves them (the default stays as
    the class attribute, or none), and back for the decorator when something reads
    ``__dataclass_fields__`` (``_make``). ``tests/project/test_project_frozen.py`` holds
    every class's table to the decorator's ``fields()``."""
    found = _fields.get(cls)
    if found is not None:
        return found
    with _making:
        own = cls.__dict__.get("__dataclass_fields__")
        if not isinstance(own, _Pending):  # the decorator ran: its fields are the answer
            fields = {f.name: _Field(f.name, f, bool(f.kw_only))
                      for f in dataclasses.fields(cls)}
        else:
            fields = {}
            for base in cls.__mro__[-1:0:-1]:
                if "__dataclass_fields__" in base.__dict__:
                    fields.update(_declared(base))
            kw_only = own.kw_only
            for name, annotation in inspect.get_annotations(cls).items():
                kind = _kind(annotation)
                if kind == "InitVar":
                    raise TypeError(f"@frozen class {cls.__qualname__}: InitVar is not "
                                    "supported")
                if kind == "KW_ONLY":
                    kw_only = True
                elif kind != "ClassVar":
                    spec = own.specs.get(name, cls.__dict__.get(name, _MISSING))
                    fields[name] = _Field(name, spec, kw_only)
                    if isinstance(spec, dataclasses.Field) and name not in own.specs:
                        own.specs[name] = spec
                        if spec.default is _MISSING:
                            delattr(cls, name)
                        else:
                            setattr(cls, name, spec.default)
        _fields[cls] = fields
    return fields


class _Init:
    """What ``__init__`` of one class does, worked out from its fields once."""

    __slots__ = ("all_positional", "cls", "defaults", "every", "names", "positional", "post_init",
                 "unset")

    def __init__(self, cls: type) -> None:
        fields = _declared(cls).values()
        self.cls = cls
        self.names = tuple(f.name for f in fields)
        self.positional = tuple(f.name for f in fields if f.init and not f.kw_only)
        # name -> (value, factory) for every field an argument may leave out
        self.defaults = {f.name: (f.default, f.default_factory) for f in fields
                         if f.default is not _MISSING or f.default_factory is not _MISSING}
        self.unset = frozenset(f.name for f in fields if not f.init)
        self.post_init = hasattr(cls, "__post_init__")
        # the common calls, every field given all by position or all by keyword: no defaults
        # to fill in (-1, None: a field that is not a parameter, or a keyword-only one)
        self.every = frozenset(self.names) if not self.unset else None
        self.all_positional = len(self.names) if self.positional == self.names else -1

    def values(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        name = self.cls.__qualname__
        if len(args) > len(self.positional):
            raise TypeError(f"{name}.__init__() takes {len(self.positional) + 1} positional "
                            f"arguments but {len(args) + 1} were given")
        given = dict(zip(self.positional, args, strict=False))
        for key, value in kwargs.items():
            if key not in self.names or key in self.unset:
                raise TypeError(f"{name}.__init__() got an unexpected keyword argument {key!r}")
            if key in given:
                raise TypeError(f"{name}.__init__() got multiple values for argument {key!r}")
            given[key] = value
        out: dict[str, Any] = {}
        missing = []
        for key in self.names:
            if key in given:
                out[key] = given[key]
            elif key in self.defaults:
                value, factory = self.defaults[key]
                if factory is not _MISSING:
                    out[key] = factory()
                elif key not in self.unset:  # as the decorator's: the class's value serves
                    out[key] = value
            elif key not in self.unset:
                missing.append(key)
        if missing:
            raise TypeError(f"{name}.__init__() missing {len(missing)} required argument(s): "
                            + ", ".join(repr(m) for m in missing))
        return out


_inits: dict[type, _Init] = {}


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = self.__class__
    plan = _inits.get(cls)
    if plan is None:
        plan = _inits[cls] = _Init(cls)
    if not kwargs and len(args) == plan.all_positional:
        self.__dict__.update(zip(plan.names, args, strict=True))
    elif not args and kwargs.keys() == plan.every:
        self.__dict__.update(kwargs)
    else:
        self.__dict__.update(plan.values(args, kwargs))
    if plan.post_init:
        self.__post_init__()


def _declare(cls: _T, kw_only: bool, base: type) -> _T:
    if not issubclass(cls, base):
        raise TypeError(f"@{base.__name__.lower()} class {cls.__qualname__} must derive from "
                        f"{base.__name__}")
    cls.__dataclass_fields__ = _Pending(cls, kw_only)  # type: ignore[attr-defined]
    if "__init__" not in cls.__dict__:
        cls.__init__ = _init  # type: ignore[method-assign]
    return cls


@overload
def frozen(cls: _T, /) -> _T: ...
@overload
def frozen(*, kw_only: bool = False) -> Callable[[_T], _T]: ...


@dataclass_transform(frozen_default=True, eq_default=True,
                     field_specifiers=(dataclasses.field, dataclasses.Field))
def frozen(cls: _T | None = None, /, *, kw_only: bool = False) -> _T | Callable[[_T], _T]:
    """``@dataclass(frozen=True, eq=False, repr=False)`` on a ``Frozen`` subclass, with nothing
    compiled (see the module)."""
    if cls is None:
        return lambda cls: _declare(cls, kw_only, Frozen)
    return _declare(cls, kw_only, Frozen)


@overload
def mutable(cls: _T, /) -> _T: ...
@overload
def mutable(*, kw_only: bool = False) -> Callable[[_T], _T]: ...


@dataclass_transform(eq_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def mutable(cls: _T | None = None, /, *, kw_only: bool = False) -> _T | Callable[[_T], _T]:
    """``@dataclass`` on a ``Mutable`` subclass, with nothing compiled (see the module)."""
    if cls is None:
        return lambda cls: _declare(cls, kw_only, Mutable)
    return _declare(cls, kw_only, Mutable)


__all__ = ["Frozen", "Mutable", "frozen", "mutable"]
