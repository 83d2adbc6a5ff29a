"""The wire layer against scripted answers (httpx.MockTransport): envelopes, fallback, errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import xapictl
from xapictl.errors import ProtocolError, UsageError
from xapictl.xapi.failures import HostIsSlave, SessionInvalid
from xapictl.xapi.jsonrpc import JsonRpcWire
from xapictl.xapi.retry import RetryPolicy
from xapictl.xapi.transport import Endpoint, HttpChannel, HttpSettings
from xapictl.xapi.xmlrpc import XmlRpcWire

SESSION = "OpaqueRef:s1"


def _pool_answers(method: str) -> Any:
    return {
        "session.login_with_password": SESSION,
        "pool.get_all_records": {"OpaqueRef:p": {"master": "OpaqueRef:h"}},
        "host.get_all_records": {"OpaqueRef:h": {"address": "10.0.0.1",
                                                 "API_version_major": "2",
                                                 "API_version_minor": "21"}},
        "network.get_MTU": "9000",
        "session.logout": "",
    }[method]


def _xml_ok(value: Any) -> bytes:
    import xmlrpc.client

    return xmlrpc.client.dumps(({"Status": "Success", "Value": value},),
                               methodresponse=True).encode()


def test_json_rpc_v1_and_v2_errors_become_typed_failures() -> None:
    for error in ({"code": 1, "message": "HOST_IS_SLAVE", "data": ["10.9.9.9"]},
                  ["HOST_IS_SLAVE", "10.9.9.9"]):
        def handler(request: httpx.Request, error: Any = error) -> httpx.Response:
            body = json.loads(request.content)
            if body["method"] == "session.login_with_password":
                return httpx.Response(200, json={"error": error, "id": body["id"]})
            return httpx.Response(200, json={"result": _pool_answers(body["method"]),
                                             "id": body["id"]})

        with pytest.raises(ProtocolError, match="redirects"):
            xapictl.connect("http://10.0.0.1", password="pw",
                            transport=httpx.MockTransport(handler), protocol="jsonrpc")


def test_auto_falls_back_to_xmlrpc_when_jsonrpc_is_missing_and_ints_stay_ints() -> None:
    import xmlrpc.client

    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/jsonrpc":
            return httpx.Response(404, text="not here")
        _params, method = xmlrpc.client.loads(request.content)
        return httpx.Response(200, content=_xml_ok(_pool_answers(str(method))),
                              headers={"Content-Type": "text/xml"})

    with xapictl.connect("http://10.0.0.1", password="pw",
                         transport=httpx.MockTransport(handler)) as conn:
        assert conn.session.wire_protocol == "xmlrpc"
        assert conn.call("network.get_MTU", "OpaqueRef:n") == 9000
        assert conn.api_version == (2, 21)
    assert seen[0] == "/jsonrpc" and set(seen[1:]) == {"/"}


def test_a_non_xapi_answer_is_a_protocol_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=_xml_ok("x")[:20])

    with pytest.raises(ProtocolError):
        xapictl.connect("http://10.0.0.1", password="pw", protocol="xmlrpc",
                        transport=httpx.MockTransport(handler), retry=RetryPolicy.immediate())


def test_session_invalid_twice_in_a_row_is_raised() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["method"] == "network.get_MTU":
            return httpx.Response(200, json={"error": ["SESSION_INVALID", SESSION],
                                             "id": body["id"]})
        return httpx.Response(200, json={"result": _pool_answers(body["method"]),
                                         "id": body["id"]})

    with (xapictl.connect("http://10.0.0.1", password="pw",
                          transport=httpx.MockTransport(handler)) as conn,
          pytest.raises(SessionInvalid)):
        conn.call("network.get_MTU", "OpaqueRef:n")


@pytest.mark.parametrize("encoding", ["jsonrpc-v2", "jsonrpc-v1", "xmlrpc"])
def test_host_is_slave_reaches_the_caller_typed_with_its_code_and_params(encoding: str) -> None:
    import xmlrpc.client

    description = ["HOST_IS_SLAVE", "10.0.0.9"]

    def handler(request: httpx.Request) -> httpx.Response:
        if encoding == "xmlrpc":
            return httpx.Response(200, content=xmlrpc.client.dumps(
                ({"Status": "Failure", "ErrorDescription": description},),
                methodresponse=True).encode())
        error: Any = description
        if encoding == "jsonrpc-v2":
            error = {"code": 1, "message": description[0], "data": description[1:]}
        return httpx.Response(200, json={"error": error, "id": json.loads(request.content)["id"]})

    endpoint = Endpoint.parse("http://10.0.0.1")
    channel = HttpChannel(endpoint, HttpSettings(transport=httpx.MockTransport(handler)))
    wire = XmlRpcWire(channel) if encoding == "xmlrpc" else JsonRpcWire(channel)
    try:
        with pytest.raises(HostIsSlave) as caught:
            wire.call(endpoint, "pool.get_all", ["OpaqueRef:s"])
    finally:
        channel.close()
    assert caught.value.code == "HOST_IS_SLAVE"
    assert caught.value.params == ["10.0.0.9"]
    assert caught.value.named_params == {"master_ip_address": "10.0.0.9"}
    assert caught.value.method == "pool.get_all"
    assert "HOST_IS_SLAVE ['10.0.0.9'] from pool.get_all" in str(caught.value)


@pytest.mark.parametrize(("url", "base"), [
    ("https://10.0.0.1", "https://10.0.0.1"),
    ("http://h:8080/", "http://h:8080"),
    ("10.0.0.1", "https://10.0.0.1"),
    ("https://[fe80::1]:443", "https://[fe80::1]:443"),
    ("unix:///var/lib/xcp/xapi", "http://_var_lib_xcp_xapi"),
])
def test_urls(url: str, base: str) -> None:
    assert Endpoint.parse(url).base_url == base


def test_member_address_keeps_scheme_and_port() -> None:
    assert Endpoint.parse("https://10.0.0.1:8443").with_host("10.0.0.2").base_url == \
        "https://10.0.0.2:8443"


@pytest.mark.parametrize("url", ["ftp://h", "https://root:pw@h", "unix://"])
def test_bad_urls_are_usage_errors(url: str) -> None:
    with pytest.raises(UsageError) as caught:
        Endpoint.parse(url)
    assert "pw" not in str(caught.value)
