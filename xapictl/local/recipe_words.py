"""The words and limits of a ``local:`` recipe that both its loader (``desired``) and its
typed models (``recipe_model``) use: kept below both so neither imports the other back."""

from __future__ import annotations

FROM_UPLINK = "from-uplink"
"""A bridge's ``addresses:`` value meaning "move the uplink's addresses onto the bridge"."""
IFNAMSIZ = 15
"""The kernel's longest interface name (bytes, without the NUL)."""

__all__ = ["FROM_UPLINK", "IFNAMSIZ"]
