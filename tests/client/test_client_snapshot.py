"""Snapshots: every class at once in two dependent round trips, typed, and kept live."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from xapictl.model.pif import PIF
from xapictl.state.live import LiveSnapshot
from xapictl.state.snapshot import SNAPSHOT_CLASSES, PoolSnapshot


def test_snapshot_reads_each_class_once_after_taking_a_token(conn: Any, control: Any) -> None:
    reads = sorted(f"{c}.get_all_records" for c in SNAPSHOT_CLASSES)
    control.clear_log()
    first = conn.snapshot()
    calls = control.methods_called()
    assert calls[0] == "event.inject"  # its own round trip, before any read
    assert sorted(c for c in calls[1:] if c != "event.inject") == reads
    assert isinstance(first, PoolSnapshot) and first.token

    control.clear_log()
    second = conn.snapshot()  # the token fetched alongside the first reads: one round trip
    calls = control.methods_called()
    assert sorted(c for c in calls if c != "event.inject") == reads
    assert calls.count("event.inject") == 1
    assert first.token < second.token


def test_snapshot_matches_the_pool_typed_whatever_the_protocol(conn: Any, sim: Any) -> None:
    snap = conn.snapshot()
    assert set(snap.pifs) == set(sim.state.refs("PIF"))
    assert set(snap.vifs) == set(sim.state.refs("VIF"))
    pif = next(iter(snap.pifs.values()))
    assert isinstance(pif, PIF) and isinstance(pif.vlan, int) and isinstance(pif.mtu, int)
    master = snap.master
    assert snap.pif_on(master, "eth0") is not None
    assert len(snap.hosts) == 3


def test_the_class_reads_are_sent_in_parallel(conn: Any, control: Any) -> None:
    from client_helpers import InFlight

    control.before_call = counting = InFlight(control.before_call, len(SNAPSHOT_CLASSES) // 2,
                                                 ".get_all_records")
    conn.snapshot()
    assert counting.peak >= len(SNAPSHOT_CLASSES) // 2


def test_live_snapshot_follows_changes_from_the_token(conn: Any) -> None:
    live = LiveSnapshot(conn)
    net = conn.networks.create(name_label="seen-live", mtu=9000)
    assert live.poll(timeout=5) >= 1
    assert live.current.networks[net].mtu == 9000
    conn.networks.set_mtu(net, 1500)
    live.poll(timeout=5)
    assert live.current.networks[net].mtu == 1500
    conn.networks.destroy(net)
    live.poll(timeout=5)
    assert net not in live.current.networks


def test_a_change_made_between_token_and_reads_is_not_lost(conn: Any, control: Any) -> None:
    # The token is taken first, so a write racing the reads shows up in the next poll.
    original = control.before_call
    raced: list[str] = []

    def race(host: str, method: str, **kw: Any) -> Any:
        if method == "network.get_all_records" and not raced:
            raced.append(conn.call("network.create", {"name_label": "racer",
                                                      "other_config": {}}))
        return original(host, method, **kw)

    control.before_call = race
    live = LiveSnapshot(conn)
    control.before_call = original
    live.poll(timeout=5)
    assert raced[0] in live.current.networks


def test_live_snapshot_reads_everything_again_when_events_are_lost(conn: Any,
                                                                   control: Any) -> None:
    live = LiveSnapshot(conn)
    made = conn.networks.create(name_label="after-loss")
    control.inject_fault("event.from", "error", error=("EVENTS_LOST",), times=1)
    assert live.poll(timeout=5) == 0
    assert made in live.current.networks  # re-read in full, nothing missed


def test_live_snapshot_in_the_background_publishes_each_change(conn: Any) -> None:
    seen = threading.Event()
    live = LiveSnapshot(conn)
    live.on_change = lambda snap: seen.set() if any(
        n.name_label == "background" for n in snap.networks.values()) else None
    live.start(timeout=1.0)
    try:
        conn.networks.create(name_label="background")
        assert seen.wait(timeout=10)
    finally:
        live.stop()
    assert any(n.name_label == "background" for n in live.current.networks.values())


def test_call_many_returns_results_in_order(conn: Any) -> None:
    nets = conn.networks.get_all()
    mtus = conn.call_many([("network.get_MTU", (n,)) for n in nets])
    assert mtus == [conn.networks.get_record(n).mtu for n in nets]


def test_added_indexes_pif_on_network_vlans_on_and_management_pif(conn: Any) -> None:
    trunk = conn.snapshot().pif_on(conn.snapshot().master, "eth1")
    for tag in (42, 7):
        conn.pools.create_vlan_from_pif(trunk, conn.networks.create(name_label=f"v{tag}"), tag)
    snap = conn.snapshot()
    for host in snap.hosts:
        eth0 = snap.pif_on(host, "eth0")
        eth1 = snap.pif_on(host, "eth1")
        assert eth0 is not None and eth1 is not None
        assert snap.management_pif(host) == eth0
        assert snap.pif_on_network(host, snap.pifs[eth0].network) == eth0
        tags = [snap.vlans[v].tag for v in snap.vlans_on(eth1)]
        assert tags == sorted(tags)
        assert all(snap.vlan_on(eth1, tag) is not None for tag in tags)
    assert all(len(snap.vlans_on(snap.pif_on(h, "eth1"))) == 2 for h in snap.hosts)


def test_xapictl_connect_gives_a_connection_whose_snapshot_is_typed(conn: Any) -> None:
    from typing import get_type_hints

    from xapictl.state.collect import PoolConnection

    assert isinstance(conn, PoolConnection)
    assert get_type_hints(PoolConnection.snapshot)["return"] is PoolSnapshot
    assert isinstance(conn.snapshot(), PoolSnapshot)


def test_a_plain_client_connection_builds_snapshots_once_the_state_layer_is_loaded(
        transport: Any, protocol: str) -> None:
    from client_helpers import PASSWORD

    import xapictl.state.collect  # noqa: F401 - what teaches Connection.snapshot()
    from xapictl.client.connection import Connection, connect

    with connect("http://127.0.0.1", password=PASSWORD, transport=transport,
                 protocol=protocol) as plain:
        assert type(plain) is Connection
        assert isinstance(plain.snapshot(), PoolSnapshot)


def test_a_one_shot_read_is_one_request_with_the_records_the_class_reads_give(
        conn: Any, control: Any) -> None:
    from xapictl.state.collect import collect_once

    classes = list(SNAPSHOT_CLASSES)
    control.clear_log()
    token, at_once = conn.read_all_at_once(classes)
    assert control.methods_called() == ["event.from"]
    assert at_once == conn.read_all(classes)
    assert collect_once(conn).pifs == conn.snapshot().pifs and token


def test_a_one_shot_read_decodes_its_wide_records_as_they_are_read(conn: Any) -> None:
    """``collect_once`` is for views, which read few of a VM's 91 fields: pool, host and VM
    records decode each field when it is first read, and the snapshot is equal to an eager
    one of the same pool."""
    import dataclasses

    from xapictl.model.pif import PIF
    from xapictl.model.vm import VM
    from xapictl.state.collect import collect_once

    once, eager = collect_once(conn), conn.snapshot()
    assert dataclasses.replace(once, token="") == dataclasses.replace(eager, token="")
    assert eager.vms and all(type(vm) is not VM and isinstance(vm, VM)
                             for vm in once.vms.values())
    assert once.pifs and all(type(pif) is PIF for pif in once.pifs.values())


def test_the_one_shot_token_follows_on_from_exactly_what_was_read(conn: Any) -> None:
    classes = list(SNAPSHOT_CLASSES)
    token, _ = conn.read_all_at_once(classes)
    made = conn.networks.create(name_label="after-the-read")
    batch = conn.events(classes, token, timeout=5)
    assert ("add", made) in {(e.operation, e.ref) for e in batch.events}
    assert {e.ref for e in batch.events if e.operation == "add"} == {made}


def test_a_one_shot_answer_that_is_not_all_adds_is_refused_by_name(
        conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from xapictl.errors import ProtocolError
    from xapictl.xapi.events import EventFeed

    gone = {"class": "vif", "ref": "OpaqueRef:gone", "operation": "del", "id": "7"}
    monkeypatch.setattr(EventFeed, "next_wire",
                        lambda *a, **k: {"events": [gone], "token": "t"})
    with pytest.raises(ProtocolError, match="del vif OpaqueRef:gone"):
        conn.read_all_at_once(["VIF"])
    other = {**gone, "class": "network", "operation": "add", "snapshot": {}}
    monkeypatch.setattr(EventFeed, "next_wire",
                        lambda *a, **k: {"events": [other], "token": "t"})
    with pytest.raises(ProtocolError, match="add network OpaqueRef:gone: expected an add"):
        conn.read_all_at_once(["VIF"])
    monkeypatch.setattr(EventFeed, "next_wire", lambda *a, **k: ["not", "a", "batch"])
    with pytest.raises(ProtocolError, match="not an event batch"):
        conn.read_all_at_once(["VIF"])
