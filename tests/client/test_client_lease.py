"""One writer per pool: the lease in ``pool.other_config`` against the simulator, over the wire.

Every wait runs on a fake clock (``Pacer.manual``): expiry and takeover are proven by counting
polls and requests, never by waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

import xapictl
from xapictl.client.lease import (
    LEASE_PREFIX,
    LeaseHolder,
    PoolLease,
    is_lease_call,
    is_lease_key,
    process_start,
    this_machine,
)
from xapictl.errors import LeaseLost, PoolLocked, XapiFailure
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer
from xapictl.xapi.retry import Pacer

PW = "xapictl"


@pytest.fixture
def server() -> Iterator[SimServer]:
    sim = Simulator(password=PW, users={"opal": "pool-operator", "vera": "vm-admin"})
    sim.reset(scenario="seed")
    with SimServer(sim) as srv:
        yield srv
    sim.close()


@pytest.fixture
def conn(server: SimServer) -> Iterator[Any]:
    with xapictl.connect(server.url, password=PW) as c:
        yield c


def lease_keys(conn: Any) -> dict[str, str]:
    config = conn.call("pool.get_other_config", conn.pool_ref)
    return {k: v for k, v in config.items() if is_lease_key(k)}


def manual_lease(conn: Any, pacer: Pacer, **kw: Any) -> PoolLease:
    kw.setdefault("background", False)
    return PoolLease(conn, conn.pool_ref, pacer=pacer, **kw)


# --- what XAPI (and so the simulator) does for us --------------------------------------------


def test_add_to_other_config_is_an_atomic_test_and_set_under_concurrent_requests(
        server: SimServer) -> None:
    """Eight sessions add the same key at the same moment: exactly one succeeds, the others get
    MAP_DUPLICATE_KEY with XAPI's parameters (class, db field, object ref, key)."""
    n = 8
    conns = [xapictl.connect(server.url, password=PW) for _ in range(n)]
    pool = conns[0].pool_ref
    gate = threading.Barrier(n)
    outcomes: list[str] = [""] * n

    def race(i: int) -> None:
        gate.wait(timeout=60)
        try:
            conns[i].call("pool.add_to_other_config", pool, "xapictl.lease.1", f"run {i}")
            outcomes[i] = "ok"
        except XapiFailure as exc:
            outcomes[i] = f"{exc.code} {exc.params}"

    threads = [threading.Thread(target=race, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert outcomes.count("ok") == 1
        dup = f"MAP_DUPLICATE_KEY ['pool', 'other_config', '{pool}', 'xapictl.lease.1']"
        assert sorted(o for o in outcomes if o != "ok") == [dup] * (n - 1)
        winner = outcomes.index("ok")
        assert lease_keys(conns[0]) == {"xapictl.lease.1": f"run {winner}"}
    finally:
        for c in conns:
            c.close()


def test_the_simulator_serves_host_get_servertime_as_a_datetime(conn: Any) -> None:
    master = conn.call("pool.get_master", conn.pool_ref)
    stamp = conn.call("host.get_servertime", master)
    assert stamp.tzinfo is not None and stamp.microsecond == 0


def test_taking_the_lease_needs_pool_operator_and_a_vm_admin_is_refused(
        server: SimServer) -> None:
    pacer, _ = Pacer.manual()
    with xapictl.connect(server.url, username="opal", password=PW) as opal, \
            manual_lease(opal, pacer, timeout=0) as lease:
        assert lease.generation == 1
    with xapictl.connect(server.url, username="vera", password=PW) as vera, \
            pytest.raises(XapiFailure) as refused:
        manual_lease(vera, pacer, timeout=0).acquire()
    assert refused.value.code == "RBAC_PERMISSION_DENIED"
    assert refused.value.params[0] == "pool.add_to_other_config"
    assert "pool-operator" in refused.value.params[1]


# --- take, wait, refuse -----------------------------------------------------------------------


def test_a_second_run_waits_its_lock_timeout_then_is_refused_naming_the_holder(
        server: SimServer, conn: Any) -> None:
    pacer, _ = Pacer.manual()
    holder = manual_lease(conn, pacer, command="xapictl apply trunk.yaml --yes",
                          user="alice", host="ci-3", pid=4242)
    with holder, xapictl.connect(server.url, password=PW) as other:
        waiter = manual_lease(other, pacer, timeout=5, poll_every=1)
        with pytest.raises(PoolLocked) as locked:
            waiter.acquire()
    text = str(locked.value)
    assert text.startswith("the pool is locked by another run: user alice on host ci-3 (pid "
                           "4242), running `xapictl apply trunk.yaml --yes`, since ")
    assert "Waited 5 s (--lock-timeout sets how long)" in text
    assert isinstance(locked.value.holder, LeaseHolder)
    assert waiter.waited_polls == 5  # one read per second of the fake clock, no more
    assert lease_keys(conn) == {}  # released on leaving the block


def test_a_released_lease_is_taken_by_the_waiter_and_keys_do_not_pile_up(conn: Any,
                                                                          server: SimServer
                                                                          ) -> None:
    pacer, _ = Pacer.manual()
    first = manual_lease(conn, pacer)
    first.acquire()
    first.renew()
    first.renew()
    assert list(lease_keys(conn)) == [f"{LEASE_PREFIX}3"]
    assert first.renewals == 2
    first.release()
    with xapictl.connect(server.url, password=PW) as other:
        second = manual_lease(other, pacer, timeout=0)
        with second:
            assert list(lease_keys(conn)) == [f"{LEASE_PREFIX}1"]
            assert LeaseHolder.from_value(lease_keys(conn)[f"{LEASE_PREFIX}1"]).id == \
                second.me.id
    assert lease_keys(conn) == {}


def test_the_background_renewer_renews_on_the_pacer_and_stops_on_release(conn: Any) -> None:
    """The renewer waits through the Pacer: three ticks renew, the fourth blocks until the
    release sets ``stop`` (an untimed wait: no real time passes in this test)."""
    now = [1000.0]
    ticks = [0]
    blocked = threading.Event()

    def wait(stop: threading.Event, seconds: float) -> bool:
        ticks[0] += 1
        if ticks[0] <= 3:
            now[0] += seconds
            return stop.is_set()
        blocked.set()
        stop.wait()
        return True

    lease = PoolLease(conn, conn.pool_ref, pacer=Pacer(clock=lambda: now[0], wait=wait))
    lease.acquire()
    assert blocked.wait(timeout=60)
    assert lease.renewals == 3 and lease.generation == 4
    assert list(lease_keys(conn)) == [f"{LEASE_PREFIX}4"]
    lease.release()
    assert lease_keys(conn) == {}


# --- a dead holder, a paused holder, two takers ------------------------------------------------


def _plant(conn: Any, generation: int, *, renewed_ago: float, lease: PoolLease,
           ident: str = "dead-run") -> str:
    """The record a run killed with ``kill -9`` leaves: renewed ``renewed_ago`` seconds ago on
    the master's clock (as judged by ``lease``)."""
    at = lease.server_now() - renewed_ago
    value = LeaseHolder(id=ident, user="bob", host="old-box", pid=99, command="xapictl apply x",
                        started=at, renewed=at).to_value()
    conn.call("pool.add_to_other_config", conn.pool_ref, f"{LEASE_PREFIX}{generation}", value)
    return value


def test_a_killed_holders_lease_is_taken_over_after_it_expires(conn: Any) -> None:
    pacer, _ = Pacer.manual()
    lease = manual_lease(conn, pacer, timeout=120, poll_every=1)
    lease._measure_offset(conn.call("pool.get_master", conn.pool_ref))
    _plant(conn, 7, renewed_ago=30, lease=lease)
    with lease:
        # 30 s of the 60 s ttl were left: about 30 polls on the fake clock, then the takeover.
        assert 29 <= lease.waited_polls <= 32
        assert lease.generation == 8
        assert list(lease_keys(conn)) == [f"{LEASE_PREFIX}8"]  # the dead run's key is gone
    assert lease_keys(conn) == {}


def test_an_expired_lease_is_taken_over_at_once(conn: Any) -> None:
    pacer, _ = Pacer.manual()
    lease = manual_lease(conn, pacer, timeout=0)
    lease._measure_offset(conn.call("pool.get_master", conn.pool_ref))
    _plant(conn, 3, renewed_ago=3600, lease=lease)
    with lease:
        assert lease.waited_polls == 0 and lease.generation == 4


def test_two_waiters_that_saw_the_same_expired_lease_only_one_wins(conn: Any,
                                                                     server: SimServer) -> None:
    pacer, _ = Pacer.manual()
    with xapictl.connect(server.url, password=PW) as other:
        a = manual_lease(conn, pacer)
        b = manual_lease(other, pacer)
        for w in (a, b):
            w._measure_offset(conn.call("pool.get_master", conn.pool_ref))
        seen = _plant(conn, 5, renewed_ago=3600, lease=a)
        assert a._take(6, 5, seen) is True
        assert b._take(6, 5, seen) is False  # MAP_DUPLICATE_KEY: a has generation 6
        a.release()
        # b, slow, tries again on what it saw: 5 is gone, so generation 6 is no takeover now.
        assert b._take(6, 5, seen) is False
        assert lease_keys(conn) == {}
        assert b.generation == 0


def test_judging_expiry_does_not_depend_on_this_machines_clock(conn: Any,
                                                                server: SimServer) -> None:
    """Two runs whose clocks read wildly different values agree on the holder being alive:
    both judge on the master's clock (host.get_servertime)."""
    slow, _ = Pacer.manual(start=5.0)
    fast, _ = Pacer.manual(start=9_000_000.0)
    holder = manual_lease(conn, slow)
    with holder, xapictl.connect(server.url, password=PW) as other:
        waiter = manual_lease(other, fast, timeout=0)
        with pytest.raises(PoolLocked):
            waiter.acquire()
        assert waiter.waited_polls == 0


def test_a_holder_paused_past_its_lease_notices_before_writing_and_leaves_the_new_key(
        conn: Any, server: SimServer) -> None:
    pacer, advance = Pacer.manual()
    paused = manual_lease(conn, pacer)
    paused.acquire()
    paused.check()
    with xapictl.connect(server.url, password=PW) as other:
        taker = manual_lease(other, pacer, timeout=0)
        taker._measure_offset(conn.call("pool.get_master", conn.pool_ref))
        advance(50)  # past ttl - margin (45 s): the holder may no longer write
        with pytest.raises(LeaseLost, match="last confirmed 50 s ago"):
            paused.check()
        advance(20)  # past the ttl on the master's clock: the other run takes over
        taker.acquire()
        assert taker.generation == 2
        with pytest.raises(LeaseLost):
            paused.renew()
        paused.release()  # a lost lease is left alone: the key is the taker's
        assert list(lease_keys(conn)) == [f"{LEASE_PREFIX}2"]
        taker.release()
    assert lease_keys(conn) == {}


def test_a_renewal_that_finds_a_takeover_marks_the_lease_lost(conn: Any,
                                                                server: SimServer) -> None:
    pacer, _ = Pacer.manual()
    holder = manual_lease(conn, pacer)
    holder.acquire()
    # Another run wrote the next generation (as after a takeover): the renewal's add fails.
    conn.call("pool.add_to_other_config", conn.pool_ref, f"{LEASE_PREFIX}2", "{}")
    with pytest.raises(LeaseLost, match="another run took over"):
        holder.renew()
    with pytest.raises(LeaseLost):
        holder.check()
    holder.release()
    assert list(lease_keys(conn)) == [f"{LEASE_PREFIX}1", f"{LEASE_PREFIX}2"]


def test_an_unreadable_record_counts_as_expired_and_lease_calls_are_recognised() -> None:
    junk = LeaseHolder.from_value("not json")
    assert junk.expired(1.0) and junk.command == "(an unreadable lease record)"
    assert is_lease_call("pool.add_to_other_config", ["OpaqueRef:s", "OpaqueRef:p",
                                                      "xapictl.lease.3", "{}"])
    assert is_lease_call("pool.remove_from_other_config", ["OpaqueRef:p", "xapictl.lease.3"])
    assert not is_lease_call("pool.add_to_other_config", ["OpaqueRef:p", "folder", "x"])
    assert not is_lease_call("network.add_to_other_config", ["r", "xapictl.lease.1", "x"])


def test_a_renewal_after_the_key_was_removed_by_hand_marks_the_lease_lost(conn: Any) -> None:
    pacer, _ = Pacer.manual()
    holder = manual_lease(conn, pacer)
    holder.acquire()
    conn.call("pool.remove_from_other_config", conn.pool_ref, f"{LEASE_PREFIX}1")
    with pytest.raises(LeaseLost, match="removed from the pool by someone else"):
        holder.renew()
    assert lease_keys(conn) == {}  # its renewal key is taken back too


def test_the_holder_record_names_the_command_without_url_credentials(monkeypatch: Any) -> None:
    from xapictl.client.lease import this_command

    monkeypatch.setattr("sys.argv", ["/usr/bin/xapictl", "--url", "https://root:pw@pool",
                                     "apply", "x.yaml", "--yes"])
    assert this_command() == "xapictl --url https://***@pool apply x.yaml --yes"


HOLDER = """
import sys, xapictl
conn = xapictl.connect(sys.argv[1], password=sys.argv[2])
machine = {"here": None, "elsewhere": "another-machine"}[sys.argv[3]]
lease = conn.lease(timeout=0, command="the run that gets killed", machine=machine)
lease.acquire()
print(lease.generation, flush=True)
sys.stdin.read()  # held until killed (or until stdin closes)
"""


def _real_holder(server: SimServer, machine: str) -> Any:
    """A real process that takes the lease (as a run on this machine, or as one on another
    machine) and holds it; returned once it holds it."""
    import os
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", HOLDER, server.url, PW, machine],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env={**os.environ})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "1"
    except BaseException:
        holder.kill()
        holder.wait(timeout=60)
        raise
    return holder


def _kill9(holder: Any) -> None:
    import signal

    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=60)  # reaped, as a shell reaps a killed command
    for stream in (holder.stdin, holder.stdout):
        stream.close()


def test_a_holder_on_this_machine_killed_with_sigkill_is_taken_over_at_once(
        conn: Any, server: SimServer) -> None:
    """A real process takes the lease and is killed with SIGKILL (no release, no renewal).
    Its record names this machine and its pid, which is no process now: the next run takes
    the lease over without a single poll (before: the 60 s ttl)."""
    holder = _real_holder(server, "here")
    record = LeaseHolder.from_value(lease_keys(conn)[f"{LEASE_PREFIX}1"])
    assert record.pid == holder.pid and record.machine == this_machine() != ""
    assert record.pid_start == process_start(holder.pid) and not record.gone()
    _kill9(holder)
    assert record.gone()
    pacer, _ = Pacer.manual()
    lease = manual_lease(conn, pacer, timeout=300, poll_every=1)
    with lease:
        assert lease.waited_polls == 0
        assert list(lease_keys(conn)) == [f"{LEASE_PREFIX}2"]
    assert lease_keys(conn) == {}


def test_a_live_holder_on_this_machine_is_never_taken_over(conn: Any,
                                                           server: SimServer) -> None:
    holder = _real_holder(server, "here")
    try:
        pacer, _ = Pacer.manual()
        lease = manual_lease(conn, pacer, timeout=20, poll_every=1)
        with pytest.raises(PoolLocked, match="the run that gets killed"):
            lease.acquire()
        assert 19 <= lease.waited_polls <= 21  # waited its whole --lock-timeout
        assert list(lease_keys(conn)) == [f"{LEASE_PREFIX}1"]
    finally:
        _kill9(holder)


def test_a_holder_on_another_machine_killed_with_sigkill_is_taken_over_once_it_expires(
        conn: Any, server: SimServer) -> None:
    """Its pid means nothing here: the next run waits on a fake clock, about 60 polls (the
    ttl), then takes over."""
    _kill9(_real_holder(server, "elsewhere"))
    pacer, _ = Pacer.manual()
    lease = manual_lease(conn, pacer, timeout=300, poll_every=1)
    with lease:
        assert 55 <= lease.waited_polls <= 62
        assert list(lease_keys(conn)) == [f"{LEASE_PREFIX}2"]
    assert lease_keys(conn) == {}


@pytest.mark.parametrize(("case", "taken_at_once"), [
    ("the pid is another process now", True),   # same pid, another start time: reused
    ("the pid is the holder, alive", False),
    ("no machine recorded (an older xapictl)", False),
    ("no start time recorded", False),
])
def test_which_records_on_this_machine_count_as_gone(conn: Any, case: str,
                                                     taken_at_once: bool) -> None:
    """The pid of a live process (this test's) in a record planted as a killed run's: only a
    different start time (pid reuse) makes it gone; without machine or start time the lease
    is left to expire."""
    import os

    pid = os.getpid()
    start = process_start(pid)
    assert start is not None
    fields = {"the pid is another process now": (this_machine(), start + 1),
              "the pid is the holder, alive": (this_machine(), start),
              "no machine recorded (an older xapictl)": ("", start + 1),
              "no start time recorded": (this_machine(), 0)}[case]
    pacer, _ = Pacer.manual()
    lease = manual_lease(conn, pacer, timeout=5, poll_every=1)
    lease._measure_offset(conn.call("pool.get_master", conn.pool_ref))
    at = lease.server_now() - 1
    conn.call("pool.add_to_other_config", conn.pool_ref, f"{LEASE_PREFIX}4", LeaseHolder(
        id="dead-run", user="bob", host="this-box", pid=pid, command="xapictl apply x",
        started=at, renewed=at, machine=fields[0], pid_start=fields[1]).to_value())
    if taken_at_once:
        with lease:
            assert lease.waited_polls == 0 and lease.generation == 5
    else:
        with pytest.raises(PoolLocked):
            lease.acquire()
        assert lease.waited_polls >= 4


def test_this_machine_tells_pid_namespaces_apart() -> None:
    """Same boot, another PID namespace (a container on this host): another identity. Read
    from a child in a new PID namespace where the kernel lets us make one."""
    import subprocess
    import sys

    here = this_machine()
    assert here and len(here) == 16 and this_machine() == here
    code = "from xapictl.client.lease import this_machine; print(this_machine())"
    try:
        other = subprocess.run(["unshare", "--user", "--map-root-user", "--pid", "--fork",
                                "--mount-proc", sys.executable, "-c", code],
                               capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("this kernel or sandbox lets us make no PID namespace")
    assert other.stdout.strip() not in ("", here)


def test_this_machine_is_the_same_digest_without_loading_openssl() -> None:
    # The id is hashlib's SHA-256 of the boot id and the PID namespace (what earlier versions
    # wrote in the lease), made by the built-in SHA-256 so that a write does not load OpenSSL.
    import hashlib
    import os
    import subprocess
    import sys
    from pathlib import Path

    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    text = f"{boot} {os.readlink('/proc/self/ns/pid')}"
    assert this_machine() == hashlib.sha256(text.encode()).hexdigest()[:16]
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, xapictl.client.lease as lease; lease.this_machine();"
         " print(sorted({'hashlib', '_hashlib'} & set(sys.modules)))"],
        capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    assert loaded == "[]"
