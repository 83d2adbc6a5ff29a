"""The base of every generated enum: below both ``_base`` (records) and ``enums``.

``enums`` subclasses it and ``_base`` finds enum types in ``enums`` by name; keeping the base
class here is what keeps the two from importing each other.
"""

from __future__ import annotations

import enum
from typing import Self


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


__all__ = ["XapiEnum"]
