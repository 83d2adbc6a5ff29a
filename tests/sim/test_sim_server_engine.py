"""The real engine behind the real server: the official XenAPI client and raw JSON-RPC v1/v2
against the seed pool, sessions across protocols, HOST_IS_SLAVE, dead hosts, and an
``event.from`` that waits while other calls proceed."""

from __future__ import annotations

import socket
import threading
import time
import xmlrpc.client

import httpx
import pytest
import XenAPI
from sim_event_clock import fake_event_clock

from xapictl.sim.classes import event
from xapictl.sim.errors import SimFailure

PASSWORD = "xapictl"


def raw_jsonrpc(url: str, payload: dict) -> dict:
    reply = httpx.post(url + "/jsonrpc", json=payload)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    return reply.json()


@pytest.mark.parametrize("suffix", ["", "/"])
def test_xenapi_reads_the_seed_pool_over_rpc2_and_root(sim_server, sim, suffix):
    with XenAPI.Session(sim_server.url + suffix) as session:
        session.login_with_password("root", PASSWORD, "2.21", "xapictl-tests")
        networks = session.xenapi.network.get_all_records()
        with sim.state.lock:
            assert set(networks) == set(sim.state.refs("network"))
        assert all(isinstance(n["MTU"], str) for n in networks.values())  # int64 as text
        assert session.API_version  # pool.get_all, pool.get_master, host.get_API_version_*
        with pytest.raises(XenAPI.Failure) as failure:
            session.xenapi.network.get_record("OpaqueRef:does-not-exist")
        assert failure.value.details == ["HANDLE_INVALID", "network", "OpaqueRef:does-not-exist"]
        session.xenapi.session.logout()
    paths = {entry["method"] for entry in sim_server.control.request_log()}
    assert {"session.login_with_password", "network.get_all_records", "session.logout"} <= paths


def test_xenapi_relogs_in_after_session_expiry(sim_server, xenapi_session):
    before = xenapi_session.handle
    sim_server.control.expire_sessions()
    assert xenapi_session.xenapi.pool.get_all()  # SESSION_INVALID, re-login, retry: no error
    assert xenapi_session.handle != before
    outcomes = [e["outcome"] for e in sim_server.control.request_log()]
    assert "SESSION_INVALID" in outcomes


def test_a_session_from_xmlrpc_works_over_jsonrpc_v1_and_v2(sim_server, xenapi_session):
    session = xenapi_session.handle
    v1 = raw_jsonrpc(sim_server.url, {"method": "pool.get_all", "params": [session], "id": 5})
    assert v1["error"] is None and v1["id"] == 5 and len(v1["result"]) == 1
    v2 = raw_jsonrpc(sim_server.url, {"jsonrpc": "2.0", "method": "network.get_all_records",
                                      "params": [session], "id": 0})
    assert v2["id"] == 0 and set(v2) == {"jsonrpc", "result", "id"}
    assert all(isinstance(n["MTU"], int) for n in v2["result"].values())  # numbers in JSON


def test_jsonrpc_errors_keep_xapi_shapes(sim_server, jsonrpc):
    session = jsonrpc("session.login_with_password", "root", PASSWORD)
    v2 = raw_jsonrpc(sim_server.url, {"jsonrpc": "2.0", "method": "VIF.get_record",
                                      "params": [session, "OpaqueRef:x"], "id": "a"})
    assert v2 == {"jsonrpc": "2.0", "error": {"code": 1, "message": "HANDLE_INVALID",
                                              "data": ["VIF", "OpaqueRef:x"]}, "id": "a"}
    v1 = raw_jsonrpc(sim_server.url, {"method": "VIF.get_record",
                                      "params": ["OpaqueRef:bad-session", "OpaqueRef:x"],
                                      "id": 1})
    assert v1 == {"result": None, "error": ["SESSION_INVALID", "OpaqueRef:bad-session"], "id": 1}


def test_system_list_methods_is_bare_over_xmlrpc(sim_server):
    body = xmlrpc.client.dumps((), "system.listMethods")
    reply = httpx.post(sim_server.url + "/", content=body)
    methods = xmlrpc.client.loads(reply.text)[0][0]
    assert isinstance(methods, list) and "network.get_all_records" in methods


def test_login_on_a_member_answers_host_is_slave_with_the_master_address(sim_server):
    member = next(url for url in sim_server.urls.values() if url != sim_server.url)
    with XenAPI.Session(member) as session, pytest.raises(XenAPI.Failure) as failure:
        session.login_with_password("root", PASSWORD, "1.0", "t")
    assert failure.value.details == ["HOST_IS_SLAVE", "127.0.0.1"]


def test_a_dead_host_refuses_connections_and_comes_back(sim_server, sim):
    member_ref, member_url = next((ref, url) for ref, url in sim_server.urls.items()
                                  if url != sim_server.url)
    address = member_url.split("//")[1].split(":")[0]
    sim_server.control.set_host_live(member_ref, False)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection((address, sim_server.port), timeout=1).close()
        except ConnectionRefusedError:
            break
        except ConnectionResetError:
            pass  # accepted just before the listener closed: not refused yet, try again
        time.sleep(0.05)
    else:
        pytest.fail("the dead host still accepts connections")
    sim_server.control.set_host_live(address, True)  # by address works too
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection((address, sim_server.port), timeout=1).close()
            break
        except (ConnectionRefusedError, ConnectionResetError):  # still coming up
            time.sleep(0.05)
    else:
        pytest.fail("the host did not come back")


def test_a_request_to_a_dead_host_on_an_open_connection_is_dropped(sim_server, sim):
    member_ref, member_url = next((ref, url) for ref, url in sim_server.urls.items()
                                  if url != sim_server.url)
    with httpx.Client(base_url=member_url) as client:
        body = xmlrpc.client.dumps(("root", PASSWORD), "session.login_with_password")
        assert client.post("/", content=body).status_code == 200  # connection now open
        sim.set_host_live(member_ref, False)
        with pytest.raises(httpx.TransportError):
            client.post("/", content=body)


def test_event_from_waiting_does_not_block_other_calls(sim_server, xenapi_session,
                                                      monkeypatch):
    token = xenapi_session.xenapi.event.inject("pool", xenapi_session.xenapi.pool.get_all()[0])
    first = getattr(xenapi_session.xenapi.event, "from")(["network"], token, 0.1)
    result: dict = {}
    waiting, release = threading.Event(), threading.Event()
    waits = fake_event_clock(monkeypatch)
    fake_wait = event._wait

    def held_wait(state, seconds):
        """The waiter is inside event.from, the state lock released, until we let it go."""
        waiting.set()
        while not release.is_set():
            state.changed.wait(0.05)
        fake_wait(state, seconds)

    monkeypatch.setattr(event, "_wait", held_wait)

    def wait_for_events() -> None:
        with XenAPI.Session(sim_server.url) as other:
            other.login_with_password("root", PASSWORD, "1.0", "t")
            result["events"] = getattr(other.xenapi.event, "from")(["VLAN"], first["token"],
                                                                   5.0)

    waiter = threading.Thread(target=wait_for_events)
    waiter.start()
    assert waiting.wait(15)  # a safety net: the waiter is blocked in event.from
    for _ in range(20):
        xenapi_session.xenapi.network.get_all()
    assert "events" not in result  # all 20 served while event.from still waits
    release.set()
    waiter.join(15)
    assert result["events"]["events"] == [] and waits == [5.0]  # then its whole timeout


def test_unmarshalling_and_count_errors_come_back_as_api_failures(sim_server, jsonrpc):
    session = jsonrpc("session.login_with_password", "root", PASSWORD)
    with pytest.raises(SimFailure) as failure:
        jsonrpc("network.get_all", session, "extra")
    assert failure.value.code == "MESSAGE_PARAMETER_COUNT_MISMATCH"


def test_bind_moves_the_master_and_members_follow_on_loopback(sim):
    from xapictl.sim.server import SimServer

    with SimServer(sim, bind="127.0.0.5") as server:
        assert server.url == f"http://127.0.0.5:{server.port}"
        assert sorted(server.urls.values()) == [f"http://127.0.0.{n}:{server.port}"
                                                for n in (5, 6, 7)]
        with XenAPI.Session(f"http://127.0.0.6:{server.port}") as member, \
                pytest.raises(XenAPI.Failure) as failure:
            member.login_with_password("root", PASSWORD, "1.0", "t")
        assert failure.value.details == ["HOST_IS_SLAVE", "127.0.0.5"]


def test_unix_socket_serves_the_master_to_xenapi_udstransport(sim):
    import secrets
    import tempfile
    from pathlib import Path

    from xapictl.sim.server import SimServer

    # UDSTransport spells "/" as "_" in the URL host, so the path must have no "_"
    scratch = Path(tempfile.gettempdir()) / f"xsim{secrets.token_hex(6)}"
    scratch.mkdir()
    try:
        path = scratch / "xapi.sock"
        with SimServer(sim, unix_socket=path) as server, \
                XenAPI.Session("http://" + str(path).replace("/", "_") + "/",
                               transport=XenAPI.UDSTransport()) as session:
            session.login_with_password("root", PASSWORD, "1.0", "t")
            assert session.xenapi.network.get_all_records()
            session.xenapi.session.logout()
            assert {e["host"] for e in server.control.request_log()} == {"127.0.0.1"}
    finally:
        scratch.rmdir()



def test_the_unix_socket_trusts_local_root_without_a_password_as_xapi_does(sim):
    import secrets
    import tempfile
    from pathlib import Path

    from xapictl.sim.server import SimServer

    scratch = Path(tempfile.gettempdir()) / f"xsim{secrets.token_hex(6)}"
    scratch.mkdir()
    try:
        path = scratch / "xapi.sock"
        with SimServer(sim, unix_socket=path) as server:
            with XenAPI.Session("http://" + str(path).replace("/", "_") + "/",
                                transport=XenAPI.UDSTransport()) as local:
                local.login_with_password("root", "", "1.0", "dom0-script")
                me = local.xenapi.session.get_record(local._session)
                assert me["is_local_superuser"] is True and me["auth_user_name"] == "root"
                local.xenapi.network.create({"name_label": "from-dom0", "other_config": {}})
                local.xenapi.session.logout()
            with XenAPI.Session(server.url) as remote, \
                    pytest.raises(XenAPI.Failure) as failure:
                remote.login_with_password("root", "", "1.0", "remote")
            assert failure.value.details[0] == "SESSION_AUTHENTICATION_FAILED"
    finally:
        scratch.rmdir()


def test_an_ipv6_loopback_bind_serves_the_master_there(sim):
    from xapictl.sim.server import SimServer

    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with SimServer(sim, bind="::1") as server:
        assert server.url == f"http://[::1]:{server.port}"
        assert sim.master_address() == "::1"  # HOST_IS_SLAVE will name a reachable master
        with XenAPI.Session(server.url) as session:
            session.login_with_password("root", PASSWORD, "1.0", "t")
            assert session.xenapi.pool.get_all()
            session.xenapi.session.logout()
