"""Sessions over the wire (§1.8): one session serves both protocols, the official client's
re-login on SESSION_INVALID works after expiry, logout is final, and the count is exact."""

from __future__ import annotations

from pathlib import Path

import pytest
import XenAPI
from sim_engine_pool import PASSWORD, JsonRpc, SimPool, build_pool, make_sim, served

from xapictl.sim.engine import Simulator
from xapictl.sim.state import SimState


@pytest.fixture
def pool() -> SimPool:
    return make_sim()


def test_a_session_from_xmlrpc_is_valid_over_jsonrpc_and_back(pool: SimPool) -> None:
    sim, p = pool
    with served(sim) as server, XenAPI.Session(server.url) as xen:
        xen.login_with_password("root", PASSWORD, "1.0", "tests")
        rpc = JsonRpc(server.url, version="1.0")
        try:
            assert rpc("SR.get_name_label", xen.handle, p.sr) == "Local storage"
            other = rpc("session.login_with_password", "rita", PASSWORD)
            proxy = XenAPI.xmlrpclib.ServerProxy(server.url)
            reply = proxy.session.get_this_host(other, other)
            assert reply == {"Status": "Success", "Value": p.hosts[0]}
            proxy("close")()
            rpc("session.logout", other)
        finally:
            rpc.close()
        xen.xenapi.session.logout()


def test_the_official_client_logs_in_again_after_sessions_expire(pool: SimPool) -> None:
    sim, _ = pool
    with served(sim) as server, XenAPI.Session(server.url) as xen:
        xen.login_with_password("root", PASSWORD, "1.0", "tests")
        old = xen.handle
        assert sim.expire_sessions() == 1
        assert len(xen.xenapi.host.get_all()) == 3  # XenAPI retried after SESSION_INVALID
        assert xen.handle != old
        assert sim.open_session_count() == 1
        xen.xenapi.session.logout()
    assert sim.open_session_count() == 0


def test_logout_is_final_and_counted(pool: SimPool) -> None:
    sim, _ = pool
    with served(sim) as server:
        rpc = JsonRpc(server.url)
        try:
            sessions = [rpc("session.login_with_password", "root", PASSWORD) for _ in range(3)]
            assert sim.open_session_count() == 3
            rpc("session.logout", sessions[0])
            assert sim.open_session_count() == 2
            with pytest.raises(Exception) as info:
                rpc("host.get_all", sessions[0])
            assert getattr(info.value, "description", None) == ["SESSION_INVALID", sessions[0]]
        finally:
            rpc.close()


def test_a_given_state_is_written_to_a_new_state_file(tmp_path: Path) -> None:
    state = SimState()
    pool = build_pool(state)
    sim = Simulator(state, password=PASSWORD, state_file=tmp_path / "s.db")
    sim.close()
    again = Simulator(password=PASSWORD, state_file=tmp_path / "s.db")
    assert set(again.host_addresses()) == set(pool.hosts)
    again.close()
