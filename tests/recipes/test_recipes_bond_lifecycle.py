"""The bond lifecycle on the simulated seed pool, through the real client: what Bond.create
moves (VLANs, IP configuration, management) is named in the plan before it happens; a
half-bonded pool is repaired; a host that fails rolls the others back (or stops, for a
re-run to resume); XAPI's own refusals are pre-flight problems with their codes."""

from __future__ import annotations

from typing import Any

import pytest
from recipes_simpool import ConnProxy, SimPool, recipe

from xapictl.errors import ApplyError, PreflightError
from xapictl.plan.apply import converge
from xapictl.plan.backend import XapiBackend
from xapictl.plan.diff import diff
from xapictl.recipes import ensure_bond, ensure_vlan_network

BOND = "Bond eth1+eth2"


def _bond_on(pool: SimPool, host_name: str) -> Any:
    snap = pool.snapshot()
    host = next(h for h, r in snap.hosts.items() if r.name_label == host_name)
    return next(b for b, r in snap.bonds.items() if snap.pifs[r.master].host == host)


def _reasons(plan: Any, kind: str) -> list[str]:
    return [s.reason for s in plan.steps if type(s).__name__ == kind]


def test_vlans_on_a_member_move_onto_the_bond_and_the_plan_says_so() -> None:
    """VLAN 105 on eth1 on every host: bonding eth1+eth2 re-creates it on the bond (same
    network); the plan names it, the VLAN step is not repeated, re-plan empty."""
    pool = SimPool()
    pool.converge(ensure_vlan_network("VLAN 105", 105, device="eth1"))
    net = next(r for r, n in pool.snapshot().networks.items() if n.name_label == "VLAN 105")
    pool.clear()
    result = pool.converge(ensure_bond("B", ["eth1", "eth2"]))
    reasons = _reasons(result.plan, "CreateBond")
    assert len(reasons) == 3
    assert all("VLAN(s) 105 (from eth1: re-created on the bond, same networks" in r
               for r in reasons), reasons
    assert pool.writes() == ["network.create"] + ["Bond.create"] * 3
    snap = pool.snapshot()
    masters = {b.master for b in snap.bonds.values()}
    vlan_trunks = {v.tagged_pif for v in snap.vlans.values() if v.tag == 105}
    assert vlan_trunks == masters
    assert {snap.pifs[v.untagged_pif].network for v in snap.vlans.values()} == {net}
    assert result.replan is not None and result.replan.is_empty


def test_the_primary_members_ip_configuration_moves_and_the_plan_names_it() -> None:
    """The seed's eth2 holds the storage address: it moves onto the bond (xapi_bond.ml)."""
    pool = SimPool()
    plan = diff(recipe("bonded-trunk.yaml"), pool.snapshot())
    reasons = _reasons(plan, "CreateBond")
    assert "the IP configuration Static 198.51.100.12/255.255.255.0 (from eth2)" in reasons[0]
    pool.converge(recipe("bonded-trunk.yaml"))
    snap = pool.snapshot()
    addresses = sorted(snap.pifs[b.master].ip for b in snap.bonds.values())
    assert addresses == ["198.51.100.11", "198.51.100.12", "198.51.100.13"]


def test_a_half_bonded_pool_with_its_vlans_moved_onto_a_member_is_repaired() -> None:
    """Bond.destroy on one host (XAPI moves VLANs 201/202 and the IP onto eth2): the plan
    makes the bond again there (one Bond.create naming the moves), nothing else; afterwards
    the VLANs and the address are on the bond again and the re-plan is empty."""
    pool = SimPool()
    desired = recipe("bonded-trunk.yaml")
    pool.converge(desired)
    with pool.connect() as conn:
        conn.call("Bond.destroy", _bond_on(pool, "xcp-host-02"))
    snap = pool.snapshot()
    eth2 = next(p for p in snap.pifs.values()
                if p.device == "eth2" and snap.hosts[p.host].name_label == "xcp-host-02")
    assert sorted(snap.vlans[v].tag for v in eth2.vlan_slave_of) == [201, 202]
    pool.clear()
    result = pool.converge(desired)
    [step] = result.plan.steps
    assert step.subject == f"bond {BOND!r} (eth1+eth2) on xcp-host-02"
    assert "VLAN(s) 201, 202 (from eth2" in step.reason
    assert "the IP configuration Static 198.51.100.12/255.255.255.0 (from eth2)" in step.reason
    assert pool.writes() == ["Bond.create"]
    snap = pool.snapshot()
    master = snap.bonds[_bond_on(pool, "xcp-host-02")].master
    assert sorted(snap.vlans[v].tag for v in snap.pifs[master].vlan_slave_of) == [201, 202]
    assert snap.pifs[master].ip == "198.51.100.12"
    assert result.replan is not None and result.replan.is_empty


def test_bonding_the_management_nic_moves_management_to_the_bond_master() -> None:
    pool = SimPool()
    result = pool.converge(recipe("bonded-management.yaml"))
    reasons = _reasons(result.plan, "CreateBond")
    assert all(r.count("the management interface (from eth0)") == 1 for r in reasons)
    assert all("the IP configuration Static 192.0.2.1" in r for r in reasons)
    assert all("management interface moves with it" in s.disruption
               for s in result.plan.steps if type(s).__name__ == "CreateBond")
    snap = pool.snapshot()
    management = {p for p, r in snap.pifs.items() if r.management}
    assert management == {b.master for b in snap.bonds.values()}
    assert sorted(snap.pifs[p].ip for p in management) == [
        "192.0.2.11", "192.0.2.12", "192.0.2.13"]


def test_bonding_the_management_nic_under_ha_is_refused_with_xapis_code() -> None:
    pool = SimPool()
    state = pool.sim.state
    with state.lock:
        state.set_field("pool", state.refs("pool")[0], "ha_enabled", True)
    with pytest.raises(PreflightError) as caught:
        pool.converge(recipe("bonded-management.yaml"))
    assert "HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE" in str(caught.value)
    assert "PIF eth0 on xcp-host-02 carries the management interface and HA is enabled" \
        in str(caught.value)
    assert pool.writes() == []


def test_two_members_with_an_ip_configuration_are_refused_before_any_write() -> None:
    pool = SimPool()
    with pytest.raises(PreflightError) as caught:
        pool.converge(ensure_bond("B", ["eth0", "eth2"]))
    assert "PIF_BOND_MORE_THAN_ONE_IP" in str(caught.value)
    assert pool.writes() == []


class FailNth(ConnProxy):
    """A connection whose ``nth`` call of ``method`` is refused by the pool (an injected
    XAPI error armed just before that call goes out)."""

    def __init__(self, conn: Any, pool: SimPool, method: str, nth: int) -> None:
        super().__init__(conn)
        self.pool, self.method, self.nth = pool, method, nth
        self.seen = 0

    def call(self, method: str, *args: Any) -> Any:
        if method == self.method:
            self.seen += 1
            if self.seen == self.nth:
                self.pool.control.inject_fault(method, "error",
                                               error=("INTERNAL_ERROR", "injected"), times=1)
        return self.conn.call(method, *args)


def _fail_third_bond(pool: SimPool, desired: Any) -> ApplyError:
    with pool.connect() as conn, pytest.raises(ApplyError) as caught:
        converge(desired, XapiBackend(FailNth(conn, pool, "Bond.create", 3)))  # type: ignore[arg-type]
    return caught.value


def test_a_failing_host_rolls_the_bonded_hosts_back_by_default() -> None:
    """The master's Bond.create fails: the two bonds made are destroyed (newest first) and
    the bond's network this run made too; the pool is as before; the re-run makes it all."""
    pool = SimPool()
    before = pool.snapshot()
    desired = ensure_bond(BOND, ["eth1", "eth2"], mode="lacp")
    plan = diff(desired, before)
    assert [u.subject for u in plan.undo] == [
        f"bond {BOND!r} (eth1+eth2) on xcp-host-02", f"bond {BOND!r} (eth1+eth2) on "
        "xcp-host-03", f"network {BOND!r}"]
    pool.clear()
    error = _fail_third_bond(pool, desired)
    report = error.report
    assert report.rolled_back  # type: ignore[attr-defined]
    assert [r.step.subject for r in report.undone] == [  # type: ignore[attr-defined]
        f"bond {BOND!r} (eth1+eth2) on xcp-host-03", f"bond {BOND!r} (eth1+eth2) on "
        "xcp-host-02", f"network {BOND!r}"]
    assert "rolled back" in str(error)
    assert pool.writes() == ["network.create", "Bond.create", "Bond.create", "Bond.destroy",
                             "Bond.destroy", "network.destroy"]
    after = pool.snapshot()
    assert not after.bonds
    assert sorted(n.name_label for n in after.networks.values()) == sorted(
        n.name_label for n in before.networks.values())
    assert sorted(p.ip for p in after.pifs.values() if p.device == "eth2") == [
        "198.51.100.11", "198.51.100.12", "198.51.100.13"]
    pool.clear()
    result = pool.converge(desired)
    assert result.replan is not None and result.replan.is_empty
    assert pool.writes() == ["network.create"] + ["Bond.create"] * 3


def test_on_failure_stop_leaves_the_bonded_hosts_for_a_rerun_to_resume() -> None:
    pool = SimPool()
    desired = ensure_bond(BOND, ["eth1", "eth2"], on_failure="stop")
    assert diff(desired, pool.snapshot()).undo == ()
    error = _fail_third_bond(pool, desired)
    assert not error.report.undone  # type: ignore[attr-defined]
    assert len(pool.snapshot().bonds) == 2
    pool.clear()
    result = pool.converge(desired)
    [step] = result.plan.steps
    assert step.subject == f"bond {BOND!r} (eth1+eth2) on xcp-host-01"
    assert pool.writes() == ["Bond.create"]


def test_an_undo_that_fails_stops_the_rollback_and_says_what_is_left() -> None:
    """The master's Bond.create and then the first Bond.destroy both fail: the report shows
    the failed undo and the one not run; nothing is rolled back twice."""
    pool = SimPool()
    desired = ensure_bond(BOND, ["eth1", "eth2"])

    class FailBoth(FailNth):
        def call(self, method: str, *args: Any) -> Any:
            if method == "Bond.destroy":
                self.pool.control.inject_fault(method, "error", error=("INTERNAL_ERROR", "x"),
                                               times=1)
            return super().call(method, *args)

    with pool.connect() as conn, pytest.raises(ApplyError) as caught:
        converge(desired, XapiBackend(FailBoth(conn, pool, "Bond.create", 3)))  # type: ignore[arg-type]
    report = caught.value.report
    assert [r.status.value for r in report.undone] == [  # type: ignore[attr-defined]
        "failed", "not run", "not run"]
    assert not report.rolled_back  # type: ignore[attr-defined]
    assert len(pool.snapshot().bonds) == 2


def test_lacp_properties_are_created_and_then_set_in_place() -> None:
    pool = SimPool()
    desired = ensure_bond(BOND, ["eth1", "eth2"], mode="lacp", lacp_time="fast",
                          lacp_aggregation_key=42, lacp_fallback_ab=False)
    pool.converge(desired)
    props = {tuple(sorted(b.properties.items())) for b in pool.snapshot().bonds.values()}
    assert props == {(("hashing_algorithm", "tcpudp_ports"), ("lacp-aggregation-key", "42"),
                      ("lacp-fallback-ab", "false"), ("lacp-time", "fast"))}
    pool.clear()
    result = pool.converge(ensure_bond(BOND, ["eth1", "eth2"], mode="lacp", lacp_time="slow"))
    assert pool.writes() == ["Bond.set_property"] * 3
    assert result.replan is not None and result.replan.is_empty


def _drift(pool: SimPool) -> list[Any]:
    from xapictl.inventory import drift, export_snapshot

    return drift(export_snapshot(pool.snapshot(), source="sim"))


def test_drift_reports_a_half_bonded_pool_and_the_repair_clears_it() -> None:
    pool = SimPool()
    desired = recipe("bonded-trunk.yaml")
    pool.converge(desired)
    assert _drift(pool) == []
    with pool.connect() as conn:
        conn.call("Bond.destroy", _bond_on(pool, "xcp-host-02"))
    found = [f for f in _drift(pool) if f.kind == "bond-missing"]
    assert [f.describe() for f in found] == [
        f"[bond-missing] network {BOND!r} (xapi1): bonded on xcp-host-01, xcp-host-03 but not "
        "on xcp-host-02"]
    pool.converge(desired)
    assert _drift(pool) == []


def test_drift_reports_members_mode_and_properties_that_differ() -> None:
    pool = SimPool()
    pool.add_nics(1)
    pool.converge(ensure_bond(BOND, ["eth1", "eth2"], mode="lacp"))
    with pool.connect() as conn:
        bond = _bond_on(pool, "xcp-host-03")
        conn.call("Bond.set_property", bond, "hashing_algorithm", "src_mac")
        assert [f.kind for f in _drift(pool)] == ["bond-properties-mismatch"]
        conn.call("Bond.set_mode", bond, "active-backup")
        kinds = sorted(str(f.kind) for f in _drift(pool))
        assert kinds == ["bond-mode-mismatch", "bond-properties-mismatch"]
        net = pool.snapshot().bonds[bond]
        snap = pool.snapshot()
        conn.call("Bond.destroy", bond)
        host = snap.pifs[net.master].host
        members = [r for r, p in snap.pifs.items() if p.host == host
                   and p.device in ("eth1", "eth3")]
        conn.call("Bond.create", snap.pifs[net.master].network, members, "", "lacp", {})
    found = {str(f.kind): f for f in _drift(pool)}
    assert found["bond-members-mismatch"].detail == (
        "members eth1+eth2 on most hosts, eth1+eth3 on xcp-host-03")


def test_deleting_a_management_bond_names_the_moves_back_and_is_refused_under_ha() -> None:
    pool = SimPool()
    pool.converge(ensure_bond("Management bond", ["eth0", "eth1"], mode="active-backup"))
    gone = ensure_bond("Management bond", ["eth0", "eth1"], present=False)
    plan = diff(gone, pool.snapshot())
    reasons = _reasons(plan, "DestroyBond")
    assert reasons[0] == ("the recipe says absent; XAPI moves back onto eth0: the management "
                          "interface; the IP configuration Static 192.0.2.12/255.255.255.0")
    state = pool.sim.state
    with state.lock:
        state.set_field("pool", state.refs("pool")[0], "ha_enabled", True)
    pool.clear()
    with pytest.raises(PreflightError, match="HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE"):
        pool.converge(gone)
    assert pool.writes() == []
    with state.lock:
        state.set_field("pool", state.refs("pool")[0], "ha_enabled", False)
    pool.converge(gone)
    snap = pool.snapshot()
    assert not snap.bonds
    assert sorted((snap.hosts[p.host].name_label, p.device) for p in snap.pifs.values()
                  if p.management) == [("xcp-host-01", "eth0"), ("xcp-host-02", "eth0"),
                                       ("xcp-host-03", "eth0")]


def test_the_bonds_page_shows_real_plan_lines() -> None:
    """docs/bonds.md's ``text`` blocks: the repair step of a half-bonded pool, and an undo
    line of `bond create --members eth1,eth2`, as the plan prints them."""
    import re
    from pathlib import Path

    from xapictl.plan.text import render_text

    page = (Path(__file__).resolve().parents[2] / "docs" / "bonds.md").read_text()
    # the third block (a stopped run's last lines) is tests/e2e/test_e2e_exit_codes_docs.py's
    repair_line, undo_line, _stopped = re.findall(r"```text\n(.*?)\n```", page, re.S)
    pool = SimPool()
    _half = recipe("bonded-trunk.yaml")
    pool.converge(_half)
    with pool.connect() as conn:
        conn.call("Bond.destroy", _bond_on(pool, "xcp-host-02"))
    assert repair_line in render_text(diff(_half, pool.snapshot())).splitlines()
    fresh = SimPool()
    assert undo_line in render_text(diff(ensure_bond(BOND, ["eth1", "eth2"]),
                                         fresh.snapshot())).splitlines()


def test_a_partial_bond_on_one_host_is_refused_with_how_to_rebuild_it() -> None:
    """xcp-host-03's bond holds eth1 only (made by hand): XAPI cannot add a member, so the
    plan names that bond and the way out; drift reports it too."""
    pool = SimPool()
    desired = ensure_bond(BOND, ["eth1", "eth2"])
    pool.converge(desired)
    bond = _bond_on(pool, "xcp-host-03")
    snap = pool.snapshot()
    network = snap.pifs[snap.bonds[bond].master].network
    eth1 = next(r for r, p in snap.pifs.items() if p.device == "eth1"
                and p.host == snap.pifs[snap.bonds[bond].master].host)
    with pool.connect() as conn:
        conn.call("Bond.destroy", bond)
        conn.call("Bond.create", network, [eth1], "", "balance-slb", {})
    assert [str(f.kind) for f in _drift(pool)] == ["bond-members-mismatch"]
    pool.clear()
    with pytest.raises(PreflightError) as caught:
        pool.converge(desired)
    uuid = next(b.uuid for b in pool.snapshot().bonds.values() if b.slaves == (eth1,))
    assert str(caught.value).endswith(
        f"bond {BOND!r} (eth1+eth2) on xcp-host-03: the bond on this network there bonds "
        f"eth1, not eth1+eth2: XAPI cannot change a bond's members; destroy that host's bond "
        f"(`xe bond-destroy uuid={uuid}`), then re-run: the plan makes it with the recipe's "
        "NICs")
    assert pool.writes() == []


def test_management_on_a_members_vlan_is_named_as_moving_with_the_vlan() -> None:
    """Management on VLAN 50 of eth1 (host 2): bonding eth1+eth2 re-creates the VLAN on the
    bond and the management interface goes with it; the step says so and is disruptive as
    such; afterwards management is on the bond's VLAN 50 PIF with its address."""
    pool = SimPool()
    pool.converge(ensure_vlan_network("Mgmt 50", 50, device="eth1"))
    snap = pool.snapshot()
    host = next(h for h, r in snap.hosts.items() if r.name_label == "xcp-host-02")
    vlan_pif = next(r for r, p in snap.pifs.items() if p.host == host and p.vlan == 50)
    eth0 = next(r for r, p in snap.pifs.items() if p.host == host and p.device == "eth0")
    eth2 = next(r for r, p in snap.pifs.items() if p.host == host and p.device == "eth2")
    state = pool.sim.state
    with pool.connect() as conn:
        conn.call("PIF.reconfigure_ip", eth2, "None", "", "", "", "")
        conn.call("PIF.reconfigure_ip", vlan_pif, "Static", "203.0.113.50", "255.255.255.0",
                  "", "")
    with state.lock:
        state.set_field("PIF", eth0, "management", False)
        state.set_field("PIF", vlan_pif, "management", True)
    desired = ensure_bond(BOND, ["eth1", "eth2"]).merged(
        ensure_vlan_network("Mgmt 50", 50, bond=BOND))
    plan = diff(desired, pool.snapshot())
    [step] = [s for s in plan.steps if s.subject.endswith("on xcp-host-02")]
    assert "the management interface (on VLAN 50 of eth1)" in step.reason
    assert "management interface moves with it" in step.disruption
    pool.converge(ensure_bond(BOND, ["eth1", "eth2"]))
    after = pool.snapshot()
    [mgmt] = [p for p in after.pifs.values() if p.host == host and p.management]
    assert (mgmt.vlan, mgmt.ip, after.pifs[after.vlans[mgmt.vlan_master_of].tagged_pif].device
            ) == (50, "203.0.113.50", "bond0")
