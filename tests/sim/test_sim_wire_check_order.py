"""The generic check order (§1.6) over the wire: parameter count, unmarshalling, session,
RBAC, each rule's exact error code and parameters as every protocol renders them (the official
XenAPI client on ``/``, ``/RPC2`` and the unix socket; raw JSON-RPC v1 and v2). The engine-level
counterparts are in test_sim_engine_dispatch.py."""

from __future__ import annotations

from sim_wire_protocols import Wire, wire_fixture  # noqa: F401 - the fixture

BOGUS = "OpaqueRef:bogus"
DENIED_TEXT = "No permission in user session. (Roles with this permission: {})"


def test_parameter_count_comes_before_the_session_and_names_counts_as_strings(wire: Wire) -> None:
    assert wire.fails("host.get_record", BOGUS) == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "host.get_record", "1", "0"]
    assert wire.fails("host.get_record", BOGUS, wire.pool.hosts[0], "x") == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "host.get_record", "1", "2"]
    assert wire.fails("Async.VM_appliance.destroy", BOGUS) == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "VM_appliance.destroy", "1", "0"]


def test_unmarshalling_comes_before_the_session(wire: Wire) -> None:
    err = wire.fails("network.set_MTU", BOGUS, wire.pool.network, "big")
    assert err[0] == "INTERNAL_ERROR" and len(err) == 2 and isinstance(err[1], str)
    err = wire.fails("pool.set_migration_compression", BOGUS, wire.pool.pool, "true")
    assert err[0] == "INTERNAL_ERROR" and len(err) == 2


def test_session_comes_before_rbac_and_the_operation(wire: Wire) -> None:
    assert wire.fails("network.set_name_label", BOGUS, "OpaqueRef:gone", "x") == [
        "SESSION_INVALID", BOGUS]
    session = wire.login()
    wire("session.logout", session)
    assert wire.fails("host.get_all", session) == ["SESSION_INVALID", session]


def test_rbac_comes_before_the_implementation(wire: Wire) -> None:
    reader = wire.login("rita")
    assert wire.fails("network.set_name_label", reader, "OpaqueRef:gone", "x") == [
        "RBAC_PERMISSION_DENIED", "network.set_name_label",
        DENIED_TEXT.format("pool-admin, pool-operator")]
    admin = wire.login("alice")
    assert wire.fails("network.set_name_label", admin, "OpaqueRef:gone", "x") == [
        "HANDLE_INVALID", "network", "OpaqueRef:gone"]


def test_unknown_methods_check_the_session_then_call_extension(wire: Wire) -> None:
    assert wire.fails("host.frobnicate") == ["MESSAGE_METHOD_UNKNOWN", "host.frobnicate"]
    assert wire.fails("host.frobnicate", BOGUS) == ["SESSION_INVALID", BOGUS]
    assert wire.fails("host.frobnicate", wire.login("olga")) == [
        "RBAC_PERMISSION_DENIED", "host.call_extension", DENIED_TEXT.format("pool-admin")]
    assert wire.fails("Async.host.frobnicate", wire.login("alice")) == [
        "MESSAGE_METHOD_UNKNOWN", "host.frobnicate"]


def test_removed_messages_and_async_without_async_form(wire: Wire) -> None:
    assert wire.fails("VMPP.get_all", BOGUS) == ["SESSION_INVALID", BOGUS]
    session = wire.login()
    assert wire.fails("VMPP.get_all", session) == ["MESSAGE_REMOVED"]
    assert wire.fails("Async.SR.get_record", session, wire.pool.sr) == [
        "Fault", "No async mode for this operation (rpc: SR.get_record)"]


def test_optional_parameters_may_be_omitted_and_extras_are_ignored(wire: Wire) -> None:
    short = wire("session.login_with_password", "root", "secret")
    long = wire("session.login_with_password", "root", "secret", "1.1", "me", "extra")
    assert wire("session.get_originator", long, long) == "me"
    assert wire("session.get_originator", short, short) == ""
    assert wire.fails("session.login_with_password", "root") == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "session.login_with_password", "2", "1"]


def test_ints_as_strings_or_numbers_bools_strict_enums_case_insensitive(wire: Wire) -> None:
    session = wire.login()
    network = wire.pool.network
    wire("network.set_MTU", session, network, "9000")
    assert wire("network.get_MTU", session, network) == wire.int_(9000)
    wire("network.set_MTU", session, network, 1400)
    assert wire("network.get_MTU", session, network) == wire.int_(1400)
    host = wire.pool.hosts[0]
    wire("host.set_display", session, host, "DISABLED")
    assert wire("host.get_display", session, host) == "disabled"
    assert wire.fails("host.set_display", session, host, "off")[0] == "INTERNAL_ERROR"


def test_constructor_without_a_required_field_names_it(wire: Wire) -> None:
    err = wire.fails("VDI.create", wire.login(), {"name_label": "d", "SR": wire.pool.sr})
    assert err[0] == "INTERNAL_ERROR" and "Dispatcher_FieldNotFound" in err[1]


def test_wrong_password_is_authentication_failed_except_on_the_unix_socket(wire: Wire) -> None:
    if wire.trusted:
        session = wire("session.login_with_password", "root", "nope")
        assert wire("session.get_is_local_superuser", session, session) is True
        return
    assert wire.fails("session.login_with_password", "root", "nope") == [
        "SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"]
