"""Recipes on a network that already exists: identity read from the pool, removal (never of
a NIC's network) and the MTU change, whose value is checked before any pool is read."""

from __future__ import annotations

import pytest
from recipes_simpool import SimPool

from xapictl.errors import DesiredStateError, UsageError
from xapictl.plan.identity import network_identity
from xapictl.recipes import (
    ensure_deleted,
    ensure_mtu,
    ensure_mtu_of,
    ensure_network,
    ensure_vlan_network,
)


def test_identity_of_a_vlan_network_a_nic_network_and_a_named_one() -> None:
    pool = SimPool()
    pool.converge(ensure_vlan_network("V9", 9, device="eth1").merged(ensure_network("Lab")))
    snap = pool.snapshot()
    assert network_identity(snap, "V9") == {"name": "V9", "vlan": 9, "device": "eth1"}
    assert network_identity(snap, "Lab") == {"name": "Lab"}
    nic = network_identity(snap, "Pool-wide network 1")
    assert nic == {"name": "Pool-wide network 1", "device": "eth1"}


def test_the_network_of_a_nic_is_never_deleted() -> None:
    with pytest.raises(UsageError, match="'N' is the network of NIC eth1: xapictl never "
                                         "removes a NIC's network"):
        ensure_deleted({"name": "N", "device": "eth1"}, adopt=True)


def test_deleting_a_vlan_network_or_a_named_one_states_it_absent() -> None:
    assert ensure_deleted({"name": "V", "vlan": 9, "bond": "B"}) == ensure_vlan_network(
        "V", 9, bond="B", present=False)
    assert ensure_deleted({"name": "Lab"}, adopt=True) == ensure_network(
        "Lab", present=False, adopt=True)


def test_mtu_of_an_existing_network_is_checked_before_the_pool_is_read() -> None:
    def never(name: str) -> dict[str, object]:
        raise AssertionError("the pool was read for a bad MTU")

    with pytest.raises(DesiredStateError, match="50 is out of range 68-65535"):
        ensure_mtu_of("V", 50, never)
    asked: list[str] = []

    def identify(name: str) -> dict[str, object]:
        asked.append(name)
        return {"name": "VLAN 9", "vlan": 9, "device": "eth1"}

    assert ensure_mtu_of("V", 9000, identify, replug=True) == ensure_mtu(
        "VLAN 9", 9000, vlan=9, device="eth1", replug=True)
    assert asked == ["V"]


def test_raise_trunk_mtu_of_an_existing_network_is_for_vlan_networks_only() -> None:
    assert ensure_mtu_of("V", 9000, lambda n: {"name": "VLAN 9", "vlan": 9, "device": "eth1"},
                         raise_trunk_mtu=True) == ensure_mtu(
        "VLAN 9", 9000, vlan=9, device="eth1", raise_trunk_mtu=True)
    with pytest.raises(UsageError) as caught:
        ensure_mtu_of("Pool-wide network 1", 9000,
                      lambda n: {"name": n, "device": "eth1"}, raise_trunk_mtu=True)
    assert str(caught.value) == (
        "raise_trunk_mtu (--raise-trunk-mtu) raises the trunk of a VLAN network, and "
        "'Pool-wide network 1' is the network of NIC eth1: drop it")
    with pytest.raises(UsageError, match="'Lab' is not a VLAN network: drop it"):
        ensure_mtu_of("Lab", 9000, lambda n: {"name": n}, raise_trunk_mtu=True)
