"""Taking the management interface off a bond and destroying the bond, in one recipe, with a
fault at each write (issue 13/14 follow-up): the simulator's ``loopback`` scenario served on
sockets, its hosts' management on an active-backup bond of eth0+eth1, then a recipe moving
management onto the storage network (127.0.2.x) and removing the bond.

XAPI does not refuse ``Bond.destroy`` of a bond carrying the management interface (only with
HA enabled): it moves the interface back onto the primary member. The plan moves management
first and destroys the bonds after, so the undo of a member that does not answer on its new
address puts it back onto its bond, still there. Each case ends with its documented exit code
(``docs/exit-codes.md``): 0 when the fault was resolved by reading, 4 when the pool is as
before, 5 with the pool exactly as the message says (what is done, what is not); every host
answers at its ``host.address``; no bond or network is left twice or lost; a re-run finishes.

The same for the way back (bonding the management NICs: ``Bond.create`` moves the interface
onto the bond), for management back onto the bond's primary member (the bond's removal does
it), and for a member that stops answering once a bond step moved its management interface.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_e2e_management_move import NEW, OLD, PASSWORD, addresses, connect
from typer.testing import CliRunner

from xapictl.client.lease import is_lease_call
from xapictl.plan.apply import converge
from xapictl.plan.audit import is_write
from xapictl.plan.backend import XapiBackend
from xapictl.plan.desired import load_text
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer

BOND = "Management bond"
BONDED = f"""
version: 1
bonds:
  - {{network: {BOND}, members: [eth0, eth1], mode: active-backup}}
"""
OFF_THE_BOND = f"""
version: 1
management: {{network: Pool-wide network 2}}
bonds:
  - {{network: {BOND}, members: [eth0, eth1], present: false}}
"""
WRITES = ["host.management_reconfigure"] * 3 + ["pool.recover_slaves"] \
    + ["Bond.destroy"] * 3 + ["network.destroy"]
"""The apply's writes: the members' moves, the master's, recover_slaves, then each host's
``Bond.destroy`` (the members first, the master last) and the bond's network."""


@pytest.fixture
def bonded(tmp_path: Path) -> Iterator[tuple[Simulator, SimServer]]:
    sim = Simulator(scenario="loopback", password=PASSWORD)
    with SimServer(sim) as server:
        with connect(server) as conn:
            converge(load_text(BONDED), XapiBackend(conn))
        server.control.clear_log()
        (tmp_path / "off-the-bond.yaml").write_text(OFF_THE_BOND)
        yield sim, server


def apply(server: SimServer, tmp_path: Path, *args: str) -> Any:
    """``xapictl --url MASTER [args] apply off-the-bond.yaml --yes`` (the master where it
    answers now)."""
    from xapictl.cli import app

    env = {"XAPICTL_PASSWORD": PASSWORD, "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
           "HOME": str(tmp_path)}
    return CliRunner().invoke(app, ["--url", server.url, *args, "apply",
                                    str(tmp_path / "off-the-bond.yaml"), "--yes"], env=env)


def counted_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's retry deadline counted in attempts, not seconds (``RetryPolicy.immediate``):
    a host that never answers is given up on after the same number of probes however busy
    the machine is, and no request has a wall-clock limit."""
    from xapictl.xapi.retry import RetryPolicy

    monkeypatch.setattr("xapictl.cli.connection._tls",
                        lambda opts: {"retry": RetryPolicy.immediate(deadline=5.0)})


def arm(server: SimServer, monkeypatch: pytest.MonkeyPatch, nth: int,
        strike: Callable[[str], None]) -> list[str]:
    """Call ``strike(method)`` just before the ``nth`` write (lease calls aside) reaches the
    simulator; returns the writes seen, in order."""
    control = server.control
    before_call = control.before_call
    seen: list[str] = []

    def counting(host_address: str, method: str, **kw: Any) -> Any:
        if is_write(method) and not method.startswith("session.") \
                and method not in ("pool.add_to_other_config", "pool.remove_from_other_config"):
            if len(seen) == nth:
                strike(method)
            seen.append(method)
        return before_call(host_address, method, **kw)

    monkeypatch.setattr(control, "before_call", counting)
    return seen


def management(sim: Simulator) -> dict[str, str]:
    """host name -> the device of its management PIF."""
    with sim.state.lock:
        hosts = {h: sim.state.get("host", h)["name_label"] for h in sim.state.refs("host")}
        return {hosts[p["host"]]: p["device"] for p in sim.state.all("PIF").values()
                if p["management"]}


def bonds(sim: Simulator) -> int:
    with sim.state.lock:
        return len(sim.state.refs("Bond"))


def networks_named(sim: Simulator, name: str) -> int:
    with sim.state.lock:
        return sum(n["name_label"] == name for n in sim.state.all("network").values())


def effects(server: SimServer, method: str) -> int:
    return sum(e["method"] == method and e["outcome"] in ("success", "dropped after success")
               for e in server.control.request_log())


def answering(sim: Simulator, server: SimServer) -> None:
    """Every host answers XAPI at its ``host.address`` (the check a move waits for)."""
    with connect(server) as conn:
        assert {a: conn.answers_at(a) for a in addresses(sim)} == dict.fromkeys(
            addresses(sim))


def test_management_moves_off_the_bond_before_the_bond_goes(bonded, tmp_path) -> None:
    sim, server = bonded
    ran = apply(server, tmp_path)
    assert ran.exit_code == 0, ran.output
    writes = [e["method"] for e in server.control.request_log() if is_write(e["method"])
              and e["outcome"] == "success" and not is_lease_call(e["method"], e["params"])
              and not e["method"].startswith("session.")]
    assert writes == WRITES
    # no Bond.destroy moved a management interface: each was on eth2 before it
    assert management(sim) == dict.fromkeys(("xcp-host-01", "xcp-host-02", "xcp-host-03"),
                                            "eth2")
    assert addresses(sim) == NEW and bonds(sim) == 0 and networks_named(sim, BOND) == 0
    answering(sim, server)
    assert "the management interface moves off it first (management: 'Pool-wide network " \
        "2'); XAPI moves back onto eth0: the IP configuration Static 127.0.0.2/255.0.0.0" \
        in ran.output



CASES = [(nth, fault) for nth in range(len(WRITES))
         for fault in ("drop_before", "drop_after", "error")] + [
    (0, "silent"), (1, "silent"), (4, "offline"), (5, "offline")]
"""Each write meets a lost request, a lost answer, or an error XAPI answers (nothing done);
"silent": the member moved by that write does not answer on its new address; "offline": the
member whose bond that write destroys stops answering altogether (XAPI: HOST_OFFLINE)."""


MEMBER_OF_WRITE = {4: "xcp-host-02", 5: "xcp-host-03"}
"""The member whose Bond.destroy is the write (the members first, by name)."""


def expected_exit(nth: int, fault: str) -> int:
    if fault.startswith("drop"):
        return 0  # resolved by reading the pool back
    return 4 if nth < 3 or fault == "silent" else 5  # the master has moved from nth 3 on


def done(stderr: str) -> list[str]:
    """The steps the failure report lists as done (``apply stopped. What happened:``)."""
    return [line.split("done  ", 1)[1].split(":", 1)[0] for line in
            stderr.split("What happened:", 1)[-1].split("Then, to roll back:", 1)[0]
            .splitlines() if line.strip().startswith("done  ")]


@pytest.mark.parametrize(("nth", "fault"), CASES, ids=[f"w{n}-{f}" for n, f in CASES])
def test_a_fault_at_each_write_ends_with_its_exit_code_and_the_pool_as_said(
        bonded, tmp_path, monkeypatch, nth: int, fault: str) -> None:
    sim, server = bonded
    control = server.control
    first = server.url

    def strike(method: str) -> None:
        if fault == "silent":  # the member never answers on its new address
            control.inject_fault("pool.get_all", "drop_before", host=NEW[nth + 1])
        elif fault == "offline":
            control.set_host_live(MEMBER_OF_WRITE[nth], False)
        elif fault == "error":
            control.inject_fault(method, "error", error=("INTERNAL_ERROR", "refused"), times=1)
        else:
            control.inject_fault(method, fault, times=1)  # type: ignore[arg-type]

    seen = arm(server, monkeypatch, nth, strike)
    if fault == "silent":
        counted_deadline(monkeypatch)
    ran = apply(server, tmp_path)
    assert len(seen) > nth and seen[nth] == WRITES[nth], "the fault was armed"
    assert ran.exit_code == expected_exit(nth, fault), ran.stderr
    control.clear_faults()
    if fault == "offline":
        assert "HOST_OFFLINE" in ran.stderr
        control.set_host_live(MEMBER_OF_WRITE[nth], True)  # back: it answers again
    if ran.exit_code == 0:
        assert addresses(sim) == NEW and bonds(sim) == 0 and networks_named(sim, BOND) == 0
    elif ran.exit_code == 4:  # as before: every host on its bond at its old address
        assert "The steps done were undone: the pool is as before." in ran.stderr \
            or not done(ran.stderr)
        assert addresses(sim) == OLD and server.url == first
        assert set(management(sim).values()) == {"bond0"} and bonds(sim) == 3
        assert networks_named(sim, BOND) == 1
    else:  # exactly what the report lists as done
        steps = done(ran.stderr)
        assert steps[:4] == ["move management host xcp-host-02", "move management host "
                             "xcp-host-03", "move management host xcp-host-01",
                             "recover members pool members"][:len(steps[:4])]
        assert addresses(sim) == NEW
        assert set(management(sim).values()) == {"eth2"}
        destroyed = sum(s.startswith("destroy bond") for s in steps)
        assert bonds(sim) == 3 - destroyed
        assert networks_named(sim, BOND) == (0 if "destroy network 'Management bond'" in steps
                                             else 1)
        assert f"the pool master now answers at 127.0.2.11, not 127.0.0.1: use --url " \
               f"{server.url} from now on" in ran.stderr
        resume = ran.stderr.split("Resume with: ", 1)[1].splitlines()[0]
        assert resume.startswith(f"xapictl --url {server.url} apply ")
        if WRITES[nth] == "pool.recover_slaves":  # what the re-run cannot do, the report says
            assert "the members still look for the master at its old address: once the " \
                "cause is fixed, send pool.recover_slaves (`xe pool-recover-slaves` on the " \
                "master)" in ran.stderr
            assert set(sim.state.master_seen_by.values()) == {"127.0.0.1"}
            with connect(server) as conn:
                conn.call("pool.recover_slaves")
    answering(sim, server)
    again = apply(server, tmp_path)  # the re-run, at the master's address now
    assert again.exit_code == 0, again.stderr
    assert addresses(sim) == NEW and bonds(sim) == 0 and networks_named(sim, BOND) == 0
    assert set(management(sim).values()) == {"eth2"}
    answering(sim, server)
    assert sim.state.master_seen_by == {}, "every member knows where the master is"
    assert effects(server, "Bond.destroy") == 3  # each bond destroyed once
    assert effects(server, "network.destroy") == 1


BOND_WRITES = ["network.create"] + ["Bond.create"] * 3
BOND_CASES = [(nth, fault) for nth in range(len(BOND_WRITES))
              for fault in ("drop_before", "drop_after", "error")]


@pytest.mark.parametrize(("nth", "fault"), BOND_CASES, ids=[f"w{n}-{f}" for n, f in BOND_CASES])
def test_a_fault_while_bonding_the_management_nics_ends_as_before_or_bonded(
        tmp_path, monkeypatch, nth: int, fault: str) -> None:
    """The way back: bonding eth0+eth1 again, XAPI moving each host's management interface
    (and its address) onto the bond. A lost request or answer is resolved by reading (exit
    0); XAPI refusing a write rolls the bonds made back (``on_failure: rollback``): exit 4,
    every host's management on eth0 again, answering at its address."""
    sim = Simulator(scenario="loopback", password=PASSWORD)
    with SimServer(sim) as server:
        (tmp_path / "off-the-bond.yaml").write_text(BONDED)  # the file apply() runs
        control = server.control

        def strike(method: str) -> None:
            if fault == "error":
                control.inject_fault(method, "error", error=("INTERNAL_ERROR", "refused"),
                                     times=1)
            else:
                control.inject_fault(method, fault, times=1)  # type: ignore[arg-type]

        seen = arm(server, monkeypatch, nth, strike)
        ran = apply(server, tmp_path)
        assert len(seen) > nth and seen[nth] == BOND_WRITES[nth], "the fault was armed"
        assert ran.exit_code == (0 if fault.startswith("drop") else 4), ran.stderr
        if ran.exit_code == 4:
            assert set(management(sim).values()) == {"eth0"} and bonds(sim) == 0
            assert networks_named(sim, BOND) == 0
            if nth:
                assert "The steps done were undone: the pool is as before." in ran.stderr
        else:
            assert set(management(sim).values()) == {"bond0"} and bonds(sim) == 3
        assert addresses(sim) == OLD  # the address moves with the interface
        answering(sim, server)
        control.clear_faults()
        again = apply(server, tmp_path)
        assert again.exit_code == 0, again.stderr
        assert set(management(sim).values()) == {"bond0"} and bonds(sim) == 3
        assert networks_named(sim, BOND) == 1
        answering(sim, server)


BACK_ONTO_ETH0 = f"""
version: 1
management: {{network: Pool-wide network 0}}
bonds:
  - {{network: {BOND}, members: [eth0, eth1], present: false}}
"""
UNBOND_WRITES = ["Bond.destroy"] * 3 + ["network.destroy"]
UNBOND_CASES = [(nth, fault) for nth in range(len(UNBOND_WRITES))
                for fault in ("drop_before", "drop_after", "error")]


def test_management_back_onto_the_primary_member_is_the_bonds_removal(bonded,
                                                                      tmp_path) -> None:
    """``management:`` on eth0's network with the bond of eth0+eth1 removed: eth0 is a bond
    member (a move there would be CANNOT_PLUG_BOND_SLAVE), but it is the bond's primary
    member, onto which ``Bond.destroy`` moves the management interface and the address:
    no move is planned, each host says why."""
    sim, server = bonded
    (tmp_path / "off-the-bond.yaml").write_text(BACK_ONTO_ETH0)
    ran = apply(server, tmp_path)
    assert ran.exit_code == 0, ran.stderr
    assert "the recipe removes its bond, whose Bond.destroy moves the management interface " \
        "back onto eth0 (its primary member, with the bond's address)" in ran.stdout
    assert [e["method"] for e in server.control.request_log() if e["outcome"] == "success"
            and e["method"] in ("Bond.destroy", "network.destroy",
                                "host.management_reconfigure")] == UNBOND_WRITES
    assert set(management(sim).values()) == {"eth0"} and addresses(sim) == OLD
    assert bonds(sim) == 0 and networks_named(sim, BOND) == 0
    answering(sim, server)


@pytest.mark.parametrize(("nth", "fault"), UNBOND_CASES,
                         ids=[f"w{n}-{f}" for n, f in UNBOND_CASES])
def test_a_fault_while_the_bonds_removal_moves_management_back(bonded, tmp_path, monkeypatch,
                                                              nth: int, fault: str) -> None:
    """Each host keeps its address whatever the fault (its management is on the bond or,
    once the bond is gone, on eth0): exit 0 (read back), 4 (nothing done) or 5 with exactly
    the bonds the report lists as done gone; the re-run finishes."""
    sim, server = bonded
    (tmp_path / "off-the-bond.yaml").write_text(BACK_ONTO_ETH0)
    control = server.control

    def strike(method: str) -> None:
        if fault == "error":
            control.inject_fault(method, "error", error=("INTERNAL_ERROR", "refused"), times=1)
        else:
            control.inject_fault(method, fault, times=1)  # type: ignore[arg-type]

    seen = arm(server, monkeypatch, nth, strike)
    ran = apply(server, tmp_path)
    assert len(seen) > nth and seen[nth] == UNBOND_WRITES[nth], "the fault was armed"
    assert ran.exit_code == (0 if fault.startswith("drop") else 4 if nth == 0 else 5), \
        ran.stderr
    destroyed = 3 if ran.exit_code == 0 else sum(
        s.startswith("destroy bond") for s in done(ran.stderr))
    assert bonds(sim) == 3 - destroyed
    assert sorted(management(sim).values()) == sorted(["eth0"] * destroyed
                                                      + ["bond0"] * (3 - destroyed))
    assert addresses(sim) == OLD
    answering(sim, server)
    control.clear_faults()
    again = apply(server, tmp_path)
    assert again.exit_code == 0, again.stderr
    assert set(management(sim).values()) == {"eth0"} and bonds(sim) == 0
    assert networks_named(sim, BOND) == 0 and effects(server, "Bond.destroy") == 3
    answering(sim, server)


def silent_while(sim: Simulator, server: SimServer, monkeypatch: pytest.MonkeyPatch,
                 host: str, address: str, device: Callable[[str], bool]) -> None:
    """``host`` does not answer at ``address`` while its management PIF's device is one that
    ``device`` picks (a bond whose NIC is not cabled, say): every request there is dropped."""
    from xapictl.sim.control import DropConnection

    control = server.control
    before_call = control.before_call

    def gated(host_address: str, method: str, **kw: Any) -> Any:
        if host_address == address and device(management(sim)[host]):
            raise DropConnection(f"{host} does not answer on its management interface")
        return before_call(host_address, method, **kw)

    monkeypatch.setattr(control, "before_call", gated)


def test_a_member_silent_once_bonded_is_unbonded_and_the_pool_is_as_before(
        tmp_path, monkeypatch) -> None:
    """Bond.create moved xcp-host-02's management interface (and address) onto the bond,
    and XAPI does not answer there: the step fails, its bond is destroyed at once (the
    interface back on eth0, answering), then the bond network: exit 4."""
    sim = Simulator(scenario="loopback", password=PASSWORD)
    with SimServer(sim) as server:
        (tmp_path / "off-the-bond.yaml").write_text(BONDED)  # the file apply() runs
        silent_while(sim, server, monkeypatch, "xcp-host-02", OLD[1],
                     lambda device: device.startswith("bond"))
        counted_deadline(monkeypatch)
        ran = apply(server, tmp_path)
        assert ran.exit_code == 4, ran.stderr
        assert "xcp-host-02 moved its management interface onto the bond, but XAPI did not " \
            "answer at 127.0.0.2" in ran.stderr
        assert "The steps done were undone: the pool is as before." in ran.stderr
        assert set(management(sim).values()) == {"eth0"} and bonds(sim) == 0
        assert networks_named(sim, BOND) == 0 and addresses(sim) == OLD
        assert effects(server, "Bond.create") == 1  # xcp-host-03 and the master untouched
        answering(sim, server)


def test_a_member_silent_once_unbonded_stops_the_run_before_the_others(
        bonded, tmp_path, monkeypatch) -> None:
    """The bond's removal moved xcp-host-02's management interface back onto eth0, and XAPI
    does not answer there: the run stops before xcp-host-03 and the master lose their bond
    (a removal has no undo): exit 5, the report saying which host."""
    sim, server = bonded
    (tmp_path / "off-the-bond.yaml").write_text(BACK_ONTO_ETH0)
    silent_while(sim, server, monkeypatch, "xcp-host-02", OLD[1], lambda device: device == "eth0")
    counted_deadline(monkeypatch)
    ran = apply(server, tmp_path)
    assert ran.exit_code == 5, ran.stderr
    assert "xcp-host-02's bond is destroyed and its management interface moved back onto the " \
        "primary member, but XAPI did not answer at 127.0.0.2" in ran.stderr
    assert management(sim) == {"xcp-host-01": "bond0", "xcp-host-02": "eth0",
                               "xcp-host-03": "bond0"}
    assert bonds(sim) == 2 and effects(server, "Bond.destroy") == 1
    monkeypatch.undo()  # the NIC is fixed: it answers; the re-run finishes
    answering(sim, server)
    again = apply(server, tmp_path)
    assert again.exit_code == 0, again.stderr
    assert set(management(sim).values()) == {"eth0"} and bonds(sim) == 0


def test_the_resume_line_names_the_masters_new_url_given_by_the_environment_too(
        bonded, tmp_path, monkeypatch) -> None:
    """XAPICTL_URL names the old address, which no longer answers: the line that resumes
    gives --url with the new one."""
    from xapictl.cli import app

    sim, server = bonded
    old_url = server.url
    arm(server, monkeypatch, 4, lambda method: server.control.inject_fault(
        method, "error", error=("INTERNAL_ERROR", "refused"), times=1))
    ran = CliRunner().invoke(app, ["apply", str(tmp_path / "off-the-bond.yaml"), "--yes"],
                             env={"XAPICTL_URL": old_url, "XAPICTL_PASSWORD": PASSWORD,
                                  "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
                                  "HOME": str(tmp_path)})
    assert ran.exit_code == 5, ran.stderr
    resume = ran.stderr.split("Resume with: ", 1)[1].splitlines()[0]
    assert resume == f"xapictl --url {server.url} apply {tmp_path / 'off-the-bond.yaml'} --yes"
    assert server.url != old_url and addresses(sim) == NEW
