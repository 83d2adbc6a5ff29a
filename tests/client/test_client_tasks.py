"""Async calls: waited for through event.from, typed results, failure, cancellation, timeout."""

from __future__ import annotations

from typing import Any

import pytest

from xapictl.errors import TaskCancelled, TaskError, TaskFailed, TaskTimeout
from xapictl.model.network import Network
from xapictl.xapi.failures import VlanTagInvalid
from xapictl.xapi.tasks import TaskHandle


def _trunk(conn: Any) -> str:
    snap = conn.snapshot()
    return next(ref for ref, p in snap.pifs.items()
                if p.device == "eth1" and p.vlan == -1 and p.host == snap.master)


def test_wait_returns_the_decoded_result_and_destroys_the_task(conn: Any, sim: Any,
                                                               control: Any) -> None:
    handle = conn.call_async("network.create", {"name_label": "async", "other_config": {}})
    ref = handle.wait(timeout=10)
    assert ref.startswith("OpaqueRef:") and sim.state.exists("network", ref)
    assert not sim.state.exists("task", handle.ref)
    calls = control.methods_called()
    assert "event.from" in calls and "task.get_record" not in calls  # followed, not polled


def test_typed_async_results_are_typed_refs_and_records(conn: Any) -> None:
    pifs = conn.pools.invoke_async("create_VLAN_from_PIF", _trunk(conn),
                                   conn.networks.create(name_label="v77"), 77).wait(timeout=10)
    assert isinstance(pifs, tuple) and len(pifs) == 3
    assert all(conn.pifs.get_record(p).vlan == 77 for p in pifs)

    handle = conn.call_async("network.create", {"name_label": "x", "other_config": {}})
    created = handle.wait(timeout=10)
    record = conn.networks.get_record(created)
    assert isinstance(record, Network) and isinstance(record.mtu, int)


def test_a_failed_task_raises_task_failed_carrying_the_typed_failure(conn: Any) -> None:
    network = conn.networks.create(name_label="vlan-net")
    handle = conn.vlans.invoke_async("create", _trunk(conn), 5000, network)
    with pytest.raises(TaskFailed) as caught:
        handle.wait(timeout=10)
    assert isinstance(caught.value.failure, VlanTagInvalid)
    assert caught.value.failure.params == ["5000"]
    assert caught.value.task_ref == handle.ref


def _event_waits(control: Any) -> list[float]:
    """The timeout of every event.from the client sent (its last parameter)."""
    return [float(e["params"][-1]) for e in control.request_log()
            if e["method"] == "event.from"]


def test_a_slow_task_times_out_and_is_left_running(conn: Any, sim: Any, control: Any) -> None:
    sim.task_delay = 30.0
    handle = conn.call_async("network.create", {"name_label": "slow", "other_config": {}})
    control.clear_log()
    with pytest.raises(TaskTimeout):
        handle.wait(timeout=0.3)
    # the work is bounded: one look (no wait), then one wait of at most the timeout
    waits = _event_waits(control)
    assert len(waits) == 2 and waits[0] == 0 and 0 < waits[1] <= 0.3, waits
    assert sim.state.get("task", handle.ref)["status"] == "pending"
    handle.cancel()


def test_cancelling_a_pending_task_ends_it_cancelled(conn: Any, sim: Any) -> None:
    sim.task_delay = 30.0
    handle = conn.call_async("network.create", {"name_label": "cancel-me", "other_config": {}})
    handle.cancel()
    with pytest.raises(TaskCancelled):
        handle.wait(timeout=10)
    assert not any(n["name_label"] == "cancel-me" for n in sim.state.all("network").values())


def test_waiting_on_a_task_that_no_longer_exists_fails_at_once(conn: Any,
                                                                 control: Any) -> None:
    handle = conn.call_async("network.create", {"name_label": "gone", "other_config": {}})
    handle.wait(timeout=10)  # destroys it
    again = TaskHandle(conn.session, handle.ref, "network.create")
    control.clear_log()
    with pytest.raises(TaskError, match="does not exist"):
        again.wait(timeout=20)
    assert _event_waits(control) == [0]  # one look, no wait: "at once" is one request
