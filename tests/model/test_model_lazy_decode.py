"""Records decoded field by field as they are read (``Record.from_xapi_lazy``) are the records
``from_xapi`` makes: same values and types, equal either way round, copied and pickled as
plain records, a bad value named when its field is read."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from xapictl.model import record_type
from xapictl.model.enums import VMPowerState
from xapictl.model.schema import datamodel
from xapictl.model.vm import VM

NAMES = sorted(datamodel().classes)

FILLED = {"name_label": "vm1", "VCPUs_max": "4", "is_a_template": True,
          "power_state": "Running", "actions_after_crash": "", "other_config": {"a": "b"},
          "VIFs": ["OpaqueRef:1", "OpaqueRef:2"], "start_time": "20240131T12:34:56Z",
          "memory_overhead": 1024, "blocked_operations": {"start": "no"}}


def _as_xmlrpc(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return [_as_xmlrpc(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_xmlrpc(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name", NAMES)
def test_every_field_read_lazily_is_what_from_xapi_decodes(name: str) -> None:
    cls = record_type(name)
    wire = cls().to_xapi()
    for raw in (wire, _as_xmlrpc(wire), {}):
        eager, lazy = cls.from_xapi(raw), cls.from_xapi_lazy(raw)
        assert isinstance(lazy, cls) and type(lazy) is not cls
        for py, _, _ in cls.wire_fields:
            assert getattr(lazy, py) == getattr(eager, py), py
            assert type(getattr(lazy, py)) is type(getattr(eager, py)), py
        assert lazy == eager and eager == lazy


def test_a_field_is_decoded_when_first_read_and_kept() -> None:
    vm = VM.from_xapi_lazy(FILLED)
    unread = VM.other_config  # the slot's descriptor: it does not decode
    with pytest.raises(AttributeError):
        unread.__get__(vm, VM)
    assert vm.power_state is VMPowerState.RUNNING and vm.vcpus_max == 4
    assert vm.other_config == {"a": "b"}
    assert unread.__get__(vm, VM) is vm.other_config  # now in its slot


def test_a_lazy_record_looks_like_an_eager_one() -> None:
    eager, lazy = VM.from_xapi(FILLED), VM.from_xapi_lazy(FILLED)
    assert repr(lazy) == repr(eager) and type(lazy).__name__ == "VM"
    assert lazy != VM.from_xapi({**FILLED, "name_label": "vm2"})
    assert lazy != "VM" and lazy == VM.from_xapi_lazy(dict(FILLED))
    for copied in (copy.copy(lazy), copy.deepcopy(lazy), pickle.loads(pickle.dumps(lazy))):
        assert type(copied) is VM and copied == eager
    changed = dataclasses.replace(lazy, name_label="renamed")
    assert changed.name_label == "renamed" and changed.vifs == eager.vifs
    assert dataclasses.asdict(lazy) == dataclasses.asdict(eager)
    assert lazy.to_xapi() == eager.to_xapi()
    with pytest.raises(AttributeError, match="'VM' object has no attribute 'nope'"):
        lazy.nope  # noqa: B018 - the read is the test
    with pytest.raises(dataclasses.FrozenInstanceError):
        lazy.name_label = "x"  # type: ignore[misc]


def test_a_bad_value_is_named_when_its_field_is_read() -> None:
    vm = VM.from_xapi_lazy({"name_label": "x", "VCPUs_max": "four"})
    assert vm.name_label == "x"
    with pytest.raises(ValueError, match=r"VM\.VCPUs_max: cannot read 'four'"):
        vm.vcpus_max  # noqa: B018 - the read is the test
