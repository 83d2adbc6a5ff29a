"""protocol="auto" against a real server without JSON-RPC (the simulator's ``set_jsonrpc``
switch, over loopback): the client falls back to XML-RPC for good and leaks no session."""

from __future__ import annotations

from typing import Any

import pytest
from client_helpers import PASSWORD

import xapictl
from xapictl.errors import ProtocolError
from xapictl.xapi.retry import RetryPolicy


def _connect(url: str, protocol: str = "auto") -> Any:
    return xapictl.connect(url, password=PASSWORD, protocol=protocol,
                           retry=RetryPolicy.immediate(), timeout=10)


def test_an_old_xapi_without_jsonrpc_is_spoken_to_over_xmlrpc(sim_server: Any,
                                                               sim: Any) -> None:
    sim_server.control.set_jsonrpc(False)
    with _connect(sim_server.url) as conn:
        assert conn.session.wire_protocol == "xmlrpc"
        assert conn.networks.get_all()
    log = sim_server.control.request_log()
    assert [e["outcome"] for e in log if e["protocol"] == "jsonrpc"] == []
    assert log[0]["outcome"] == "malformed"  # the JSON login reached the XML-RPC handler
    assert {e["protocol"] for e in log[1:]} == {"xmlrpc"}
    assert sim.open_session_count() == 0


def test_the_same_host_with_jsonrpc_is_spoken_to_over_jsonrpc(sim_server: Any) -> None:
    with _connect(sim_server.url) as conn:
        assert conn.session.wire_protocol == "jsonrpc"
        assert conn.networks.get_all()
    assert {e["protocol"] for e in sim_server.control.request_log()} == {"jsonrpc"}


def test_forcing_jsonrpc_on_such_a_host_fails_with_a_protocol_error(sim_server: Any,
                                                                    sim: Any) -> None:
    sim_server.control.set_jsonrpc(False)
    with pytest.raises(ProtocolError) as caught:
        _connect(sim_server.url, "jsonrpc")
    assert "does not speak JSON-RPC; use protocol xmlrpc" in str(caught.value)
    assert sim.open_session_count() == 0


def test_once_jsonrpc_answered_an_odd_answer_is_an_error_not_a_resend_over_xmlrpc(
        sim_server: Any, sim: Any) -> None:
    with _connect(sim_server.url) as conn:
        assert conn.networks.get_all()
        sim_server.control.set_jsonrpc(False)  # e.g. a proxy's error page from now on
        with pytest.raises(ProtocolError):
            conn.networks.create(name_label="not-twice")
        sim_server.control.set_jsonrpc(True)
    sent = [(e["protocol"], e["method"], e["outcome"]) for e in sim_server.control.request_log()]
    assert ("xmlrpc", "", "malformed") in sent  # the JSON request hit the XML-RPC handler
    assert [s for s in sent if s[1] == "network.create"] == []  # and was never re-sent
    assert not [n for n in sim.state.all("network").values() if n["name_label"] == "not-twice"]
    assert sim.open_session_count() == 0
