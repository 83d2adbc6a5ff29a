"""``PoolSnapshot.from_records(like=)``: a read made again (the pre-write read, a verify read)
takes the records whose wire form did not change from the earlier snapshot instead of
decoding them again, and decodes what changed, so the snapshot is exactly the one a fresh
build gives."""

from __future__ import annotations

import copy
from typing import Any

import xapictl
from xapictl.sim.engine import Simulator
from xapictl.sim.inprocess import InProcessTransport
from xapictl.state.snapshot import PoolSnapshot

CLASSES = ["pool", "host", "PIF", "network"]


def read(sim: Simulator) -> Any:
    with xapictl.connect("http://127.0.0.1", password="xapictl",
                         transport=InProcessTransport(sim)) as conn:
        return conn.read_all(CLASSES)


def test_unchanged_records_are_taken_and_changed_ones_decoded() -> None:
    sim = Simulator(scenario="seed")
    first = read(sim)
    before = PoolSnapshot.from_records(first)
    network = next(iter(first["network"]))
    again = copy.deepcopy(first)
    again["network"][network]["name_label"] = "renamed"
    gone = next(iter(again["PIF"]))
    del again["PIF"][gone]
    snap = PoolSnapshot.from_records(again, like=(first, before))
    assert snap == PoolSnapshot.from_records(again)  # the same as a fresh build
    host = next(iter(snap.hosts))
    assert snap.hosts[host] is before.hosts[host]  # taken, not decoded again
    assert snap.networks[network] is not before.networks[network]
    assert snap.networks[network].name_label == "renamed"
    assert gone not in snap.pifs


def test_a_class_the_earlier_read_lacked_is_decoded() -> None:
    sim = Simulator(scenario="seed")
    first = read(sim)
    partial = {"pool": first["pool"]}
    before = PoolSnapshot.from_records(partial)
    snap = PoolSnapshot.from_records(first, like=(partial, before))
    assert snap == PoolSnapshot.from_records(first)
    assert snap.pools[next(iter(snap.pools))] is before.pools[next(iter(before.pools))]
