"""Dead pool benchmark: how long refusing a pool that is not there takes. Prints figures,
asserts nothing.

    python tests/bench/bench_dead_pool.py [--write] [--runs 5] [--no-before]

``xapictl.connect("http://127.0.0.1:1")`` (nothing listens on port 1: connection refused) and
the CLI's ``xapictl --url http://127.0.0.1:1 network list``, wall time and attempts, and the
old policy (every refusal retried until the 30 s deadline; issue 10 measured 30.6 s for the
call and 33.7 s for the CLI) by turning the first-contact rule off: one run, about 30 s
(``--no-before`` skips it). With ``--write`` the table goes to ``docs/bench/dead-pool.md``.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdoc import RUNS, Page, median, seconds

GOAL_S = 1.0  # issue 10: a pool that is not there is refused in under a second on loopback

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
    parser.add_argument("--no-before", action="store_true",
                        help="skip the old policy's run (about 30 s)")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--write", action="store_true", help="write docs/bench/dead-pool.md")
    args = parser.parse_args()
    page = Page("dead-pool", args.runs)
    table = page.table(f"Refusing a pool that is not there (`{DEAD}`: connection refused)",
                       ["what", "wall, min/median/max", "attempts"])
    runs = [library(RetryPolicy()) for _ in range(args.runs)]
    walls = [wall for wall, _ in runs]
    table.add("`xapictl.connect(...)`", seconds(walls),
              "/".join(sorted({str(a) for _, a in runs})),
              goal=f"< {GOAL_S:g} s (median)", met=median(walls) < GOAL_S)
    clis = [cli() for _ in range(args.runs)]
    table.add(f"`xapictl --url {DEAD} network list` (process start-up included)", seconds(clis),
              "—")
    if not args.no_before:
        wall, attempts = library(RetryPolicy(first_contact_attempts=10**6))
        table.add("before: every refusal retried until the deadline (1 run)", f"{wall:.2f} s",
                  str(attempts))
    page.emit(sys.argv)


if __name__ == "__main__":
    main()
