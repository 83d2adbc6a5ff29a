"""Persistence over the wire: a served simulator with a state file keeps what clients wrote
across a restart (every protocol), and two ``xapictl sim serve --state`` processes on one file
both see every write made through either. Engine-level: test_sim_persist_sqlite.py."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
import XenAPI
from sim_engine_pool import PASSWORD, build_pool
from sim_wire_protocols import PROTOCOLS, wire_to
from test_sim_server_cli import start_serve, stop

from xapictl.sim.engine import Simulator


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_served_state_survives_a_restart(tmp_path: Path, protocol: str) -> None:
    path = tmp_path / "pool.db"
    first = Simulator(password=PASSWORD, state_file=path)
    pool = first.transact(lambda: build_pool(first.state))
    try:
        with wire_to(first, pool, protocol) as wire:
            session = wire.login()
            network = wire("network.create", session, {"name_label": "kept", "MTU": 9000,
                                                       "other_config": {"k": "v"}})
            wire("SR.add_tags", session, pool.sr, "survivor")
    finally:
        first.close()
    second = Simulator(password=PASSWORD, state_file=path)
    try:
        with wire_to(second, pool, protocol) as wire:
            record = wire("network.get_record", session, network)  # the session survives too
            assert (record["name_label"], record["MTU"]) == ("kept", wire.int_(9000))
            assert record["other_config"] == {"k": "v"}
            assert "survivor" in wire("SR.get_tags", session, pool.sr)
    finally:
        second.close()


def test_two_serving_processes_on_one_state_file_lose_no_write(tmp_path: Path) -> None:
    state = tmp_path / "pool.sqlite"
    one, lines = start_serve("--state", str(state), "--scenario", "single", tmp_path=tmp_path)
    url_one = lines[0]
    two, lines = start_serve("--state", str(state), "--scenario", "single", "--port", "0",
                             tmp_path=tmp_path)
    url_two = lines[0]
    count = 15
    try:
        def over_xmlrpc() -> None:
            with XenAPI.Session(url_one) as session:
                session.login_with_password("root", "xapictl", "1.0", "one")
                for i in range(count):
                    session.xenapi.network.create({"name_label": f"x{i}", "other_config": {}})
                session.xenapi.session.logout()

        def over_jsonrpc() -> None:
            with httpx.Client(base_url=url_two, timeout=30) as client:
                def call(method: str, *params: object) -> object:
                    body = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}
                    return client.post("/jsonrpc", json=body).json()["result"]
                s = call("session.login_with_password", "root", "xapictl")
                for i in range(count):
                    call("network.create", s, {"name_label": f"j{i}", "other_config": {}})
                call("session.logout", s)

        workers = [threading.Thread(target=over_xmlrpc), threading.Thread(target=over_jsonrpc)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
        wanted = {f"x{i}" for i in range(count)} | {f"j{i}" for i in range(count)}
        for url in (url_one, url_two):
            with XenAPI.Session(url) as session:
                session.login_with_password("root", "xapictl", "1.0", "check")
                names = {r["name_label"] for r in session.xenapi.network.get_all_records()
                         .values()}
                session.xenapi.session.logout()
            assert wanted <= names, url
    finally:
        assert stop(one)[0] == 0
        assert stop(two)[0] == 0
