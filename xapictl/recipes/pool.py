"""``ensure_pool_settings``: the pool-wide network settings (IGMP snooping)."""

from __future__ import annotations

from xapictl.plan.desired import DesiredState, PoolSpec, Where


def ensure_pool_settings(*, igmp_snooping: bool | None = None) -> DesiredState:
    """IGMP snooping on (``True``) or off on every bridge of the pool
    (``pool.set_igmp_snooping_enabled``, openvswitch); ``None`` leaves it alone."""
    from xapictl.plan.recipe_model import PoolEntry, entry_from_arguments

    source = "ensure_pool_settings()"
    spec = entry_from_arguments(PoolEntry, source, {"igmp_snooping": igmp_snooping}
                                ).spec(Where(source))
    if not isinstance(spec, PoolSpec):  # pragma: no cover - PoolEntry makes a PoolSpec
        raise TypeError(type(spec).__name__)
    return DesiredState(source=source, pool=spec)


__all__ = ["ensure_pool_settings"]
