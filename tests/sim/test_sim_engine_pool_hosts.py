"""A pool of hosts over the real wire (§1.9, §6): members answer HOST_IS_SLAVE with the
master's address, dead hosts refuse connections, and the master can move by API or control."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import XenAPI
from sim_engine_pool import PASSWORD, JsonRpc, SimPool, make_sim, served, xenapi_login


@pytest.fixture
def pool() -> SimPool:
    return make_sim()


def test_login_at_a_member_over_xmlrpc_is_host_is_slave(pool: SimPool) -> None:
    sim, p = pool
    with served(sim) as server, XenAPI.Session(server.urls[p.hosts[1]]) as member:
        with pytest.raises(XenAPI.Failure) as info:
            member.login_with_password("root", PASSWORD, "1.0", "tests")
        assert info.value.details == ["HOST_IS_SLAVE", "127.0.0.1"]


def test_a_session_from_the_master_is_refused_by_a_member_over_jsonrpc(pool: SimPool) -> None:
    sim, p = pool
    with served(sim) as server:
        master, member = JsonRpc(server.url), JsonRpc(server.urls[p.hosts[2]], version="1.0")
        try:
            s = master("session.login_with_password", "root", PASSWORD)
            with pytest.raises(Exception) as info:
                member("host.get_all", s)
            assert getattr(info.value, "description", None) == ["HOST_IS_SLAVE", "127.0.0.1"]
        finally:
            master.close()
            member.close()


def test_designate_new_master_moves_the_pool_and_host_is_slave_follows(pool: SimPool) -> None:
    sim, p = pool
    with served(sim) as server:
        with xenapi_login(server.url) as xen:
            xen.xenapi.pool.designate_new_master(p.hosts[1])
        assert sim.master_address() == "127.0.0.2"
        with XenAPI.Session(server.urls[p.hosts[0]]) as old:
            with pytest.raises(XenAPI.Failure) as info:
                old.login_with_password("root", PASSWORD, "1.0", "tests")
            assert info.value.details == ["HOST_IS_SLAVE", "127.0.0.2"]
        with xenapi_login(server.urls[p.hosts[1]]) as xen:
            assert xen.xenapi.pool.get_master(p.pool) == p.hosts[1]


def test_designating_a_dead_host_is_host_offline(pool: SimPool) -> None:
    sim, p = pool
    sim.set_host_live(p.hosts[2], False)
    with served(sim) as server, xenapi_login(server.url) as xen:
        with pytest.raises(XenAPI.Failure) as info:
            xen.xenapi.pool.designate_new_master(p.hosts[2])
        assert info.value.details == ["HOST_OFFLINE", p.hosts[2]]


def test_a_dead_master_refuses_connections_until_it_is_alive_again(pool: SimPool) -> None:
    sim, p = pool
    with served(sim) as server:
        sim.set_host_live(p.hosts[0], False)
        assert sim.host_is_live(p.hosts[0]) is False
        with pytest.raises(httpx.TransportError):
            httpx.post(server.url + "/jsonrpc", json={"method": "host.get_all",
                                                      "params": [], "id": 1}, timeout=5)
        sim.set_host_live(p.hosts[0], True)
        # The server re-opens a revived host's listener on its next reconcile tick.
        deadline = time.monotonic() + 10
        while True:
            try:
                with xenapi_login(server.url) as xen:
                    assert len(xen.xenapi.host.get_all()) == 3
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                threading.Event().wait(0.05)


def test_liveness_by_address_follows_every_change(pool: SimPool) -> None:
    sim, p = pool
    assert sim.live_by_address() == {"127.0.0.1": True, "127.0.0.2": True, "127.0.0.3": True}
    sim.set_host_live(p.hosts[1], False)
    assert sim.live_by_address()["127.0.0.2"] is False
    sim.set_host_live(p.hosts[1], True)
    assert sim.live_by_address()["127.0.0.2"] is True
