"""Int parameters sent as strings are read as OCaml's ``Int64.of_string`` reads them
(xen-api ``rpc.ml`` ``int64_of_rpc``; OCaml runtime/ints.c ``caml_int64_of_string``)."""

from __future__ import annotations

import pytest
from sim_engine_pool import SimPool, failure, make_sim, session_of

from xapictl.sim.values import int64_of_string

ACCEPTED = [
    ("1500", 1500), ("+1500", 1500), ("-1", -1), ("0x5dc", 1500), ("0X5DC", 1500),
    ("0o2734", 1500), ("0b10111011100", 1500), ("0u1500", 1500), ("1_500", 1500),
    ("1__5_0_0_", 1500), ("-0x1", -1), ("9223372036854775807", 2**63 - 1),
    ("-9223372036854775808", -(2**63)), ("0xFFFFFFFFFFFFFFFF", -1),
    ("0x8000000000000000", -(2**63)), ("007", 7),
]
REFUSED = ["", " 1", "1 ", "_1", "0x", "0x_1", "1.0", "1e3", "9223372036854775808",
           "-9223372036854775809", "0x10000000000000000", "0b2", "0o8", "--1", "+-1", "1500L",
           "٣"]


@pytest.mark.parametrize(("text", "value"), ACCEPTED)
def test_accepted_forms(text: str, value: int) -> None:
    assert int64_of_string(text) == value


@pytest.mark.parametrize("text", REFUSED)
def test_refused_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"^Int64\.of_string$"):
        int64_of_string(text)


@pytest.fixture
def pool() -> SimPool:
    return make_sim()


@pytest.mark.parametrize("text", ["0x5dc", "1_500", "+1500"])
def test_a_call_reads_an_int_parameter_sent_as_a_string(pool: SimPool, text: str) -> None:
    sim, p = pool
    with session_of(sim) as s:
        sim.call("network.set_MTU", [s, p.network, text])
        assert sim.call("network.get_MTU", [s, p.network]) == 1500


@pytest.mark.parametrize("text", ["1500.0", " 1500", "99999999999999999999"])
def test_an_unreadable_int_string_is_an_unmarshalling_error(pool: SimPool, text: str) -> None:
    sim, p = pool
    with session_of(sim) as s:
        before = sim.call("network.get_MTU", [s, p.network])
        error = failure(sim.call, "network.set_MTU", [s, p.network, text])
        assert error == ["INTERNAL_ERROR", f"Expected int, got {text!r}"]
        assert sim.call("network.get_MTU", [s, p.network]) == before
