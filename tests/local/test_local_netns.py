"""The local backend against a real kernel, in namespaces the tests create and remove."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from local_netns_helpers import add_addr, build_xen_host, ipr_in, snapshot_of, veth

from xapictl.errors import PreflightError
from xapictl.local import probe
from xapictl.local.apply import LocalApplyFailed, apply, rollback_pending, undo_path
from xapictl.local.desired import load_recipe, parse_recipe
from xapictl.local.planner import plan

pytestmark = pytest.mark.requires_root

REPO = Path(__file__).resolve().parents[2]
XENBR0 = REPO / "recipes" / "local-xenbr0.yaml"


def teardown_recipe(desired):
    return replace(desired, bridges=tuple(replace(b, present=False) for b in desired.bridges))


def test_xenbr0_recipe_moves_host_addresses_and_routes_then_replans_nothing(xen_host):
    desired = load_recipe(XENBR0)
    outcome = apply(desired, netns=xen_host.dom0)
    assert outcome.report.ok and len(outcome.plan.steps) == 13
    assert [(p.target, p.received > 0) for p in outcome.probes] == [("192.0.2.1", True)]
    snap = snapshot_of(xen_host.dom0)
    br, eth0 = snap.links["xenbr0"], snap.links["eth0"]
    assert (br.mac, br.stp_state, br.forward_delay, br.up, br.owned) == (
        "00:16:3e:00:00:10", 0, 0, True, True)
    assert eth0.master == "xenbr0" and eth0.addrgenmode == 1
    assert snap.addresses_on("eth0") == ()
    assert {(a.cidr, a.label) for a in snap.addresses_on("xenbr0") if not a.link_local} == {
        ("192.0.2.10/24", "xenbr0"), ("192.0.2.11/24", "xenbr0:1"), ("2001:db8::10/64", None)}
    assert {(r.dst, r.gateway, r.priority) for r in snap.routes_via("xenbr0")
            if not r.kernel_made} == {("default", "192.0.2.1", None),
                                      ("198.51.100.0/24", "192.0.2.254", 50)}
    assert plan(desired, snap).is_empty
    assert apply(desired, netns=xen_host.dom0).plan.is_empty
    assert not undo_path(xen_host.dom0).exists()


def _steps_of_xenbr0(namespaces) -> int:
    host = build_xen_host(namespaces)
    return len(plan(load_recipe(XENBR0), snapshot_of(host.dom0)).steps)


@pytest.mark.parametrize("index", range(13))
def test_failure_at_any_step_rolls_back_to_the_exact_snapshot(namespaces, index):
    host = build_xen_host(namespaces)
    before = snapshot_of(host.dom0)
    assert len(plan(load_recipe(XENBR0), before).steps) == 13
    with pytest.raises(LocalApplyFailed) as info:
        apply(load_recipe(XENBR0), netns=host.dom0, fail_at=index)
    assert info.value.rollback_errors == []
    assert snapshot_of(host.dom0).fingerprint() == before.fingerprint()
    assert probe.reachable("192.0.2.1", netns=host.dom0)
    assert not undo_path(host.dom0).exists()


def test_dead_gateway_probe_rolls_back(xen_host):
    before = snapshot_of(xen_host.dom0)
    desired = replace(load_recipe(XENBR0), probes=("192.0.2.99",))
    with pytest.raises(LocalApplyFailed, match=r"192\.0\.2\.99 does not answer"):
        apply(desired, netns=xen_host.dom0)
    assert snapshot_of(xen_host.dom0).fingerprint() == before.fingerprint()


def test_teardown_restores_the_snapshot_including_labels_and_link_local(xen_host):
    before = snapshot_of(xen_host.dom0)
    desired = load_recipe(XENBR0)
    apply(desired, netns=xen_host.dom0)
    apply(teardown_recipe(desired), netns=xen_host.dom0)
    after = snapshot_of(xen_host.dom0)
    assert after.fingerprint() == before.fingerprint()
    assert after.links["eth0"].addrgenmode == 0
    assert plan(teardown_recipe(desired), after).is_empty


def test_interrupted_apply_is_undone_from_the_undo_file(xen_host):
    """A crash after step 8: the undo file alone brings the host back (``local rollback``)."""
    before = snapshot_of(xen_host.dom0)

    class Crash(BaseException):
        pass

    def crash(i, op):
        if i == 8:
            raise Crash

    with pytest.raises(Crash):
        apply(load_recipe(XENBR0), netns=xen_host.dom0, on_step=crash)
    assert undo_path(xen_host.dom0).exists()
    assert rollback_pending(xen_host.dom0) == []
    assert snapshot_of(xen_host.dom0).fingerprint() == before.fingerprint()


def test_pinger_loses_at_most_5_echoes_during_the_address_move(xen_host):
    # The pinger sends an echo every millisecond until told to stop (SIGTERM) after the move
    # ended: the move is inside the echoes whatever the machine's load (a fixed 600-echo window
    # was shorter than the move on a busy machine, and the test then proved nothing).
    cmd = [sys.executable, "-m", "xapictl.local.probe", "--netns", xen_host.lan, "--announce",
           "--until-sigterm", "--count", "1000000", "--interval", "0.001", "--timeout", "2",
           "192.0.2.10"]
    pinger = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert pinger.stdout is not None and pinger.stdout.readline() == "ready\n"
        steps: list[float] = []
        apply(load_recipe(XENBR0), netns=xen_host.dom0, run_probe=False,
              on_step=lambda i, op: steps.append(time.monotonic()))
        ended = time.monotonic()  # after the last step and the verification re-read
        pinger.send_signal(signal.SIGTERM)
        out, _ = pinger.communicate(timeout=30)
    finally:
        if pinger.poll() is None:
            pinger.kill()
            pinger.wait()
    result = json.loads(out)
    print(f"pinger: sent {result['sent']}, received {result['received']},"
          f" the 13 steps took {1000 * (steps[-1] - steps[0]):.1f} ms")
    # the whole move happened while the echoes were flying (an order of events, not a time)
    assert len(steps) == 13
    assert result["started"] <= steps[0] and ended <= result["finished"]
    assert result["sent"] >= 1
    assert result["sent"] - result["received"] <= 5


def _add_guest(namespaces, host, vif="vif1.0", ip="192.0.2.50/24"):
    guest = namespaces("g1")
    veth(host.dom0, vif, guest, "eth0", mac=None)
    add_addr(guest, "eth0", ip)
    ipr = ipr_in(guest)
    try:
        ipr.link("set", index=ipr.link_lookup(ifname="eth0")[0], address="00:16:3e:00:01:01")
    finally:
        ipr.close()
    return guest


def test_guest_on_a_vif_pings_the_gateway_through_the_bridge(namespaces, xen_host):
    guest = _add_guest(namespaces, xen_host)
    desired = parse_recipe(XENBR0.read_text() + "  vifs:\n    vif1.0: {bridge: xenbr0}\n")
    apply(desired, netns=xen_host.dom0)
    snap = snapshot_of(xen_host.dom0)
    vif = snap.links["vif1.0"]
    assert (vif.master, vif.mac, vif.mtu, vif.addrgenmode, vif.up) == (
        "xenbr0", "fe:ff:ff:ff:ff:ff", 1500, 1, True)
    assert snap.addresses_on("vif1.0") == ()
    assert snap.links["xenbr0"].mac == "00:16:3e:00:00:10"
    assert probe.reachable("192.0.2.1", netns=guest)
    assert probe.reachable("192.0.2.10", netns=guest)
    assert plan(desired, snap).is_empty


def test_local_check_reports_this_kernel_as_it_is():
    from xapictl.local.check import capabilities

    caps = {k: ok for k, (ok, _) in capabilities().items()}
    assert caps["bridge"] and caps["veth"]
    # the ground truth, found by asking the kernel directly with iproute2 in a scratch ns
    for cap, cmd in {
        "vlan": "ip link add v0 type veth peer name v1 &&"
        " ip link add link v0 name v0.5 type vlan id 5",
        "bond": "ip link add b0 type bond",
        "vlan_filtering": "ip link add b1 type bridge vlan_filtering 1",
    }.items():
        name = f"xlt-chk-{cap}"
        subprocess.run(["ip", "netns", "add", name], check=True)
        try:
            truth = subprocess.run(["ip", "netns", "exec", name, "sh", "-c", cmd],
                                   capture_output=True).returncode == 0
        finally:
            subprocess.run(["ip", "netns", "del", name], check=True)
        assert caps[cap] == truth, cap


def test_preflight_refuses_a_bridge_name_taken_by_another_kind(xen_host):
    desired = parse_recipe("local:\n  bridges:\n    eth0: {uplink: lan9}\n")
    with pytest.raises(PreflightError) as info:
        apply(desired, netns=xen_host.dom0)
    text = str(info.value)
    assert "name is taken by a veth device" in text and "lan9 does not exist" in text


def test_concurrent_applies_are_serialised_by_the_lock(xen_host):
    desired = load_recipe(XENBR0)
    results: list[object] = []

    def run():
        try:
            results.append(len(apply(desired, netns=xen_host.dom0, run_probe=False).plan.steps))
        except Exception as exc:  # pragma: no cover - reported by the assert
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 13]  # type: ignore[type-var]


TEARDOWN_STEPS = 12


@pytest.mark.parametrize("index", range(TEARDOWN_STEPS))
def test_teardown_failing_at_any_step_rolls_back_exactly_nodad_flags_included(namespaces, index):
    """Issue 16 item 3: the bridge comes back with its addresses (and their flags), routes
    and port; fingerprints compare the nodad flag, so an undo that added one fails here."""
    host = build_xen_host(namespaces)
    desired = load_recipe(XENBR0)
    apply(desired, netns=host.dom0, run_probe=False)
    before = snapshot_of(host.dom0)
    assert len(plan(teardown_recipe(desired), before).steps) == TEARDOWN_STEPS
    with pytest.raises(LocalApplyFailed) as info:
        apply(teardown_recipe(desired), netns=host.dom0, fail_at=index)
    assert info.value.rollback_errors == []
    assert snapshot_of(host.dom0).fingerprint() == before.fingerprint()
    assert probe.reachable("192.0.2.1", netns=host.dom0)


def test_rollback_of_an_apply_restores_the_link_local_address_without_nodad(xen_host):
    """eth0's kernel-made link-local address has no nodad; the undo of its removal must not
    add one (it did before issue 16)."""
    def flags_of_link_local(snap):
        return [a.flags & 0x02 for a in snap.addresses_on("eth0") if a.link_local]

    before = snapshot_of(xen_host.dom0)
    assert flags_of_link_local(before) == [0]
    with pytest.raises(LocalApplyFailed):
        apply(load_recipe(XENBR0), netns=xen_host.dom0, fail_at=12)
    assert flags_of_link_local(snapshot_of(xen_host.dom0)) == [0]
    apply(load_recipe(XENBR0), netns=xen_host.dom0)
    apply(teardown_recipe(load_recipe(XENBR0)), netns=xen_host.dom0)
    assert flags_of_link_local(snapshot_of(xen_host.dom0)) == [0]


@pytest.mark.parametrize("target", ["192.0.2.10", "2001:db8::10"])
def test_teardown_pinger_loses_at_most_5_echoes(xen_host, target):
    """NIC-first teardown under a 1-ms pinger (IPv4, then IPv6). The old order (detach the
    port, then move routes, then remove the bridge's addresses) lost 13-22 IPv4 echoes here.
    The new order loses none in most runs (the benchmark in docs/local-backend.md has the
    figures); the ordering itself is asserted exactly in test_local_planner, this bound only
    keeps a loaded machine from failing the test."""
    desired = load_recipe(XENBR0)
    apply(desired, netns=xen_host.dom0, run_probe=False)
    cmd = [sys.executable, "-m", "xapictl.local.probe", "--netns", xen_host.lan, "--announce",
           "--until-sigterm", "--count", "1000000", "--interval", "0.001", "--timeout", "2",
           target]
    pinger = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert pinger.stdout is not None and pinger.stdout.readline() == "ready\n"
        steps: list[float] = []
        apply(teardown_recipe(desired), netns=xen_host.dom0, run_probe=False,
              on_step=lambda i, op: steps.append(time.monotonic()))
        ended = time.monotonic()
        pinger.send_signal(signal.SIGTERM)
        out, _ = pinger.communicate(timeout=30)
    finally:
        if pinger.poll() is None:
            pinger.kill()
            pinger.wait()
    r = json.loads(out)
    print(f"teardown pinger {target}: sent {r['sent']}, received {r['received']}")
    assert len(steps) == TEARDOWN_STEPS
    # the whole teardown happened while the echoes were flying (an order of events)
    assert r["started"] <= steps[0] and ended <= r["finished"]
    assert r["sent"] >= 1
    assert r["sent"] - r["received"] <= 5
