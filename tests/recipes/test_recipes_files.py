"""Every XAPI recipe in recipes/: plan -> apply -> verify -> re-plan is empty, the request
log shows exactly the expected writes, and a second run writes nothing."""

from __future__ import annotations

import pytest
from recipes_simpool import EXPECTED_WRITES, RECIPES, SimPool, pool_for, recipe

from xapictl.plan.diff import diff


def test_every_xapi_recipe_file_has_an_expectation() -> None:
    xapi_recipes = {p.name for p in RECIPES.glob("*.yaml") if not p.name.startswith("local-")}
    assert xapi_recipes == set(EXPECTED_WRITES)


@pytest.mark.parametrize("name", sorted(EXPECTED_WRITES))
def test_recipe_converges_with_exactly_the_expected_writes(name: str) -> None:
    pool = pool_for(name)
    desired = recipe(name)
    result = pool.converge(desired)
    assert result.applied and result.report.ok
    assert pool.writes() == EXPECTED_WRITES[name]
    assert result.replan is not None and result.replan.is_empty
    assert diff(desired, pool.snapshot()).is_empty


@pytest.mark.parametrize("name", sorted(EXPECTED_WRITES))
def test_recipe_second_run_writes_nothing(name: str) -> None:
    pool = pool_for(name)
    pool.converge(recipe(name))
    pool.clear()
    again = pool.converge(recipe(name))
    assert not again.applied and again.plan.is_empty
    assert pool.writes() == []
    assert again.plan.noops, "a second run explains why nothing is needed"


def test_trunk_recipe_puts_each_vlan_on_every_host_in_one_network() -> None:
    pool = SimPool()
    pool.converge(recipe("trunk-vlans.yaml"))
    snap = pool.snapshot()
    for tag in range(101, 106):
        nets = {snap.pifs[snap.vlans[v].untagged_pif].network
                for v in snap.vlans if snap.vlans[v].tag == tag}
        hosts = {snap.pifs[snap.vlans[v].tagged_pif].host
                 for v in snap.vlans if snap.vlans[v].tag == tag}
        assert len(nets) == 1 and hosts == set(snap.hosts)
        assert snap.networks[nets.pop()].name_label == f"VLAN {tag}"


def test_bond_recipe_creates_the_pool_master_bond_last() -> None:
    pool = SimPool()
    snap = pool.snapshot()
    plan = diff(recipe("bonded-trunk.yaml"), snap)
    bond_hosts = [s.host for s in plan.steps if type(s).__name__ == "CreateBond"]
    assert len(bond_hosts) == 3 and bond_hosts[-1] == snap.master


def test_storage_recipe_sets_mtu_in_place_and_replugs_every_pif() -> None:
    pool = SimPool()
    before = pool.snapshot()
    eth2_net = before.pifs[before.pif_on(before.master, "eth2")].network
    pool.converge(recipe("storage-network.yaml"))
    after = pool.snapshot()
    assert after.networks[eth2_net].mtu == 9000, "same network object: changed in place"
    assert {after.pifs[p].mtu for p in after.networks[eth2_net].pifs} == {9000}
