"""The big scenario into a real NetBox: the first sync and a no-op sync, with figures.

It prints objects, NetBox requests and wall time (figures, not assertions: the machine may be
busy); it asserts what must hold whatever the load: the no-op sync sends no write and reads a
number of pages that does not depend on the number of objects written.

The pool is ``big`` at the scenario's defaults (64 hosts, 500 VMs, 500 VLANs, 2000 VIFs, 500
disks: minutes on a 2-core machine, docs/bench/netbox.md; CI runs it whole);
``XAPICTL_NETBOX_BIG=slice`` takes a slice of it (8 hosts, 120 VMs) for a quicker run.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from netbox_fixtures import NetBoxServer

import xapictl
from xapictl.netbox import MappingOptions, NetBoxApi, SyncOptions, sync, wanted_objects
from xapictl.netbox.disks import read_disks
from xapictl.netbox.mapping import OWNED_KINDS
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer
from xapictl.xapi.credentials import Secret

SLICE = {"hosts": 8, "nics": 4, "vms": 120, "vlans": 48, "vifs": 240}


@pytest.fixture
def big() -> Iterator[Any]:
    params = SLICE if os.environ.get("XAPICTL_NETBOX_BIG") == "slice" else {}
    sim = Simulator(password="xapictl")
    sim.reset(scenario="big", **params)
    with SimServer(sim) as server, xapictl.connect(server.url, password="xapictl") as conn:
        pool = conn.call("pool.get_all")[0]
        conn.call("pool.set_name_label", pool, f"big-{uuid.uuid4().hex[:8]}")
        snap = conn.snapshot()
        yield snap, read_disks(conn, snap)
    sim.close()


@pytest.mark.timeout(3600)  # a safety net: the whole big pool on a busy 2-core machine
def test_big_pool_first_and_noop_sync(netbox_server: NetBoxServer, big: Any) -> None:
    big, disks = big
    options = SyncOptions(MappingOptions(site=f"site-{big.pool.name_label}"))
    objects = len(wanted_objects(big, disks=disks)[0])
    with NetBoxApi(netbox_server.url, Secret(netbox_server.token), timeout=600) as api:
        started = time.perf_counter()
        first = sync(api, big, options, disks)
        first_s = time.perf_counter() - started
        assert first.remaining is not None and first.remaining.empty
        requests_before = api.requests
        started = time.perf_counter()
        noop = sync(api, big, options, disks)
        noop_s = time.perf_counter() - started
    noop_requests = api.requests - requests_before
    print(f"\nbig pool into NetBox: {objects} objects; first sync {first.writes} writes, "
          f"{first.requests} requests, {first_s:.1f} s; no-op sync {noop.writes} writes, "
          f"{noop_requests} requests, {noop_s:.1f} s")
    assert noop.writes == 0 and noop.plan.empty
    # Reads only: the markers (2), the prefixes (1), the tag (1), one page per 1000 objects
    # per owned kind, the shared kinds (7).
    assert noop_requests <= 2 + 1 + 1 + len(OWNED_KINDS) * (1 + objects // 1000) + 7
