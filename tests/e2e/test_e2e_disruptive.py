"""Issue 10, clause 3 — disruptive changes ask, through the real CLI against a simulator.

Every write command whose plan destroys, unplugs, moves, re-plugs, renames or re-purposes
something: at a terminal the plan is shown and a question asked ("y" applies, "n" exits 3 and
sends nothing); off a terminal it is refused without ``--yes`` (exit 2, nothing sent, one
message naming ``--yes`` and each disruptive step); with ``--yes`` it is done. Purely additive
commands proceed without a question. Writes are counted in the simulator's request log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_e2e_cli import CREATE_105, JUMBO_TRUNK

from xapictl.cli.exit_codes import ExitCode

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Case:
    setup: tuple[tuple[str, ...], ...]
    """Commands that build the situation (run with --yes)."""
    command: tuple[str, ...]
    disrupted: tuple[str, ...]
    """What the refusal names: each disruptive step, as `action subject`."""
    writes: tuple[str, ...]
    """The writes the command sends once confirmed."""


ATTACH_4 = ("vif", "attach", "web-01", "Pool-wide network 1", "--device", "4")
CASES: dict[str, Case] = {
    "network delete": Case(
        (CREATE_105, ("vif", "attach", "build-01", "VLAN 105")),
        ("network", "delete", "VLAN 105"),
        ("destroy VIF 1 of VM 'build-01': destroys the VIF (the VM loses that NIC)",
         "destroy network 'VLAN 105': destroys the network"),
        ("VLAN.destroy", "VLAN.destroy", "VLAN.destroy", "VIF.destroy", "network.destroy")),
    "vif detach": Case(
        (ATTACH_4,), ("vif", "detach", "web-01", "4"),
        ("unplug VIF 4 of VM 'web-01': unplugs the VIF from its running VM",
         "destroy VIF 4 of VM 'web-01'"),
        ("VIF.unplug", "VIF.destroy")),
    "vif move": Case(
        (ATTACH_4,), ("vif", "move", "web-01", "4", "Pool-wide network 2"),
        ("move VIF 4 of VM 'web-01': moves the VIF to another network",),
        ("VIF.move",)),
    "vif attach of an existing VIF on another network": Case(
        (ATTACH_4,), ("vif", "attach", "web-01", "Pool-wide network 2", "--device", "4"),
        ("move VIF 4 of VM 'web-01'",), ("VIF.move",)),
    "network set-mtu": Case(
        (JUMBO_TRUNK, CREATE_105), ("network", "set-mtu", "VLAN 105", "9000", "--replug"),
        ("set MTU network 'VLAN 105': changes mtu of a network that exists",
         "re-plug PIF eth1 VLAN 105 on xcp-host-01: re-plugs the PIF"),
        ("network.set_MTU", "PIF.plug", "PIF.plug", "PIF.plug")),
    "network create changing the MTU of an existing network": Case(
        (("network", "create", "--name", "App"),),
        ("network", "create", "--name", "App", "--mtu", "9000"),
        ("set MTU network 'App'",), ("network.set_MTU",)),
    "apply": Case(
        (), ("apply", str(ROOT / "recipes" / "storage-network.yaml")),
        ("set name label network 'Storage': renames the network to 'Storage'",
         "re-plug PIF eth2 on xcp-host-01: re-plugs the PIF"),
        ("network.set_name_label", "network.set_name_description", "network.set_MTU",
         "PIF.plug", "PIF.plug", "PIF.plug")),
}


@pytest.fixture
def situation(cli, writes) -> Callable[[str], list[str]]:
    """Build the case's situation; returns the writes sent so far."""
    def build(name: str) -> list[str]:
        for command in CASES[name].setup:
            ran = cli(*command, "--yes")
            assert ran.code == ExitCode.OK, (command, ran.stderr)
        return writes()
    return build


def _terminal(monkeypatch: pytest.MonkeyPatch, answer: bool) -> None:
    monkeypatch.setattr("xapictl.cli.run.interactive", lambda: answer)


@pytest.mark.parametrize("name", list(CASES))
def test_off_a_terminal_without_yes_exits_2_naming_yes_and_what_is_disrupted(
        name: str, cli, writes, situation) -> None:
    before = situation(name)
    ran = cli(*CASES[name].command)
    assert ran.code == ExitCode.BAD_INPUT, ran.stderr
    assert "xapictl: refused: stdin is not a terminal, so nobody can confirm" in ran.stderr
    assert "Nothing was sent. Review the plan, then pass --yes to apply it." in ran.stderr
    for words in CASES[name].disrupted:
        assert words in ran.stderr, (words, ran.stderr)
    assert "(disruptive: " in ran.stdout, "the plan was shown, each disruptive step marked"
    assert writes() == before, "nothing sent"


@pytest.mark.parametrize("name", list(CASES))
def test_at_a_terminal_no_exits_3_and_sends_nothing(name: str, cli, writes, situation,
                                                    monkeypatch) -> None:
    before = situation(name)
    _terminal(monkeypatch, True)
    ran = cli(*CASES[name].command, input="n\n")
    assert ran.code == ExitCode.CHANGES_PENDING, ran.stderr
    assert "disruptive?" in ran.stdout and "Not applied." in ran.stdout
    assert writes() == before


@pytest.mark.parametrize("name", list(CASES))
def test_at_a_terminal_yes_applies(name: str, cli, writes, situation, monkeypatch) -> None:
    before = situation(name)
    _terminal(monkeypatch, True)
    ran = cli(*CASES[name].command, input="y\n")
    assert ran.code == ExitCode.OK, ran.stderr
    assert "Verified: the pool matches" in ran.stdout
    assert writes()[len(before):] == list(CASES[name].writes)


@pytest.mark.parametrize("name", list(CASES))
def test_with_yes_it_is_done_without_a_question(name: str, cli, writes, situation,
                                                monkeypatch) -> None:
    before = situation(name)
    _terminal(monkeypatch, True)  # even at a terminal: --yes means no question
    ran = cli(*CASES[name].command, "--yes")
    assert ran.code == ExitCode.OK, ran.stderr
    assert "?" not in ran.stdout.splitlines()[-1]
    assert writes()[len(before):] == list(CASES[name].writes)


ADDITIVE: dict[str, tuple[str, ...]] = {
    "network create": CREATE_105,
    "network create (plain)": ("network", "create", "--name", "App", "--mtu", "9000"),
    "vif attach of a new VIF": ("vif", "attach", "web-01", "Pool-wide network 1"),
}


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "no terminal"])
@pytest.mark.parametrize("name", list(ADDITIVE))
def test_additive_commands_proceed_without_a_question(name: str, terminal: bool, cli, writes,
                                                      monkeypatch) -> None:
    _terminal(monkeypatch, terminal)
    ran = cli(*ADDITIVE[name])  # no input: a question would be answered by EOF (abort)
    assert ran.code == ExitCode.OK, ran.stderr
    assert "Apply these" not in ran.stdout and "disruptive" not in ran.stdout
    assert writes(), "it was applied"


def test_apply_of_an_additive_plan_still_needs_yes_off_a_terminal(cli, writes,
                                                                 monkeypatch) -> None:
    """Scripts' behaviour kept: `apply` always asks (plain question, no disruption named)."""
    recipe = str(ROOT / "recipes" / "trunk-vlans.yaml")
    ran = cli("apply", recipe)
    assert ran.code == ExitCode.BAD_INPUT
    assert "apply needs a confirmation and stdin is not a terminal" in ran.stderr
    assert writes() == []
    _terminal(monkeypatch, True)
    declined = cli("apply", recipe, input="n\n")
    assert declined.code == ExitCode.CHANGES_PENDING
    assert "step(s)?" in declined.stdout and "disruptive" not in declined.stdout
    assert writes() == []


def test_network_delete_names_the_halted_vms_vif_it_destroys(cli, writes) -> None:
    """`network delete` used to destroy a halted VM's VIF silently (network.destroy deletes
    unplugged VIFs): now that VIF is its own step in the plan, and the question names it."""
    cli(*CREATE_105)
    cli("vif", "attach", "build-01", "VLAN 105")
    planned = cli("network", "delete", "VLAN 105")
    assert ("+ destroy VIF 1 of VM 'build-01': it is on network 'VLAN 105', which the recipe "
            "says absent") in planned.stdout
    assert cli("network", "delete", "VLAN 105", "--yes").code == ExitCode.OK
    listed = cli("vif", "list", "--vm", "build-01")
    assert "VLAN 105" not in listed.stdout


def test_network_create_never_renames_a_network_carrying_the_tag(cli, writes) -> None:
    """`network create --name "Other 105" --vlan 105 --device eth1` used to rename the VLAN
    105 network (a VM plugged in): now exit 2 naming it, and nothing sent."""
    cli(*CREATE_105)
    cli("vif", "attach", "web-01", "VLAN 105")
    before = writes()
    ran = cli("network", "create", "--name", "Other 105", "--vlan", "105", "--device", "eth1",
              "--yes")
    assert ran.code == ExitCode.BAD_INPUT
    assert "VLAN 105 on eth1 is already carried by network 'VLAN 105' (uuid " in ran.stderr
    assert "refer to it as 'VLAN 105', or delete it first" in ran.stderr
    assert writes() == before
    nic = cli("network", "create", "--name", "Other", "--device", "eth1")
    assert nic.code == ExitCode.BAD_INPUT
    assert "NIC eth1 is already carried by network 'Pool-wide network 1'" in nic.stderr
    assert writes() == before


def test_a_recipe_renames_only_when_it_asks_and_the_rename_is_disruptive(cli, writes,
                                                                          tmp_path) -> None:
    cli(*CREATE_105)
    recipe = tmp_path / "rename.yaml"
    recipe.write_text("version: 1\nnetworks:\n  - name: Other 105\n    vlan: 105\n"
                      "    device: eth1\n")
    refused = cli("apply", str(recipe), "--yes")
    assert refused.code == ExitCode.BAD_INPUT and "`rename: true`" in refused.stderr
    recipe.write_text(recipe.read_text() + "    rename: true\n")
    before = writes()
    asked = cli("apply", str(recipe))
    assert asked.code == ExitCode.BAD_INPUT
    assert "set name label network 'Other 105': renames the network to 'Other 105'" in (
        asked.stderr)
    assert writes() == before
    assert cli("apply", str(recipe), "--yes").code == ExitCode.OK
    assert writes()[len(before):] == ["network.set_name_label"]


def test_json_output_exits_3_when_declined(cli, writes, situation, monkeypatch) -> None:
    import json

    situation("vif move")
    before = writes()
    _terminal(monkeypatch, True)
    ran = cli("-o", "json", *CASES["vif move"].command, input="n\n")
    assert ran.code == ExitCode.CHANGES_PENDING
    data: dict[str, Any] = json.loads(ran.stdout[ran.stdout.index("{"):])
    assert data["applied"] is False and data["plan"]["changes_pending"] is True
    assert writes() == before


def _on_a_terminal(args: list[str], env: dict[str, str], answer: str) -> tuple[int, str]:
    """The real executable on a pseudo-terminal: wait for the question (a generous safety
    timeout, not a duration under test), answer it, return the exit code and the screen."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    fd, slave = pty.openpty()
    exe = str(Path(sys.executable).with_name("xapictl"))
    proc = subprocess.Popen([exe, *args], stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    screen, answered = b"", False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: the CLI exited and closed the terminal
                    break
                if not chunk:
                    break
                screen += chunk
            if not answered and b"disruptive? [y/N]: " in screen:
                os.write(fd, answer.encode() + b"\n")
                answered = True
            if proc.poll() is not None and not ready:
                break
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(fd)
    assert answered, screen.decode(errors="replace")
    return code, screen.decode(errors="replace")


@pytest.mark.parametrize(("answer", "code"), [("n", ExitCode.CHANGES_PENDING),
                                              ("y", ExitCode.OK)])
def test_network_delete_on_a_real_terminal_asks(answer: str, code: int, cli, writes,
                                                situation) -> None:
    import os

    before = situation("network delete")
    env = {**os.environ, **cli.env}
    ran, screen = _on_a_terminal(list(CASES["network delete"].command), env, answer)
    assert ran == code, screen
    assert "Apply these 5 step(s), 5 of them disruptive? [y/N]: " in screen
    sent = writes()[len(before):]
    assert sent == ([] if answer == "n" else list(CASES["network delete"].writes))
