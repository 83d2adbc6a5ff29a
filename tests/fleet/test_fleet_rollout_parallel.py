"""Pools within a wave are applied in parallel, waves one after the other, ``concurrency`` at
a time: proved with a barrier that only opens when the expected number of pools wait on it."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

from xapictl.fleet.fleetfile import FleetPool
from xapictl.fleet.journal import Journal, PoolState, RolloutState
from xapictl.fleet.rollout import RolloutEvent, RolloutOptions, RolloutRunner, waves
from xapictl.fleet.work import ApplyHooks, PoolPlan
from xapictl.plan.core import ApplyReport, Plan, Step, StepResult, StepStatus

# Long enough for a loaded machine, short enough that a serialised wave fails quickly.
BARRIER_TIMEOUT_S = 5.0


def wave_barriers(plan_waves: list[list[str]], concurrency: int) -> dict[str, threading.Barrier]:
    """Each pool's barrier: one per wave, for as many parties as the wave runs at once."""
    out: dict[str, threading.Barrier] = {}
    for wave in plan_waves:
        barrier = threading.Barrier(min(len(wave), concurrency), timeout=BARRIER_TIMEOUT_S)
        out.update(dict.fromkeys(wave, barrier))
    return out


class BarrierWork:
    """One step per pool; the step waits on the pool's barrier, which opens only when all its
    parties are inside ``apply`` at the same time. Serialised pools break it by timeout."""

    def __init__(self, barriers: dict[str, threading.Barrier]) -> None:
        self.barriers = barriers
        self.lock = threading.Lock()
        self.inside = 0
        self.most_inside = 0

    def plan(self, pool: FleetPool) -> PoolPlan:
        return PoolPlan(pool.name, Plan((Step(f"thing on {pool.name}", "missing"),)))

    def apply(self, planned: PoolPlan, hooks: ApplyHooks) -> ApplyReport:
        step = planned.plan.steps[0]
        with self.lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            hooks.step_started(0, step)
            # A timeout raises BrokenBarrierError: the pool fails, and so does the test.
            self.barriers[planned.pool].wait()
            result = StepResult(step, StepStatus.DONE)
            hooks.step_finished(0, result)
            return ApplyReport([result])
        finally:
            with self.lock:
                self.inside -= 1

    def close(self, planned: PoolPlan | None, pool: FleetPool) -> None:
        pass


def _rollout(tmp_path: Path, work: BarrierWork, opts: RolloutOptions,
             n: int) -> tuple[list[RolloutEvent], dict[str, PoolState], RolloutState]:
    events: list[RolloutEvent] = []  # list.append is atomic: safe from the worker threads
    pools = [FleetPool(f"p{i:02d}", url=f"https://10.0.0.{i}") for i in range(n)]
    res = RolloutRunner(Journal(tmp_path / "j.sqlite"), work, opts,
                        on_event=events.append).start(pools, recipe="r.yaml", fleet="f.yaml",
                                                      selection=None)
    return events, res.pools, res.state


def _positions(events: list[RolloutEvent], state: str) -> dict[str, int]:
    return {e.pool: i for i, e in enumerate(events) if e.kind == "pool" and e.state == state}


def test_the_pools_of_a_wave_are_applied_together_and_waves_follow_each_other(
        tmp_path: Path) -> None:
    opts = RolloutOptions(canary=1, batch_size=3, concurrency=3)
    names = [f"p{i:02d}" for i in range(7)]
    plan_waves = waves(names, opts.canary, opts.batch_size)
    assert [len(w) for w in plan_waves] == [1, 3, 3]
    work = BarrierWork(wave_barriers(plan_waves, opts.concurrency))
    events, states, state = _rollout(tmp_path, work, opts, n=7)

    assert state is RolloutState.DONE
    assert set(states.values()) == {PoolState.DONE}
    assert work.most_inside == 3
    started, ended = _positions(events, "running"), _positions(events, "done")
    for before, after in itertools.pairwise(plan_waves):
        assert min(started[p] for p in after) > max(ended[p] for p in before), (before, after)


def test_concurrency_bounds_the_pools_in_flight_within_a_wave(tmp_path: Path) -> None:
    # One wave of 4 (no canary), 2 at a time: its barrier of 2 opens twice, never for more.
    opts = RolloutOptions(canary=0, batch_size=4, concurrency=2)
    work = BarrierWork(wave_barriers([[f"p{i:02d}" for i in range(4)]], opts.concurrency))
    events, states, state = _rollout(tmp_path, work, opts, n=4)

    assert state is RolloutState.DONE
    assert set(states.values()) == {PoolState.DONE}
    assert work.most_inside == 2
    assert sum(1 for e in events if e.kind == "wave") == 1
