"""The control plane: injected errors, drops before and after the commit, delays, latency,
the masked request log, counters, and the same controls over HTTP."""

from __future__ import annotations

import json
import xmlrpc.client

import httpx
import pytest

from xapictl.sim.control import Control, coverage_table, mask_params
from xapictl.sim.errors import SimFailure
from xapictl.sim.inprocess import InProcessTransport

PASSWORD = "xapictl"


@pytest.fixture
def control(sim) -> Control:
    return Control(sim)


@pytest.fixture
def client(sim, control):
    with httpx.Client(base_url="http://127.0.0.1", transport=InProcessTransport(sim, control),
                      timeout=30) as http:
        yield http


def call(client: httpx.Client, method: str, *params):
    body = client.post("/jsonrpc", json={"jsonrpc": "2.0", "method": method,
                                         "params": list(params), "id": 1}).json()
    if "error" in body:
        raise SimFailure(body["error"]["message"], *body["error"]["data"])
    return body["result"]


@pytest.fixture
def session(client) -> str:
    return call(client, "session.login_with_password", "root", PASSWORD)


def network_names(sim) -> list[str]:
    with sim.state.lock:
        return sorted(r["name_label"] for r in sim.state.all("network").values())


def test_error_fault_answers_the_code_and_params_then_retires(client, control, session):
    fault = control.inject_fault("network.get_all", error=["HOST_OFFLINE", "OpaqueRef:h"],
                                 times=1)
    with pytest.raises(SimFailure) as failure:
        call(client, "network.get_all", session)
    assert (failure.value.code, failure.value.params) == ("HOST_OFFLINE", ["OpaqueRef:h"])
    assert fault.fired == 1 and control.faults == []
    assert call(client, "network.get_all", session)  # retired after one hit


def test_a_fault_without_times_fires_for_ever(client, control, session):
    control.inject_fault("pool.get_all", error=["INTERNAL_ERROR", "x"])
    for _ in range(3):
        with pytest.raises(SimFailure):
            call(client, "pool.get_all", session)
    control.clear_faults()
    assert call(client, "pool.get_all", session)


def test_drop_before_processing_changes_nothing(client, control, session, sim):
    before = network_names(sim)
    control.inject_fault("network.create", "drop_before", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        call(client, "network.create", session, {"name_label": "lost", "other_config": {}})
    assert network_names(sim) == before
    assert control.request_log()[-1]["outcome"] == "dropped"


def test_drop_after_commit_keeps_the_change_but_loses_the_reply(client, control, session, sim):
    control.inject_fault("network.create", "drop_after", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        call(client, "network.create", session, {"name_label": "kept", "other_config": {}})
    assert "kept" in network_names(sim)
    assert control.request_log()[-1]["outcome"] == "dropped after success"


def test_drop_after_also_loses_the_reply_of_a_failed_call(client, control, session):
    control.inject_fault("network.destroy", "drop_after", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        call(client, "network.destroy", session, "OpaqueRef:nope")
    assert control.request_log()[-1]["outcome"] == "dropped after HANDLE_INVALID"


def test_async_calls_match_a_fault_on_the_plain_method(client, control, session):
    control.inject_fault("network.create", error=["INTERNAL_ERROR", "boom"], times=1)
    with pytest.raises(SimFailure):
        call(client, "Async.network.create", session, {"name_label": "a", "other_config": {}})


def test_faults_can_target_one_host(sim, control, session):
    control.inject_fault("*", error=["HOST_OFFLINE", "x"], host="127.0.0.2")
    with httpx.Client(base_url="http://127.0.0.1",
                      transport=InProcessTransport(sim, control)) as master:
        assert call(master, "pool.get_all", session)
    with httpx.Client(base_url="http://127.0.0.2",
                      transport=InProcessTransport(sim, control)) as member, \
            pytest.raises(SimFailure) as failure:
        call(member, "pool.get_all", session)
    assert failure.value.code == "HOST_OFFLINE"


def _recorded_waits(control: Control, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The control plane's one sleep, replaced by a recorder: what each call was made to
    wait, asserted exactly instead of timed (a loaded machine is slow, not wrong)."""
    waits: list[float] = []
    monkeypatch.setattr(control, "_sleep", waits.append)
    return waits


def test_delay_fault_and_latency_slow_calls_down(client, control, session, monkeypatch):
    waits = _recorded_waits(control, monkeypatch)
    control.inject_fault("pool.get_all", "delay", delay_ms=150, times=1)
    call(client, "pool.get_all", session)
    assert waits == [pytest.approx(0.15)]
    control.set_latency(400, jitter_ms=20)
    call(client, "pool.get_all", session)
    assert len(waits) == 2 and 0.38 <= waits[1] <= 0.42
    control.set_latency(0)
    call(client, "pool.get_all", session)
    call(client, "pool.get_all", session)  # the delay fault was spent (times=1)
    assert len(waits) == 2


def test_latency_can_be_per_host(sim, control, session, monkeypatch):
    waits = _recorded_waits(control, monkeypatch)
    control.set_latency(600, host="127.0.0.2")
    with httpx.Client(base_url="http://127.0.0.1",
                      transport=InProcessTransport(sim, control)) as master:
        call(master, "pool.get_all", session)
        assert waits == []
    with httpx.Client(base_url="http://127.0.0.2",
                      transport=InProcessTransport(sim, control)) as member:
        call(member, "system.listMethods")
        assert waits == [pytest.approx(0.6)]


def test_request_log_masks_passwords_and_records_outcomes(client, control, tmp_path, sim):
    session = call(client, "session.login_with_password", "root", PASSWORD, "1.0", "me")
    with pytest.raises(SimFailure):
        call(client, "session.login_with_password", "root", "wrong-password")
    call(client, "session.logout", session)
    log = control.request_log()
    assert [e["method"] for e in log] == ["session.login_with_password"] * 2 + ["session.logout"]
    assert log[0]["params"] == ["root", "******", "1.0", "me"]
    assert log[1]["outcome"] == "SESSION_AUTHENTICATION_FAILED"
    assert log[0]["outcome"] == "success" and log[0]["protocol"] == "jsonrpc"
    assert {"time", "host", "duration_ms"} <= set(log[0])
    assert PASSWORD not in json.dumps(log) and "wrong-password" not in json.dumps(log)


def test_request_log_file_is_json_lines(sim, tmp_path):
    path = tmp_path / "requests.jsonl"
    control = Control(sim, log_file=path)
    with httpx.Client(base_url="http://127.0.0.1",
                      transport=InProcessTransport(sim, control)) as http:
        call(http, "session.login_with_password", "root", PASSWORD)
        http.post("/", content=b"not xml")
    control.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(e["method"], e["outcome"]) for e in lines] == [
        ("session.login_with_password", "success"), ("", "malformed")]
    assert lines[0]["params"] == ["root", "******"]


def test_counters_count_calls_and_open_sessions(client, control, sim):
    sessions = [call(client, "session.login_with_password", "root", PASSWORD) for _ in range(2)]
    call(client, "pool.get_all", sessions[0])
    counters = control.counters()
    assert counters["calls"] == {"session.login_with_password": 2, "pool.get_all": 1}
    assert counters["open_sessions"] == sim.open_session_count() >= 2
    control.clear_log()
    assert control.counters()["calls"] == {}


def test_mask_params_knows_password_parameters_from_the_datamodel():
    assert mask_params("session.login_with_password", ["u", "p"]) == ["u", "******"]
    assert mask_params("session.change_password", ["s", "old", "new"]) == ["s", "******",
                                                                           "******"]
    assert mask_params("network.get_all", ["s"]) == ["s"]
    assert mask_params("session_login_with_password", ["u", "p"]) == ["u", "******"]
    assert mask_params("Async.pool.join", ["s", "10.0.0.1", "root", "pw"]) == [
        "s", "10.0.0.1", "root", "******"]


def test_pool_controls_move_the_master_and_reset_the_scenario(sim_server, sim):
    control = sim_server.control
    old_url = sim_server.url
    member = next(ref for ref, url in sim_server.urls.items() if url != old_url)
    reply = httpx.post(sim_server.url + "/_sim/control",
                       json={"action": "designate_master", "host": member})
    assert reply.status_code == 200
    assert sim.master_address() == "127.0.0.2"
    assert sim_server.url == sim_server.urls[member]  # the URL follows the master
    body = xmlrpc.client.dumps(("root", PASSWORD), "session.login_with_password")
    old_master = xmlrpc.client.loads(httpx.post(old_url, content=body).text)[0][0]
    assert old_master["ErrorDescription"] == ["HOST_IS_SLAVE", "127.0.0.2"]
    control.reset("single")
    assert len(sim.host_addresses()) == 1


def test_control_over_http_sets_latency_and_reads_the_log(sim_server):
    url = sim_server.url + "/_sim/control"
    assert httpx.post(url, json={"action": "latency", "ms": 50}).status_code == 200
    body = xmlrpc.client.dumps(("root", PASSWORD), "session.login_with_password")
    waits: list[float] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sim_server.control, "_sleep", waits.append)
        httpx.post(sim_server.url, content=body)
    assert waits == [pytest.approx(0.05)]
    log = httpx.post(url, json={"action": "log"}).json()["result"]
    assert log[-1]["params"] == ["root", "******"]


def test_coverage_table_lists_every_handler():
    from xapictl.sim.registry import HANDLERS

    table = coverage_table()
    for method in HANDLERS:
        cls, _, message = method.partition(".")
        row = next(line for line in table.splitlines() if line.startswith(f"| `{cls}` |"))
        assert f"`{message}`" in row


def test_control_over_http_injects_a_drop_after_commit(sim_server, sim, jsonrpc):
    session = jsonrpc("session.login_with_password", "root", PASSWORD)
    reply = httpx.post(sim_server.url + "/_sim/control",
                       json={"action": "fault", "method": "network.create",
                             "kind": "drop_after", "times": 1})
    assert reply.json()["result"]["action"] == "drop_after"
    with pytest.raises(httpx.RemoteProtocolError):
        jsonrpc("network.create", session, {"name_label": "committed", "other_config": {}})
    assert network_names(sim).count("committed") == 1


def test_xenapi_silently_resends_a_write_whose_reply_was_lost(sim_server, sim, xenapi_session):
    # Python's xmlrpc transport retries once when a reused keep-alive connection is closed
    # without a reply, so a lost reply to a write becomes a duplicate: the reason xapictl's
    # own client raises OutcomeUnknown instead of re-sending.
    sim_server.control.inject_fault("network.create", "drop_after", times=1)
    xenapi_session.xenapi.network.create({"name_label": "twice", "other_config": {}})
    assert network_names(sim).count("twice") == 2
    assert sim_server.control.methods_called().count("network.create") == 2


def test_task_delay_keeps_async_tasks_pending(sim_server, jsonrpc):
    session = jsonrpc("session.login_with_password", "root", PASSWORD)
    reply = httpx.post(sim_server.url + "/_sim/control", json={"action": "task_delay",
                                                                "seconds": 5})
    assert reply.status_code == 200
    task = jsonrpc("Async.network.create", session, {"name_label": "later", "other_config": {}})
    assert jsonrpc("task.get_status", session, task) == "pending"
    jsonrpc("task.cancel", session, task)
    sim_server.control.set_task_delay(0)
