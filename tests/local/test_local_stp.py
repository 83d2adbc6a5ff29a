"""Bridges with STP on: new ports pass listening and learning before they forward, and the
backend treats that as correct, in namespaces (this kernel's bridge STP works there)."""

from __future__ import annotations

import time

import pytest
from local_netns_helpers import snapshot_of, veth

from xapictl.local.apply import apply
from xapictl.local.desired import parse_recipe

pytestmark = pytest.mark.requires_root
LISTENING, LEARNING, FORWARDING = 1, 2, 3
STP_XENBR0 = "local:\n  bridges:\n    xenbr0: {uplink: eth0, stp: true, forward_delay: 2}\n"


def test_stp_bridge_is_applied_and_the_probe_waits_until_the_uplink_forwards(xen_host):
    start = time.monotonic()
    outcome = apply(parse_recipe(STP_XENBR0), netns=xen_host.dom0)
    took = time.monotonic() - start
    assert [(p.target, p.received > 0) for p in outcome.probes] == [("192.0.2.1", True)]
    snap = snapshot_of(xen_host.dom0)
    assert (snap.links["xenbr0"].stp_state, snap.links["xenbr0"].forward_delay) == (1, 200)
    assert snap.links["eth0"].port_state == FORWARDING
    assert 3.5 < took < 6.5  # listening 2 s + learning 2 s, then the probe


def test_a_vif_attached_to_an_stp_bridge_is_accepted_while_it_listens(namespaces, xen_host):
    apply(parse_recipe("local:\n  bridges:\n    xenbr1: {stp: true, forward_delay: 2}\n"),
          netns=xen_host.dom0, run_probe=False)
    veth(xen_host.dom0, "vif3.0", namespaces("g3"), "eth0")
    start = time.monotonic()
    outcome = apply(parse_recipe("local:\n  vifs:\n    vif3.0: {bridge: xenbr1}\n"),
                    netns=xen_host.dom0, run_probe=False)
    assert outcome.report.ok and time.monotonic() - start < 1.5  # no wait without a probe
    assert snapshot_of(xen_host.dom0).links["vif3.0"].port_state in (LISTENING, LEARNING)

