"""Private networks (tunnels), SR-IOV networks, IGMP snooping and NIC rediscovery on the
simulated pool: XAPI's refusals are found before the first write (nothing is sent), each host
is repaired alone, hosts that cannot take part are named, removal undoes what was made."""

from __future__ import annotations

import re

import pytest
from recipes_simpool import SimPool

from xapictl.errors import PreflightError
from xapictl.plan.desired import load_text
from xapictl.plan.diff import diff
from xapictl.plan.identity import network_identity
from xapictl.recipes import (
    ensure_deleted,
    ensure_pool_settings,
    ensure_private_network,
    ensure_sriov_network,
    ensure_vm_attached,
)

STORAGE = "Pool-wide network 2"  # eth2: static addresses on every host of the seed pool
TRUNK = "Pool-wide network 1"  # eth1: no address anywhere


def refused(pool: SimPool, desired: object) -> str:
    """The pre-flight refusal text; asserts that nothing was written."""
    with pytest.raises(PreflightError) as caught:
        pool.converge(desired)  # type: ignore[arg-type]
    assert pool.writes() == []
    return str(caught.value)


def undone_on_one_host(pool: SimPool, desired: object, name: str, index: int,
                       destroy: str) -> None:
    """Converge ``desired``, then undo by hand on host ``index`` what it made there
    (``tunnel.destroy`` / ``network_sriov.destroy`` of network ``name``'s object)."""
    pool.converge(desired)  # type: ignore[arg-type]
    snap = pool.snapshot()
    [net] = snap.networks_named(name)
    on_hosts = snap.tunnels_on(net) if destroy.startswith("tunnel") else snap.sriovs_on(net)
    with pool.connect() as conn:
        conn.call(destroy, on_hosts[host_record(pool, index)])
    pool.clear()


def host_record(pool: SimPool, index: int) -> str:
    state = pool.sim.state
    return sorted(state.refs("host"), key=lambda h: state.get("host", h)["address"])[index]


# --- private networks --------------------------------------------------------------------------


def test_a_private_network_gets_a_tunnel_on_every_host_and_a_second_run_nothing() -> None:
    pool = SimPool()
    desired = ensure_private_network("Lab", STORAGE, protocol="vxlan")
    result = pool.converge(desired)
    assert result.report.ok and pool.writes() == ["network.create"] + ["tunnel.create"] * 3
    snap = pool.snapshot()
    [net] = snap.networks_named("Lab")
    tunnels = snap.tunnels_on(net)
    assert set(tunnels) == set(snap.hosts)
    assert {snap.tunnels[t].protocol.value for t in tunnels.values()} == {"vxlan"}
    assert all(snap.pifs[snap.tunnels[t].access_pif].currently_attached
               for t in tunnels.values())
    assert network_identity(snap, "Lab") == {
        "name": "Lab", "tunnel": {"protocol": "vxlan", "transport": STORAGE}}
    assert diff(desired, snap).is_empty


def test_the_bridge_backend_is_refused_before_any_write() -> None:
    pool = SimPool()
    state = pool.sim.state
    member = host_record(pool, 2)
    state.set_field("host", member, "software_version", {
        **state.get("host", member)["software_version"], "network_backend": "bridge"})
    text = refused(pool, ensure_private_network("Lab", STORAGE))
    assert "OPENVSWITCH_NOT_ACTIVE" in text and "xcp-host-03" in text


def test_a_transport_without_any_ip_is_refused_and_leaves_no_records_behind() -> None:
    """tunnel.create writes the access PIF and the tunnel before its plug answers
    TRANSPORT_PIF_NOT_CONFIGURED: the planner must not send it at all."""
    pool = SimPool()
    before = pool.snapshot()
    text = refused(pool, ensure_private_network("Lab", TRUNK))
    assert "TRANSPORT_PIF_NOT_CONFIGURED" in text
    after = pool.snapshot()
    assert (len(after.pifs), len(after.tunnels)) == (len(before.pifs), len(before.tunnels))


def test_a_host_whose_transport_pif_has_no_ip_is_named_and_skipped() -> None:
    pool = SimPool()
    state = pool.sim.state
    member = host_record(pool, 1)
    eth2 = next(p for p in state.get("host", member)["PIFs"]
                if state.get("PIF", p)["device"] == "eth2")
    state.update("PIF", eth2, {"ip_configuration_mode": "None", "IP": "", "netmask": ""})
    desired = ensure_private_network("Lab", STORAGE)
    plan = diff(desired, pool.snapshot())
    assert [w.code for w in plan.warnings] == ["transport_without_ip"]
    assert "xcp-host-02" in plan.warnings[0]
    result = pool.converge(desired)
    assert result.report.ok and pool.writes().count("tunnel.create") == 2


def test_a_host_that_lost_its_tunnel_is_repaired_alone() -> None:
    pool = SimPool()
    desired = ensure_private_network("Lab", STORAGE)
    undone_on_one_host(pool, desired, "Lab", 1, "tunnel.destroy")
    plan = diff(desired, pool.snapshot())
    assert [type(s).__name__ for s in plan.steps] == ["CreateTunnel"]
    assert plan.steps[0].subject == "network 'Lab' on xcp-host-02"
    pool.converge(desired)
    assert pool.writes() == ["tunnel.create"]


def test_an_offline_host_is_deferred_and_made_when_back() -> None:
    pool = SimPool()
    down = host_record(pool, 2)
    pool.sim.set_host_live(down, False)
    desired = ensure_private_network("Lab", STORAGE)
    plan = diff(desired, pool.snapshot())
    assert [d.subject for d in plan.deferred] == ["network 'Lab' on xcp-host-03"]
    pool.converge(desired)
    pool.sim.set_host_live(down, True)
    pool.clear()
    pool.converge(desired)
    assert pool.writes() == ["tunnel.create"]


@pytest.mark.parametrize(("yaml_text", "words"), [
    ("networks: [{name: Lab, tunnel: {transport: Lab}}]", "cannot carry its own tunnels"),
    ("networks: [{name: Lab, vlan: 5, device: eth1, tunnel: {transport: x}}]",
     "not on a trunk"),
    ("networks: [{name: Lab, tunnel: {protocol: ipip, transport: x}}]",
     "'ipip' is not one of gre, vxlan"),
    ("networks: [{name: VF, device: eth1, sriov: true, rediscover: true}]",
     "not for SR-IOV networks yet"),
    ("networks: [{name: VF, sriov: true}]", "SR-IOV needs its NIC"),
])
def test_recipe_mistakes_about_tunnels_are_input_errors(yaml_text: str, words: str) -> None:
    from xapictl.errors import DesiredStateError

    with pytest.raises(DesiredStateError, match=words):
        load_text("version: 1\n" + yaml_text)


def test_a_transport_the_recipe_creates_or_a_private_one_is_refused() -> None:
    pool = SimPool()
    made_here = load_text("""
version: 1
networks:
  - {name: New transport, vlan: 300, device: eth1}
  - {name: Lab, tunnel: {transport: New transport}}
""")
    assert "created by this plan" in refused(pool, made_here)
    pool.converge(ensure_private_network("Lab", STORAGE))
    pool.clear()
    text = refused(pool, ensure_private_network("Inner", "Lab"))
    assert "IS_TUNNEL_ACCESS_PIF" in text


def test_another_protocol_on_an_existing_private_network_is_refused() -> None:
    pool = SimPool()
    pool.converge(ensure_private_network("Lab", STORAGE, protocol="gre"))
    pool.clear()
    assert "xapictl does not rebuild tunnels" in refused(
        pool, ensure_private_network("Lab", STORAGE, protocol="vxlan"))


def test_a_private_network_made_by_hand_is_adopted_only_when_asked() -> None:
    pool = SimPool()
    snap = pool.snapshot()
    with pool.connect() as conn:
        net = conn.call("network.create", {"name_label": "Hand", "name_description": "",
                                           "MTU": 1500, "other_config": {}})
        for host in snap.hosts:
            pif = snap.pif_on(host, "eth2")
            conn.call("tunnel.create", pif, net, "gre")
    pool.clear()
    assert "xapictl did not make" in refused(pool, ensure_private_network("Hand", STORAGE))
    pool.converge(ensure_private_network("Hand", STORAGE, adopt=True))
    assert pool.writes() == ["network.add_to_other_config"] * 2


def test_removing_a_private_network_destroys_its_tunnels_then_the_network() -> None:
    pool = SimPool()
    pool.converge(ensure_private_network("Lab", STORAGE))
    pool.clear()
    identity = network_identity(pool.snapshot(), "Lab")
    result = pool.converge(ensure_deleted(identity))
    assert result.report.ok
    assert pool.writes() == ["tunnel.destroy"] * 3 + ["network.destroy"]
    snap = pool.snapshot()
    assert snap.networks_named("Lab") == [] and snap.tunnels == {}


# --- SR-IOV ------------------------------------------------------------------------------------


def test_sriov_on_a_pool_without_capable_nics_is_refused() -> None:
    pool = SimPool()
    assert "capability sriov" in refused(pool, ensure_sriov_network("VF", "eth1"))


def test_sriov_skips_and_names_a_host_whose_nic_cannot() -> None:
    pool = SimPool(scenario="sriov")
    state = pool.sim.state
    member = host_record(pool, 1)
    eth1 = next(p for p in state.get("host", member)["PIFs"]
                if state.get("PIF", p)["device"] == "eth1")
    state.set_field("PIF", eth1, "capabilities", [])
    plan = diff(ensure_sriov_network("VF", "eth1"), pool.snapshot())
    assert [w.code for w in plan.warnings] == ["sriov_not_capable"]
    assert [type(s).__name__ for s in plan.steps].count("CreateSriov") == 2


def test_sriov_with_the_licence_restriction_is_refused() -> None:
    pool = SimPool(scenario="sriov")
    state = pool.sim.state
    ref = state.refs("pool")[0]
    state.set_field("pool", ref, "restrictions", {**state.get("pool", ref)["restrictions"],
                                                  "restrict_network_sriov": "true"})
    assert "LICENCE_RESTRICTION" in refused(pool, ensure_sriov_network("VF", "eth1"))


def test_a_host_that_must_reboot_is_reported_by_the_next_plan() -> None:
    from xapictl.sim.classes import _nics

    pool = SimPool(scenario="sriov")
    member = host_record(pool, 2)
    _nics.set_sriov_enable_result(pool.sim.state, member, "eth1", "modprobe_requires_reboot")
    desired = ensure_sriov_network("VF", "eth1")
    pool.converge(desired)
    plan = diff(desired, pool.snapshot())
    assert plan.is_empty
    assert [w.code for w in plan.warnings] == ["sriov_requires_reboot"]
    assert "xcp-host-03 must reboot" in plan.warnings[0] and "modprobe" in plan.warnings[0]


def test_a_vif_of_a_running_vm_on_an_sriov_network_is_not_hot_plugged() -> None:
    """XAPI refuses VIF.plug on an SR-IOV network (OPERATION_NOT_ALLOWED): the VIF is made
    and attaches at the VM's next start; the plan says so."""
    pool = SimPool(scenario="sriov")
    desired = ensure_sriov_network("VF", "eth1").merged(ensure_vm_attached("web-01", "VF"))
    plan = diff(desired, pool.snapshot())
    assert "PlugVIF" not in [type(s).__name__ for s in plan.steps]
    assert [w.code for w in plan.warnings] == ["vif_sriov_next_start"]
    result = pool.converge(desired)
    assert result.report.ok and "VIF.plug" not in pool.writes()
    again = diff(desired, pool.snapshot())
    assert again.is_empty and [w.code for w in again.warnings] == ["vif_sriov_next_start"]
    pool.clear()
    vif_removal = load_text("""
version: 1
vifs: [{vm: web-01, network: Pool-wide network 0, device: 0, present: false}]
""")
    assert pool.converge(vif_removal).report.ok  # an ordinary VIF is still unplugged


def test_removing_an_sriov_network_disables_sriov_then_removes_the_network() -> None:
    pool = SimPool(scenario="sriov")
    pool.converge(ensure_sriov_network("VF", "eth1"))
    pool.clear()
    identity = network_identity(pool.snapshot(), "VF")
    assert identity == {"name": "VF", "device": "eth1", "sriov": True}
    assert pool.converge(ensure_deleted(identity)).report.ok
    assert pool.writes() == ["network_sriov.destroy"] * 3 + ["network.destroy"]


# --- pool settings and rediscovery -------------------------------------------------------------


def test_igmp_snooping_is_set_once_then_a_noop() -> None:
    pool = SimPool()
    desired = ensure_pool_settings(igmp_snooping=True)
    pool.converge(desired)
    assert pool.writes() == ["pool.set_igmp_snooping_enabled"]
    plan = diff(desired, pool.snapshot())
    assert plan.is_empty and [n.reason for n in plan.noops] == ["already on"]


def test_igmp_snooping_on_a_bridge_pool_is_refused() -> None:
    pool = SimPool()
    state = pool.sim.state
    master = pool.sim.master()
    state.set_field("host", master, "software_version", {
        **state.get("host", master)["software_version"], "network_backend": "bridge"})
    assert "OPENVSWITCH_NOT_ACTIVE" in refused(pool, ensure_pool_settings(igmp_snooping=True))


def test_rediscover_scans_a_host_that_lacks_the_nic_and_builds_on_what_it_finds() -> None:
    pool = SimPool()
    pool.add_nics(1)  # eth3 everywhere
    member = host_record(pool, 1)
    snap = pool.snapshot()
    with pool.connect() as conn:
        conn.call("PIF.forget", snap.pif_on(member, "eth3"))
    desired = load_text("""
version: 1
networks:
  - {name: VLAN 330, vlan: 330, device: eth3, rediscover: true}
  - {name: Fourth NIC, device: eth3, rename: true, rediscover: true}
""")
    without = load_text("version: 1\nnetworks: [{name: VLAN 330, vlan: 330, device: eth3}]")
    with pytest.raises(PreflightError, match="missing on host"):
        diff(without, pool.snapshot())
    plan = diff(desired, pool.snapshot())
    kinds = [type(s).__name__ for s in plan.steps]
    assert kinds.count("ScanPIFs") == 1 and kinds[0] == "ScanPIFs"
    assert "CreatePoolVLAN" not in kinds and kinds.count("CreateVLAN") == 3
    pool.clear()
    result = pool.converge(desired)
    assert result.report.ok and result.replan is not None and result.replan.is_empty
    assert pool.writes()[0] == "PIF.scan"
    assert pool.snapshot().pif_on(member, "eth3") is not None
    pool.clear()
    pool.converge(desired)
    assert pool.writes() == []


def test_rediscover_of_a_nic_no_host_has_is_refused() -> None:
    pool = SimPool()
    text = refused(pool, load_text(
        "version: 1\nnetworks: [{name: X, vlan: 5, device: eth9, rediscover: true}]"))
    assert "no live host has a NIC eth9 yet" in text


def test_a_scan_that_finds_no_nic_stops_the_apply_as_a_failed_step() -> None:
    from xapictl.plan.apply import apply
    from xapictl.plan.backend import XapiBackend
    from xapictl.plan.core import Plan, StepStatus
    from xapictl.plan.steps import ScanPIFs

    pool = SimPool()
    member = host_record(pool, 1)
    step = ScanPIFs("NICs", "why", key="pif:x", host=member, host_label="xcp-host-02",
                    device="eth9")
    with pool.connect() as conn:
        report = apply(Plan((step,)), XapiBackend(conn))
    assert [r.status for r in report.results] == [StepStatus.FAILED]
    assert "found no NIC eth9" in report.results[0].detail


def test_drift_names_a_host_that_lost_its_tunnel_while_its_transport_has_an_ip() -> None:
    from xapictl.inventory import DriftKind, drift, export_snapshot

    pool = SimPool()
    pool.converge(ensure_private_network("Lab", STORAGE))
    assert drift(export_snapshot(pool.snapshot(), generated_at="t")) == []
    snap = pool.snapshot()
    [net] = snap.networks_named("Lab")
    member = host_record(pool, 1)
    with pool.connect() as conn:
        conn.call("tunnel.destroy", snap.tunnels_on(net)[member])
    found = drift(export_snapshot(pool.snapshot(), generated_at="t"))
    assert [(f.kind, f.hosts) for f in found] == [
        (DriftKind.TUNNEL_MISSING, (snap.hosts[member].uuid,))]
    assert "but not on xcp-host-02" in found[0].detail


def test_the_sdn_controller_is_introduced_replaced_and_forgotten() -> None:
    pool = SimPool()
    ssl = ensure_pool_settings(sdn_controller={"protocol": "ssl", "address": "192.0.2.200"})
    assert pool.converge(ssl).report.ok
    assert pool.writes() == ["SDN_controller.introduce"]
    [controller] = pool.snapshot().sdn_controllers.values()
    assert (controller.protocol.value, controller.address, controller.port) == (
        "ssl", "192.0.2.200", 6632)
    plan = diff(ssl, pool.snapshot())
    assert plan.is_empty and [n.reason for n in plan.noops] == ["already ssl to 192.0.2.200:6632"]
    pool.clear()
    assert pool.converge(ensure_pool_settings(sdn_controller={"protocol": "pssl"})).report.ok
    assert pool.writes() == ["SDN_controller.forget", "SDN_controller.introduce"]
    pool.clear()
    assert pool.converge(ensure_pool_settings(sdn_controller={"present": False})).report.ok
    assert pool.writes() == ["SDN_controller.forget"]
    assert pool.snapshot().sdn_controllers == {}


@pytest.mark.parametrize(("controller", "words"), [
    ({"protocol": "ssl"}, "sdn_controller.address: an ssl controller needs its address"),
    ({"protocol": "pssl", "port": 6640}, "a passive (pssl) controller connects to the hosts"),
    ({"address": "controller.example"}, "is not an IPv4 address"),
    ({"address": "192.0.2.1", "port": 0}, "0 is out of range 1-65535"),
])
def test_sdn_controller_mistakes_are_input_errors(controller: dict[str, object],
                                                  words: str) -> None:
    from xapictl.errors import DesiredStateError

    with pytest.raises(DesiredStateError, match=re.escape(words)):
        ensure_pool_settings(sdn_controller=controller)


def test_the_sdn_controller_on_a_bridge_pool_is_refused() -> None:
    pool = SimPool()
    state = pool.sim.state
    master = pool.sim.master()
    state.set_field("host", master, "software_version", {
        **state.get("host", master)["software_version"], "network_backend": "bridge"})
    text = refused(pool, ensure_pool_settings(sdn_controller={"protocol": "pssl"}))
    assert "host not configured for vswitch operation" in text


# --- SR-IOV: NIC models and virtual functions ----------------------------------------------


def plan_read(pool: SimPool, desired: object) -> object:
    """The snapshot a run plans from: the recipe's classes, with the VFs left per NIC."""
    from xapictl.plan.backend import XapiBackend, classes_needed

    with pool.connect() as conn:
        return XapiBackend(conn).collect(classes_needed(desired))  # type: ignore[arg-type]


def other_model(pool: SimPool, index: int) -> None:
    """Host ``index``'s eth1 becomes an Intel X710 port (another PCI device id)."""
    state = pool.sim.state
    host = host_record(pool, index)
    eth1 = next(p for p in state.get("host", host)["PIFs"]
                if state.get("PIF", p)["device"] == "eth1" and state.get("PIF", p)["physical"])
    state.update("PCI", state.get("PIF", eth1)["PCI"], {
        "device_id": "1572", "device_name": "Ethernet Controller X710 for 10GbE SFP+"})


def test_nics_of_another_model_are_refused_before_any_write() -> None:
    """Mixed models failed at the first host of the other model, after the network and the
    other hosts' SR-IOV were written (exit 5); now nothing is sent."""
    pool = SimPool(scenario="sriov")
    other_model(pool, 1)
    text = refused(pool, ensure_sriov_network("VF", "eth1"))
    assert "NETWORK_HAS_INCOMPATIBLE_SRIOV_PIFS" in text
    # hosts in plan order (the master last): xcp-host-02's NIC is the first added
    for host in ("xcp-host-03", "xcp-host-01"):
        assert (f"PIF eth1 on {host} is Intel Corporation 82599ES 10-Gigabit SFI/SFP+ Network "
                "Connection (8086:10fb), PIF eth1 on xcp-host-02 is Intel Corporation Ethernet "
                "Controller X710 for 10GbE SFP+ (8086:1572)") in text


def test_a_host_added_to_an_existing_network_must_have_its_model() -> None:
    """XAPI compares with the NIC under the network's first PIF: a repair of a host whose NIC
    is of another model is refused before any write too."""
    pool = SimPool(scenario="sriov")
    desired = ensure_sriov_network("VF", "eth1")
    undone_on_one_host(pool, desired, "VF", 2, "network_sriov.destroy")
    other_model(pool, 2)
    assert "NETWORK_HAS_INCOMPATIBLE_SRIOV_PIFS" in refused(pool, desired)


def test_a_repair_names_the_vfs_of_the_hosts_already_enabled() -> None:
    pool = SimPool(scenario="sriov")
    desired = ensure_sriov_network("VF", "eth1")
    undone_on_one_host(pool, desired, "VF", 2, "network_sriov.destroy")
    plan = diff(desired, plan_read(pool, desired))  # type: ignore[arg-type]
    assert [type(s).__name__ for s in plan.steps] == ["CreateSriov"]
    assert [(n.subject, n.reason) for n in plan.noops] == [(
        "network 'VF' on the other hosts", "SR-IOV on eth1 already enabled: xcp-host-02: 8 of "
        "8 VFs free (sysfs); xcp-host-01: 8 of 8 VFs free (sysfs)")]


def test_the_plan_reports_each_hosts_vfs_and_mode() -> None:
    from xapictl.sim.classes import _nics

    pool = SimPool(scenario="sriov")
    _nics.set_sriov_enable_result(pool.sim.state, host_record(pool, 1), "eth1", "manual")
    desired = ensure_sriov_network("VF", "eth1")
    pool.converge(desired)
    plan = diff(desired, plan_read(pool, desired))  # type: ignore[arg-type]
    [noop] = plan.noops
    assert noop.reason == (
        "already in place (SR-IOV on eth1 of 3 host(s): xcp-host-02: 8 of 8 VFs free (manual); "
        "xcp-host-03: 8 of 8 VFs free (sysfs); xcp-host-01: 8 of 8 VFs free (sysfs))")


def test_vfs_held_by_running_vms_count_in_the_total() -> None:
    pool = SimPool(scenario="sriov")
    desired = ensure_sriov_network("VF", "eth1").merged(ensure_vm_attached("build-01", "VF"))
    pool.converge(desired)
    state = pool.sim.state
    with pool.connect() as conn:
        conn.call("VM.start_on", state.find_one("VM", name_label="build-01"),
                  host_record(pool, 0), False, False)
    snap = plan_read(pool, desired)
    [net] = snap.networks_named("VF")  # type: ignore[attr-defined]
    vfs = snap.sriov_vfs(snap.sriovs_on(net)[host_record(pool, 0)])  # type: ignore[attr-defined]
    assert (vfs.free, vfs.in_use, vfs.total) == (7, 1, 8)


def test_vifs_needing_more_vfs_than_any_host_has_are_refused_before_any_write() -> None:
    from xapictl.sim.classes import _nics

    pool = SimPool(scenario="sriov")
    for index in range(3):
        _nics.set_vf_count(pool.sim.state, host_record(pool, index), "eth1", 1)
    pool.converge(ensure_sriov_network("VF", "eth1"))
    pool.clear()
    two = load_text("""
version: 1
vifs:
  - {vm: build-01, network: VF, device: 1}
  - {vm: build-01, network: VF, device: 2}
""")
    text = refused(pool, two)
    assert text.endswith(
        "<recipe>:5: vifs: VIF 2 of VM 'build-01': VM 'build-01' would have 2 VIF(s) on SR-IOV "
        "network 'VF', a VF each, and no host has that many free (xcp-host-02: 1 of 1 VFs free "
        "(sysfs); xcp-host-03: 1 of 1 VFs free (sysfs); xcp-host-01: 1 of 1 VFs free (sysfs)); "
        "XAPI would refuse to start it (NETWORK_SRIOV_INSUFFICIENT_CAPACITY): free VFs (stop "
        "VMs using them) or state fewer VIFs on that network")
    one = load_text("version: 1\nvifs: [{vm: build-01, network: VF, device: 1}]\n")
    assert pool.converge(one).report.ok
    with pool.connect() as conn:  # and XAPI starts it: the VF is there
        conn.call("VM.start", pool.sim.state.find_one("VM", name_label="build-01"), False, False)


def test_a_vif_moved_onto_an_sriov_network_needs_a_free_vf_too() -> None:
    from xapictl.sim.classes import _nics

    pool = SimPool(scenario="sriov")
    for index in range(3):
        _nics.set_vf_count(pool.sim.state, host_record(pool, index), "eth1", 1)
    pool.converge(ensure_sriov_network("VF", "eth1"))
    pool.converge(load_text("version: 1\nvifs: [{vm: build-01, network: VF, device: 1},\n"
                            "  {vm: build-01, network: Pool-wide network 1, device: 2}]\n"))
    pool.clear()
    moved = load_text("version: 1\nvifs: [{vm: build-01, network: VF, device: 2}]\n")
    assert "NETWORK_SRIOV_INSUFFICIENT_CAPACITY" in refused(pool, moved)


def test_pci_records_are_read_only_for_sriov_recipes() -> None:
    from xapictl.plan.backend import classes_needed
    from xapictl.recipes import ensure_vlan_network

    assert "PCI" not in classes_needed(ensure_vlan_network("V", 105, device="eth1"))
    assert "PCI" not in classes_needed(ensure_vm_attached("web-01", "Pool-wide network 0"))
    assert "PCI" in classes_needed(ensure_sriov_network("VF", "eth1"))


def test_no_capacity_call_in_a_pool_without_sriov() -> None:
    pool = SimPool()
    plan_read(pool, ensure_vm_attached("build-01", "Pool-wide network 0"))
    assert not [e for e in pool.control.request_log()
                if e["method"] == "network_sriov.get_remaining_capacity"]


def test_locking_and_qos_on_an_sriov_vif_are_named_as_not_enforced() -> None:
    """XAPI stores them, but the VIF is a VF passed through (``xapi_xenops.ml`` backend
    ``Network.Sriov``): the vswitch that enforces them is not on its path."""
    pool = SimPool(scenario="sriov")
    pool.converge(ensure_sriov_network("VF", "eth1"))
    desired = load_text("""
version: 1
vifs:
  - {vm: build-01, network: VF, device: 1, locking_mode: locked, ipv4_allowed: [10.0.0.5],
     qos_kbps: 10000}
  - {vm: build-01, network: Pool-wide network 1, device: 2, locking_mode: locked,
     ipv4_allowed: [10.0.0.6]}
""")
    plan = diff(desired, pool.snapshot())
    assert [w.code for w in plan.warnings] == ["vif_sriov_bypasses_vswitch"]
    assert plan.warnings[0].startswith(
        "VIF 1 of VM 'build-01': locking_mode, ipv4_allowed, qos_kbps stated on SR-IOV network "
        "'VF'")
