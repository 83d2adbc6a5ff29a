"""The export equals what the official XenAPI client reads from the same simulator, validates
against the published schema, and round-trips through ``inventory diff``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import XenAPI

import xapictl
from xapictl.inventory import diff, export_snapshot, formats
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer
from xapictl.state.snapshot import SNAPSHOT_CLASSES, PoolSnapshot

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "inventory.schema.json"


@pytest.fixture
def served() -> Iterator[tuple[Simulator, SimServer]]:
    sim = Simulator(scenario="sriov")  # the seed pool whose eth1 NICs can do SR-IOV
    with SimServer(sim) as server:
        with xapictl.connect(server.url, password="xapictl") as conn:
            _enrich(conn)
        yield sim, server


def _enrich(conn: Any) -> None:
    """A VLAN on every host, a bond, a tunnel and SR-IOV, so every object type has rows."""
    pifs = conn.call("PIF.get_all_records")
    eth1 = next(r for r, p in pifs.items() if p["device"] == "eth1" and p["VLAN"] == -1)
    net = conn.call("network.create", {"name_label": "VLAN 105", "name_description": "",
                                       "MTU": 1500, "other_config": {}})
    conn.call("pool.create_VLAN_from_PIF", eth1, net, 105)
    host = pifs[eth1]["host"]
    members = [r for r, p in pifs.items() if p["host"] == host and p["VLAN"] == -1
               and p["device"] in ("eth2", "eth3")]
    if len(members) >= 2:
        bond_net = conn.call("network.create", {"name_label": "bond", "name_description": "",
                                                "MTU": 1500, "other_config": {}})
        conn.call("Bond.create", bond_net, members, "", "active-backup", {})
    # A tunnel over eth2 of another host, given the IP address a tunnel endpoint needs.
    transport = next(r for r, p in pifs.items() if p["host"] != host and p["device"] == "eth2"
                     and p["VLAN"] == -1)
    conn.call("PIF.reconfigure_ip", transport, "Static", "192.0.2.21", "255.255.255.0", "", "")
    tunnel_net = conn.call("network.create", {"name_label": "overlay", "name_description": "",
                                              "MTU": 1450, "other_config": {}})
    conn.call("tunnel.create", transport, tunnel_net, "gre")
    # SR-IOV on the eth1 of the tunnel's host (its VLAN 105 rides on eth1 too)
    capable = next(r for r, p in pifs.items() if p["host"] == pifs[transport]["host"]
                   and p["device"] == "eth1" and p["VLAN"] == -1)
    sriov_net = conn.call("network.create", {"name_label": "VF", "name_description": "",
                                             "MTU": 1500, "other_config": {}})
    conn.call("network_sriov.create", capable, sriov_net)


def _xenapi_snapshot(url: str) -> PoolSnapshot:
    with XenAPI.Session(url) as session:
        session.xenapi.login_with_password("root", "xapictl", "1.0", "xapictl-test")
        try:
            raw = {cls: getattr(session.xenapi, cls).get_all_records()
                   for cls in SNAPSHOT_CLASSES}
        finally:
            session.xenapi.session.logout()
    return PoolSnapshot.from_records(raw)


def test_export_matches_what_the_official_xenapi_client_reads(
        served: tuple[Simulator, SimServer]) -> None:
    sim, server = served
    with xapictl.connect(server.url, password="xapictl") as conn:
        ours = export_snapshot(conn.snapshot(), generated_at="")
    theirs = export_snapshot(_xenapi_snapshot(server.url), generated_at="")
    assert diff(theirs, ours) == []
    assert len(ours.of("vlans")) == 3 and ours.of("vifs")
    (tunnel,) = ours.of("tunnels")
    transport = next(p for p in ours.of("pifs") if p["uuid"] == tunnel["transport_pif"])
    access = next(p for p in ours.of("pifs") if p["uuid"] == tunnel["access_pif"])
    overlay = next(n for n in ours.of("networks") if n["name_label"] == "overlay")
    assert (transport["device"], transport["ip_configuration_mode"], transport["ip"]) == (
        "eth2", "Static", "192.0.2.21")
    assert tunnel["network"] == access["network"] == overlay["uuid"]
    assert tunnel["host"] == transport["host"] and tunnel["active"] is False
    (sriov,) = ours.of("sriovs")
    physical = next(p for p in ours.of("pifs") if p["uuid"] == sriov["physical_pif"])
    assert (physical["device"], sriov["host"]) == ("eth1", transport["host"])
    assert (sriov["configuration_mode"], sriov["requires_reboot"]) == ("sysfs", False)
    assert sim.open_session_count() == 0


def test_a_live_export_validates_and_round_trips_through_diff(
        served: tuple[Simulator, SimServer], tmp_path: Path) -> None:
    _, server = served
    with xapictl.connect(server.url, password="xapictl") as conn:
        inv = export_snapshot(conn.snapshot(), source="seed")
    jsonschema.validate(inv.to_document(), json.loads(SCHEMA.read_text()))
    assert len(inv.of("tunnels")) == len(inv.of("sriovs")) == 1  # a row of every type
    for fmt in ("json", "ndjson"):
        path = tmp_path / f"inv.{fmt}"
        formats.write(inv, fmt, path)
        assert diff(inv, formats.read(path)) == []


def test_a_one_shot_export_reads_what_a_snapshot_reads(
        served: tuple[Simulator, SimServer]) -> None:
    from xapictl.state.collect import collect_once

    _, server = served
    with xapictl.connect(server.url, password="xapictl") as conn:
        once = collect_once(conn)
        again = conn.snapshot()
    assert once.token and diff(export_snapshot(once, generated_at=""),
                               export_snapshot(again, generated_at="")) == []
