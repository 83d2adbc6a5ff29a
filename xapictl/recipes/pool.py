"""``ensure_pool_settings``: the pool-wide network settings (IGMP snooping)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from xapictl.errors import DesiredStateError
from xapictl.plan.desired import DesiredState, PoolSpec, Where, check


def ensure_pool_settings(*, igmp_snooping: bool | None = None,
                         sdn_controller: Mapping[str, object] | None = None) -> DesiredState:
    """IGMP snooping on (``True``) or off on every bridge of the pool
    (``pool.set_igmp_snooping_enabled``, openvswitch); the pool's SDN controller as
    ``{"protocol": "ssl", "address": "192.0.2.200", "port": 6632}`` (or ``pssl`` without
    address and port; ``{"present": False}`` removes it). ``None`` leaves a setting alone."""
    from xapictl.plan.recipe_model import PoolEntry, entry_from_arguments

    source = "ensure_pool_settings()"
    spec = entry_from_arguments(PoolEntry, source, {
        "igmp_snooping": igmp_snooping,
        "sdn_controller": dict(sdn_controller) if sdn_controller is not None else None,
    }).spec(Where(source))
    if not isinstance(spec, PoolSpec):  # pragma: no cover - PoolEntry makes a PoolSpec
        raise TypeError(type(spec).__name__)
    state = DesiredState(source=source, pool=spec)
    try:
        check(state)
    except DesiredStateError as exc:
        raise DesiredStateError([replace(p, where=source, field=p.field.removeprefix("pool."))
                                 for p in exc.details]) from None
    return state


__all__ = ["ensure_pool_settings"]
