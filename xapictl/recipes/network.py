"""``ensure_network``: a plain (internal) network, or the network of a NIC, as stated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from xapictl.plan.desired import DesiredState
from xapictl.recipes._build import build


def ensure_network(name: str, *, present: bool = True, description: str | None = None,
                   mtu: int | None = None, device: str | None = None,
                   managed: bool | None = None, automatic: bool | None = None,
                   default_locking_mode: str | None = None,
                   purpose: Sequence[str] | None = None,
                   other_config: Mapping[str, str] | None = None,
                   tags: Sequence[str] | None = None, adopt: bool = False,
                   replug: bool = False, rename: bool = False,
                   replug_management: bool = False) -> DesiredState:
    """A network named ``name``: internal (no ``device``) or external on the NIC ``device``.

    Unstated fields are left alone. ``adopt`` takes over a same-named network that xapictl
    did not make; ``present=False`` removes a network xapictl made. ``replug`` re-plugs what
    still carries the old ``mtu`` (the management interface only with ``replug_management``).
    The network of NIC ``device`` is named ``name`` already, or refused naming it
    (``rename=True`` renames it).
    """
    return build("networks", f"ensure_network({name!r})", name=name, present=present,
                 description=description, mtu=mtu, device=device, managed=managed,
                 automatic=automatic, default_locking_mode=default_locking_mode,
                 purpose=purpose, other_config=dict(other_config) if other_config else None,
                 tags=tags, adopt=adopt or None, replug=replug or None,
                 rename=rename or None, replug_management=replug_management or None)


__all__ = ["ensure_network"]
