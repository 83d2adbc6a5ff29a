"""The diff is linear: a snapshot's indexes are built once, never once per stated object.

Proved by counting, not timing: every record table of the snapshot is wrapped in a mapping
that counts full scans (iterations), and the diff of a recipe stating 4 VIFs and one stating
40 (same pool) must scan every table the same number of times. A lookup made per stated
object that scanned a table (as ``find_vm`` did through ``guest_vms()``) makes the counts
grow with the recipe, and these tests fail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from plan_pool_builder import PoolBuilder

from xapictl.plan.desired import BondSpec, DesiredState, NetworkSpec, VIFSpec
from xapictl.plan.diff import diff
from xapictl.plan.identity import find_vm
from xapictl.plan.verify import mismatches
from xapictl.state.snapshot import SNAPSHOT_CLASSES, PoolSnapshot

VMS = 40


class CountingMapping(Mapping[str, Any]):
    """A read-only mapping counting full scans (``for``, ``items()``, ``values()``…)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)
        self.scans = 0

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        self.scans += 1
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def _pool() -> PoolBuilder:
    b = PoolBuilder(hosts=3)
    storage = b.network("Storage", owned_as="network/Storage")
    vlan = b.network("VLAN 105", owned_as="vlan/eth1/105")
    b.vlan(vlan, "eth1", 105)
    b.network("VLAN 106", owned_as="vlan/eth1/106")  # its VLANs are gone: repaired
    for i in range(VMS):
        name = f"vm{i:02d}"
        b.vm(name, running=i % 2 == 0)
        b.vif(name, storage if i % 3 else vlan, "0", attached=i % 2 == 0)
    return b


def _counted(b: PoolBuilder) -> PoolSnapshot:
    parts = {attr: CountingMapping(PoolSnapshot.from_records(b.raw()).__dict__[attr])
             for attr in SNAPSHOT_CLASSES.values()}
    return PoolSnapshot(**parts)


def _scans(snap: PoolSnapshot) -> dict[str, int]:
    return {attr: getattr(snap, attr).scans for attr in SNAPSHOT_CLASSES.values()}


def _desired(vifs: int) -> DesiredState:
    """Every kind of entry; ``vifs`` VIF entries (moves, settings, auto devices, MACs,
    removals)."""
    specs: list[VIFSpec] = []
    for i in range(vifs):
        vm = f"vm{i:02d}"
        if i % 4 == 0:
            specs.append(VIFSpec(vm=vm, network="VLAN 105", device="0", mtu=9000))
        elif i % 4 == 1:
            specs.append(VIFSpec(vm=vm, network="Storage", device="1",
                                 mac=f"02:00:00:00:99:{i:02x}"))
        elif i % 4 == 2:
            specs.append(VIFSpec(vm=vm, network="VLAN 106", device="auto"))
        else:
            specs.append(VIFSpec(vm=vm, network="Storage", device="3", present=False))
    return DesiredState(
        networks=(NetworkSpec(name="VLAN 105", vlan=105, device="eth1"),
                  NetworkSpec(name="VLAN 106", vlan=106, device="eth1"),
                  NetworkSpec(name="Storage", mtu=9000),
                  NetworkSpec(name="Old", present=False)),
        bonds=(BondSpec(network="Bond 2+3", members=("eth2", "eth3")),),
        vifs=tuple(specs))


def test_diff_scans_each_table_the_same_number_of_times_for_4_or_40_stated_vifs() -> None:
    b = _pool()
    few, many = _counted(b), _counted(b)
    small, large = diff(_desired(4), few), diff(_desired(VMS), many)
    assert len(large.steps) > len(small.steps) > 0  # the larger recipe did more work
    assert _scans(many) == _scans(few)
    # and each table is read a bounded number of times (one per index built on it)
    assert max(_scans(many).values()) <= 6, _scans(many)


def test_verify_scans_each_table_the_same_number_of_times_for_4_or_40_stated_vifs() -> None:
    b = _pool()
    few, many = _counted(b), _counted(b)
    mismatches(_desired(4), few)
    mismatches(_desired(VMS), many)
    assert _scans(many) == _scans(few)


def test_the_indexed_diff_plans_exactly_what_plain_dicts_plan() -> None:
    b = _pool()
    indexed = diff(_desired(VMS), _counted(b))
    plain = diff(_desired(VMS), b.snapshot())
    assert indexed == plain


def test_find_vm_builds_the_guest_index_once_for_many_lookups() -> None:
    snap = _counted(_pool())
    first = [find_vm(snap, f"vm{i:02d}") for i in range(VMS)]
    after_one_pass = snap.vms.scans  # type: ignore[attr-defined]
    second = [find_vm(snap, f"vm{i:02d}") for i in range(VMS)]
    assert first == second and None not in first
    assert snap.vms.scans == after_one_pass <= 2  # type: ignore[attr-defined]


def test_a_replaced_snapshot_builds_its_own_indexes() -> None:
    b = _pool()
    snap = b.snapshot()
    assert find_vm(snap, "newcomer") is None  # builds the indexes of this snapshot
    b.vm("newcomer")
    newer = dataclasses.replace(snap, vms=b.snapshot().vms)
    assert find_vm(newer, "newcomer") == "OpaqueRef:vm-newcomer"
    assert find_vm(snap, "newcomer") is None  # the old snapshot is unchanged


def test_guest_vms_is_a_copy_the_caller_may_change() -> None:
    snap = _pool().snapshot()
    guests = snap.guest_vms()
    guests.clear()
    assert find_vm(snap, "vm00") == "OpaqueRef:vm-vm00"
    assert len(snap.guest_vms()) == VMS
