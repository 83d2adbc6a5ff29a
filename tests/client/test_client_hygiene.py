"""Session hygiene: connect/disconnect cycles, some ending in exceptions, leak nothing."""

from __future__ import annotations

import threading
from typing import Any

from client_helpers import PASSWORD

import xapictl
from xapictl.xapi.failures import HandleInvalid

CYCLES = 1000


class _Planned(Exception):
    pass


def test_a_thousand_cycles_some_failing_leave_zero_open_sessions(sim: Any, transport: Any,
                                                                 control: Any) -> None:
    failures = 0
    threads_before = _own_threads()
    shared_before = _shared_threads()
    for i in range(CYCLES):
        protocol = "xmlrpc" if i % 2 else "jsonrpc"
        try:
            with xapictl.connect("http://127.0.0.1", password=PASSWORD, transport=transport,
                                 protocol=protocol) as conn:
                if i % 3 == 0:
                    conn.networks.get_record("OpaqueRef:missing")  # a XAPI failure
                elif i % 7 == 0:
                    raise _Planned(i)  # the caller's own error
                elif i % 11 == 0:
                    raise KeyboardInterrupt  # Ctrl-C
                elif i % 13 == 0:
                    conn.snapshot()  # starts the connection's worker threads
                else:
                    conn.networks.get_all()
        except (HandleInvalid, _Planned, KeyboardInterrupt):
            failures += 1
        if i % 100 == 99:
            control.clear_log()  # keep the log small; counters stay meaningful below
    assert failures > CYCLES // 3
    assert sim.open_session_count() == 0
    assert control.counters()["open_sessions"] == 0
    assert _own_threads() == threads_before  # every connection's worker thread stopped
    # logins read the pool and host records together on the process's kept threads, which
    # are reused: one login at a time needs one of them, however many logins there were
    assert _shared_threads() == max(shared_before, 1)


def _shared_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("xapictl-shared"))


def _own_threads() -> int:
    return threading.active_count() - _shared_threads()
