"""``xapictl sim control``: the control plane of a running simulator from the command line —
faults, liveness, session expiry, counters — and its refusals."""

from __future__ import annotations

import json

import pytest
import XenAPI
from typer.testing import CliRunner

from xapictl.cli.sim import app

runner = CliRunner()


def control(url: str, *words: str) -> tuple[int, str, str]:
    done = runner.invoke(app, ["control", *words, "--url", url])
    return done.exit_code, done.stdout, done.stderr


def test_an_injected_error_reaches_the_official_client_once(sim_server, xenapi_session):
    code, out, _ = control(sim_server.url, "fault", "method=network.create", "kind=error",
                           'error=["NETWORK_ALREADY_CONNECTED", "x"]', "times=1")
    assert code == 0, out
    assert json.loads(out)["times"] == 1 and json.loads(out)["action"] == "error"
    with pytest.raises(XenAPI.Failure) as failure:
        xenapi_session.xenapi.network.create({"name_label": "a", "other_config": {}})
    assert failure.value.details == ["NETWORK_ALREADY_CONNECTED", "x"]
    assert xenapi_session.xenapi.network.create({"name_label": "b", "other_config": {}})


def test_liveness_sessions_and_counters_from_the_command_line(sim, sim_server, xenapi_session):
    members = [ref for ref, a in sim.host_addresses().items() if a == "127.0.0.2"]
    assert control(sim_server.url, "host_live", "host=127.0.0.2", "live=false")[0] == 0
    assert not sim.host_is_live(members[0])
    code, out, _ = control(sim_server.url, "counters")
    assert code == 0 and json.loads(out)["open_sessions"] == 1
    assert control(sim_server.url, "expire_sessions")[0] == 0
    assert sim.open_session_count() == 0


def test_a_refused_request_is_bad_input_and_an_absent_simulator_a_failure(sim_server):
    code, _, err = control(sim_server.url, "no_such_action")
    assert code == 2 and "unknown control action" in err
    code, _, err = control(sim_server.url, "fault", "times")
    assert code == 2 and "KEY=VALUE" in err
    code, _, err = control("http://127.0.0.1:1", "counters")
    assert code == 4 and "cannot reach the simulator" in err


def test_a_tls_simulator_needs_its_certificate_trusted_or_insecure(sim):
    from xapictl.sim.server import SimServer

    with SimServer(sim, tls=True) as server:
        code, _, err = control(server.url, "counters")
        assert code == 4 and "CERTIFICATE_VERIFY_FAILED" in err
        done = runner.invoke(app, ["control", "counters", "--url", server.url, "--insecure"])
        assert done.exit_code == 0 and "open_sessions" in done.stdout
