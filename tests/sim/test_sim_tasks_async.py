"""Async.* calls as tasks (§1.10): the pending record, success with an XML-RPC fragment as
result (also for JSON clients), failure and cancellation with error_info, destroy, and waiting
for a task through event.from as real clients do."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from sim_engine_pool import JsonRpc, SimPool, failure, make_sim, served, session_of

from xapictl.sim.engine import Simulator
from xapictl.sim.tasks import xmlrpc_fragment
from xapictl.sim.values import I4

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def pool() -> SimPool:
    return make_sim()


def appliance() -> dict[str, Any]:
    return {"name_label": "app"}


def wait_for_task(sim: Simulator, session: str, task: str) -> dict[str, Any]:
    """Block on event.from for this task until it leaves ``pending`` (as XenCenter does)."""
    token = ""
    for _ in range(50):
        batch = sim.call("event.from", [session, [f"task/{task}"], token, 5.0])
        token = batch["token"]
        record: dict[str, Any] = sim.call("task.get_record", [session, task])
        if record["status"] not in ("pending", "cancelling"):
            return record
    raise AssertionError("task never finished")


def test_async_returns_a_pending_task_named_after_the_call(pool: SimPool) -> None:
    sim, p = pool
    sim.task_delay = 5.0
    with session_of(sim) as s:
        task = sim.call("Async.VM_appliance.create", [s, appliance()])
        record = sim.call("task.get_record", [s, task])
        assert record["name_label"] == "Async.VM_appliance.create"
        assert record["status"] == "pending" and record["progress"] == 0.0
        assert record["resident_on"] == p.hosts[0]
        assert "cancel" in record["allowed_operations"]
        assert record["finished"] == EPOCH and record["created"] > EPOCH
        sim.call("task.cancel", [s, task])
        sim.tasks.join(5)


def test_success_sets_progress_finished_and_an_xmlrpc_fragment_result(pool: SimPool) -> None:
    sim, _ = pool
    with session_of(sim) as s:
        task = sim.call("Async.VM_appliance.create", [s, appliance()])
        record = wait_for_task(sim, s, task)
        assert record["status"] == "success" and record["progress"] == 1.0
        assert record["finished"] >= record["created"]
        assert record["allowed_operations"] == []
        (ref,) = sim.call("VM_appliance.get_all", [s])
        assert record["result"] == f"<value>{ref}</value>"
        void = sim.call("Async.VM_appliance.destroy", [s, ref])
        assert wait_for_task(sim, s, void)["result"] == "<value></value>"


def test_failure_records_the_error_and_status_failure(pool: SimPool) -> None:
    sim, _ = pool
    with session_of(sim) as s:
        task = sim.call("Async.VM_appliance.destroy", [s, "OpaqueRef:gone"])
        record = wait_for_task(sim, s, task)
        assert record["status"] == "failure"
        assert record["error_info"] == ["HANDLE_INVALID", "VM_appliance", "OpaqueRef:gone"]
        assert record["result"] == ""


def test_errors_before_the_task_exists_are_answered_synchronously(pool: SimPool) -> None:
    sim, _ = pool
    with session_of(sim) as s:
        assert failure(sim.call, "Async.VM_appliance.destroy", [s]) == [
            "MESSAGE_PARAMETER_COUNT_MISMATCH", "VM_appliance.destroy", "1", "0"]
        assert failure(sim.call, "Async.VM_appliance.destroy", ["OpaqueRef:x", "y"]) == [
            "SESSION_INVALID", "OpaqueRef:x"]
        assert sim.call("task.get_all", [s]) == []


def test_cancel_of_a_pending_task_stops_the_operation(pool: SimPool) -> None:
    sim, _ = pool
    sim.task_delay = 30.0
    with session_of(sim) as s:
        task = sim.call("Async.VM_appliance.create", [s, appliance()])
        sim.call("task.cancel", [s, task])
        record = wait_for_task(sim, s, task)
        assert record["status"] == "cancelled"
        assert record["error_info"] == ["TASK_CANCELLED", task]
        assert sim.call("VM_appliance.get_all", [s]) == []
        assert failure(sim.call, "task.cancel", [s, task])[0] == "OPERATION_NOT_ALLOWED"


def test_task_destroy_removes_the_record(pool: SimPool) -> None:
    sim, _ = pool
    with session_of(sim) as s:
        task = sim.call("Async.VM_appliance.create", [s, appliance()])
        wait_for_task(sim, s, task)
        sim.call("task.destroy", [s, task])
        assert failure(sim.call, "task.get_status", [s, task]) == ["HANDLE_INVALID", "task", task]


def test_json_clients_get_the_xmlrpc_fragment_too(pool: SimPool) -> None:
    sim, _p = pool
    with served(sim) as server:
        rpc = JsonRpc(server.url)
        try:
            s = rpc("session.login_with_password", "root", "secret")
            task = rpc("Async.VM_appliance.create", s, appliance())
            assert task.startswith("OpaqueRef:")
            sim.tasks.join(5)
            record = rpc("task.get_record", s, task)
            assert record["status"] == "success"
            assert record["result"].startswith("<value>OpaqueRef:")
            assert record["progress"] == 1.0
        finally:
            rpc.close()


def test_fragment_encodes_like_xapi() -> None:
    assert xmlrpc_fragment(None) == "<value></value>"
    assert xmlrpc_fragment(1500) == "<value>1500</value>"
    assert xmlrpc_fragment(True) == "<value><boolean>1</boolean></value>"
    assert xmlrpc_fragment(0.5) == "<value><double>0.5</double></value>"
    assert xmlrpc_fragment(I4(3)) == "<value><i4>3</i4></value>"
    assert xmlrpc_fragment(["a", "b"]) == (
        "<value><array><data><value>a</value><value>b</value></data></array></value>")
    assert xmlrpc_fragment({"k": "<&>"}) == (
        "<value><struct><member><name>k</name><value>&lt;&amp;&gt;</value></member>"
        "</struct></value>")
    assert xmlrpc_fragment(EPOCH) == (
        "<value><dateTime.iso8601>19700101T00:00:00Z</dateTime.iso8601></value>")


def test_close_finishes_delayed_tasks_promptly(tmp_path: Path) -> None:
    sim = Simulator(password="secret", state_file=tmp_path / "pool.db")
    sim.task_delay = 60.0
    s = sim.call("session.login_with_password", ["root", "secret"])
    task = sim.call("Async.VM_appliance.create", [s, appliance()])
    sim.close()
    # close woke the worker out of its 60 s delay: it finished, it did not time out the join
    assert not [t for t in threading.enumerate()
                if t.name == f"sim-task-{task[-8:]}" and t.is_alive()]
    again = Simulator(password="secret", state_file=tmp_path / "pool.db")
    assert again.call("task.get_status", [s, task]) == "success"
    again.close()
