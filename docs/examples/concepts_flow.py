"""The data flow, one stage at a time: load -> collect -> diff -> pre-flight -> apply ->
verify -> re-plan. ``converge`` does exactly this; here each stage is visible."""

import xapictl
from xapictl.plan.apply import apply
from xapictl.plan.backend import XapiBackend
from xapictl.plan.desired import load_text
from xapictl.plan.diff import diff
from xapictl.plan.preflight import preflight
from xapictl.plan.text import render_text
from xapictl.plan.verify import verify
from xapictl.sim.engine import Simulator
from xapictl.sim.inprocess import InProcessTransport

RECIPE = """
version: 1
networks:
  - name: VLAN 101
    vlan: 101
    device: eth1
"""

desired = load_text(RECIPE, source="inline")       # 1. validate: nothing sent yet
sim = Simulator(scenario="seed")
with xapictl.connect("http://127.0.0.1", password="xapictl",  # noqa: S106 - the sim default
                     transport=InProcessTransport(sim)) as conn:
    backend = XapiBackend(conn)
    snapshot = backend.collect()                   # 2. read only, fixed round trips
    plan = diff(desired, snapshot)                 # 3. pure: steps and no-ops with reasons
    print(render_text(plan))
    preflight(plan, backend.permissions())         # 4. the role check before any write
    report = apply(plan, backend)                  # 5. re-check, run, record each step
    if not report.ok:
        raise SystemExit(f"apply stopped: {report.failed}")
    after = verify(desired, backend.collect)       # 6. compare what the recipe states
    if not diff(desired, after).is_empty:          # 7. a second plan must be empty
        raise SystemExit("the pool does not match")
