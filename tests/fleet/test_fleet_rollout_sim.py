"""Rollouts against several simulated pools, through the real client and wire."""

from __future__ import annotations

import _thread
import threading

from fleet_sim_pools import PASSWORD, VLAN_RECIPE, SimFleet

from xapictl.fleet.journal import Journal, PoolState, RolloutState
from xapictl.fleet.rollout import RolloutEvent, RolloutOptions, RolloutRunner
from xapictl.fleet.xapi_work import XapiPoolWork
from xapictl.plan.desired import load_text

DESIRED = load_text(VLAN_RECIPE)


def _runner(fleet: SimFleet, journal: Journal, opts: RolloutOptions, **kw: object
            ) -> RolloutRunner:
    return RolloutRunner(journal, XapiPoolWork(DESIRED, fleet.connector(), journal), opts,
                         **kw)  # type: ignore[arg-type]


def test_canary_then_waves_with_a_failing_pool_within_the_budget(sim_fleet: SimFleet) -> None:
    sim_fleet.controls["p3"].inject_fault("pool.create_VLAN_from_PIF",
                                          error=("VLAN_TAG_INVALID", "105"))
    journal = Journal(":memory:")
    res = _runner(sim_fleet, journal, RolloutOptions(canary=1, batch_size=2, concurrency=2,
                                                     max_failures=1)).start(
        sim_fleet.pools, recipe="vlan.yaml", fleet="fleet.yaml", selection=None)
    runs = {r.pool: r for r in journal.pool_runs(res.id)}
    assert res.state is RolloutState.DONE and "1 pool(s) failed" in res.reason
    assert [runs[p].wave for p in sorted(runs)] == [0, 1, 1, 2, 2, 3]
    assert runs["p3"].state is PoolState.FAILED and "VLAN_TAG_INVALID" in runs["p3"].error
    for name in ("p0", "p1", "p2", "p4", "p5"):
        assert runs[name].state is PoolState.DONE
        assert sim_fleet.vlan_networks(name) == ["VLAN 105"]
    assert sim_fleet.open_sessions() == dict.fromkeys(sim_fleet.sims, 0)
    audit = journal.audit(res.id)
    assert {a.pool for a in audit} == set(sim_fleet.sims)
    assert [a.ok for a in audit if a.pool == "p3" and a.call.endswith("VLAN_from_PIF")] == [False]
    assert all(a.host.startswith("http://127.0.0.1") for a in audit)
    assert PASSWORD not in repr([(a.args, a.result) for a in audit])


def test_a_pool_that_stops_answering_fails_and_resume_finishes_it(sim_fleet: SimFleet) -> None:
    journal = Journal(":memory:")
    victim = "p2"
    master = sim_fleet.master(victim)

    def on_event(e: RolloutEvent) -> None:
        if e.kind == "wave" and e.detail == "1":  # after planning, before p2's turn
            sim_fleet.sims[victim].set_host_live(master, False)

    res = _runner(sim_fleet, journal, RolloutOptions(canary=1, batch_size=5, concurrency=5,
                                                     max_failures=1),
                  on_event=on_event).start(sim_fleet.pools, recipe="vlan.yaml",
                                           fleet="fleet.yaml", selection=None)
    runs = {r.pool: r for r in journal.pool_runs(res.id)}
    assert runs[victim].state is PoolState.FAILED
    assert {runs[p].state for p in runs if p != victim} == {PoolState.DONE}
    assert sim_fleet.vlan_networks(victim) == []

    sim_fleet.sims[victim].set_host_live(master, True)
    again = _runner(sim_fleet, journal, RolloutOptions(**journal.rollout(res.id).options)
                    ).resume(res.id, sim_fleet.pools)
    assert again.state is RolloutState.DONE
    assert {r.state for r in journal.pool_runs(res.id)} == {PoolState.DONE}
    assert sim_fleet.vlan_networks(victim) == ["VLAN 105"]
    assert all(sim_fleet.vlan_networks(p) == ["VLAN 105"] for p in sim_fleet.sims)


def test_ctrl_c_leaves_no_session_open_and_a_journal_that_resumes(sim_fleet: SimFleet) -> None:
    journal = Journal(":memory:")
    stop = threading.Event()

    def on_event(e: RolloutEvent) -> None:
        if e.kind == "step" and e.pool == "p1" and e.state == "done" and e.step == 0:
            _thread.interrupt_main()
            assert stop.wait(10)

    res = _runner(sim_fleet, journal, RolloutOptions(canary=1, batch_size=2, concurrency=1),
                  on_event=on_event, stop=stop).start(sim_fleet.pools, recipe="vlan.yaml",
                                                      fleet="fleet.yaml", selection=None)
    assert res.state is RolloutState.STOPPED
    runs = {r.pool: r for r in journal.pool_runs(res.id)}
    assert runs["p0"].state is PoolState.DONE
    assert runs["p1"].state is PoolState.STOPPED and runs["p1"].done == 1
    assert {runs[p].state for p in ("p2", "p3", "p4", "p5")} == {PoolState.SKIPPED}
    assert sim_fleet.open_sessions() == dict.fromkeys(sim_fleet.sims, 0)
    assert journal.rollout(res.id).state is RolloutState.STOPPED

    again = _runner(sim_fleet, journal, RolloutOptions(**journal.rollout(res.id).options)
                    ).resume(res.id, sim_fleet.pools)
    assert again.state is RolloutState.DONE
    assert all(sim_fleet.vlan_networks(p) == ["VLAN 105"] for p in sim_fleet.sims)
    assert sim_fleet.open_sessions() == dict.fromkeys(sim_fleet.sims, 0)


def test_a_second_rollout_of_the_same_recipe_changes_nothing(sim_fleet: SimFleet) -> None:
    journal = Journal(":memory:")
    opts = RolloutOptions(canary=1, batch_size=3, concurrency=3)
    _runner(sim_fleet, journal, opts).start(sim_fleet.pools, recipe="r", fleet="f",
                                            selection=None)
    second = _runner(sim_fleet, journal, opts).start(sim_fleet.pools, recipe="r", fleet="f",
                                                     selection=None)
    assert second.state is RolloutState.DONE
    assert all(p.changes == 0 for p in second.summary.plans.values())
    assert journal.audit(second.id) == []


def test_a_pool_dying_between_its_own_steps_fails_alone_and_resume_does_only_the_rest(
        sim_fleet: SimFleet) -> None:
    journal = Journal(":memory:")
    victim = "p3"
    master = sim_fleet.master(victim)

    def on_event(e: RolloutEvent) -> None:
        if e.kind == "step" and e.pool == victim and e.state == "done" and e.step == 0:
            sim_fleet.sims[victim].set_host_live(master, False)  # network made, VLAN not yet

    res = _runner(sim_fleet, journal, RolloutOptions(canary=1, batch_size=5, concurrency=5,
                                                     max_failures=1),
                  on_event=on_event).start(sim_fleet.pools, recipe="vlan.yaml",
                                           fleet="fleet.yaml", selection=None)
    runs = {r.pool: r for r in journal.pool_runs(res.id)}
    assert res.state is RolloutState.DONE and "1 pool(s) failed" in res.reason
    assert runs[victim].state is PoolState.FAILED and runs[victim].done == 1
    assert {runs[p].state for p in runs if p != victim} == {PoolState.DONE}
    assert sim_fleet.vlan_networks(victim) == ["VLAN 105"]  # the first step stays done

    sim_fleet.sims[victim].set_host_live(master, True)
    again = _runner(sim_fleet, journal, RolloutOptions(**journal.rollout(res.id).options)
                    ).resume(res.id, sim_fleet.pools)
    assert again.state is RolloutState.DONE
    assert again.summary.plans[victim].changes == 1  # only the VLAN is left to make
    assert sim_fleet.vlan_networks(victim) == ["VLAN 105"]  # no duplicate network
    sim = sim_fleet.sims[victim]
    with sim.state.lock:
        assert sum(1 for p in sim.state.all("PIF").values() if p["VLAN"] == 105) == 3
    # The session open when the master died could not be logged out (nothing answered); it
    # is the only one left: the resume's own sessions are closed.
    assert sim_fleet.open_sessions() == {**dict.fromkeys(sim_fleet.sims, 0), victim: 1}


def test_a_pool_changed_between_plan_and_apply_writes_nothing(sim_fleet: SimFleet) -> None:
    """Rollouts run the plan engine's apply: every step is checked against a fresh read before
    the first write, so a VLAN 105 made by hand after planning leaves no orphan network."""
    journal = Journal(":memory:")
    victim = next(p for p in sim_fleet.pools if p.name == "p2")

    def by_hand(e: RolloutEvent) -> None:
        if e.kind == "wave" and e.detail == "1":  # every pool planned, p2 not yet applied
            with sim_fleet.connector().connect(victim) as conn:
                snap = conn.snapshot()
                net = conn.call("network.create", {"name_label": "VLAN 105",
                                                   "other_config": {}})
                conn.call("VLAN.create", snap.pif_on(snap.master, "eth1"), 105, net)

    res = _runner(sim_fleet, journal, RolloutOptions(canary=1, batch_size=5, concurrency=5,
                                                     max_failures=1),
                  on_event=by_hand).start(sim_fleet.pools, recipe="vlan.yaml",
                                          fleet="fleet.yaml", selection=None)
    runs = {r.pool: r for r in journal.pool_runs(res.id)}
    assert runs["p2"].state is PoolState.FAILED
    assert "drift" in runs["p2"].error and "appeared on the trunk since planning" in \
        runs["p2"].error
    assert [a.call for a in journal.audit(res.id) if a.pool == "p2"] == []
    assert sim_fleet.vlan_networks("p2") == ["VLAN 105"]  # the hand-made one, no orphan
    assert {runs[p].state for p in runs if p != "p2"} == {PoolState.DONE}
    assert sim_fleet.open_sessions() == dict.fromkeys(sim_fleet.sims, 0)
