"""docs/simulator.md stays true: its coverage table is the engine's, and its example runs."""

from __future__ import annotations

from pathlib import Path

from xapictl.sim.control import COVERAGE_BEGIN as BEGIN
from xapictl.sim.control import COVERAGE_END as END
from xapictl.sim.control import coverage_table

DOC = Path(__file__).parents[2] / "docs" / "simulator.md"


def test_the_coverage_table_in_the_docs_is_the_generated_one():
    text = DOC.read_text()
    documented = text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip()
    assert documented == coverage_table().strip(), (
        "docs/simulator.md is stale; regenerate its table with: python -c "
        "'from xapictl.sim.control import update_coverage_doc; update_coverage_doc()'")


def test_the_documented_example_runs():
    # --8<-- [start:example]
    import XenAPI

    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer

    sim = Simulator(password="xapictl")
    sim.load_scenario("seed")
    with SimServer(sim) as server:  # 127.0.0.1 (master), 127.0.0.2, 127.0.0.3; one port
        server.control.set_latency(5, jitter_ms=2)  # every call
        server.control.inject_fault("VLAN.create", "drop_after", times=1)  # reply lost
        session = XenAPI.Session(server.url)
        session.login_with_password("root", "xapictl", "1.0", "docs")
        networks = session.xenapi.network.get_all_records()
        session.xenapi.session.logout()
        log = server.control.request_log()  # passwords masked
    # --8<-- [end:example]
    assert networks and log[0]["params"][1] == "******"
    session("close")()
