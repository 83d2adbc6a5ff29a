"""Class flags from the xen-api source (``xapictl/model/_flags.py``, derived by
``_codegen --derive-flags``): which classes generate events, and the roles a class's messages
default to. The privilege escalation they close: a read-only user reading every live session
ref (root's included) through ``event.from(["session"], …)``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sim_engine_pool import PASSWORD, SimPool, make_sim, session_of

from xapictl.model import _codegen
from xapictl.model._flags import DEFAULT_ROLES, GEN_EVENTS, NO_EVENTS
from xapictl.model.schema import datamodel
from xapictl.sim import dispatch


@pytest.fixture
def pool() -> SimPool:
    return make_sim()


def test_the_table_covers_every_served_class_and_agrees_with_the_datamodel() -> None:
    """Every class of the datamodel is in exactly one of the two sets; session, event, user,
    data_source and secret generate no events (datamodel.ml ~gen_events:false)."""
    served = set(datamodel().classes)
    assert served <= GEN_EVENTS | NO_EVENTS and not GEN_EVENTS & NO_EVENTS
    assert {"session", "event", "user", "data_source", "secret"} <= NO_EVENTS
    assert {"VLAN", "PIF", "network", "Bond", "tunnel", "message", "task"} <= GEN_EVENTS
    assert DEFAULT_ROLES["session"] == "pool-admin" and DEFAULT_ROLES["network"] == "vm-admin"
    assert DEFAULT_ROLES["Feature"] == ""  # _R_LOCAL_ROOT_ONLY


def test_the_derivation_reads_create_obj_calls(tmp_path: Path) -> None:
    """The parser behind the committed table, on a miniature of datamodel*.ml."""
    idl = tmp_path / "ocaml" / "idl"
    idl.mkdir(parents=True)
    (idl / "datamodel_common.ml").write_text(
        'let _session = "session"\nlet _vlan = "VLAN"\nlet _event = "event"\n'
        "let create_obj ~gen_events ~name = ()\n")
    (idl / "datamodel.ml").write_text(
        "let t = create_obj ~in_db:true ~name:_session ~descr:\"A session\"\n"
        "  ~gen_events:false ~messages_default_allowed_roles:_R_POOL_ADMIN ()\n"
        "let v = create_obj ~name:_vlan ~gen_events:true\n"
        "  ~messages_default_allowed_roles:_R_POOL_OP ()\n"
        "let e = { obj_lifecycle= x ; name= _event ; gen_events= false ; descr= y }\n")
    flags = _codegen.derive_class_flags(idl)
    assert flags == {"session": (False, "pool-admin"), "VLAN": (True, "pool-operator"),
                     "event": (False, None)}
    text = _codegen.gen_flags(flags, "abc")
    namespace: dict[str, object] = {}
    exec(compile(text, "_flags.py", "exec"), namespace)
    assert namespace["GEN_EVENTS"] == frozenset({"VLAN"})
    assert namespace["NO_EVENTS"] == frozenset({"session", "event"})


@pytest.mark.parametrize("classes", [["session"], ["SESSION"], ["*"], ["user", "secret"]])
def test_a_read_only_user_gets_no_session_refs_from_event_from(
        pool: SimPool, classes: list[str]) -> None:
    sim, _ = pool
    with session_of(sim) as root, session_of(sim, "rita") as rita:
        first = sim.call("event.from", [rita, classes, "", 0.0])
        assert all(e["class"] not in NO_EVENTS and e["class"] != "session"
                   for e in first["events"])
        assert root not in str(first) and rita not in str(first)
        later = sim.call("session.login_with_password", ["alice", PASSWORD, "1.0", "t"])
        sim.call("session.logout", [later])
        again = sim.call("event.from", [rita, classes, first["token"], 0.0])
        assert not any(e["class"] == "session" for e in again["events"])
        assert later not in str(again)


def test_logins_and_logouts_are_no_events(pool: SimPool) -> None:
    """A ``session`` subscription stays empty across a login and a logout."""
    sim, _ = pool
    with session_of(sim, "rita") as rita:
        token = sim.call("event.from", [rita, ["session"], "", 0.0])["token"]
        with session_of(sim):
            batch = sim.call("event.from", [rita, ["session"], token, 0.0])
        assert batch["events"] == []


def test_messages_without_roles_of_their_own_take_their_class_default_roles() -> None:
    """create_obj ~messages_default_allowed_roles: a handler the JSON does not list and
    HIDDEN_ROLES does not name gets its class's default (root only for _R_LOCAL_ROOT_ONLY)."""
    assert dispatch._class_default_roles("session") == frozenset({"pool-admin"})
    assert dispatch._class_default_roles("Feature") == frozenset()
    assert dispatch._class_default_roles("network") == frozenset(
        {"pool-admin", "pool-operator", "vm-power-admin", "vm-admin"})
    assert dispatch.methods()["network.attach"].roles == frozenset(
        {"pool-admin", "pool-operator"})  # its own ~allowed_roles:_R_POOL_OP, not the default
