"""Bridges with STP on: new ports pass listening and learning before they forward, and the
backend treats that as correct, in namespaces (this kernel's bridge STP works there)."""

from __future__ import annotations

import pytest
from local_netns_helpers import snapshot_of, veth

from xapictl.local import wait
from xapictl.local.apply import apply
from xapictl.local.desired import parse_recipe

pytestmark = pytest.mark.requires_root
LISTENING, LEARNING, FORWARDING = 1, 2, 3
STP_XENBR0 = "local:\n  bridges:\n    xenbr0: {uplink: eth0, stp: true, forward_delay: 2}\n"


def _waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait the local backend asks for (``xapictl.local.wait.sleep``), still waited."""
    asked: list[float] = []
    real = wait.sleep

    def sleep(seconds: float) -> None:
        asked.append(seconds)
        real(seconds)

    monkeypatch.setattr(wait, "sleep", sleep)
    return asked


def test_stp_bridge_is_applied_and_the_probe_waits_until_the_uplink_forwards(xen_host,
                                                                             monkeypatch):
    asked = _waits(monkeypatch)
    outcome = apply(parse_recipe(STP_XENBR0), netns=xen_host.dom0)
    # the probe got answers, which only a forwarding port passes: it waited for that
    # (listening 2 s + learning 2 s) rather than failing on a port still listening
    assert [(p.target, p.received > 0) for p in outcome.probes] == [("192.0.2.1", True)]
    assert asked  # the backend polled the port state before probing
    snap = snapshot_of(xen_host.dom0)
    assert (snap.links["xenbr0"].stp_state, snap.links["xenbr0"].forward_delay) == (1, 200)
    assert snap.links["eth0"].port_state == FORWARDING


def test_a_vif_attached_to_an_stp_bridge_is_accepted_while_it_listens(namespaces, xen_host,
                                                                     monkeypatch):
    apply(parse_recipe("local:\n  bridges:\n    xenbr1: {stp: true, forward_delay: 2}\n"),
          netns=xen_host.dom0, run_probe=False)
    veth(xen_host.dom0, "vif3.0", namespaces("g3"), "eth0")
    asked = _waits(monkeypatch)
    outcome = apply(parse_recipe("local:\n  vifs:\n    vif3.0: {bridge: xenbr1}\n"),
                    netns=xen_host.dom0, run_probe=False)
    # no wait for STP without a probe: what it asked for is far below the 4 s STP would take
    assert outcome.report.ok and sum(asked) < 1.0, asked
    assert snapshot_of(xen_host.dom0).links["vif3.0"].port_state in (LISTENING, LEARNING)

