"""No busy loop when descriptors run out (issue 14: under a 256-descriptor limit, 376 idle
connections made the accept loop spin at 100% CPU).

The server runs in a child process with a low ``RLIMIT_NOFILE`` and a connection bound above
what that limit allows, so ``accept`` itself fails with EMFILE. While the child is out of
descriptors, this test burns a fixed amount of its own CPU and compares: a spinning accept
loop takes about as much CPU as the test does in the same stretch (both compete for the same
cores), a waiting one next to none. CPU time, never wall-clock time, is asserted."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

CHILD = textwrap.dedent("""
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer
    sim = Simulator(password="pw")
    sim.reset(scenario="single")
    # poll_interval: the longest a paused loop waits without a connection ending
    server = SimServer(sim, max_connections=1000, idle_timeout=None, poll_interval=0.5)
    server.start()
    print(server.port, flush=True)
    for line in sys.stdin:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        print(json.dumps({**server.stats, "cpu": usage.ru_utime + usage.ru_stime}),
              flush=True)
""")


def _cpu_burn() -> float:
    """A fixed amount of work; returns the CPU seconds it took this process."""
    started = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i * i % 7
    assert total > 0
    return time.process_time() - started


@pytest.fixture
def child() -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    yield process
    process.kill()
    process.communicate(timeout=30)


def _stats(process: subprocess.Popen[str]) -> dict[str, float]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("stats\n")
    process.stdin.flush()
    return dict(json.loads(process.stdout.readline()))


def test_running_out_of_descriptors_does_not_spin_and_recovers(
        child: subprocess.Popen[str]) -> None:
    assert child.stdout is not None
    port = int(child.stdout.readline())
    held: list[socket.socket] = []
    try:
        # Idle connections until the child's accept fails for want of descriptors (fewer
        # than 64 fit; the rest wait in the listen backlog of 128).
        for _ in range(100):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=30))
        for _ in range(600):  # asked every 0.1 s: a safety net for a loaded machine only
            if _stats(child)["descriptor_stalls"] > 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the child never ran out of descriptors (600 polls)")
        before = _stats(child)
        spent = _cpu_burn()
        after = _stats(child)
        assert after["cpu"] - before["cpu"] < 0.25 * spent + 0.05, (before, after, spent)
        # loop turns while stalled: each waits for a connection to end or the poll interval
        assert after["accepted"] <= 64
    finally:
        for sock in held:
            sock.close()
    # Descriptors come back as the idle connections go: a new client is served again.
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(60)
        try:
            answer = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(f"not served again: {_stats(child)}") from None
        assert answer.startswith(b"HTTP/1.1 200 ")
