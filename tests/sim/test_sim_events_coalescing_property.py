"""Property: for any sequence of creates, writes and destroys around a token, event.from
reports exactly XAPI's coalesced view — add for objects born after the token and alive, mod
for older live objects written after it, del for older objects destroyed after it, and
nothing for objects born and destroyed within the window."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sim_engine_pool import PASSWORD

from xapictl.sim.engine import Simulator

# (phase, action, object index): phase 0 is before the token, 1 after.
Op = tuple[int, str, int]
ops = st.lists(st.tuples(st.integers(0, 1), st.sampled_from(["create", "write", "destroy"]),
                         st.integers(0, 3)), max_size=25)


def expected(sequence: list[Op], refs: dict[int, str]) -> set[tuple[str, str]]:
    born: dict[int, int] = {}
    dead: dict[int, int] = {}
    written_after: set[int] = set()
    for phase, action, i in sequence:
        if action == "create" and i not in born:
            born[i] = phase
        elif action == "write" and i in born and i not in dead and phase == 1:
            written_after.add(i)
        elif action == "destroy" and i in born and i not in dead:
            dead[i] = phase
    out: set[tuple[str, str]] = set()
    for i, phase in born.items():
        if i in dead and dead[i] == 0:
            continue
        if phase == 1:
            if i not in dead:
                out.add(("add", refs[i]))
        elif i in dead:
            out.add(("del", refs[i]))
        elif i in written_after:
            out.add(("mod", refs[i]))
    return out


@settings(max_examples=60, deadline=None)
@given(ops)
def test_event_from_coalesces_like_xapi(sequence: list[Op]) -> None:
    sim = Simulator(password=PASSWORD)
    s = sim.call("session.login_with_password", ["root", PASSWORD])
    refs: dict[int, str] = {}
    dead: set[int] = set()
    token = ""

    def run(action: str, i: int) -> None:
        if action == "create" and i not in refs:
            refs[i] = sim.call("VM_appliance.create", [s, {"name_label": f"a{i}"}])
        elif action == "write" and i in refs and i not in dead:
            sim.call("VM_appliance.set_name_description", [s, refs[i], "w"])
        elif action == "destroy" and i in refs and i not in dead:
            sim.call("VM_appliance.destroy", [s, refs[i]])
            dead.add(i)

    for phase in (0, 1):
        if phase == 1:
            token = sim.call("event.from", [s, ["vm_appliance"], "", 0.0])["token"]
        for p, action, i in sequence:
            if p == phase:
                run(action, i)
    ordered = sorted(sequence, key=lambda op: op[0])  # the order the ops really ran in
    batch: dict[str, Any] = sim.call("event.from", [s, ["vm_appliance"], token, 0.0])
    got = {(e["operation"], e["ref"]) for e in batch["events"]}
    assert got == expected(ordered, refs)
    for event in batch["events"]:
        assert ("snapshot" in event) == (event["operation"] != "del")
