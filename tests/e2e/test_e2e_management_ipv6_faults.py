"""A fault during a management move onto IPv6 (issue 13/14 follow-up): xcp-host-03 of the
``loopback`` scenario moved onto its storage PIF whose primary address is the static IPv6
``::1`` (IPv6 has one loopback address, so one host). The member that does not answer at
``[::1]`` is moved back, XAPI's refusals of ``PIF.reconfigure_ipv6``,
``PIF.set_primary_address_type`` and ``host.management_reconfigure`` stop the run: exit 4
when the pool is as before, 5 with what is done when it is not, as for IPv4
(``test_e2e_management_move.py``); the host answers at its address; a re-run finishes."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_e2e_management_bond_faults import (
    answering,
    arm,
    counted_deadline,
    done,
    management,
)
from test_e2e_management_move import OLD, PASSWORD, STORAGE, addresses, connect, moves
from typer.testing import CliRunner

from xapictl.plan.apply import converge
from xapictl.plan.backend import XapiBackend
from xapictl.recipes import ensure_interface, ensure_management
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer

ONTO_IPV6 = f"""
version: 1
interfaces:
  - network: {STORAGE}
    hosts: [xcp-host-03]
    ipv4: none
    ipv6: static
    addresses6: {{xcp-host-03: "::1/128"}}
    primary_address_type: ipv6
management: {{network: {STORAGE}, hosts: [xcp-host-03]}}
"""
MOVED = [OLD[0], OLD[1], "::1"]


@pytest.fixture
def served() -> Iterator[tuple[Simulator, SimServer]]:
    sim = Simulator(scenario="loopback", password=PASSWORD)
    with SimServer(sim) as server:
        yield sim, server


@pytest.fixture
def cli(served: tuple[Simulator, SimServer], tmp_path: Path) -> Callable[..., Any]:
    from xapictl.cli import app

    _sim, server = served
    env = {"XAPICTL_PASSWORD": PASSWORD, "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
           "HOME": str(tmp_path)}

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, ["--url", server.url, *args], env=env)

    return run


def storage_on_ipv6(server: SimServer) -> None:
    with connect(server) as conn:
        converge(ensure_interface(network=STORAGE, hosts=["xcp-host-03"], ipv4="none",
                                  ipv6="static", addresses6={"xcp-host-03": "::1/128"},
                                  primary_address_type="ipv6"), XapiBackend(conn))
    server.control.clear_log()


MOVE = ("host", "set-management", "--network", STORAGE, "--host", "xcp-host-03", "--yes")



@pytest.mark.parametrize("fault", ["drop_before", "drop_after", "transient"])
def test_a_lost_or_busy_move_onto_ipv6_is_resolved_by_reading(served, cli, fault) -> None:
    sim, server = served
    storage_on_ipv6(server)
    if fault == "transient":
        server.control.inject_fault("host.management_reconfigure", "error",
                                    error=("TOO_BUSY",), times=1)
    else:
        server.control.inject_fault("host.management_reconfigure", fault,  # type: ignore[arg-type]
                                    times=1)
    ran = cli(*MOVE)
    assert ran.exit_code == 0, ran.stderr
    assert addresses(sim) == MOVED and management(sim)["xcp-host-03"] == "eth2"
    assert [m for _, m in moves(server)] == ["host.management_reconfigure"]  # moved once
    answering(sim, server)


def test_a_member_that_does_not_answer_at_its_ipv6_address_is_moved_back(served, cli,
                                                                        monkeypatch) -> None:
    """As for IPv4: moved back at once; nothing else had moved, so the pool is as before,
    exit 4."""
    sim, server = served
    storage_on_ipv6(server)
    server.control.inject_fault("pool.get_all", "drop_before", host="::1")  # never answers
    counted_deadline(monkeypatch)
    ran = cli(*MOVE)
    assert ran.exit_code == 4, ran.stderr
    assert "but XAPI did not answer at ::1" in ran.stderr
    assert "Then, to roll back:" in ran.stderr
    assert "The steps done were undone: the pool is as before." in ran.stderr
    assert addresses(sim) == OLD and management(sim)["xcp-host-03"] == "eth0"
    assert [m for _, m in moves(server)] == ["host.management_reconfigure"] * 2  # there, back
    server.control.clear_faults()
    answering(sim, server)
    again = cli(*MOVE)
    assert again.exit_code == 0 and addresses(sim) == MOVED, again.stderr


def test_xapi_refusing_the_move_onto_ipv6_changes_nothing(served, cli) -> None:
    sim, server = served
    storage_on_ipv6(server)
    server.control.inject_fault("host.management_reconfigure", "error",
                                error=("PIF_HAS_NO_V6_NETWORK_CONFIGURATION", "x"), times=1)
    ran = cli(*MOVE)
    assert ran.exit_code == 4, ran.stderr
    assert "PIF_HAS_NO_V6_NETWORK_CONFIGURATION" in ran.stderr
    assert addresses(sim) == OLD and management(sim)["xcp-host-03"] == "eth0"
    answering(sim, server)


IPV6_WRITES = ["PIF.reconfigure_ip", "PIF.reconfigure_ipv6", "PIF.set_primary_address_type",
               "host.management_reconfigure"]
"""The writes of ONTO_IPV6: eth2's IPv4 off, ``::1`` on, IPv6 primary, then the move."""
RECIPE_CASES = [(nth, "error") for nth in range(len(IPV6_WRITES))] + [(3, "silent")]


@pytest.mark.parametrize(("nth", "fault"), RECIPE_CASES,
                         ids=[f"w{n}-{f}" for n, f in RECIPE_CASES])
def test_a_fault_in_a_recipe_that_configures_ipv6_then_moves_management(
        served, cli, tmp_path, monkeypatch, nth: int, fault: str) -> None:
    """The interface steps come first and have no undo: a fault after one of them is exit 5
    with what is done (the move, when it was made, undone), never "the pool is as before";
    a fault at the first write changes nothing (exit 4). The re-run finishes."""
    sim, server = served
    (tmp_path / "onto-ipv6.yaml").write_text(ONTO_IPV6)
    control = server.control

    def strike(method: str) -> None:
        if fault == "silent":
            control.inject_fault("pool.get_all", "drop_before", host="::1")
        else:
            control.inject_fault(method, "error", error=("INTERNAL_ERROR", "refused"), times=1)

    seen = arm(server, monkeypatch, nth, strike)
    counted_deadline(monkeypatch)
    ran = cli("apply", str(tmp_path / "onto-ipv6.yaml"), "--yes")
    assert len(seen) > nth and seen[nth] == IPV6_WRITES[nth], "the fault was armed"
    assert ran.exit_code == (4 if nth == 0 else 5), ran.stderr
    assert "the pool is as before" not in ran.stderr
    assert [s.split(" interface")[0] for s in done(ran.stderr)] == \
        ["reconfigure IP", "reconfigure IPv6", "set primary address type"][:nth]
    with sim.state.lock:  # what the report says is done is what the PIF shows
        eth2 = next(p for p in sim.state.all("PIF").values() if p["device"] == "eth2"
                    and sim.state.get("host", p["host"])["name_label"] == "xcp-host-03")
    assert (eth2["ip_configuration_mode"], eth2["IPv6"], eth2["primary_address_type"]) == (
        "None" if nth > 0 else "Static", ["::1/128"] if nth > 1 else [],
        "IPv6" if nth > 2 else "IPv4")
    if fault == "silent":
        assert "Not every step done was undone" in ran.stderr
        assert [m for _, m in moves(server)] == ["host.management_reconfigure"] * 2
    assert addresses(sim) == OLD and management(sim)["xcp-host-03"] == "eth0"
    control.clear_faults()
    answering(sim, server)
    again = cli("apply", str(tmp_path / "onto-ipv6.yaml"), "--yes")
    assert again.exit_code == 0, again.stderr
    assert addresses(sim) == MOVED and management(sim)["xcp-host-03"] == "eth2"
    answering(sim, server)


# --- the whole pool onto IPv6 ------------------------------------------------------------
# IPv6 has one loopback address, ::1; the IPv4-mapped IPv6 addresses ::ffff:127.0.2.1x are as
# many distinct IPv6 addresses that the kernel carries over IPv4 loopback (RFC 4291 2.5.5.2):
# XAPI's records, the plan, xapictl's URLs ([::ffff:127.0.2.11]:port) and its AF_INET6
# sockets are IPv6; the packets are IPv4 on loopback. No root, no traffic beyond loopback.
GIVEN = ["::ffff:127.0.2.11", "::ffff:127.0.2.12", "::ffff:127.0.2.13"]
MAPPED = [str(ipaddress.IPv6Address(a)) for a in GIVEN]
"""As XAPI records them (``::ffff:7f00:20b``): ``host.address``, the URLs."""
WHOLE_POOL_ONTO_IPV6 = ensure_interface(
    network=STORAGE, ipv4="none", ipv6="static", primary_address_type="ipv6",
    addresses6={f"xcp-host-0{n}": f"{GIVEN[n - 1]}/128" for n in (1, 2, 3)})


def storage_on_mapped_ipv6(server: SimServer) -> None:
    with connect(server) as conn:
        converge(WHOLE_POOL_ONTO_IPV6, XapiBackend(conn))
    server.control.clear_log()


def test_the_whole_pool_moves_onto_ipv6_and_back(served, cli) -> None:
    sim, server = served
    storage_on_mapped_ipv6(server)
    old_url = server.url
    ran = cli("host", "set-management", "--network", STORAGE, "--yes")
    assert ran.exit_code == 0, ran.stderr
    assert addresses(sim) == MAPPED
    assert set(management(sim).values()) == {"eth2"}
    new_url = old_url.replace("127.0.0.1", f"[{MAPPED[0]}]")
    assert server.url == new_url
    assert f"the pool master now answers at {MAPPED[0]}, not 127.0.0.1: use --url " \
           f"{new_url} from now on" in ran.stderr
    assert [m for _, m in moves(server)] == ["host.management_reconfigure"] * 3 \
        + ["pool.recover_slaves"]
    # each member was checked at its IPv6 address, then the master answered at its own
    assert {e["host"] for e in server.control.request_log()} >= set(MAPPED)
    assert sim.state.master_seen_by == {}
    answering(sim, server)
    again = cli("host", "set-management", "--network", STORAGE)  # at the new URL
    assert again.exit_code == 0 and "Nothing to do" in again.stdout, again.stderr
    with connect(server, new_url) as conn:  # and back onto IPv4
        converge(ensure_management("Pool-wide network 0"), XapiBackend(conn))
    assert addresses(sim) == OLD and server.url == old_url
    answering(sim, server)


@pytest.mark.parametrize("silent", [1, 2])
def test_a_member_silent_at_its_ipv6_address_undoes_the_whole_pool_move(served, cli,
                                                                        monkeypatch,
                                                                        silent: int) -> None:
    """xcp-host-02 (then -03) does not answer at its IPv6 address: it is moved back, then
    the members moved before it: exit 4, every host at its old address."""
    sim, server = served
    storage_on_mapped_ipv6(server)
    server.control.inject_fault("pool.get_all", "drop_before", host=MAPPED[silent])
    counted_deadline(monkeypatch)
    ran = cli("host", "set-management", "--network", STORAGE, "--yes")
    assert ran.exit_code == 4, ran.stderr
    assert f"but XAPI did not answer at {MAPPED[silent]}" in ran.stderr
    assert "The steps done were undone: the pool is as before." in ran.stderr
    assert addresses(sim) == OLD and set(management(sim).values()) == {"eth0"}
    assert [m for _, m in moves(server)] == ["host.management_reconfigure"] * (2 * silent)
    server.control.clear_faults()
    answering(sim, server)
