"""Moving the management interface end to end (issue 13 item 3): ``xapictl host
set-management`` and ``ensure_management`` against a simulator on sockets whose hosts answer
on their new loopback addresses (the ``loopback`` scenario), the client following the master
there; faults at each write (lost before or after, transient error, expired session); a
member that does not answer on its new address moved back and the members before it undone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import xapictl
from xapictl.errors import ApplyError, PreflightError
from xapictl.plan.apply import converge
from xapictl.plan.audit import is_write
from xapictl.plan.backend import XapiBackend
from xapictl.recipes import ensure_management
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer
from xapictl.xapi.retry import RetryPolicy

PASSWORD = "xapictl"
STORAGE = "Pool-wide network 2"
OLD = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
NEW = ["127.0.2.11", "127.0.2.12", "127.0.2.13"]


@pytest.fixture
def served() -> Iterator[tuple[Simulator, SimServer]]:
    sim = Simulator(scenario="loopback", password=PASSWORD)
    with SimServer(sim) as server:
        yield sim, server


def addresses(sim: Simulator) -> list[str]:
    with sim.state.lock:
        return [sim.state.get("host", h)["address"] for h in sim.state.refs("host")]


def moves(server: SimServer) -> list[tuple[str, str]]:
    """(receiving address, method) of each management write that XAPI carried out (its
    answer delivered or lost)."""
    return [(e["host"], e["method"]) for e in server.control.request_log()
            if e["method"] in ("host.management_reconfigure", "pool.recover_slaves")
            and e["outcome"] in ("success", "dropped after success")]


def connect(server: SimServer, url: str | None = None) -> Any:
    return xapictl.connect(url or server.url, username="root", password=PASSWORD,
                           retry=RetryPolicy.immediate(deadline=5.0))


@pytest.fixture
def cli(served: tuple[Simulator, SimServer], tmp_path: Path) -> Callable[..., Any]:
    from xapictl.cli import app

    _sim, server = served
    env = {"XAPICTL_PASSWORD": PASSWORD, "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
           "HOME": str(tmp_path)}

    def run(*args: str, url: str | None = None) -> Any:
        return CliRunner().invoke(app, ["--url", url or server.url, *args], env=env)


    return run


def test_set_management_moves_every_host_and_says_where_the_master_is(served, cli) -> None:
    sim, server = served
    old_url = server.url  # the property follows the master
    ran = cli("host", "set-management", "--network", STORAGE, "--yes")
    assert ran.exit_code == 0, ran.output
    assert addresses(sim) == NEW
    new_url = old_url.replace("127.0.0.1", "127.0.2.11")
    assert server.url == new_url
    assert f"the pool master now answers at 127.0.2.11, not 127.0.0.1: use --url {new_url} " \
           "from now on" in ran.stderr
    # members first (each on the master, which forwards it), the master last, then recover
    assert [m for _, m in moves(server)] == ["host.management_reconfigure"] * 3 \
        + ["pool.recover_slaves"]
    assert moves(server)[-1][0] == "127.0.2.11"  # recover_slaves reached the moved master
    again = cli("host", "set-management", "--network", STORAGE, url=new_url)
    assert again.exit_code == 0 and "Nothing to do" in again.stdout
    old = cli("--timeout", "2", "host", "list", url=old_url)
    assert old.exit_code == 4  # nothing answers at the old address any more


def test_set_management_off_a_terminal_needs_yes(served, cli) -> None:
    sim, _server = served
    ran = cli("host", "set-management", "--network", STORAGE)
    assert ran.exit_code == 2 and "pass --yes" in ran.stderr
    assert addresses(sim) == OLD


def test_set_management_of_one_host_moves_only_it(served, cli) -> None:
    sim, server = served
    ran = cli("host", "set-management", "--network", STORAGE, "--host", "xcp-host-03",
              "--yes")
    assert ran.exit_code == 0, ran.output
    assert addresses(sim) == [OLD[0], OLD[1], NEW[2]]
    assert [m for _, m in moves(server)] == ["host.management_reconfigure"]
    assert "now answers" not in ran.stderr  # the master did not move


def test_moving_back_returns_every_host_to_its_old_address(served) -> None:
    sim, server = served
    first = server.url
    with connect(server) as conn:
        converge(ensure_management(STORAGE), XapiBackend(conn))
        converge(ensure_management("Pool-wide network 0"), XapiBackend(conn))
        assert conn.url == first == server.url
    assert addresses(sim) == OLD


@pytest.mark.parametrize("nth", range(4))
@pytest.mark.parametrize("fault", ["drop_before", "drop_after", "transient", "session"])
def test_a_fault_at_each_write_still_converges_without_duplicates(served, nth: int,
                                                                 fault: str) -> None:
    """The nth management write (three moves, then recover_slaves) meets the fault; the run
    (re-run once if it stopped) ends with every host moved, each move taken once."""
    sim, server = served
    control = server.control
    sent: list[str] = []

    class Armed:
        def __init__(self, conn: Any) -> None:
            self.conn = conn

        def __getattr__(self, name: str) -> Any:
            return getattr(self.conn, name)

        def call(self, method: str, *args: Any) -> Any:
            if is_write(method) and method in ("host.management_reconfigure",
                                               "pool.recover_slaves"):
                if len(sent) == nth:
                    if fault == "session":
                        sim.expire_sessions()
                    elif fault == "transient":
                        control.inject_fault(method, "error", error=("TOO_BUSY",), times=1)
                    else:
                        control.inject_fault(method, fault, times=1)  # type: ignore[arg-type]
                sent.append(method)
            return self.conn.call(method, *args)

    with connect(server) as conn:
        try:
            converge(ensure_management(STORAGE), XapiBackend(Armed(conn)))  # type: ignore[arg-type]
            finished = True
        except ApplyError:
            finished = False
        url = conn.url
    assert len(sent) > nth, "the fault was armed"
    if not finished:
        with connect(server, url) as conn:
            converge(ensure_management(STORAGE), XapiBackend(conn))
    assert addresses(sim) == NEW
    taken = [a for a, m in moves(server) if m == "host.management_reconfigure"]
    assert len(taken) == 3  # each host moved once: no move sent twice with effect
    assert sim.state.master_seen_by == {}


def test_a_member_that_does_not_answer_on_its_new_address_is_moved_back(served) -> None:
    sim, server = served
    server.control.inject_fault("pool.get_all", "drop_before", host=NEW[2])  # never answers
    with connect(server) as conn, pytest.raises(ApplyError) as stopped:
        converge(ensure_management(STORAGE), XapiBackend(conn))
    report = stopped.value.report
    assert [r.status.value for r in report.results] == ["done", "failed", "not run", "not run"]
    assert "XAPI did not answer at 127.0.2.13" in report.results[1].detail
    # xcp-host-03 moved back first (its move took effect), then xcp-host-02
    assert [r.status.value for r in report.undone] == ["done", "done"]
    assert [r.step.subject for r in report.undone] == ["host xcp-host-03", "host xcp-host-02"]
    assert report.rolled_back
    assert addresses(sim) == OLD
    assert [m for _, m in moves(server)] == ["host.management_reconfigure"] * 4


def test_the_first_member_not_answering_is_moved_back_and_the_command_says_so(served,
                                                                             cli) -> None:
    """Nothing else had moved: the pool is as before, exit 4 (not 5, and not "Nothing was
    undone")."""
    sim, server = served
    server.control.inject_fault("pool.get_all", "drop_before", host=NEW[1])  # never answers
    ran = cli("host", "set-management", "--network", STORAGE, "--yes")
    assert ran.exit_code == 4, ran.output
    assert "Then, to roll back:" in ran.output
    assert "The steps done were undone: the pool is as before." in ran.output
    assert "Nothing was undone" not in ran.output
    assert addresses(sim) == OLD
    assert [m for _, m in moves(server)] == ["host.management_reconfigure"] * 2


def test_an_address_this_client_cannot_reach_is_refused_before_any_write() -> None:
    sim = Simulator(scenario="seed", password=PASSWORD)  # eth2: 198.51.100.x, beyond loopback
    with SimServer(sim) as server, connect(server) as conn:
        with pytest.raises(PreflightError) as refused:
            converge(ensure_management(STORAGE), XapiBackend(conn))
        assert "this client cannot reach 198.51.100.12" in str(refused.value)
        assert not [e for e in server.control.request_log() if is_write(e["method"])
                    and not e["method"].startswith("session.")]


class FailMaster:
    """A connection whose master move XAPI refuses (an error answered, nothing moved)."""

    def __init__(self, conn: Any, server: SimServer) -> None:
        self.conn, self.server, self.moves = conn, server, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def call(self, method: str, *args: Any) -> Any:
        if method == "host.management_reconfigure":
            self.moves += 1
            if self.moves == 3:
                self.server.control.inject_fault(method, "error",
                                                 error=("INTERNAL_ERROR", "refused"), times=1)
        return self.conn.call(method, *args)


def test_the_master_refusing_its_move_undoes_the_members(served) -> None:
    sim, server = served
    first = server.url
    with connect(server) as conn, pytest.raises(ApplyError) as stopped:
        converge(ensure_management(STORAGE), XapiBackend(FailMaster(conn, server)))  # type: ignore[arg-type]
    report = stopped.value.report
    assert [r.status.value for r in report.results] == ["done", "done", "failed", "not run"]
    assert [r.status.value for r in report.undone] == ["done", "done"]  # newest first
    assert addresses(sim) == OLD and server.url == first
    assert conn.session.moved_to is None  # the connection never left the master


def test_a_master_that_does_not_answer_at_its_new_address_stops_the_run(served) -> None:
    """Once the master has moved nothing can undo it from the client: the run stops, saying
    the pool could not be read, and the master's console is the way back (docs/recipes.md)."""
    sim, server = served
    for method in ("event.from", "pool.get_all", "host.get_all_records", "PIF.get_all_records",
                   "pool.get_all_records", "network.get_all_records"):
        server.control.inject_fault(method, "drop_before", host=NEW[0])
    with connect(server) as conn, pytest.raises(ApplyError) as stopped:
        converge(ensure_management(STORAGE), XapiBackend(conn))
    assert "every step was done, then the pool could not be read to verify" \
        in str(stopped.value)
    assert conn.url.startswith("http://127.0.2.11:")
    assert addresses(sim) == NEW  # the master moved; the members too


def test_set_management_onto_a_static_ipv6_address_answers_there(served, cli) -> None:
    """A member's management moved onto a PIF whose primary address is a static IPv6 one:
    ``::1``, the only IPv6 loopback address, so one host only (the others keep IPv4). The
    simulator listens on ``[::1]`` after the move; the client's check reaches it there."""
    from xapictl.recipes import ensure_interface

    sim, server = served
    with connect(server) as conn:
        converge(ensure_interface(network=STORAGE, hosts=["xcp-host-03"], ipv4="none",
                                  ipv6="static", addresses6={"xcp-host-03": "::1/128"},
                                  primary_address_type="ipv6"), XapiBackend(conn))
    ran = cli("host", "set-management", "--network", STORAGE, "--host", "xcp-host-03",
              "--yes")
    assert ran.exit_code == 0, ran.output
    assert addresses(sim) == [OLD[0], OLD[1], "::1"]
    assert [m for _, m in moves(server)] == ["host.management_reconfigure"]
    # the client's check after the move was answered by the member at [::1]
    assert [e["method"] for e in server.control.request_log() if e["host"] == "::1"]
    again = cli("host", "set-management", "--network", STORAGE, "--host", "xcp-host-03")
    assert again.exit_code == 0 and "Nothing to do" in again.stdout
