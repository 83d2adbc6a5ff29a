"""The plan engine under the pool's write lease: library ``converge()`` calls at once end with one
object per identity; a lost lease stops the run before its next write; the lease is released
on every exit path. Against the simulator over the wire; waits on a fake clock."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import xapictl
from xapictl.client.lease import is_lease_call, is_lease_key
from xapictl.errors import ApplyError, PoolLocked, PreflightError
from xapictl.plan.apply import RunResult, apply, converge
from xapictl.plan.audit import is_write
from xapictl.plan.backend import XapiBackend
from xapictl.plan.core import Step, StepResult, StepStatus
from xapictl.plan.desired import load_file
from xapictl.plan.diff import diff
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer
from xapictl.xapi.retry import Pacer

PW = "xapictl"
TRUNK = load_file(Path(__file__).resolve().parents[2] / "recipes" / "trunk-vlans.yaml")


@pytest.fixture
def server() -> Iterator[SimServer]:
    sim = Simulator(password=PW)
    sim.reset(scenario="seed")
    with SimServer(sim) as srv:
        yield srv
    sim.close()


def lease_keys(server: SimServer) -> list[str]:
    with xapictl.connect(server.url, password=PW) as conn:
        return [k for k in conn.call("pool.get_other_config", conn.pool_ref)
                if is_lease_key(k)]


def pool_writes(server: SimServer) -> list[str]:
    return [e["method"] for e in server.control.request_log()
            if is_write(e["method"]) and e["outcome"] == "success"
            and not is_lease_call(e["method"], e["params"])]


def networks_by_name(server: SimServer) -> Counter[str]:
    with xapictl.connect(server.url, password=PW) as conn:
        return Counter(n.name_label for n in conn.snapshot().networks.values())


def test_four_library_converges_at_once_make_each_network_once(server: SimServer) -> None:
    """All four plan before any applies (a barrier after planning), with 20 ms per call: each
    plans the same 5 networks. One applies under the lease; the three others wait, read the
    pool again under it, find it matching, and write nothing."""
    n = 4
    server.control.set_latency(20)
    planned = threading.Barrier(n)
    results: list[RunResult | BaseException] = []

    def run() -> None:
        try:
            with xapictl.connect(server.url, password=PW) as conn:
                results.append(converge(TRUNK, XapiBackend(conn, lock_timeout=300),
                                        on_plan=lambda plan: planned.wait(timeout=120)))
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    server.control.set_latency(0)
    assert all(isinstance(r, RunResult) for r in results), results
    runs = [r for r in results if isinstance(r, RunResult)]
    assert all(len(r.plan.steps) > 0 for r in runs)  # every one planned changes
    assert sorted((r.applied, r.settled) for r in runs) == [(False, True)] * 3 + [(True, False)]
    names = networks_by_name(server)
    assert [names[f"VLAN {v}"] for v in range(101, 106)] == [1] * 5
    assert pool_writes(server).count("network.create") == 5
    with xapictl.connect(server.url, password=PW) as conn:
        assert diff(TRUNK, conn.snapshot()).is_empty
    assert lease_keys(server) == []


@dataclass
class Hooks:
    """``StepHooks`` that can act between steps."""

    started: Callable[[int, Step], None] = lambda i, s: None
    finished: list[StepResult] = field(default_factory=list)
    after: Callable[[int], None] = lambda i: None

    @property
    def step_started(self) -> Callable[[int, Step], None]:
        return self.started

    @property
    def step_finished(self) -> Callable[[int, StepResult], None]:
        def done(i: int, result: StepResult) -> None:
            self.finished.append(result)
            self.after(i)
        return done

    @property
    def should_stop(self) -> Callable[[], bool]:
        return lambda: False


def _backend(conn: Any, pacer: Pacer, **kw: Any) -> XapiBackend:
    def take(**options: Any) -> Any:
        return conn.lease(pacer=pacer, background=False, **options)
    return XapiBackend(conn, lease=take, **kw)


def test_a_lease_lost_mid_run_is_noticed_before_the_next_write(server: SimServer) -> None:
    """The run is 'paused' 50 s after its first step (the fake clock jumps): the second step
    finds the lease too old and fails without sending anything; nothing after it runs."""
    pacer, advance = Pacer.manual()
    with xapictl.connect(server.url, password=PW) as conn:
        backend = _backend(conn, pacer)
        plan = diff(TRUNK, backend.collect())
        server.control.clear_log()
        hooks = Hooks(after=lambda i: advance(50) if i == 0 else None)
        report = apply(plan, backend, hooks)
    statuses = [r.status for r in report.results]
    assert statuses[0] is StepStatus.DONE
    assert statuses[1] is StepStatus.FAILED
    assert "the pool's write lease was last confirmed 50 s ago" in report.results[1].detail
    assert set(statuses[2:]) == {StepStatus.NOT_RUN}
    assert pool_writes(server) == list(plan.steps[0].calls)  # type: ignore[attr-defined]
    # A lost lease is not removed by its old holder: it expires by itself.
    assert lease_keys(server) == ["xapictl.lease.1"]


def test_the_lease_is_released_when_a_step_fails(server: SimServer) -> None:
    pacer, _ = Pacer.manual()
    server.control.inject_fault("pool.create_VLAN_from_PIF", error=("VLAN_TAG_INVALID", "9"))
    with xapictl.connect(server.url, password=PW) as conn, pytest.raises(ApplyError):
        converge(TRUNK, _backend(conn, pacer))
    assert lease_keys(server) == []


def test_the_lease_is_released_on_keyboard_interrupt(server: SimServer) -> None:
    pacer, _ = Pacer.manual()

    def interrupt(i: int, step: Step) -> None:
        if i == 1:
            raise KeyboardInterrupt

    with xapictl.connect(server.url, password=PW) as conn:
        backend = _backend(conn, pacer)
        plan = diff(TRUNK, backend.collect())
        with pytest.raises(KeyboardInterrupt):
            apply(plan, backend, Hooks(started=interrupt))
        assert backend.caller.lease is None
    assert lease_keys(server) == []


def test_a_run_that_cannot_get_the_lease_sends_no_write(server: SimServer) -> None:
    pacer, _ = Pacer.manual()
    with xapictl.connect(server.url, password=PW) as holder_conn, \
            holder_conn.lease(pacer=pacer, background=False, command="the other run"):
        server.control.clear_log()
        with xapictl.connect(server.url, password=PW) as conn, \
                pytest.raises(PoolLocked, match="running `the other run`"):
            converge(TRUNK, _backend(conn, pacer, lock_timeout=3))
        assert pool_writes(server) == []
    assert lease_keys(server) == []


def test_plans_and_reads_take_no_lease(server: SimServer) -> None:
    with xapictl.connect(server.url, password=PW) as conn:
        server.control.clear_log()
        backend = XapiBackend(conn)
        assert not diff(TRUNK, backend.collect()).is_empty
        assert converge(TRUNK, backend, confirm=lambda plan: False).applied is False
    sent = [e["method"] for e in server.control.request_log()]
    assert not [m for m in sent if "other_config" in m or m == "host.get_servertime"]


def test_a_role_that_cannot_take_the_lease_is_refused_before_any_change() -> None:
    sim = Simulator(password=PW, users={"vera": "vm-admin"})
    sim.reset(scenario="seed")
    with SimServer(sim) as srv:
        with xapictl.connect(srv.url, username="vera", password=PW) as conn, \
                pytest.raises(PreflightError) as refused:
            converge(TRUNK, XapiBackend(conn))
        assert pool_writes(srv) == []
    sim.close()
    assert ("your role may not call pool.add_to_other_config (needs pool-operator or above), "
            "needed to take the pool's write lease") in str(refused.value)


def test_a_held_lease_is_no_change_to_plans_inventory_or_drift(server: SimServer) -> None:
    from xapictl.inventory.drift import drift
    from xapictl.inventory.export import export_snapshot

    pacer, _ = Pacer.manual()
    with xapictl.connect(server.url, password=PW) as conn:
        before = conn.snapshot()
        with conn.lease(pacer=pacer, background=False):
            during = conn.snapshot()
            assert any(is_lease_key(k) for k in during.pool.other_config)
    with_lease, without = export_snapshot(during), export_snapshot(before)
    assert with_lease.objects == without.objects  # (the event tokens move on, as they must)
    assert drift(with_lease) == drift(without)
    assert [s.describe() for s in diff(TRUNK, during).steps] == \
        [s.describe() for s in diff(TRUNK, before).steps]
