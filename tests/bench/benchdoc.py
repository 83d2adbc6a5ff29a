"""What the benchmarks share to write the tables the docs include (``docs/bench/<name>.md``).

A benchmark builds a :class:`Page` of :class:`Table` s (rows of figures, each with its goal
and whether it is met), prints it and, with ``--write`` or ``XAPICTL_BENCH_WRITE=1`` (what
``nox -s bench`` sets), writes it as Markdown under ``docs/bench/``; the docs include it
with ``--8<-- "docs/bench/<name>.md"``. Every table
says where it was measured: CPU model and cores, load average before and after, date, Python.
``tests/project/test_project_doc_figures.py`` refuses figures in the docs' prose that no
table produced.

Requests, writes and round trips come from the simulator's request log, through
:meth:`Tally.of` (round trips: ``xapictl.sim.roundtrips``, the one definition).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xapictl.client.lease import is_lease_call
from xapictl.plan.audit import is_write
from xapictl.sim.roundtrips import groups

ROOT = Path(__file__).resolve().parents[2]
DOCS_BENCH = ROOT / "docs" / "bench"
WRITE_SWITCH = "XAPICTL_BENCH_WRITE"
RUNS = 5  # every timed figure: min/median/max of at least this many runs

LEASE_READS = ("pool.get_other_config", "host.get_servertime")


def is_lease(entry: Mapping[str, Any]) -> bool:
    """A request of the write lease: its own ``pool.*_other_config`` writes of a lease key,
    and the reads it makes (the read back of ``pool.other_config``, the master's clock)."""
    method = str(entry["method"])
    return method in LEASE_READS or is_lease_call(method, entry.get("params") or [])


def is_lease_take(entry: Mapping[str, Any]) -> bool:
    """The lease's take: its ``pool.add_to_other_config`` of a lease key."""
    return str(entry["method"]).removeprefix("Async.") == "pool.add_to_other_config" and \
        is_lease(entry)


def lease_trips(found: Sequence[Sequence[Mapping[str, Any]]]) -> list[int]:
    """Which round trips of a run (``groups`` of its log) the write lease adds, by what they
    carry: a round trip of lease requests only (a take, a release that went alone), or
    carrying the lease's take and no write of the job; and the read under the lease, the
    first round trip after the take that carries reads only (no write) while the job has not
    written yet, the pre-write check that exists only because of the lease (without a lease
    the plan's read is the one the writes follow). A lease request riding with the job's own
    work (the release beside verify) adds no round trip. Indexes into ``found``."""
    out: list[int] = []
    taken = wrote = under = False
    for index, trip in enumerate(found):
        job_writes = any(is_write(str(e["method"])) and not is_lease(e) for e in trip)
        if all(is_lease(e) for e in trip) or (any(is_lease_take(e) for e in trip)
                                              and not job_writes):
            out.append(index)
            taken = taken or any(is_lease_take(e) for e in trip)
        elif taken and not wrote and not under and not any(
                is_write(str(e["method"])) for e in trip):
            out.append(index)
            under = True
        wrote = wrote or job_writes
    return out


@dataclass(frozen=True)
class Tally:
    """What one run sent, from the request log."""

    requests: int
    round_trips: int
    writes: int  # the job's writes; the lease's own are in lease_requests
    lease_requests: int
    lease_round_trips: int  # the round trips the lease adds (``lease_trips``)

    @classmethod
    def of(cls, log: Iterable[Mapping[str, Any]]) -> Tally:
        entries = list(log)
        found = groups(entries)
        return cls(
            requests=len(entries),
            round_trips=len(found),
            writes=sum(1 for e in entries if is_write(str(e["method"])) and not is_lease(e)),
            lease_requests=sum(1 for e in entries if is_lease(e)),
            lease_round_trips=len(lease_trips(found)),
        )

    @property
    def job_round_trips(self) -> int:
        """The round trips the job makes without the lease's."""
        return self.round_trips - self.lease_round_trips


# --- timing --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Timed:
    wall: float
    cpu: float  # user + system CPU of the child process
    stdout: str
    returncode: int


def spawn(argv: Sequence[str], env: Mapping[str, str] | None = None) -> Timed:
    """Run a program to completion: its wall time and its own CPU time (``os.wait4``)."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(env) if env is not None else None)
    out = proc.stdout.read() if proc.stdout is not None else b""  # one pipe: no deadlock
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {out.decode()[-2000:]}")
    return Timed(wall, usage.ru_utime + usage.ru_stime, out.decode(), proc.returncode)


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def seconds(values: Sequence[float], digits: int = 2) -> str:
    """``min/median/max s`` of several runs."""
    lo, mid, hi = spread(values)
    return f"{lo:.{digits}f}/{mid:.{digits}f}/{hi:.{digits}f} s"


def millis(values: Sequence[float], digits: int = 0) -> str:
    """``min/median/max ms`` of several runs (values in seconds)."""
    lo, mid, hi = spread(values)
    return f"{lo * 1000:,.{digits}f}/{mid * 1000:,.{digits}f}/{hi * 1000:,.{digits}f} ms"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# --- the table -----------------------------------------------------------------------------

@dataclass
class Row:
    cells: list[str]
    goal: str = ""
    met: bool | None = None  # None: no goal

    def verdict(self) -> str:
        if self.met is None:
            return ""
        return "met" if self.met else "**not met**"


@dataclass
class Table:
    title: str
    columns: list[str]
    intro: str = ""
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object, goal: str = "", met: bool | None = None) -> None:
        self.rows.append(Row([str(c) for c in cells], goal, met))

    def markdown(self) -> list[str]:
        with_goals = any(r.met is not None for r in self.rows)
        header = [*self.columns, *(["goal", "met?"] if with_goals else [])]
        lines = [f"**{self.title}**", ""]
        if self.intro:
            lines += [self.intro, ""]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in self.rows:
            cells = row.cells + ([row.goal, row.verdict()] if with_goals else [])
            lines.append("| " + " | ".join(cells) + " |")
        for note in self.notes:
            lines += ["", note]
        return [*lines, ""]


class Page:
    """One generated file, ``docs/bench/<name>.md``: its tables and where they were measured."""

    def __init__(self, name: str, runs: int = RUNS) -> None:
        self.name = name
        self.runs = runs
        self.tables: list[Table] = []
        self.load_before = os.getloadavg()

    def table(self, title: str, columns: Sequence[str], intro: str = "") -> Table:
        made = Table(title, list(columns), intro)
        self.tables.append(made)
        return made

    def markdown(self) -> str:
        lines = [f"<!-- generated by tests/bench/{_script()} (nox -s bench); do not edit: "
                 "docs/contributing.md says how to regenerate -->", ""]
        for table in self.tables:
            lines += table.markdown()
        lines.append(machine_line(self.load_before, self.runs))
        return "\n".join(lines) + "\n"

    def emit(self, argv: Sequence[str]) -> None:
        """Print the page; with ``--write`` in ``argv`` or ``XAPICTL_BENCH_WRITE=1`` (what
        ``nox -s bench`` sets), write it to ``docs/bench/<name>.md`` too."""
        text = self.markdown()
        print(text)
        if "--write" in argv or os.environ.get(WRITE_SWITCH) == "1":
            DOCS_BENCH.mkdir(parents=True, exist_ok=True)
            (DOCS_BENCH / f"{self.name}.md").write_text(text, encoding="utf-8")
            print(f"wrote docs/bench/{self.name}.md")


def _script() -> str:
    return Path(sys.argv[0]).name


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line(load_before: tuple[float, float, float], runs: int) -> str:
    after = os.getloadavg()
    return (f"*Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {cpu_model()}, "
            f"{os.cpu_count()} cores (shared with other work: load average "
            f"{load_before[0]:.1f} before, {after[0]:.1f} after), Python "
            f"{platform.python_version()}, {platform.system()}. Min/median/max of "
            f"{runs} runs unless a row says otherwise.*")

