"""docs/simulator-networking.md stays true: every example on the page is included from this
file (``--8<--`` snippets) and runs here, and the status its coverage tables give each message
is the engine's."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "simulator-networking.md"
ROW = re.compile(r"^\| *(.*?) *\| *(real|generic|not implemented|absent) *\| *(.*?) *\|$",
                 re.M)


def documented_statuses() -> list[tuple[str, str, str]]:
    """(``Class.message``, status, notes) for every message a coverage row names in backticks;
    the class is the section's unless the name carries one."""
    rows = []
    for section in re.split(r"^### ", DOC.read_text(), flags=re.M)[1:]:
        cls = section.split()[0]
        for names, status, notes in ROW.findall(section):
            for name in re.findall(r"`([\w.]+)`", names):
                rows.append((name if "." in name else f"{cls}.{name}", status, notes))
    return rows


def test_the_coverage_tables_give_each_message_the_engine_status():
    from xapictl.sim import engine  # noqa: F401 - registers every class handler
    from xapictl.sim.dispatch import methods

    table = methods()
    rows = documented_statuses()
    assert len(rows) > 40  # the parser still reads the tables
    for wire, status, _ in rows:
        info = table.get(wire)
        actual = ("absent" if info is None else "real" if info.handler is not None
                  else "generic" if info.generic else "not implemented")
        assert actual == status, f"{wire}: the page says {status}, the engine is {actual}"


def test_every_generic_row_says_why():
    rows = ROW.findall(DOC.read_text())
    assert [names for names, status, notes in rows if status == "generic" and not notes] == []


def test_the_page_includes_every_example_of_this_file():
    text = DOC.read_text()
    for name in ("vlans", "errors", "host-state"):
        assert f'--8<-- "tests/sim/test_sim_network_docs.py:{name}"' in text, name


def test_vlans_example_runs():
    # --8<-- [start:vlans]
    import XenAPI

    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer

    sim = Simulator(password="xapictl")
    sim.load_scenario("seed")  # 3 hosts; eth1 on each is a bare trunk port
    with SimServer(sim) as server:
        session = XenAPI.Session(server.url)
        session.login_with_password("root", "xapictl", "1.0", "docs")
        api = session.xenapi
        master = api.pool.get_master(api.pool.get_all()[0])
        eth1 = next(p for p in api.host.get_PIFs(master) if api.PIF.get_device(p) == "eth1")
        token = api.event_from(["*"], "", 0.0)["token"]
        network = api.network.create({"name_label": "VLAN 101", "name_description": "",
                                      "MTU": "1500", "other_config": {}})
        vlan_pifs = api.pool.create_VLAN_from_PIF(eth1, network, "101")  # one per live host
        events = api.event_from(["*"], token, 0.0)["events"]
        vlan_pif = api.PIF.get_record(vlan_pifs[0])
        session.xenapi.session.logout()
    # --8<-- [end:vlans]
    assert len(vlan_pifs) == 3
    assert (vlan_pif["device"], vlan_pif["MAC"], vlan_pif["VLAN"]) \
        == ("eth1", "fe:ff:ff:ff:ff:ff", "101")
    assert vlan_pif["currently_attached"] is True and vlan_pif["IPv6"] == [""]
    assert sorted({(e["class"], e["operation"]) for e in events}) == [
        ("host", "mod"), ("network", "add"), ("pif", "add"), ("pif", "mod"), ("vlan", "add")]
    session("close")()


def test_errors_example_runs():
    # --8<-- [start:errors]
    import XenAPI

    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer

    sim = Simulator(password="xapictl")
    sim.load_scenario("single")
    with SimServer(sim) as server:
        session = XenAPI.Session(server.url)
        session.login_with_password("root", "xapictl", "1.0", "docs")
        api = session.xenapi
        eth1 = next(p for p in api.PIF.get_all() if api.PIF.get_device(p) == "eth1")
        network = api.network.create({"name_label": "v", "other_config": {}})
        api.VLAN.create(eth1, "0", network)  # tag 0 is valid
        failures = []
        for tag, target in (("4095", api.network.create({"name_label": "w",
                                                         "other_config": {}})),
                            ("0", network)):
            try:
                api.VLAN.create(eth1, tag, target)
            except XenAPI.Failure as failure:
                failures.append(failure.details)
        session.xenapi.session.logout()
    # failures == [["VLAN_TAG_INVALID", "4095"],
    #              ["NETWORK_ALREADY_CONNECTED", <host ref>, <VLAN PIF ref>]]
    # --8<-- [end:errors]
    assert failures[0] == ["VLAN_TAG_INVALID", "4095"]
    assert failures[1][0] == "NETWORK_ALREADY_CONNECTED" and len(failures[1]) == 3
    session("close")()


def test_host_state_example_runs():
    # --8<-- [start:host-state]
    from xapictl.sim.classes import _nics
    from xapictl.sim.engine import Simulator
    from xapictl.sim.errors import SimFailure

    sim = Simulator(password="xapictl")
    sim.load_scenario("single")
    state = sim.state
    host = state.refs("host")[0]
    eth1 = state.find_one("PIF", host=host, device="eth1")
    _nics.add_kernel_vlan(state, host, "eth1", 300)  # a VLAN made outside XAPI
    session = sim.call("session.login_with_password", ["root", "xapictl"])
    network = sim.call("network.create", [session, {"name_label": "v", "other_config": {}}])
    try:
        sim.call("VLAN.create", [session, eth1, 300, network])
    except SimFailure as failure:
        refused = failure.description  # ["VLAN_IN_USE", "eth1", "300"]
    # --8<-- [end:host-state]
    assert refused == ["VLAN_IN_USE", "eth1", "300"]
