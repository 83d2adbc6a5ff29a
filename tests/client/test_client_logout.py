"""Logout always happens: after the master moved or died, and when the logout is dropped."""

from __future__ import annotations

from typing import Any

from client_helpers import PASSWORD, host_at

import xapictl
from xapictl.xapi.retry import RetryPolicy


def _connect(transport: Any, protocol: str, retry: RetryPolicy | None = None) -> Any:
    return xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=transport,
                           protocol=protocol, retry=retry or RetryPolicy.immediate())


def test_logout_follows_a_master_that_moved_while_the_block_made_no_call(
        transport: Any, protocol: str, sim: Any) -> None:
    start = sim.open_session_count()
    with _connect(transport, protocol):
        sim.designate_master(host_at(sim, "127.0.0.2"))
    assert sim.open_session_count() == start


def test_logout_fails_over_to_the_new_master_when_the_old_one_died(
        transport: Any, protocol: str, sim: Any) -> None:
    start = sim.open_session_count()
    with _connect(transport, protocol):
        sim.designate_master(host_at(sim, "127.0.0.3"))
        sim.set_host_live(host_at(sim, "127.0.0.1"), False)
    assert sim.open_session_count() == start


def test_a_dropped_logout_is_sent_again(transport: Any, protocol: str, sim: Any,
                                        control: Any) -> None:
    start = sim.open_session_count()
    with _connect(transport, protocol):
        control.inject_fault("session.logout", "drop_before", times=2)
    assert sim.open_session_count() == start
    assert control.methods_called().count("session.logout") == 3


def test_a_logout_whose_answer_was_lost_is_done_once(transport: Any, protocol: str, sim: Any,
                                                     control: Any) -> None:
    start = sim.open_session_count()
    with _connect(transport, protocol):
        control.inject_fault("session.logout", "drop_after", times=1)
    assert sim.open_session_count() == start  # the second try meets SESSION_INVALID: done


def test_logout_gives_up_at_the_logout_deadline_not_the_call_deadline(
        transport: Any, protocol: str, sim: Any) -> None:
    # Every host dead: exit must stay fast (Ctrl-C), bounded by the policy's logout deadline.
    slept: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    retry = RetryPolicy(deadline=300, logout_deadline=2.0, sleep=sleep, clock=lambda: now[0])
    with _connect(transport, protocol, retry):
        for ref in sim.host_addresses():
            sim.set_host_live(ref, False)
    # on the policy's clock, not the machine's: the logout stopped at its own deadline
    assert 0 < sum(slept) <= 2.0 + retry.maximum


def test_a_lost_login_answer_logs_in_again_and_only_the_unknowable_session_is_left(
        transport: Any, protocol: str, sim: Any, control: Any) -> None:
    # The documented choice (docs/library.md, "Sessions"): the session behind a lost login
    # answer has a ref nobody ever saw, so it cannot be logged out; XAPI's per-originator
    # limit reaps it. Every session whose ref the client knows is logged out.
    start = sim.open_session_count()
    control.inject_fault("session.login_with_password", "drop_after", times=1)
    with _connect(transport, protocol) as conn:
        known = conn.session.ref
    assert control.methods_called().count("session.login_with_password") == 2
    assert sim.open_session_count() == start + 1
    left = [ref for ref, s in sim.state.all("session").items() if ref != known]
    assert [sim.state.all("session")[r]["originator"] for r in left] == [
        f"xapictl/{xapictl.__version__}"]
