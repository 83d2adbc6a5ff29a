"""Turn ``ensure_*`` arguments into a validated ``DesiredState``: the arguments construct the
recipe entry model directly (``xapictl.plan.recipe_model``), so the rules and the messages are
the same as for a YAML file, each naming the argument instead of a file line."""

from __future__ import annotations

import re
from dataclasses import replace

from xapictl.errors import DesiredStateError, Problem
from xapictl.plan.desired import (
    DEVICE_PATTERN,
    NAME_MAX_BYTES,
    TEXT_MAX_BYTES,
    BondSpec,
    DesiredState,
    InterfaceSpec,
    ManagementSpec,
    NetworkSpec,
    PoolSpec,
    SdnControllerSpec,
    TunnelSpec,
    VIFSpec,
    Where,
    check,
    text_problem,
)


def build(section: str, source: str, **values: object) -> DesiredState:
    spec: (NetworkSpec | BondSpec | VIFSpec | TunnelSpec | PoolSpec | SdnControllerSpec
           | InterfaceSpec | ManagementSpec | None) = _plain_network(source, values) \
        if section == "networks" else None
    if spec is None:
        from xapictl.plan.recipe_model import SECTIONS, ManagementEntry, entry_from_arguments

        model = ManagementEntry if section == "management" else SECTIONS[section]
        spec = entry_from_arguments(model, source, values).spec(Where(source))
    state = DesiredState(
        networks=(spec,) if isinstance(spec, NetworkSpec) else (),
        bonds=(spec,) if isinstance(spec, BondSpec) else (),
        vifs=(spec,) if isinstance(spec, VIFSpec) else (), source=source,
        interfaces=(spec,) if isinstance(spec, InterfaceSpec) else (),
        management=spec if isinstance(spec, ManagementSpec) else None)
    try:
        check(state)
    except DesiredStateError as exc:
        raise DesiredStateError([_argument(p, source) for p in exc.details]) from None
    return state


_PLAIN_NETWORK = frozenset({"name", "present", "description", "vlan", "device", "bond", "mtu",
                            "other_config", "adopt", "rename"})
"""The ``ensure_*`` arguments ``_plain_network`` takes (what ``network create`` passes)."""


def _plain_network(source: str, values: dict[str, object]) -> NetworkSpec | None:
    """The network entry for arguments that every rule of the entry model plainly accepts
    (exact ``str``, ``int`` and ``bool`` values within its bounds and patterns), built
    without the model (pydantic builds its validators on first use: a few tens of
    milliseconds of a ``network create``); ``None`` for anything else, which the model then
    checks and words. ``tests/recipes`` holds both ways to the same spec."""
    given = {k: v for k, v in values.items() if v is not None}
    if not given.keys() <= _PLAIN_NETWORK or "other_config" in given:
        return None

    def text(key: str, limit: int = NAME_MAX_BYTES, *, multiline: bool = False) -> bool:
        value = given.get(key)
        return value is None or (type(value) is str and value != "" and not text_problem(
            value, limit, multiline=multiline))

    def number(key: str, low: int, high: int) -> bool:
        value = given.get(key)
        return value is None or (type(value) is int and low <= value <= high)

    device = given.get("device")
    if not ("name" in given and text("name") and text("bond")
            and text("description", TEXT_MAX_BYTES, multiline=True)
            and number("vlan", 0, 4094) and number("mtu", 68, 65535)
            and (device is None or (type(device) is str and DEVICE_PATTERN.fullmatch(device)))
            and all(type(given.get(k, False)) is bool for k in ("present", "adopt", "rename"))):
        return None
    return NetworkSpec(where=Where(source), **given)  # type: ignore[arg-type]


def _argument(problem: Problem, source: str) -> Problem:
    """``networks[0].vlan`` -> ``vlan``: the argument's name."""
    return replace(problem, where=source, field=re.sub(
        r"^(networks|bonds|vifs|interfaces)\[0\]\.?|^management\.", "", problem.field))


__all__ = ["build"]
