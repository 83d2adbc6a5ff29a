"""The change stream, driven by a simulator's writes, reproduces the final state exactly from
an initial export plus the events — across an EVENTS_LOST, a master change and a lost link."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xapictl
from xapictl.inventory import Inventory, apply, diff, export_snapshot
from xapictl.inventory.diff import Change
from xapictl.inventory.stream import ChangeStream, StreamEvent
from xapictl.sim.control import Control
from xapictl.sim.engine import Simulator
from xapictl.sim.inprocess import InProcessTransport
from xapictl.xapi.retry import Backoff


@pytest.fixture
def pool() -> Iterator[tuple[Simulator, Control]]:
    sim = Simulator(scenario="seed")
    yield sim, Control(sim)


def _connect(sim: Simulator, control: Control, address: str = "127.0.0.1") -> Any:
    return xapictl.connect(f"http://{address}", password="xapictl",
                           transport=InProcessTransport(sim, control), timeout=10)


def _export(sim: Simulator, control: Control) -> Inventory:
    with _connect(sim, control) as conn:
        return export_snapshot(conn.snapshot(), generated_at="")


class Collector:
    def __init__(self) -> None:
        self.events: list[StreamEvent] = []
        self.cond = threading.Condition()

    def __call__(self, event: StreamEvent) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def changes(self) -> list[Change]:
        with self.cond:
            return [e.change for e in self.events]

    def wait_until_matches(self, base: Inventory, want: Inventory, timeout: float = 20) -> bool:
        with self.cond:
            return self.cond.wait_for(
                lambda: diff(apply(base, [e.change for e in self.events]), want) == [],
                timeout)


def _start(stream: ChangeStream, sink: Collector) -> threading.Thread:
    thread = threading.Thread(target=stream.run, args=(sink,), daemon=True)
    thread.start()
    return thread


def _write_some(conn: Any, tag: int, name: str) -> None:
    pif = next(ref for ref, p in conn.call("PIF.get_all_records").items()
               if p["device"] == "eth1" and p["VLAN"] == -1)
    net = conn.call("network.create", {"name_label": name, "name_description": "",
                                       "MTU": 1500, "other_config": {}})
    conn.call("pool.create_VLAN_from_PIF", pif, net, tag)
    conn.call("network.set_MTU", net, 1400)


def test_initial_export_plus_events_equals_the_final_export(pool: tuple[Simulator, Control]
                                                            ) -> None:
    sim, control = pool
    base = _export(sim, control)
    sink = Collector()
    stream = ChangeStream(lambda: _connect(sim, control), backoff=Backoff(),
                          base=base, poll_timeout=1)
    thread = _start(stream, sink)
    try:
        with _connect(sim, control) as writer:
            _write_some(writer, 105, "VLAN 105")
            vm = next(r for r, v in writer.call("VM.get_all_records").items()
                      if not v["is_control_domain"] and not v["is_a_template"])
            writer.call("VM.set_name_label", vm, "renamed")
        final = _export(sim, control)
        assert sink.wait_until_matches(base, final), diff(apply(base, sink.changes()), final)
    finally:
        stream.stop.set()
        thread.join(10)
    ops = {(c.op.value, c.object) for c in sink.changes()}
    assert {("add", "network"), ("add", "vlan"), ("add", "pif"), ("mod", "vm")} <= ops
    assert sim.open_session_count() == 0


def test_stream_survives_events_lost_and_a_master_change(pool: tuple[Simulator, Control]
                                                         ) -> None:
    sim, control = pool
    base = _export(sim, control)
    sink = Collector()
    stream = ChangeStream(lambda: _connect(sim, control), backoff=Backoff(),
                          base=base, poll_timeout=1)
    thread = _start(stream, sink)
    try:
        with _connect(sim, control) as writer:
            _write_some(writer, 105, "VLAN 105")
        assert sink.wait_until_matches(base, _export(sim, control))
        lost = control.inject_fault("event.from", error=("EVENTS_LOST",), times=1)
        with _connect(sim, control) as writer:
            _write_some(writer, 106, "VLAN 106")
        assert sink.wait_until_matches(base, _export(sim, control))
        assert lost.fired == 1

        new_master = next(h for h in sim.host_addresses() if h != _master_ref(sim))
        sim.designate_master(new_master)
        with _connect(sim, control, sim.master_address()) as writer:
            _write_some(writer, 107, "VLAN 107")
        drop = control.inject_fault("event.from", "drop_before", times=1)
        with _connect(sim, control, sim.master_address()) as writer:
            _write_some(writer, 108, "VLAN 108")
        final = _export_at(sim, control)
        assert sink.wait_until_matches(base, final), diff(apply(base, sink.changes()), final)
        assert drop.fired == 1
    finally:
        stream.stop.set()
        thread.join(10)
    # Nothing sent twice: every add names an object that did not exist before it.
    seen: set[tuple[str, str]] = {(c.object, c.uuid) for c in diff(Inventory(), base)}
    for change in sink.changes():
        key = (change.object, change.uuid)
        if change.op.value == "add":
            assert key not in seen, f"duplicate add of {key}"
            seen.add(key)
        elif change.op.value == "del":
            seen.discard(key)
    assert sim.open_session_count() == 0


def _master_ref(sim: Simulator) -> str:
    with sim.state.lock:
        return str(next(iter(sim.state.all("pool").values()))["master"])


def _export_at(sim: Simulator, control: Control) -> Inventory:
    with _connect(sim, control, sim.master_address()) as conn:
        return export_snapshot(conn.snapshot(), generated_at="")


def test_resuming_from_a_checkpoint_emits_exactly_what_was_missed(
        pool: tuple[Simulator, Control]) -> None:
    sim, control = pool
    base = _export(sim, control)
    with _connect(sim, control) as writer:  # changes while nobody was listening
        _write_some(writer, 110, "VLAN 110")
    sink = Collector()
    stream = ChangeStream(lambda: _connect(sim, control), backoff=Backoff(),
                          base=base, poll_timeout=1)
    thread = _start(stream, sink)
    try:
        final = _export(sim, control)
        assert sink.wait_until_matches(base, final)
    finally:
        stream.stop.set()
        thread.join(10)
    assert sink.changes() == diff(base, final)
    checkpoint = stream.checkpoint()
    assert checkpoint is not None and checkpoint.token
    assert diff(checkpoint.inventory, final) == []


def test_stream_reconnects_when_the_master_dies_and_another_takes_over(
        pool: tuple[Simulator, Control]) -> None:
    from xapictl.xapi.retry import RetryPolicy

    sim, control = pool
    fast = RetryPolicy(deadline=0.5, initial=0.05, maximum=0.1)

    def connect() -> Any:
        return xapictl.connect(f"http://{sim.master_address()}", password="xapictl",
                               transport=InProcessTransport(sim, control), timeout=5,
                               retry=fast)

    base = _export(sim, control)
    sink = Collector()
    stream = ChangeStream(connect, backoff=Backoff(), base=base, poll_timeout=1)
    thread = _start(stream, sink)
    try:
        with _connect(sim, control) as writer:
            _write_some(writer, 120, "VLAN 120")
        assert sink.wait_until_matches(base, _export(sim, control))
        old = _master_ref(sim)
        new = next(h for h in sim.host_addresses() if h != old)
        sim.set_host_live(old, False)  # the master dies ...
        sim.designate_master(new)      # ... and a member takes over (HA)
        with _connect(sim, control, sim.master_address()) as writer:
            _write_some(writer, 121, "VLAN 121")
        assert sink.wait_until_matches(base, _export_at(sim, control))

        hosts = list(sim.host_addresses())
        for h in hosts:  # now the whole pool is unreachable: the stream must reconnect
            sim.set_host_live(h, False)
        noticed = threading.Event()
        for _ in range(150):  # until the stream has noticed (it polls every second)
            if stream.reconnects >= 1 or noticed.wait(0.1):
                break
        assert stream.reconnects >= 1
        for h in hosts:
            sim.set_host_live(h, True)
        with _connect(sim, control, sim.master_address()) as writer:
            _write_some(writer, 122, "VLAN 122")
        final = _export_at(sim, control)
        assert sink.wait_until_matches(base, final, timeout=30), diff(
            apply(base, sink.changes()), final)
    finally:
        stream.stop.set()
        thread.join(15)
    assert stream.reconnects >= 1


def test_a_fleet_base_is_cut_to_the_pools_own_part(pool: tuple[Simulator, Control]) -> None:
    sim, control = pool
    other = Simulator(scenario="seed")
    theirs = _export(other, Control(other))
    mine = _export(sim, control)
    sink = Collector()
    stream = ChangeStream(lambda: _connect(sim, control), backoff=Backoff(),
                          base=Inventory.merge([mine, theirs]), poll_timeout=1)
    with _connect(sim, control) as writer:  # missed while no stream ran
        _write_some(writer, 106, "VLAN 106")
    thread = _start(stream, sink)
    try:
        final = _export(sim, control)
        assert sink.wait_until_matches(mine, final), diff(apply(mine, sink.changes()), final)
    finally:
        stream.stop.set()
        thread.join(10)
    other_uuids = {uuid for _, uuid in theirs.index()}
    assert sink.changes() and not [c for c in sink.changes() if c.uuid in other_uuids]


def test_a_base_without_the_pool_is_refused_before_any_event(
        pool: tuple[Simulator, Control]) -> None:
    from xapictl.errors import UsageError

    sim, control = pool
    other = Simulator(scenario="seed")
    sink = Collector()
    stream = ChangeStream(lambda: _connect(sim, control), backoff=Backoff(),
                          base=_export(other, Control(other)), poll_timeout=1)
    with pytest.raises(UsageError, match="has no part in the base"):
        stream.run(sink)
    assert sink.events == [] and sim.open_session_count() == 0


def test_the_checkpoint_file_is_written_as_it_goes_at_a_bounded_rate(
        pool: tuple[Simulator, Control], tmp_path: Path) -> None:
    from xapictl.inventory.checkpoint import CheckpointFile, read_checkpoint

    sim, control = pool
    first = _export(sim, control)
    with _connect(sim, control) as writer:
        _write_some(writer, 107, "VLAN 107")
    second = _export(sim, control)
    path = tmp_path / "state.json"
    rare = CheckpointFile(path, None, every=3600)
    rare.record(first, "t1")
    assert read_checkpoint(path) == (first, "t1")  # the first batch is written at once
    rare.record(second, "t2")
    assert read_checkpoint(path) == (first, "t1")  # not due yet
    rare.flush()
    assert read_checkpoint(path) == (second, "t2")
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary left over


def _export_with_disks(sim: Simulator, control: Control) -> Inventory:
    from xapictl.inventory.disks import DiskRecords

    with _connect(sim, control) as conn:
        snap = conn.snapshot()
        return export_snapshot(snap, generated_at="", disks=DiskRecords.read(conn))


def test_with_disks_the_stream_follows_what_netbox_maps(pool: tuple[Simulator, Control]
                                                        ) -> None:
    """The fields of schema 1.3 (what `netbox watch` maps beyond 1.2) and the disks reach the
    stream from the same event.from batches: the initial export plus the events is the final
    export, and each write shows up as the change it is."""
    sim, control = pool
    base = _export_with_disks(sim, control)
    assert base.of("disks") and all(d["size"] > 0 for d in base.of("disks"))
    sink = Collector()
    stream = ChangeStream(lambda: _connect(sim, control), backoff=Backoff(), base=base,
                          poll_timeout=1, disks=True)
    thread = _start(stream, sink)
    try:
        with _connect(sim, control) as writer:
            vms = writer.call("VM.get_all_records")
            vm = next(r for r, v in vms.items()
                      if not v["is_control_domain"] and not v["is_a_template"])
            writer.call("VM.set_VCPUs_at_startup", vm, 1)
            vif = next(r for r, v in writer.call("VIF.get_all_records").items()
                       if v["VM"] == vm)
            writer.call("VIF.set_qos_algorithm_type", vif, "ratelimit")
            writer.call("VIF.set_qos_algorithm_params", vif, {"kbps": "2048"})
            net = next(iter(writer.call("network.get_all_records")))
            writer.call("network.add_to_other_config", net, "folder", "/cmdb")
            vbd = next(r for r, b in writer.call("VBD.get_all_records").items()
                       if b["VM"] == vm and b["type"] == "Disk")
            vdi = writer.call("VBD.get_VDI", vbd)
            writer.call("VDI.set_name_label", vdi, "renamed disk")
        final = _export_with_disks(sim, control)
        assert final != base
        assert sink.wait_until_matches(base, final), diff(apply(base, sink.changes()), final)
    finally:
        stream.stop.set()
        thread.join(10)
    fields = {(c.object, f) for c in sink.changes() for f in c.fields}
    assert {("vm", "vcpus"), ("vif", "qos_kbps"), ("network", "other_config"),
            ("disk", "name")} <= fields, fields
    assert sim.open_session_count() == 0


def test_without_disks_the_stream_reads_none(pool: tuple[Simulator, Control]) -> None:
    sim, control = pool
    points: list[Any] = []
    stream = ChangeStream(lambda: _connect(sim, control), backoff=Backoff(), poll_timeout=1)

    def first(point: Any) -> None:
        points.append(point)
        stream.stop.set()

    stream.stop.set()  # set before it starts: the first read is made all the same
    stream.run(lambda event: None, first)
    assert len(points) == 1 and points[0].disks is None
    assert points[0].inventory.of("disks") == () and points[0].inventory.of("vms")
