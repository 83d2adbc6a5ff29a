"""Result values that need a wire form other than their Python type's default."""

from __future__ import annotations


class I4(int):
    """An int XAPI sends as ``<i4>`` over XML-RPC (only ``valid_ref_counts`` in ``event.from``);
    every other int goes out as an untyped ``<value>`` string."""


class Bare(list[object]):
    """A result sent without the ``Status``/``Value`` envelope (``system.listMethods``)."""


__all__ = ["I4", "Bare"]
