"""The base of every generated enum: below both ``_base`` (records) and ``enums``.

``enums`` subclasses it and ``_base`` finds enum types in ``enums`` by name; keeping the base
class here is what keeps the two from importing each other.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Self


class XapiEnum(enum.StrEnum):
    """An enum that keeps XAPI's spelling and tolerates what a newer pool may send.

    Lookup is case-insensitive, as XAPI's own decoder is; an unknown value becomes a member
    created on the fly, so one new enum value on a newer pool does not fail a whole snapshot.
    """

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if not isinstance(value, str):
            return None
        lowered = value.lower()
        for member in cls:
            if member.value.lower() == lowered:
                return member
        extra = str.__new__(cls, value)
        extra._name_ = value.upper()
        extra._value_ = value
        return extra

    @classmethod
    def known(cls, value: str) -> bool:
        """Whether ``value`` names a real member (case-insensitive), not an on-the-fly one."""
        lowered = value.lower()
        return any(m.value.lower() == lowered for m in cls)


def make_enum(namespace: dict[str, object],
              table: Mapping[str, tuple[str, tuple[tuple[str, str], ...]]],
              name: str) -> type[XapiEnum]:
    """The enum ``name`` of a generated module (``namespace``, its globals), made from its
    ``table`` entry (docstring, members) the first time it is named and kept in the module
    from then on; ``AttributeError`` for a name the table does not hold."""
    found = table.get(name)
    if found is None:
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
    doc, members = found
    functional: Any = XapiEnum  # Enum's functional API: XapiEnum(name, members, …) is a class
    made: type[XapiEnum] = functional(name, members, module=namespace["__name__"],
                                      qualname=name)
    made.__doc__ = doc
    namespace[name] = made
    return made


__all__ = ["XapiEnum", "make_enum"]
