"""Two ``rollout resume`` of one rollout at once: the pool's write lease lets one write."""

from __future__ import annotations

import threading

from fleet_sim_pools import VLAN_RECIPE, SimFleet

from xapictl.client.lease import is_lease_key
from xapictl.fleet.journal import Journal, PoolState, RolloutState
from xapictl.fleet.rollout import RolloutEvent, RolloutOptions, RolloutResult, RolloutRunner
from xapictl.fleet.xapi_work import XapiPoolWork
from xapictl.plan.desired import load_text

DESIRED = load_text(VLAN_RECIPE)


def test_two_resumes_at_once_make_the_network_once_and_both_finish(sim_fleet: SimFleet
                                                                   ) -> None:
    journal = Journal(":memory:")
    victim = "p2"
    master = sim_fleet.master(victim)

    def dead_victim(e: RolloutEvent) -> None:
        if e.kind == "wave" and e.detail == "1":  # after planning, before p2's turn
            sim_fleet.sims[victim].set_host_live(master, False)

    opts = RolloutOptions(canary=1, batch_size=5, concurrency=5, max_failures=1)
    res = RolloutRunner(journal, XapiPoolWork(DESIRED, sim_fleet.connector(), journal), opts,
                        on_event=dead_victim).start(sim_fleet.pools, recipe="vlan.yaml",
                                                    fleet="fleet.yaml", selection=None)
    assert {r.pool: r.state for r in journal.pool_runs(res.id)}[victim] is PoolState.FAILED
    sim_fleet.sims[victim].set_host_live(master, True)
    sim_fleet.controls[victim].set_latency(50)  # both fresh reads overlap without the lease

    # Both resumes plan p2 (one network and its VLAN to make) before either applies.
    planned = threading.Barrier(2)
    results: list[RolloutResult | BaseException] = []

    def resume() -> None:
        def on_event(e: RolloutEvent) -> None:
            if e.kind == "wave":
                planned.wait(timeout=120)
        try:
            runner = RolloutRunner(journal, XapiPoolWork(DESIRED, sim_fleet.connector(), journal,
                                                         lock_timeout=300),
                                   RolloutOptions(**journal.rollout(res.id).options),
                                   on_event=on_event)
            results.append(runner.resume(res.id, sim_fleet.pools))
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert all(isinstance(r, RolloutResult) for r in results), results
    assert [r.state for r in results if isinstance(r, RolloutResult)] == [RolloutState.DONE] * 2
    assert all(r.summary.plans[victim].changes == 2 for r in results
               if isinstance(r, RolloutResult))
    assert {r.state for r in journal.pool_runs(res.id)} == {PoolState.DONE}
    assert sim_fleet.vlan_networks(victim) == ["VLAN 105"]
    sim = sim_fleet.sims[victim]
    with sim.state.lock:
        assert sum(1 for p in sim.state.all("PIF").values() if p["VLAN"] == 105) == 3
        pool = next(iter(sim.state.all("pool").values()))
        assert not [k for k in pool["other_config"] if is_lease_key(k)]
