"""Custom messages that are only named like accessors are not served as accessors (§1.11).

``host.set_power_on_mode(host, power_on_mode, power_on_config)`` looks like the setter of
``host.power_on_mode``; served generically it would write the wrong value into the field. The
list is derived from the datamodel here, independently of the simulator's own check.
"""

from __future__ import annotations

from typing import Any

import pytest
from sim_wire_protocols import Wire, wire_fixture, wire_pair_fixture  # noqa: F401 - fixtures

from xapictl.model.schema import ClassInfo, MessageInfo, datamodel
from xapictl.sim.registry import HANDLERS

PREFIXES = ("get_", "set_", "add_to_", "remove_from_", "add_", "remove_")


def _expected_params(info: ClassInfo, prefix: str, field_type: Any) -> list[str] | None:
    this = f"{info.name} ref"
    if prefix == "get_":
        return [this]
    if prefix == "set_":
        return [this, str(field_type)]
    if prefix in ("add_to_", "remove_from_"):
        if field_type.kind != "map":
            return None
        return [this, str(field_type.key)] + ([str(field_type.item)]
                                               if prefix == "add_to_" else [])
    if field_type.kind != "set":
        return None
    return [this, str(field_type.item)]


def _looks_like_an_accessor_but_is_not(info: ClassInfo, msg: MessageInfo) -> bool:
    for prefix in PREFIXES:
        if msg.name.startswith(prefix) and msg.name[len(prefix):] in info.fields:
            spec = info.fields[msg.name[len(prefix):]].spec
            want = _expected_params(info, prefix, spec)
            if want is not None:
                return [p.type_text for p in msg.params] != want
    return False


MISSHAPEN = sorted(
    msg.wire_name for info in datamodel().classes.values() for msg in info.messages.values()
    if not msg.implicit and msg.wire_name not in HANDLERS
    and _looks_like_an_accessor_but_is_not(info, msg))


def test_the_datamodel_has_such_messages_and_the_known_one_is_among_them() -> None:
    assert "host.set_power_on_mode" in MISSHAPEN


def _argument(type_text: str, wire: Wire) -> Any:
    """A well-typed argument for a parameter, so the call passes unmarshalling."""
    if type_text.endswith(" ref"):
        cls = type_text.removesuffix(" ref")
        refs = wire.sim.state.refs(cls)
        return refs[0] if refs else "OpaqueRef:NULL"
    if type_text.endswith(" map"):
        return {}
    if type_text.endswith(" set"):
        return []
    return {"int": 0, "float": 0.0, "bool": False}.get(type_text, "x")


@pytest.mark.parametrize("method", MISSHAPEN)
def test_a_misshapen_accessor_name_answers_not_implemented_and_changes_nothing(
        wire_pair: Wire, method: str) -> None:
    wire = wire_pair
    cls, _, name = method.partition(".")
    msg = datamodel().classes[cls].messages[name]
    session = wire.login()
    args = [_argument(p.type_text, wire) for p in msg.params]
    before = wire.sim.state.all(cls) and {r: dict(v) for r, v in wire.sim.state.all(cls).items()}
    assert wire.fails(method, session, *args) == ["NOT_IMPLEMENTED", method]
    after = wire.sim.state.all(cls) and {r: dict(v) for r, v in wire.sim.state.all(cls).items()}
    assert after == before


def test_set_power_on_mode_does_not_write_the_mode_field(wire: Wire) -> None:
    session = wire.login()
    host = wire.pool.hosts[0]
    wire.fails("host.set_power_on_mode", session, host, "wake-on-lan", {"k": "v"})
    assert wire("host.get_power_on_mode", session, host) == ""
