"""What a command-line run sets before it loads the CLI: fewer garbage collections.

A run of ``xapictl`` is mostly loading the modules of its command (typer's, then the
library's) and decoding one pool's answers: trees of new objects that live until the run
ends, which CPython's young collections (one every 700 new containers) walked again and again
for nothing, ~85 of them in a ``network create`` (issue 12). With ``fewer_collections`` a young
collection comes every ``YOUNG_GC_THRESHOLD`` instead; the older generations keep their own
thresholds, so a command that runs for long (``sim serve``) still collects in full. Once the
CLI is loaded, ``xapictl.cli.main`` also freezes what is loaded so far (``gc.freeze``): those
objects live as long as the process, and later collections skip them.

Stdlib only, imported before anything else: the console script and ``python -m xapictl`` both
start at ``xapictl.__main__.main``.
"""

from __future__ import annotations

import gc

YOUNG_GC_THRESHOLD = 100_000
"""Allocations between two young garbage collections in a command-line run."""


def fewer_collections() -> None:
    """Young collections every ``YOUNG_GC_THRESHOLD`` allocations (never more often than the
    process's own setting), the older generations' thresholds unchanged."""
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_GC_THRESHOLD), *older)


__all__ = ["YOUNG_GC_THRESHOLD", "fewer_collections"]
