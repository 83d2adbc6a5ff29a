"""Which ``create`` is the generated constructor: only one whose single parameter is the class's
record. Hand-written constructors with their own parameters (``SR.create``, ``VTPM.create`` …)
that have no handler answer ``NOT_IMPLEMENTED`` like every other unimplemented custom message,
over the wire and as tasks — never an ``INTERNAL_ERROR`` from treating a string as a record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import XenAPI
from sim_engine_pool import make_sim, served, xenapi_login

from xapictl.model.schema import ClassInfo, ParamInfo, datamodel
from xapictl.sim import engine
from xapictl.sim.registry import HANDLERS

assert engine  # registers every class handler before HANDLERS is read


def custom_constructors() -> list[ClassInfo]:
    """Classes whose ``create`` takes its own parameters and has no simulator handler."""
    out = []
    for info in datamodel().classes.values():
        msg = info.messages.get("create")
        if msg is None or msg.wire_name in HANDLERS:
            continue
        if [p.type_text for p in msg.params] != [f"{info.name} record"]:
            out.append(info)
    return out


def well_typed(param: ParamInfo) -> Any:
    """A value of the parameter's type, so the call passes unmarshalling (step 4)."""
    spec = param.spec
    match spec.kind:
        case "enum":
            return datamodel().enums[spec.name][0]
        case "int":
            return 1
        case "float":
            return 1.0
        case "bool":
            return True
        case "set":
            return []
        case "map":
            return {}
        case "ref":
            return "OpaqueRef:NULL"
    return "x"


def arguments(info: ClassInfo) -> list[Any]:
    return [well_typed(p) for p in info.messages["create"].params]


CUSTOM = custom_constructors()


@pytest.fixture(scope="module")
def xen() -> Iterator[Any]:
    sim, _ = make_sim()
    with served(sim) as server, xenapi_login(server.url) as session:
        yield sim, session.xenapi


def test_the_datamodel_has_custom_constructors_without_a_handler() -> None:
    # Guards the parametrisation below against deriving an empty list.
    assert {"SR", "VTPM", "blob"} <= {info.name for info in CUSTOM}


@pytest.mark.parametrize("info", CUSTOM, ids=lambda i: i.name)
def test_a_custom_create_answers_not_implemented_with_its_name(xen: Any, info: ClassInfo) -> None:
    _, api = xen
    before = api.__getattr__(info.name).get_all()
    with pytest.raises(XenAPI.Failure) as caught:
        api.__getattr__(info.name).create(*arguments(info))
    assert caught.value.details == ["NOT_IMPLEMENTED", f"{info.name}.create"]
    assert api.__getattr__(info.name).get_all() == before


@pytest.mark.parametrize("info", [i for i in CUSTOM if i.messages["create"].has_async],
                         ids=lambda i: i.name)
def test_its_async_form_fails_the_task_with_not_implemented(xen: Any, info: ClassInfo) -> None:
    sim, api = xen
    task = api.Async.__getattr__(info.name).create(*arguments(info))
    sim.tasks.join(5)
    record = api.task.get_record(task)
    assert record["status"] == "failure"
    assert record["error_info"] == ["NOT_IMPLEMENTED", f"{info.name}.create"]


def test_generated_constructors_still_create() -> None:
    sim, _ = make_sim()
    with served(sim) as server, xenapi_login(server.url) as session:
        ref = session.xenapi.VM_appliance.create({"name_label": "app"})
        assert session.xenapi.VM_appliance.get_name_label(ref) == "app"
