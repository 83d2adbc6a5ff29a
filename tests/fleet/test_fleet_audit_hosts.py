"""The audit's host column: the host a write acted on when its object is bound to one host
(host, PIF, VLAN, Bond, VM, VIF), read from the plan's snapshot; else the connection URL."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from fleet_sim_pools import SimFleet

from xapictl.fleet.audit import AuditedCaller, host_of
from xapictl.fleet.journal import Journal
from xapictl.fleet.rollout import RolloutOptions, RolloutRunner
from xapictl.fleet.xapi_work import XapiPoolWork
from xapictl.model.refs import NULL_REF, HostRef
from xapictl.plan.desired import load_text
from xapictl.state.snapshot import PoolSnapshot

VLAN_RECIPE = "version: 1\nnetworks:\n  - name: VLAN 105\n    vlan: 105\n    device: eth1\n"


def _snapshot(fleet: SimFleet, pool: str) -> PoolSnapshot:
    conn = fleet.connector().connect(next(p for p in fleet.pools if p.name == pool))
    try:
        snap: PoolSnapshot = conn.snapshot()
        return snap
    finally:
        conn.close()


def _host_named(snap: PoolSnapshot, name: str) -> Any:
    return next(ref for ref, h in snap.hosts.items() if h.name_label == name)


def test_host_bound_objects_name_their_host_and_pool_wide_calls_none(
        sim_fleet: SimFleet, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    RolloutRunner(journal, XapiPoolWork(load_text(VLAN_RECIPE), sim_fleet.connector(), journal),
                  RolloutOptions(canary=0)).start(
        [p for p in sim_fleet.pools if p.name == "p1"], recipe="r", fleet="f", selection=None)
    snap = _snapshot(sim_fleet, "p1")
    host2 = _host_named(snap, "xcp-host-02")
    pif = next(r for r, p in snap.pifs.items() if p.host == host2 and p.device == "eth1")
    vlan = next(r for r, v in snap.vlans.items() if snap.pifs[v.tagged_pif].host == host2)
    vm = next(r for r, v in snap.vms.items() if v.name_label == "web-02")
    vif = next(r for r, v in snap.vifs.items() if v.vm == vm)
    assert snap.vms[vm].resident_on == host2

    for method, ref in (("host.enable", host2), ("PIF.plug", pif), ("Async.PIF.unplug", pif),
                        ("VLAN.destroy", vlan), ("VM.clean_reboot", vm), ("VIF.unplug", vif)):
        assert host_of(snap, method, (ref,)) == "xcp-host-02", method
    network = snap.pifs[pif].network
    assert host_of(snap, "network.set_MTU", (network, 9000)) is None  # pool-wide
    assert host_of(snap, "pool.create_VLAN_from_PIF", (pif, network, 105)) is None
    assert host_of(snap, "PIF.plug", ("OpaqueRef:made-since",)) is None
    assert host_of(snap, "VIF.create", ({"VM": vm},)) is None


def test_halted_vms_and_their_vifs_are_on_no_host(sim_fleet: SimFleet) -> None:
    snap = _snapshot(sim_fleet, "p2")
    vm, record = next((r, v) for r, v in snap.vms.items() if v.name_label == "web-01")
    halted = dataclasses.replace(snap, vms={
        **snap.vms, vm: dataclasses.replace(record, resident_on=HostRef(NULL_REF))})
    vif = next(r for r, v in snap.vifs.items() if v.vm == vm)
    assert host_of(snap, "VIF.plug", (vif,)) == "xcp-host-01"
    assert host_of(halted, "VIF.plug", (vif,)) is None
    assert host_of(halted, "VM.start", (vm,)) is None


class _Ok:
    def call(self, method: str, *args: Any) -> Any:
        return "OpaqueRef:new"


def test_the_audit_row_takes_the_host_acted_on_else_the_url(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    names = {"OpaqueRef:pif-h2": "xcp-host-02"}
    conn = AuditedCaller(_Ok(), journal, pool="par1", rollout=3, host="https://10.1.0.1",
                         host_of=lambda method, args: names.get(str(args[0])))
    conn.call("PIF.plug", "OpaqueRef:pif-h2")
    conn.call("network.create", {"name_label": "VLAN 105"})
    assert [(r.call, r.host) for r in journal.audit(3)] == [
        ("PIF.plug", "xcp-host-02"), ("network.create", "https://10.1.0.1")]
