"""The round-trip budget of issue 12, counted from the simulator's request log (never timed):
``network create --vlan`` and its idempotent re-run read only the classes the recipe can
touch, in a number of dependent round trips that does not grow with the pool, while a naive
per-host loop grows with it.

A dependent round trip is a link of the longest chain of requests each sent after the
previous one was answered; requests in flight together count once. The simulator holds every
request ``LATENCY_MS`` before answering, so requests sent together overlap by that much: only
a thread kept off the CPU for longer than that could make two of them look sequential."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "recipes"))
from recipes_simpool import SimPool

from xapictl.client.lease import is_lease_call
from xapictl.plan.audit import is_write
from xapictl.plan.backend import GUEST_CLASSES, classes_needed
from xapictl.recipes import ensure_vlan_network, ensure_vm_attached

LATENCY_MS = 400.0  # wide enough that a loaded machine still sends parallel requests inside it
VLAN105 = ensure_vlan_network("VLAN 105", 105, device="eth1")
CREATE_TRIPS = 11
"""login, the login's pool/host read, the plan's read (permissions alongside), the lease's add
(the master's clock alongside), its read-back which is the pre-write read, network.create,
step 2's re-check, pool.create_VLAN_from_PIF, verify, the lease's release, logout."""
RERUN_TRIPS = 4
"""login, the login's pool/host read, the plan's read (permissions alongside), logout."""


def trips(pool: SimPool) -> int:
    spans = []
    for entry in pool.control.request_log():
        end = datetime.fromisoformat(entry["time"]).timestamp()
        spans.append((end - entry["duration_ms"] / 1000.0, end))
    count, last_end = 0, float("-inf")
    for start, end in sorted(spans, key=lambda s: s[1]):
        if start >= last_end - 0.002:  # the log's clock has millisecond resolution
            count, last_end = count + 1, end
    return count


def methods(pool: SimPool) -> list[str]:
    return [e["method"] for e in pool.control.request_log()]


def lease_calls(pool: SimPool) -> list[str]:
    return [e["method"] for e in pool.control.request_log()
            if is_lease_call(e["method"], e["params"])]


def big(hosts: int) -> SimPool:
    pool = SimPool("big", {"hosts": hosts, "nics": 2, "vms": 40, "vlans": 8, "vifs": 80})
    pool.control.set_latency(LATENCY_MS)
    return pool


@pytest.fixture(scope="module")
def runs() -> dict[int, tuple[tuple[int, list[str], list[str]], tuple[int, list[str]]]]:
    """For 4 and 24 hosts: (trips, methods, lease calls) of the create, (trips, methods) of
    the re-run."""
    out = {}
    for hosts in (4, 24):
        pool = big(hosts)
        pool.clear()
        result = pool.converge(VLAN105)
        assert result.replan is not None and result.replan.is_empty
        created = (trips(pool), methods(pool), lease_calls(pool))
        assert pool.writes() == ["network.create", "pool.create_VLAN_from_PIF"]
        pool.clear()
        again = pool.converge(VLAN105)
        assert again.plan.is_empty and not again.applied
        out[hosts] = (created, (trips(pool), methods(pool)))
    return out


def test_network_create_vlan_takes_the_same_few_round_trips_at_any_pool_size(runs: dict[
        int, tuple[tuple[int, list[str], list[str]], tuple[int, list[str]]]]) -> None:
    (small, small_calls, small_lease), _ = runs[4]
    (large, large_calls, large_lease), _ = runs[24]
    assert small == large == CREATE_TRIPS
    assert sorted(small_calls) == sorted(large_calls)  # the same requests, whatever the size
    assert small_lease == large_lease == ["pool.add_to_other_config",
                                          "pool.remove_from_other_config"]
    assert sum(is_write(m) for m in small_calls) == 4  # 2 for the network, 2 for the lease


def test_the_rerun_reads_once_and_writes_nothing(runs: dict[
        int, tuple[tuple[int, list[str], list[str]], tuple[int, list[str]]]]) -> None:
    _, (small, small_calls) = runs[4]
    _, (large, large_calls) = runs[24]
    assert small == large == RERUN_TRIPS
    assert sorted(small_calls) == sorted(large_calls)
    assert not any(is_write(m) for m in small_calls)  # no lease either: nothing to write
    assert small_calls.count("session.get_record") == 1  # the permissions, with the read
    assert "event.inject" not in small_calls  # a plan needs no event token


def test_a_vlan_recipe_reads_no_vm_or_vif_and_reads_each_class_once_per_read(runs: dict[
        int, tuple[tuple[int, list[str], list[str]], tuple[int, list[str]]]]) -> None:
    (_, calls, _), (_, rerun) = runs[24]
    for guest in GUEST_CLASSES:
        assert f"{guest}.get_all_records" not in calls + rerun
    # plan, pre-write (the lease's read-back), verify; the pre-flight asks nothing more
    assert calls.count("network.get_all_records") == 3
    assert rerun.count("network.get_all_records") == 1


def test_recipes_that_concern_vifs_read_the_guests() -> None:
    assert set(GUEST_CLASSES) <= set(classes_needed(ensure_vm_attached("vm-1", "net")))
    mtu = ensure_vlan_network("VLAN 9", 9, device="eth1", mtu=9000)
    assert set(GUEST_CLASSES) <= set(classes_needed(mtu))
    assert not set(GUEST_CLASSES) & set(classes_needed(VLAN105))


def test_a_naive_per_host_loop_grows_with_the_pool_where_the_plan_does_not(runs: dict[
        int, tuple[tuple[int, list[str], list[str]], tuple[int, list[str]]]]) -> None:
    hosts = 24
    naive = big(hosts)
    naive.clear()
    with naive.connect() as conn:
        pifs = conn.call("PIF.get_all_records")
        net = conn.call("network.create", {"name_label": "VLAN 105", "other_config": {}})
        for ref, pif in pifs.items():
            if pif["device"] == "eth1" and pif["VLAN"] == -1:
                conn.call("VLAN.create", ref, 105, net)
    assert trips(naive) >= hosts + 4  # login, its read, PIFs, network, one per host, logout
    assert trips(naive) > 2 * runs[hosts][0][0]
