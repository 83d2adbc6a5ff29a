"""The worked CMDB sync example of docs/inventory.md runs, and its CMDB ends equal to the pool —
also after being stopped and started again with changes made in between."""

from __future__ import annotations

import importlib.util
import sqlite3
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import xapictl
from xapictl.inventory import Inventory, diff, export_snapshot
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "cmdb_sync.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cmdb_sync_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _add_vlan(url: str, tag: int) -> None:
    with xapictl.connect(url, password="xapictl") as conn:
        eth1 = next(r for r, p in conn.call("PIF.get_all_records").items()
                    if p["device"] == "eth1" and p["VLAN"] == -1)
        net = conn.call("network.create", {"name_label": f"VLAN {tag}", "name_description": "",
                                           "MTU": 1500, "other_config": {}})
        conn.call("pool.create_VLAN_from_PIF", eth1, net, tag)


def _pool_now(url: str) -> Inventory:
    with xapictl.connect(url, password="xapictl") as conn:
        return export_snapshot(conn.snapshot(), generated_at="")


def _run_until_in_step(example: ModuleType, url: str, cmdb: Path, change: Any) -> None:
    stop = threading.Event()
    heard = threading.Condition()

    def on_event(_: Any) -> None:
        with heard:
            heard.notify_all()

    def cmdb_matches() -> bool:
        db = sqlite3.connect(cmdb)
        try:
            held = example.cmdb_inventory(db)
        finally:
            db.close()
        return held is not None and diff(held, _pool_now(url)) == []

    worker = threading.Thread(target=example.sync,
                              args=(lambda: xapictl.connect(url, password="xapictl"),
                                    str(cmdb), stop, on_event))
    worker.start()
    try:
        change()
        in_step = False
        for _ in range(100):  # re-check on every event, and at least every 0.2 s
            if cmdb_matches():
                in_step = True
                break
            with heard:
                heard.wait(0.2)
        assert in_step, "the CMDB never caught up with the pool"
    finally:
        stop.set()
        worker.join(20)
    assert not worker.is_alive()


def test_the_cmdb_sync_example_keeps_the_cmdb_equal_to_the_pool(tmp_path: Path) -> None:
    example = _example()
    sim = Simulator(scenario="seed")
    cmdb = tmp_path / "cmdb.sqlite"
    with SimServer(sim) as server:
        _run_until_in_step(example, server.url, cmdb, lambda: _add_vlan(server.url, 105))
        _add_vlan(server.url, 106)  # while the sync job is not running
        _run_until_in_step(example, server.url, cmdb, lambda: _add_vlan(server.url, 107))
        assert sim.open_session_count() == 0
    db = sqlite3.connect(cmdb)
    names = {r[0] for r in db.execute(
        "SELECT json_extract(record, '$.name_label') FROM objects WHERE type = 'networks'")}
    db.close()
    assert {"VLAN 105", "VLAN 106", "VLAN 107"} <= names
