"""Dead pool benchmark: how long refusing a pool that is not there takes. Prints figures,
asserts nothing.

    python tests/bench/bench_dead_pool.py [--before]

``xapictl.connect("http://127.0.0.1:1")`` (nothing listens on port 1: connection refused) and
the CLI's ``xapictl --url http://127.0.0.1:1 network list``, wall time and attempts. With
``--before`` also the old policy (every refusal retried until the 30 s deadline; issue 10
measured 30.6 s for the call and 33.7 s for the CLI), by turning the first-contact rule off.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import xapictl
from xapictl.errors import ConnectError
from xapictl.xapi.retry import RetryPolicy

DEAD = "http://127.0.0.1:1"


def library(policy: RetryPolicy) -> tuple[float, int]:
    attempts = [0]
    real = policy.sleep

    def counted(seconds: float) -> None:
        attempts[0] += 1
        real(seconds)

    start = time.perf_counter()
    with contextlib.suppress(ConnectError):
        xapictl.connect(DEAD, password="x", retry=RetryPolicy(
            deadline=policy.deadline, first_contact_attempts=policy.first_contact_attempts,
            sleep=counted))
    return time.perf_counter() - start, attempts[0] + 1


def cli() -> float:
    exe = Path(sys.executable).with_name("xapictl")
    env = {**os.environ, "XAPICTL_URL": DEAD, "XAPICTL_PASSWORD": "x"}
    start = time.perf_counter()
    subprocess.run([str(exe), "network", "list"], env=env, capture_output=True, check=False,
                   timeout=120)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", action="store_true",
                        help="also time the old policy (takes about 30 s)")
    args = parser.parse_args()
    wall, attempts = library(RetryPolicy())
    print(f"connect({DEAD!r}) refused: {wall:.2f} s wall, {attempts} attempts")
    print(f"xapictl --url {DEAD} network list: {cli():.2f} s wall (process start included)")
    if args.before:
        wall, attempts = library(RetryPolicy(first_contact_attempts=10**6))
        print(f"before (every refusal retried until the deadline): {wall:.2f} s wall, "
              f"{attempts} attempts")


if __name__ == "__main__":
    main()
