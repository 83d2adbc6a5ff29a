"""The dispatch pipeline's checks, their order and their exact error parameters (§1.6)."""

from __future__ import annotations

import pytest
from sim_engine_pool import PASSWORD, SimPool, failure, make_sim, session_of

from xapictl.model.schema import datamodel
from xapictl.sim.dispatch import unmarshal
from xapictl.sim.values import Bare


@pytest.fixture
def pool() -> SimPool:
    return make_sim()


def test_login_returns_a_session_that_reads_the_pool(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        assert sorted(sim.call("host.get_all", [s])) == sorted(p.hosts)
        assert sim.call("session.get_this_host", [s, s]) == p.hosts[0]


def test_wrong_password_is_authentication_failed_with_user_and_message(pool: SimPool) -> None:
    sim, _ = pool
    assert failure(sim.call, "session.login_with_password", ["root", "nope"]) == [
        "SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"]
    assert failure(sim.call, "session.login_with_password", ["mallory", PASSWORD])[0] == \
        "SESSION_AUTHENTICATION_FAILED"


def test_login_at_a_member_is_host_is_slave_before_the_password_is_checked(pool: SimPool) -> None:
    sim, _ = pool
    assert failure(sim.call, "session.login_with_password", ["root", "wrong"],
                   host_address="127.0.0.2") == ["HOST_IS_SLAVE", "127.0.0.1"]


def test_calls_at_a_member_are_host_is_slave_naming_the_master(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        assert failure(sim.call, "host.get_all", [s], host_address="127.0.0.3") == [
            "HOST_IS_SLAVE", "127.0.0.1"]
        sim.designate_master(p.hosts[2])
        assert sim.master_address() == "127.0.0.3"
        assert failure(sim.call, "host.get_all", [s], host_address="127.0.0.1") == [
            "HOST_IS_SLAVE", "127.0.0.3"]
        assert sim.call("host.get_all", [s], host_address="127.0.0.3")


def test_session_invalid_after_logout_and_expiry(pool: SimPool) -> None:
    sim, _ = pool
    s = sim.call("session.login_with_password", ["root", PASSWORD])
    sim.call("session.logout", [s])
    assert failure(sim.call, "host.get_all", [s]) == ["SESSION_INVALID", s]
    s2 = sim.call("session.login_with_password", ["root", PASSWORD])
    assert sim.open_session_count() == 1
    assert sim.expire_sessions() == 1
    assert sim.open_session_count() == 0
    assert failure(sim.call, "pool.get_all", [s2]) == ["SESSION_INVALID", s2]


def test_parameter_count_is_checked_before_the_session(pool: SimPool) -> None:
    sim, p = pool
    assert failure(sim.call, "host.get_record", ["OpaqueRef:bogus"]) == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "host.get_record", "1", "0"]
    assert failure(sim.call, "host.get_record", ["OpaqueRef:bogus", p.hosts[0], "x"]) == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "host.get_record", "1", "2"]


def test_unmarshalling_errors_come_before_the_session_check(pool: SimPool) -> None:
    sim, _ = pool
    code = failure(sim.call, "network.set_MTU", ["OpaqueRef:bogus", "OpaqueRef:x", "big"])
    assert code[0] == "INTERNAL_ERROR" and len(code) == 2


def test_optional_trailing_parameters_may_be_omitted_and_extras_are_ignored(pool: SimPool) -> None:
    sim, _ = pool
    a = sim.call("session.login_with_password", ["root", PASSWORD])
    b = sim.call("session.login_with_password", ["root", PASSWORD, "1.1", "me", "extra"])
    assert sim.call("session.get_originator", [b, b]) == "me"
    assert sim.call("session.get_originator", [a, a]) == ""
    assert failure(sim.call, "session.login_with_password", ["root"]) == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "session.login_with_password", "2", "1"]


def test_ints_arrive_as_strings_or_numbers_and_bools_must_be_booleans(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        sim.call("network.set_MTU", [s, p.network, "9000"])
        assert sim.call("network.get_MTU", [s, p.network]) == 9000
        sim.call("network.set_MTU", [s, p.network, 1400])
        assert sim.call("network.get_MTU", [s, p.network]) == 1400
        sim.call("pool.set_migration_compression", [s, p.pool, True])
        assert sim.call("pool.get_migration_compression", [s, p.pool]) is True
        err = failure(sim.call, "pool.set_migration_compression", [s, p.pool, "true"])
        assert err[0] == "INTERNAL_ERROR"


def test_enums_are_case_insensitive_on_input_and_canonical_on_output(pool: SimPool) -> None:
    sim, _p = pool
    dm = datamodel()
    assert unmarshal(dm, dm.classes["VM"].fields["power_state"].spec, "running") == "Running"
    assert unmarshal(dm, dm.classes["Bond"].fields["mode"].spec, "lacp") == "lacp"
    with pytest.raises(Exception, match="bond_mode"):
        unmarshal(dm, dm.classes["Bond"].fields["mode"].spec, "LACP")
    with session_of(sim) as s:
        sim.call("host.set_display", [s, _p.hosts[0], "DISABLED"])
        assert sim.call("host.get_display", [s, _p.hosts[0]]) == "disabled"
        assert failure(sim.call, "host.set_display", [s, _p.hosts[0], "off"])[0] == \
            "INTERNAL_ERROR"


def test_constructor_without_a_required_field_is_internal_error_naming_it(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        err = failure(sim.call, "VDI.create", [s, {"name_label": "d", "SR": p.sr}])
        assert err[0] == "INTERNAL_ERROR"
        assert "Dispatcher_FieldNotFound" in err[1]


def test_unknown_method_without_params_is_method_unknown(pool: SimPool) -> None:
    sim, _ = pool
    assert failure(sim.call, "host.frobnicate", []) == ["MESSAGE_METHOD_UNKNOWN",
                                                        "host.frobnicate"]


def test_unknown_method_with_params_checks_session_then_call_extension(pool: SimPool) -> None:
    sim, _ = pool
    assert failure(sim.call, "host.frobnicate", ["OpaqueRef:nope"]) == [
        "SESSION_INVALID", "OpaqueRef:nope"]
    with session_of(sim, "olga") as s:
        assert failure(sim.call, "host.frobnicate", [s]) == [
            "RBAC_PERMISSION_DENIED", "host.call_extension",
            "No permission in user session. (Roles with this permission: pool-admin)"]
    with session_of(sim, "alice") as s:
        assert failure(sim.call, "Async.host.frobnicate", [s]) == [
            "MESSAGE_METHOD_UNKNOWN", "host.frobnicate"]


def test_setters_exist_only_for_writable_fields(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        assert failure(sim.call, "network.set_bridge", [s, p.network, "x"]) == [
            "MESSAGE_METHOD_UNKNOWN", "network.set_bridge"]


def test_alternative_underscore_names_reach_the_same_message(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        assert sim.call("SR_get_name_label", [s, p.sr]) == "Local storage"
        assert sim.call("VM_guest_metrics_get_all", [s]) == []


def test_errors_and_rbac_see_the_alternative_name_as_sent(pool: SimPool) -> None:
    """gen_server.ml matches ``"VLAN.create" | "VLAN_create"`` and goes on with ``__call``,
    the name as sent: parameter-count errors, the Async fault and rbac.ml's permission
    (``vlan_create``, which no role holds) all carry it."""
    sim, p = pool
    assert failure(sim.call, "SR_get_name_label", ["OpaqueRef:x"]) == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "SR_get_name_label", "1", "0"]
    with session_of(sim) as s, session_of(sim, "alice") as alice:
        assert failure(sim.call, "Async.SR_get_record", [s, p.sr]) == [
            "Fault", "No async mode for this operation (rpc: SR_get_record)"]
        assert sim.call("SR_get_name_label", [s, p.sr]) == "Local storage"  # root: no check
        assert sim.call("SR.get_name_label", [alice, p.sr]) == "Local storage"
        assert failure(sim.call, "SR_get_name_label", [alice, p.sr]) == [
            "RBAC_PERMISSION_DENIED", "sr_get_name_label",
            "No permission in user session. (Roles with this permission: )"]
        assert failure(sim.call, "network_add_to_other_config",
                       [alice, p.network, "folder", "x"]) == [
            "RBAC_PERMISSION_DENIED", "network_add_to_other_config/key:folder",
            "No permission in user session. (Roles with this permission: )"]


def test_removed_messages_answer_message_removed_after_the_session_check(pool: SimPool) -> None:
    sim, _ = pool
    assert failure(sim.call, "VMPP.get_all", ["OpaqueRef:nope"]) == [
        "SESSION_INVALID", "OpaqueRef:nope"]
    with session_of(sim) as s:
        assert failure(sim.call, "VMPP.get_all", [s]) == ["MESSAGE_REMOVED"]


def test_async_of_a_message_without_async_form_is_a_fault(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim) as s:
        assert failure(sim.call, "Async.SR.get_record", [s, p.sr]) == [
            "Fault", "No async mode for this operation (rpc: SR.get_record)"]


def test_invalid_utf8_is_invalid_value_before_anything_else(pool: SimPool) -> None:
    sim, _ = pool
    bad = "caf\udce9"
    err = failure(sim.call, "session.login_with_password", [bad, PASSWORD])
    assert err[:2] == ["INVALID_VALUE", "Invalid UTF-8 string in parameter"]


def test_list_methods_is_a_bare_list_and_is_alive_echoes(pool: SimPool) -> None:
    sim, _ = pool
    names = sim.call("system.listMethods", [])
    assert isinstance(names, Bare)
    assert {"VLAN.create", "session.login_with_password", "network.get_all_records_where",
            "event.from"} <= set(names)
    assert sim.call("system.isAlive", ["ping"]) == "ping"


def test_calls_are_counted_per_method(pool: SimPool) -> None:
    sim, _ = pool
    with session_of(sim) as s:
        sim.call("host.get_all", [s])
        sim.call("host.get_all", [s])
    counts = sim.call_counts()
    assert counts["host.get_all"] == 2
    assert counts["session.login_with_password"] == 1


def test_unexpected_bugs_are_internal_error_not_crashes(pool: SimPool) -> None:
    sim, _ = pool
    with session_of(sim) as s:
        err = failure(sim.call, "VDI.get_all_records_where", [s, 'field "nope" = "1"'])
        assert err[0] == "INTERNAL_ERROR"


def test_members_serve_their_emergency_calls_themselves(pool: SimPool) -> None:
    sim, p = pool
    s = sim.call("session.slave_local_login_with_password", ["root", PASSWORD],
                 host_address="127.0.0.2")
    assert sim.call("session.get_this_host", [s, s], host_address="127.0.0.1") == p.hosts[1]
    assert failure(sim.call, "host.get_all", [s], host_address="127.0.0.2") == [
        "HOST_IS_SLAVE", "127.0.0.1"]
    sim.call("session.local_logout", [s], host_address="127.0.0.2")
    assert sim.open_session_count() == 0


def test_sessions_beyond_the_limit_per_originator_end_oldest_first(
        pool: SimPool, monkeypatch: pytest.MonkeyPatch) -> None:
    from xapictl.sim.classes import session as sessions

    sim, _ = pool
    monkeypatch.setattr(sessions, "SESSION_LIMIT", 3)
    mine = [sim.call("session.login_with_password", ["root", PASSWORD, "1.0", "leaky"])
            for _ in range(4)]
    other = sim.call("session.login_with_password", ["root", PASSWORD, "1.0", "tidy"])
    assert failure(sim.call, "pool.get_all", [mine[0]]) == ["SESSION_INVALID", mine[0]]
    for ref in [*mine[1:], other]:
        assert sim.call("pool.get_all", [ref])
    assert sim.open_session_count() == 4
