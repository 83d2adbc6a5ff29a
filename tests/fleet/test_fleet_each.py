"""Any read over a fleet selection: every pool in parallel, one unreachable pool reported
without hiding the others, every session logged out."""

from __future__ import annotations

from pathlib import Path

import pytest
from fleet_sim_pools import SimFleet

from xapictl.fleet.each import for_each_pool


def test_an_unreachable_pool_is_reported_and_the_others_answer(sim_fleet: SimFleet) -> None:
    sim_fleet.sims["p2"].set_host_live(sim_fleet.master("p2"), False)
    heard: list[tuple[str, str]] = []
    found = for_each_pool(sim_fleet.pools, sim_fleet.connector(),
                          lambda pool, conn: len(conn.snapshot().hosts), concurrency=3,
                          on_pool=lambda name, outcome: heard.append((name, outcome)))
    assert found.results == {"p0": 3, "p1": 3, "p3": 3, "p4": 3, "p5": 3}
    assert list(found.errors) == ["p2"]
    assert sorted(name for name, _ in heard) == sorted(sim_fleet.sims)
    assert sim_fleet.open_sessions() == dict.fromkeys(sim_fleet.sims, 0)


def test_a_pinned_fingerprint_is_trusted_and_a_wrong_one_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from xapictl.fleet.connect import PoolConnector
    from xapictl.fleet.fleetfile import FleetPool
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer
    from xapictl.xapi.credentials import PasswordSource

    monkeypatch.setenv("TLS_PW", "xapictl")
    with SimServer(Simulator(scenario="seed"), tls=True) as server:
        assert server.fingerprint and server.url.startswith("https://")
        wrong = "00:" * 31 + "00"
        pools = [FleetPool(name, url=server.url, fingerprint=pin,
                           credentials=PasswordSource("env", "TLS_PW"))
                 for name, pin in (("pinned", server.fingerprint), ("wrong", wrong))]
        found = for_each_pool(pools, PoolConnector(timeout=5), lambda p, c: c.url)
    assert list(found.results) == ["pinned"]
    assert "FingerprintMismatch" in found.errors["wrong"]


def test_a_fleet_entry_can_name_a_profile_instead_of_a_url(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xapictl.fleet.connect import PoolConnector
    from xapictl.fleet.fleetfile import parse_fleet
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer

    monkeypatch.setenv("LAB_PW", "xapictl")
    with SimServer(Simulator(scenario="seed")) as server:
        config = tmp_path / "pools.toml"
        config.write_text(f'[pools.lab]\nurl = "{server.url}"\npassword = "env:LAB_PW"\n')
        monkeypatch.setenv("XAPICTL_CONFIG", str(config))
        fleet = parse_fleet({"pools": [{"name": "lab", "profile": "lab"}]})
        found = for_each_pool(fleet.pools, PoolConnector(),
                              lambda p, c: len(c.snapshot().hosts))
    assert found.results == {"lab": 3}, found.errors


def test_a_plain_http_pool_costs_no_ca_bundle_load(sim_fleet: SimFleet,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the CA bundle is tens of ms of CPU per pool: across a fleet of plain-HTTP pools
    it, not the network, would bound the wall time."""
    import ssl

    from xapictl.fleet.connect import PoolConnector

    loads: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: object, **kw: object) -> None:
        loads.append(args)
        real(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    served = [p for p in sim_fleet.pools if p.name == "p0"]  # the one behind a real socket
    assert served[0].url is not None and served[0].url.startswith("http://")
    found = for_each_pool(served, PoolConnector(), lambda pool, conn: len(conn.snapshot().hosts))
    assert found.results == {"p0": 3} and loads == []


def test_full_collections_wait_while_pools_are_read_and_resume_after(
        sim_fleet: SimFleet) -> None:
    """A fleet read keeps every pool's result: full collections walking them all again were a
    third of its client CPU per pool (tests/bench/bench_fleet.py). Young generations are
    still collected; the process's thresholds are back once the read ends, even if it fails."""
    import gc

    from xapictl.fleet.each import POSTPONED_THRESHOLD, YOUNG_THRESHOLD

    before = gc.get_threshold()
    seen = for_each_pool(sim_fleet.pools, sim_fleet.connector(),
                         lambda pool, conn: gc.get_threshold(), concurrency=3)
    assert set(seen.results.values()) == {
        (max(before[0], YOUNG_THRESHOLD), before[1], POSTPONED_THRESHOLD)}
    assert gc.get_threshold() == before

    def fails(pool: object, conn: object) -> None:
        raise RuntimeError("boom")

    assert len(for_each_pool(sim_fleet.pools, sim_fleet.connector(), fails).errors) == 6
    assert gc.get_threshold() == before


def test_overlapping_postponements_restore_the_thresholds_once_the_last_ends() -> None:
    import gc

    from xapictl.fleet.each import full_collections_postponed, postponed_thresholds

    before = gc.get_threshold()
    outer = full_collections_postponed()
    inner = full_collections_postponed()
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)  # the first one out is not the last: still postponed
    assert gc.get_threshold() == postponed_thresholds(before)
    inner.__exit__(None, None, None)
    assert gc.get_threshold() == before
