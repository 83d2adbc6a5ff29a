"""``Async.*`` tasks (§1.10) and ``event.from`` (§1.13) over every wire: the official XenAPI
client on ``/``, ``/RPC2`` and the unix socket, raw JSON-RPC v1 and v2. The engine-level
counterparts are test_sim_tasks_async.py and test_sim_events_from.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sim_event_clock import fake_event_clock
from sim_wire_protocols import Wire, wire_fixture  # noqa: F401 - the fixture

TOKEN = re.compile(r"^\d{20},\d{20}$")


def wait_for_task(wire: Wire, session: str, task: str) -> dict[str, Any]:
    """Block on event.from for this task until it leaves ``pending``, as XenCenter does."""
    token = ""
    for _ in range(50):
        token = wire("event.from", session, [f"task/{task}"], token, 5.0)["token"]
        record: dict[str, Any] = wire("task.get_record", session, task)
        if record["status"] not in ("pending", "cancelling"):
            return record
    raise AssertionError("task never finished")


def test_async_task_is_pending_then_success_with_an_xmlrpc_fragment(wire: Wire) -> None:
    session = wire.login()
    wire.sim.task_delay = 0.3
    task = wire("Async.VM_appliance.create", session, {"name_label": "app"})
    pending = wire("task.get_record", session, task)
    assert pending["name_label"] == "Async.VM_appliance.create"
    assert (pending["status"], float(pending["progress"])) == ("pending", 0.0)
    assert str(pending["finished"]) == "19700101T00:00:00Z"
    assert "cancel" in pending["allowed_operations"]
    done = wait_for_task(wire, session, task)
    (ref,) = wire("VM_appliance.get_all", session)
    assert (done["status"], float(done["progress"])) == ("success", 1.0)
    assert done["result"] == f"<value>{ref}</value>"  # XML even for JSON clients
    assert done["error_info"] == [] and done["allowed_operations"] == []
    void = wire("Async.VM_appliance.destroy", session, ref)
    assert wait_for_task(wire, session, void)["result"] == "<value></value>"


def test_async_failure_and_rbac_denial_fail_the_task_not_the_call(wire: Wire) -> None:
    session = wire.login()
    task = wire("Async.VM_appliance.destroy", session, "OpaqueRef:gone")
    failed = wait_for_task(wire, session, task)
    assert failed["status"] == "failure" and failed["result"] == ""
    assert failed["error_info"] == ["HANDLE_INVALID", "VM_appliance", "OpaqueRef:gone"]
    reader = wire.login("rita")
    denied = wait_for_task(wire, reader, wire("Async.VM_appliance.create", reader,
                                              {"name_label": "x"}))
    assert denied["error_info"][:2] == ["RBAC_PERMISSION_DENIED", "vm_appliance.create"]


def test_task_cancel_and_destroy(wire: Wire) -> None:
    session = wire.login()
    wire.sim.task_delay = 30.0
    task = wire("Async.VM_appliance.create", session, {"name_label": "app"})
    assert wire("task.cancel", session, task) == ""
    cancelled = wait_for_task(wire, session, task)
    assert cancelled["status"] == "cancelled"
    assert cancelled["error_info"] == ["TASK_CANCELLED", task]
    assert wire("VM_appliance.get_all", session) == []
    assert wire.fails("task.cancel", session, task)[0] == "OPERATION_NOT_ALLOWED"
    assert wire("task.destroy", session, task) == ""
    assert wire.fails("task.get_record", session, task) == ["HANDLE_INVALID", "task", task]


def test_event_from_token_coalescing_and_del_without_snapshot(wire: Wire) -> None:
    session = wire.login()
    sr, vdi = wire.pool.sr, wire.pool.vdi
    first = wire("event.from", session, ["SR", "VDI"], "", 0.1)
    assert TOKEN.match(first["token"])
    assert {(e["class"], e["operation"]) for e in first["events"]} == {("sr", "add"),
                                                                      ("vdi", "add")}
    wire("SR.add_tags", session, sr, "one")
    wire("SR.add_tags", session, sr, "two")
    wire("VDI.destroy", session, vdi)
    batch = wire("event.from", session, ["sr", "vdi"], first["token"], 0.1)
    assert batch["token"] > first["token"]
    events = {(e["class"], e["operation"], e["ref"]): e for e in batch["events"]}
    assert set(events) == {("sr", "mod", sr), ("vdi", "del", vdi)}
    assert events[("sr", "mod", sr)]["snapshot"]["tags"] == ["two", "one"]
    assert "snapshot" not in events[("vdi", "del", vdi)]


def test_event_from_per_object_subscription_and_timeout(
        wire: Wire, monkeypatch: pytest.MonkeyPatch) -> None:
    session = wire.login()
    a, b = wire.pool.hosts[:2]
    token = wire("event.from", session, [f"host/{a}"], "", 0.1)["token"]
    wire("host.set_name_label", session, b, "other")
    with monkeypatch.context() as patch:
        waits = fake_event_clock(patch)
        quiet = wire("event.from", session, [f"host/{a}"], token, 0.5)
    # the change to b did not wake the subscription to a: it waited its whole timeout
    assert quiet["events"] == [] and sum(waits) == pytest.approx(0.5)
    wire("host.set_name_label", session, a, "watched")
    batch = wire("event.from", session, [f"host/{a}"], token, 0.5)
    assert [(e["operation"], e["ref"]) for e in batch["events"]] == [("mod", a)]
