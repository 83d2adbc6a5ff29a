"""Recipes from Python: ensure_* functions -> desired state -> plan -> apply -> verify.

Runs on a fresh simulated pool so it is self-contained; against a real pool, replace the
``xapictl.connect(...)`` arguments with your pool's URL and credentials.
"""

import xapictl
from xapictl.plan.apply import converge
from xapictl.plan.backend import XapiBackend
from xapictl.plan.text import render_text
from xapictl.recipes import ensure_vlan_network, ensure_vm_attached
from xapictl.sim.engine import Simulator
from xapictl.sim.inprocess import InProcessTransport

desired = ensure_vlan_network("VLAN 105", 105, device="eth1", description="172.21.4.0/24")
desired = desired.merged(ensure_vm_attached("web-01", "VLAN 105"))

sim = Simulator(scenario="seed")
with xapictl.connect("http://127.0.0.1", password="xapictl",  # noqa: S106 - the sim default
                     transport=InProcessTransport(sim)) as conn:
    backend = XapiBackend(conn)
    result = converge(desired, backend)          # plan, pre-flight, apply, verify, re-plan
    print(render_text(result.plan))
    again = converge(desired, backend)           # idempotent: nothing to do
    if not again.plan.is_empty:
        raise SystemExit("not idempotent")
