"""The in-process doors: same wire bytes as HTTP, without sockets."""

from __future__ import annotations

import http.client
import json

import httpx
import pytest
import XenAPI

from xapictl.sim import wire
from xapictl.sim.control import Control
from xapictl.sim.inprocess import InProcessTransport, XmlRpcInProcessTransport

PASSWORD = "xapictl"


def test_httpx_transport_speaks_real_jsonrpc_bytes(sim):
    with httpx.Client(transport=InProcessTransport(sim), base_url="http://127.0.0.1") as client:
        reply = client.post("/jsonrpc", content=b'{"jsonrpc":"2.0","method":'
                            b'"session.login_with_password","params":["root","xapictl"],"id":0}')
        assert reply.headers["content-type"] == "application/json"
        assert int(reply.headers["content-length"]) == len(reply.content)
        body = reply.json()
        assert body["id"] == 0 and body["result"].startswith("OpaqueRef:")
        mtu = client.post("/jsonrpc", json={"method": "network.get_all_records",
                                            "params": [body["result"]], "id": 1})
        assert b'"MTU":1500' in mtu.content


def test_httpx_transport_speaks_real_xmlrpc_bytes(sim):
    with httpx.Client(transport=InProcessTransport(sim), base_url="http://127.0.0.1") as client:
        reply = client.post("/RPC2", content=wire.xmlrpc_request(
            "session.login_with_password", ["root", PASSWORD]))
        assert reply.headers["content-type"] == "text/xml"
        assert reply.text.startswith('<?xml version="1.0"?><methodResponse>')
        malformed = client.post("/", content=b"<methodCall>")
        assert malformed.status_code == 500


def test_the_url_host_picks_the_receiving_pool_host(sim):
    with httpx.Client(transport=InProcessTransport(sim), base_url="http://127.0.0.2") as client:
        body = client.post("/jsonrpc", json={"method": "session.login_with_password",
                                             "params": ["root", PASSWORD], "id": 1}).json()
    assert body["error"] == ["HOST_IS_SLAVE", "127.0.0.1"]


def test_a_dead_host_refuses_in_process_too(sim):
    member = next(ref for ref, address in sim.host_addresses().items() if address == "127.0.0.2")
    sim.set_host_live(member, False)
    with httpx.Client(transport=InProcessTransport(sim), base_url="http://127.0.0.2") as client, \
            pytest.raises(httpx.ConnectError):
        client.post("/jsonrpc", json={"method": "pool.get_all", "params": ["x"], "id": 1})


def test_xenapi_session_runs_over_the_xmlrpc_in_process_transport(sim):
    control = Control(sim)
    session = XenAPI.Session("http://127.0.0.1/", transport=XmlRpcInProcessTransport(sim,
                                                                                       control))
    session.login_with_password("root", PASSWORD, "1.0", "t")
    records = session.xenapi.network.get_all_records()
    assert all(isinstance(r["MTU"], str) for r in records.values())
    with pytest.raises(XenAPI.Failure) as failure:
        session.xenapi.VIF.get_record("OpaqueRef:nope")
    assert failure.value.details == ["HANDLE_INVALID", "VIF", "OpaqueRef:nope"]
    session.xenapi.session.logout()
    assert [e["protocol"] for e in control.request_log()] == ["xmlrpc"] * 4
    control.inject_fault("pool.get_all", "drop_before", times=1)
    session.login_with_password("root", PASSWORD, "1.0", "t")
    with pytest.raises(http.client.RemoteDisconnected):
        session.xenapi.pool.get_all()


def test_in_process_and_socket_answers_are_byte_identical(sim, sim_server):
    payload = json.dumps({"method": "session.login_with_password",
                          "params": ["root", "wrong"], "id": 3}).encode()
    with httpx.Client(transport=InProcessTransport(sim), base_url="http://127.0.0.1") as local:
        in_process = local.post("/jsonrpc", content=payload)
    over_tcp = httpx.post(sim_server.url + "/jsonrpc", content=payload, timeout=30)
    assert in_process.content == over_tcp.content
    assert in_process.headers["content-type"] == over_tcp.headers["content-type"]
