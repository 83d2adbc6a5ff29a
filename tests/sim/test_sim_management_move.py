"""Moving the management interface end to end on sockets (``xapi_host.ml``
``management_reconfigure``, ``xapi_pool.ml`` ``management_reconfigure`` / ``recover_slaves``,
``xapi_mgmt_iface.ml`` ``on_dom0_networking_change``): ``host.address`` follows the new
interface, the host answers there and no longer at the old address, members name the old
master address in ``HOST_IS_SLAVE`` until ``pool.recover_slaves``. Exact codes and params.

The ``loopback`` scenario gives the interfaces loopback addresses, so every address is served
on this machine (tests talk to loopback only).
"""

from __future__ import annotations

import httpx
import pytest

from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer

PASSWORD = "xapictl"


@pytest.fixture
def pool():
    sim = Simulator(scenario="loopback", password=PASSWORD)
    with SimServer(sim) as server:
        yield sim, server


def rpc(server: SimServer, address: str, method: str, *params: object) -> dict:
    """One JSON-RPC call to ``address`` on the server's port (a fresh connection)."""
    url = f"http://{address}:{server.port}/jsonrpc"
    with httpx.Client() as client:
        answer = client.post(url, json={"jsonrpc": "2.0", "method": method,
                                        "params": list(params), "id": 1})
    return answer.json()


def failure(answer: dict) -> list[str]:
    """A JSON-RPC v2 error as XAPI sends it: the code in ``message``, the params in ``data``."""
    return [answer["error"]["message"], *answer["error"]["data"]]


def login(server: SimServer, address: str) -> str:
    return str(rpc(server, address, "session.login_with_password", "root", PASSWORD)["result"])


def refused(server: SimServer, address: str) -> bool:
    try:
        rpc(server, address, "session.login_with_password", "root", PASSWORD)
    except httpx.ConnectError:
        return True
    return False


def hosts_and_storage(sim: Simulator) -> list[tuple[str, str, str]]:
    """(host, address, its eth2 PIF) for each host, master first."""
    state = sim.state
    out = []
    for host in state.refs("host"):
        eth2 = next(p for p in state.get("host", host)["PIFs"]
                    if state.get("PIF", p)["device"] == "eth2")
        out.append((host, state.get("host", host)["address"], eth2))
    return out


def test_a_member_moved_answers_on_its_new_address_only(pool):
    sim, server = pool
    session = login(server, "127.0.0.1")
    _master, (member, old, eth2), _ = hosts_and_storage(sim)
    answer = rpc(server, "127.0.0.1", "host.management_reconfigure", session, eth2)
    assert answer == {"jsonrpc": "2.0", "result": "", "id": 1}  # void
    assert sim.state.get("host", member)["address"] == "127.0.2.12"
    assert sim.state.get("PIF", eth2)["management"] is True
    assert refused(server, old)
    on_new = rpc(server, "127.0.2.12", "session.login_with_password", "root", PASSWORD)
    assert failure(on_new) == ["HOST_IS_SLAVE", "127.0.0.1"]


def test_the_master_moved_members_name_the_old_address_until_recover_slaves(pool):
    sim, server = pool
    session = login(server, "127.0.0.1")
    (master, _, eth2), (member, member_address, _), _ = hosts_and_storage(sim)
    answer = rpc(server, "127.0.0.1", "host.management_reconfigure", session, eth2)
    assert answer["result"] == ""  # the answer comes back on the old connection
    assert sim.state.get("host", master)["address"] == "127.0.2.11"
    assert refused(server, "127.0.0.1")
    stale = rpc(server, member_address, "session.login_with_password", "root", PASSWORD)
    assert failure(stale) == ["HOST_IS_SLAVE", "127.0.0.1"]  # its pool.conf still has the old one
    recovered = rpc(server, "127.0.2.11", "pool.recover_slaves", session)
    assert recovered["result"] == list(reversed(sim.state.refs("host")[1:]))
    fresh = rpc(server, member_address, "session.login_with_password", "root", PASSWORD)
    assert failure(fresh) == ["HOST_IS_SLAVE", "127.0.2.11"]
    assert member in sim.state.refs("host")


def test_moving_back_serves_the_old_address_again(pool):
    sim, server = pool
    session = login(server, "127.0.0.1")
    _master, (member, old, eth2), _ = hosts_and_storage(sim)
    eth0 = next(p for p in sim.state.get("host", member)["PIFs"]
                if sim.state.get("PIF", p)["device"] == "eth0")
    rpc(server, "127.0.0.1", "host.management_reconfigure", session, eth2)
    rpc(server, "127.0.0.1", "host.management_reconfigure", session, eth0)
    assert sim.state.get("host", member)["address"] == old
    assert refused(server, "127.0.2.12")
    assert failure(rpc(server, old, "session.login_with_password", "root", PASSWORD)) \
        == ["HOST_IS_SLAVE", "127.0.0.1"]


def test_pool_management_reconfigure_moves_members_then_master_then_recovers(pool):
    sim, server = pool
    session = login(server, "127.0.0.1")
    storage = sim.state.get("PIF", hosts_and_storage(sim)[0][2])["network"]
    assert rpc(server, "127.0.0.1", "pool.management_reconfigure", session,
               storage)["result"] == ""
    assert [a for _, a, _ in hosts_and_storage(sim)] == ["127.0.2.11", "127.0.2.12",
                                                        "127.0.2.13"]
    assert sim.state.master_seen_by == {}  # recover_slaves told every member
    member = rpc(server, "127.0.2.13", "session.login_with_password", "root", PASSWORD)
    assert failure(member) == ["HOST_IS_SLAVE", "127.0.2.11"]
    assert all(refused(server, old) for old in ("127.0.0.1", "127.0.0.2", "127.0.0.3"))


def test_pool_management_reconfigure_tries_every_host_and_raises_the_first_failure(pool):
    sim, server = pool
    session = login(server, "127.0.0.1")
    (master, _, _), (member, _, _), _ = hosts_and_storage(sim)
    storage = sim.state.get("PIF", hosts_and_storage(sim)[0][2])["network"]
    sim.set_host_live(member, False)
    answer = rpc(server, "127.0.0.1", "pool.management_reconfigure", session, storage)
    assert failure(answer) == ["HOST_OFFLINE", member]
    # call_fn_on_slaves_then_master: the other member and the master moved all the same,
    # and no recover_slaves ran: the live member still names the old master address.
    assert sim.state.get("host", master)["address"] == "127.0.2.11"
    third = sim.state.refs("host")[2]
    assert sim.state.master_seen_by == {member: "127.0.0.1", third: "127.0.0.1"}


def test_a_dhcp_interface_gets_no_lease_so_the_host_stays_where_it_is_served(pool):
    sim, server = pool
    session = login(server, "127.0.0.1")
    _master, (member, old, eth2), _ = hosts_and_storage(sim)
    rpc(server, "127.0.0.1", "PIF.reconfigure_ip", session, eth2, "DHCP", "", "", "", "")
    rpc(server, "127.0.0.1", "host.management_reconfigure", session, eth2)
    assert sim.state.get("PIF", eth2)["management"] is True
    assert sim.state.get("host", member)["address"] == old  # a documented difference
    assert not refused(server, old)


def test_recover_slaves_skips_a_dead_member(pool):
    sim, server = pool
    session = login(server, "127.0.0.1")
    member = sim.state.refs("host")[1]
    sim.set_host_live(member, False)
    answer = rpc(server, "127.0.0.1", "pool.recover_slaves", session)
    assert answer["result"] == [sim.state.refs("host")[2]]


def test_emergency_reset_master_on_a_member_and_on_the_master(pool):
    sim, server = pool
    session = login(server, "127.0.0.1")
    member = sim.state.refs("host")[1]
    assert rpc(server, "127.0.0.2", "pool.emergency_reset_master", session,
               "127.0.0.9")["result"] == ""
    assert sim.state.master_seen_by == {member: "127.0.0.9"}
    on_master = rpc(server, "127.0.0.1", "pool.emergency_reset_master", session, "127.0.0.9")
    assert failure(on_master) == ["NOT_IMPLEMENTED", "pool.emergency_reset_master on the master"]
    rpc(server, "127.0.0.2", "pool.emergency_reset_master", session, "127.0.0.1")
    assert sim.state.master_seen_by == {}


def test_local_management_reconfigure_outside_emergency_mode(pool):
    _sim, server = pool
    session = login(server, "127.0.0.1")
    answer = rpc(server, "127.0.0.1", "host.local_management_reconfigure", session, "xenbr2")
    assert failure(answer) == ["NOT_IN_EMERGENCY_MODE"]


def test_on_the_seed_pool_a_move_beyond_loopback_keeps_the_served_address():
    sim = Simulator(scenario="seed", password=PASSWORD)
    with SimServer(sim) as server:
        session = login(server, "127.0.0.1")
        master = sim.state.refs("host")[0]
        eth2 = hosts_and_storage(sim)[0][2]
        rpc(server, "127.0.0.1", "host.management_reconfigure", session, eth2)
        assert sim.state.get("PIF", eth2)["management"] is True
        assert sim.state.get("host", master)["address"] == "127.0.0.1"  # 198.51.100.11
        assert rpc(server, "127.0.0.1", "pool.get_all", session)["result"]


def test_a_member_moved_onto_a_static_ipv6_interface_answers_at_the_ipv6_loopback(pool):
    """``on_dom0_networking_change`` takes the PIF's primary address: IPv6 when
    ``primary_address_type`` is IPv6. ``::1`` is the one IPv6 loopback address, so one host
    at most is served on IPv6; it answers at ``[::1]`` and no longer at its IPv4 address."""
    sim, server = pool
    session = login(server, "127.0.0.1")
    _master, (member, old, eth2), _ = hosts_and_storage(sim)
    assert rpc(server, "127.0.0.1", "PIF.reconfigure_ipv6", session, eth2, "Static",
               "::1/128", "", "")["result"] == ""
    assert rpc(server, "127.0.0.1", "PIF.set_primary_address_type", session, eth2,
               "IPv6")["result"] == ""
    assert rpc(server, "127.0.0.1", "host.management_reconfigure", session, eth2) == {
        "jsonrpc": "2.0", "result": "", "id": 1}
    assert sim.state.get("host", member)["address"] == "::1"
    assert refused(server, old)
    on_new = rpc(server, "[::1]", "session.login_with_password", "root", PASSWORD)
    assert failure(on_new) == ["HOST_IS_SLAVE", "127.0.0.1"]
