"""The rollout scheduler against a scripted backend: canary, waves, budget, stop, resume."""

from __future__ import annotations

import _thread
import threading
from pathlib import Path

import pytest

from xapictl.fleet.fleetfile import FleetPool
from xapictl.fleet.journal import Journal, PoolState, RolloutState
from xapictl.fleet.rollout import RolloutOptions, RolloutRunner, waves
from xapictl.fleet.work import ApplyHooks, PoolPlan
from xapictl.plan.core import ApplyReport, Plan, Step, StepResult, StepStatus


class ScriptedWork:
    """Each pool has ``steps`` steps; pools in ``fail`` fail their last step, pools in
    ``unreachable`` fail to plan; ``on_step`` runs after each step (to inject Ctrl-C)."""

    def __init__(self, steps: int = 2, fail: set[str] | None = None,
                 unreachable: set[str] | None = None) -> None:
        self.steps = steps
        self.fail = fail or set()
        self.unreachable = unreachable or set()
        self.open: set[str] = set()
        self.applied: list[str] = []
        self.steps_run: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        self.on_step = lambda pool, i: None

    def plan(self, pool: FleetPool) -> PoolPlan:
        if pool.name in self.unreachable:
            raise ConnectionError(f"{pool.name} does not answer")
        with self.lock:
            self.open.add(pool.name)
        steps = tuple(Step(f"thing {i} on {pool.name}", "missing") for i in range(self.steps))
        return PoolPlan(pool.name, Plan(steps))

    def apply(self, planned: PoolPlan, hooks: ApplyHooks) -> ApplyReport:
        with self.lock:
            self.applied.append(planned.pool)
        report = ApplyReport()
        for i, step in enumerate(planned.plan.steps):
            if hooks.should_stop():
                report.results += [StepResult(s, StepStatus.NOT_RUN)
                                   for s in planned.plan.steps[i:]]
                break
            hooks.step_started(i, step)
            ok = not (planned.pool in self.fail and i == len(planned.plan.steps) - 1)
            result = StepResult(step, StepStatus.DONE if ok else StepStatus.FAILED,
                                "" if ok else "VLAN_TAG_INVALID")
            report.results.append(result)
            hooks.step_finished(i, result)
            with self.lock:
                self.steps_run.append((planned.pool, i))
            self.on_step(planned.pool, i)
            if not ok:
                break
        return report

    def close(self, planned: PoolPlan | None, pool: FleetPool) -> None:
        with self.lock:
            self.open.discard(pool.name)


def _pools(n: int) -> list[FleetPool]:
    return [FleetPool(f"p{i:02d}", url=f"https://10.0.0.{i}") for i in range(n)]


def _run(tmp_path: Path, work: ScriptedWork, opts: RolloutOptions, n: int = 10,
         stop: threading.Event | None = None) -> tuple[Journal, int, RolloutState]:
    journal = Journal(tmp_path / "j.sqlite")
    res = RolloutRunner(journal, work, opts, stop=stop).start(
        _pools(n), recipe="r.yaml", fleet="f.yaml", selection=None)
    return journal, res.id, res.state


def test_waves_are_the_canary_then_batches_in_fleet_order() -> None:
    assert waves(list("abcdefg"), 1, 3) == [["a"], ["b", "c", "d"], ["e", "f", "g"]]
    assert waves(list("abcd"), 0, 3) == [["a", "b", "c"], ["d"]]


def test_a_clean_rollout_applies_every_pool_and_logs_out_everywhere(tmp_path: Path) -> None:
    work = ScriptedWork()
    journal, rid, state = _run(tmp_path, work, RolloutOptions(canary=1, batch_size=3,
                                                              concurrency=2))
    assert state is RolloutState.DONE
    assert {r.state for r in journal.pool_runs(rid)} == {PoolState.DONE}
    assert [r.wave for r in journal.pool_runs(rid)] == [0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert work.applied[0] == "p00" and work.open == set()


def test_a_failed_canary_stops_the_rollout_whatever_the_budget(tmp_path: Path) -> None:
    work = ScriptedWork(fail={"p00"})
    journal, rid, state = _run(tmp_path, work, RolloutOptions(canary=1, max_failures=5))
    assert state is RolloutState.FAILED
    assert work.applied == ["p00"]
    assert [r.state for r in journal.pool_runs(rid)][1:] == [PoolState.SKIPPED] * 9
    assert work.open == set()


def test_failures_within_the_budget_let_the_others_go_on(tmp_path: Path) -> None:
    work = ScriptedWork(fail={"p03"})
    journal, rid, state = _run(tmp_path, work, RolloutOptions(canary=1, batch_size=3,
                                                              max_failures=1))
    states = {r.pool: r.state for r in journal.pool_runs(rid)}
    assert state is RolloutState.DONE
    assert states.pop("p03") is PoolState.FAILED
    assert set(states.values()) == {PoolState.DONE}


def test_a_spent_budget_leaves_the_pools_not_started_untouched(tmp_path: Path) -> None:
    work = ScriptedWork(fail={"p01", "p02"})
    journal, rid, state = _run(tmp_path, work, RolloutOptions(canary=1, batch_size=2,
                                                              concurrency=1, max_failures=1))
    assert state is RolloutState.FAILED
    assert work.applied == ["p00", "p01", "p02"]
    runs = {r.pool: r.state for r in journal.pool_runs(rid)}
    assert [runs[f"p{i:02d}"] for i in range(3, 10)] == [PoolState.SKIPPED] * 7
    assert all(p not in work.applied for p in (f"p{i:02d}" for i in range(3, 10)))


def test_unplannable_pools_beyond_the_budget_mean_nothing_is_applied(tmp_path: Path) -> None:
    work = ScriptedWork(unreachable={"p04", "p05"})
    journal, rid, state = _run(tmp_path, work, RolloutOptions(max_failures=1))
    assert state is RolloutState.FAILED and work.applied == []
    assert journal.rollout(rid).reason.startswith("2 pool(s) could not be planned")


def test_declining_the_summary_writes_nothing(tmp_path: Path) -> None:
    work = ScriptedWork()
    journal = Journal(tmp_path / "j.sqlite")
    seen = []
    runner = RolloutRunner(journal, work, RolloutOptions(),
                           confirm=lambda q, s: seen.append(s.lines()) is not None)
    res = runner.start(_pools(3), recipe="r", fleet="f", selection=None)
    assert res.state is RolloutState.DECLINED and work.applied == []
    assert seen[0][0].startswith("3 pool(s) planned: 3 with changes")
    assert work.open == set()


def test_ctrl_c_stops_at_a_step_boundary_and_resume_finishes(tmp_path: Path) -> None:
    work = ScriptedWork(steps=3)
    stop = threading.Event()

    def interrupt(pool: str, i: int) -> None:
        if pool == "p02" and i == 0:
            _thread.interrupt_main()
            assert stop.wait(10), "the runner never heard the Ctrl-C"  # a step takes time

    work.on_step = interrupt
    journal, rid, state = _run(tmp_path, work, RolloutOptions(canary=1, batch_size=3,
                                                              concurrency=1), n=6, stop=stop)
    assert state is RolloutState.STOPPED
    runs = {r.pool: r for r in journal.pool_runs(rid)}
    assert runs["p02"].state is PoolState.STOPPED and runs["p02"].done == 1
    assert runs["p01"].state is PoolState.DONE
    assert {runs[p].state for p in ("p03", "p04", "p05")} == {PoolState.SKIPPED}
    assert ("p02", 1) not in work.steps_run and work.open == set()

    work2 = ScriptedWork(steps=3)
    res = RolloutRunner(journal, work2, RolloutOptions(**journal.rollout(rid).options)).resume(
        rid, _pools(6))
    assert res.state is RolloutState.DONE
    assert sorted(work2.applied) == ["p02", "p03", "p04", "p05"]
    assert {r.state for r in journal.pool_runs(rid)} == {PoolState.DONE}
    # The waves of the rollout as started ([p00] [p01 p02 p03] [p04 p05]), not restarted at 0.
    assert [r.wave for r in journal.pool_runs(rid)] == [0, 1, 1, 1, 2, 2]


class LogoutInterrupted(ScriptedWork):
    """Ctrl-C arrives while the first pool logs out: ``raise_in_close`` raises it right there
    (as when the signal lands inside the call), otherwise a real one is sent to the main
    thread and the logout goes on once the runner has heard it."""

    def __init__(self, stop: threading.Event, raise_in_close: bool) -> None:
        super().__init__()
        self.stop = stop
        self.raise_in_close = raise_in_close

    def close(self, planned: PoolPlan | None, pool: FleetPool) -> None:
        if pool.name == "p00":
            if self.raise_in_close:
                raise KeyboardInterrupt
            _thread.interrupt_main()
            assert self.stop.wait(10), "the runner never heard the Ctrl-C"
        super().close(planned, pool)


def test_a_second_ctrl_c_inside_a_logout_skips_neither_the_others_nor_the_journal(
        tmp_path: Path) -> None:
    stop = threading.Event()
    work = LogoutInterrupted(stop, raise_in_close=True)

    def first_ctrl_c(pool: str, i: int) -> None:
        if pool == "p01" and i == 0:
            _thread.interrupt_main()
            assert stop.wait(10), "the runner never heard the Ctrl-C"

    work.on_step = first_ctrl_c
    journal, rid, state = _run(tmp_path, work, RolloutOptions(canary=1, batch_size=2,
                                                              concurrency=1), n=5, stop=stop)
    assert work.open == {"p00"}  # its logout was the one cut short; every other one ran
    assert state is RolloutState.STOPPED and journal.rollout(rid).state is RolloutState.STOPPED
    runs = {r.pool: r.state for r in journal.pool_runs(rid)}
    assert runs == {"p00": PoolState.DONE, "p01": PoolState.STOPPED, "p02": PoolState.SKIPPED,
                    "p03": PoolState.SKIPPED, "p04": PoolState.SKIPPED}


def test_a_ctrl_c_while_logging_out_waits_for_every_logout(tmp_path: Path) -> None:
    stop = threading.Event()
    work = LogoutInterrupted(stop, raise_in_close=False)
    journal, rid, _ = _run(tmp_path, work, RolloutOptions(canary=1, batch_size=2), n=5,
                           stop=stop)
    assert stop.is_set() and work.open == set()
    assert journal.rollout(rid).state is not RolloutState.RUNNING


def test_pause_after_canary_declined_is_a_resumable_stop(tmp_path: Path) -> None:
    work = ScriptedWork()
    journal = Journal(tmp_path / "j.sqlite")
    answers = iter([True, False])
    runner = RolloutRunner(journal, work, RolloutOptions(pause_after_canary=True),
                           confirm=lambda q, s: next(answers))
    res = runner.start(_pools(4), recipe="r", fleet="f", selection=None)
    assert res.state is RolloutState.STOPPED and work.applied == ["p00"]
    again = RolloutRunner(journal, ScriptedWork(), RolloutOptions()).resume(res.id, _pools(4))
    assert again.state is RolloutState.DONE


@pytest.mark.parametrize("bad", [{"batch_size": 0}, {"concurrency": 0}, {"canary": -1}])
def test_nonsense_options_are_refused(bad: dict[str, int]) -> None:
    from xapictl.errors import UsageError
    with pytest.raises(UsageError):
        RolloutOptions(**bad)


def test_nothing_to_change_anywhere_asks_nothing_and_is_done(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    asked: list[str] = []
    res = RolloutRunner(journal, ScriptedWork(steps=0), RolloutOptions(),
                        confirm=lambda q, s: asked.append(q) is None).start(
        _pools(3), recipe="r", fleet="f", selection=None)
    assert res.state is RolloutState.DONE and asked == []


def test_resuming_a_finished_rollout_does_nothing(tmp_path: Path) -> None:
    journal, rid, _ = _run(tmp_path, ScriptedWork(), RolloutOptions(), n=3)
    work = ScriptedWork()
    res = RolloutRunner(journal, work, RolloutOptions()).resume(rid, _pools(3))
    assert res.state is RolloutState.DONE and work.applied == [] and work.open == set()


def test_resume_refuses_when_an_unfinished_pool_left_the_fleet(tmp_path: Path) -> None:
    from xapictl.errors import UsageError

    journal, rid, _ = _run(tmp_path, ScriptedWork(fail={"p00"}), RolloutOptions(), n=3)
    with pytest.raises(UsageError, match="p02"):
        RolloutRunner(journal, ScriptedWork(), RolloutOptions()).resume(rid, _pools(2))
