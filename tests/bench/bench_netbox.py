"""The big pool into a real NetBox: the first sync and a no-op sync (objects, NetBox requests,
writes, wall time).

    python tests/bench/bench_netbox.py [--write] [--runs 3] [--slice] [--parallel N]
                                         [--compare-parallel N]

It needs a NetBox: ``XAPICTL_NETBOX_URL`` and ``XAPICTL_NETBOX_TOKEN`` (``nox -s netbox``
starts one and runs this after the tests; ``python tests/netbox/harness.py --bench`` alone).
Without them it prints why and exits 0, so ``nox -s bench`` passes on a machine without one.

The pool is the ``big`` scenario at its defaults (64 hosts, 8 NICs, 500 VMs, 500 VLANs, 2000
VIFs; ``--slice``: 8 hosts, 120 VMs, for a quick look), served by a ``SimServer`` in another
process, read with its disks as ``xapictl netbox sync`` reads it. The first sync runs once, on
a pool name of its own (a fresh cluster, site and objects); the no-op sync then ``runs`` times.
Requests and writes come from ``NetBoxApi``'s counters; wall time includes NetBox's own work
(gunicorn on the same machine; the harness says how many workers). A second table says where
the first sync's time goes, request kind by request kind. Figures only: the assertions (a
no-op sync writes nothing) are in tests/netbox/test_netbox_big.py. With ``--write`` the
tables go to ``docs/bench/netbox.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdoc import Page, seconds
from benchpool import PASSWORD, ServedPool

SLICE = {"hosts": 8, "nics": 4, "vms": 120, "vlans": 48, "vifs": 240}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="write docs/bench/netbox.md")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--slice", action="store_true", help="a slice of the big pool")
    parser.add_argument("--parallel", type=int, default=1,
                        help="bulk requests of a kind in flight at once (NetBoxApi)")
    parser.add_argument("--compare-parallel", type=int, default=2, metavar="N",
                        help="then the first sync of another big pool with N bulk requests "
                             "in flight (0: not)")
    args = parser.parse_args()
    url, token = os.environ.get("XAPICTL_NETBOX_URL"), os.environ.get("XAPICTL_NETBOX_TOKEN")
    if not (url and token):
        print("bench_netbox: skipped: no NetBox (XAPICTL_NETBOX_URL and XAPICTL_NETBOX_TOKEN "
              "are not set; nox -s netbox runs this benchmark against the NetBox it starts)")
        return 0

    import xapictl
    from xapictl.netbox import MappingOptions, NetBoxApi, SyncOptions, sync, wanted_objects
    from xapictl.netbox.disks import read_disks
    from xapictl.xapi.credentials import Secret

    def read() -> tuple[str, Any, Any]:
        """A big pool of its own (fresh UUIDs: a first sync), named afresh, and its disks."""
        name = f"bench-{uuid.uuid4().hex[:8]}"
        with ServedPool(0, **(SLICE if args.slice else {})) as served, \
                xapictl.connect(served.url, password=PASSWORD) as conn:
            conn.call("pool.set_name_label", conn.call("pool.get_all")[0], name)
            snap = conn.snapshot()
            return name, snap, read_disks(conn, snap)

    name, snap, disks = read()
    options = SyncOptions(MappingOptions(site=f"site-{name}"))
    wanted = wanted_objects(snap, options.mapping, disks)[0]
    page = Page("netbox", args.runs)
    table = page.table(
        f"The big pool into NetBox{' (a slice)' if args.slice else ''}: "
        f"{len(snap.hosts)} hosts, {len(snap.guest_vms())} VMs, {len(snap.vifs)} VIFs, "
        f"{len(disks)} disks → {len(wanted):,} NetBox objects",
        ["sync", "NetBox requests", "writes (bulk requests)", "objects written", "wall"])
    spent: dict[tuple[str, str], list[float]] = {}

    def observe(method: str, endpoint: str, objects: int, took: float) -> None:
        tally = spent.setdefault((method, endpoint), [0, 0, 0.0])
        tally[0] += 1
        tally[1] += objects
        tally[2] += took

    with NetBoxApi(url, Secret(token), timeout=900, observe=observe,
                   parallel=args.parallel) as api:
        started = time.perf_counter()
        first = sync(api, snap, options, disks)
        first_wall = time.perf_counter() - started
        api.observe = None
        verified = first.remaining is not None and first.remaining.empty
        table.add("first", f"{first.requests:,}", f"{first.writes:,}",
                  f"{len(first.plan.steps):,}", f"{first_wall:.1f} s (one run)",
                  goal="verified: the second plan is empty", met=verified)
        walls, requests, writes = [], [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            noop = sync(api, snap, options, disks)
            walls.append(time.perf_counter() - started)
            requests.append(noop.requests)
            writes.append(noop.writes)
        table.add("no-op", "/".join(map(str, sorted(set(requests)))),
                  "/".join(map(str, sorted(set(writes)))), "0", seconds(walls, 1),
                  goal="0 writes", met=set(writes) == {0})
    if args.compare_parallel > 1:
        # The same first sync of another big pool, N bulk chunks of a kind in flight at once.
        other, snap2, disks2 = read()
        with NetBoxApi(url, Secret(token), timeout=900, parallel=args.compare_parallel) as api:
            started = time.perf_counter()
            first2 = sync(api, snap2, SyncOptions(MappingOptions(site=f"site-{other}")), disks2)
            wall2 = time.perf_counter() - started
        table.add(f"first, {args.compare_parallel} in flight", f"{first2.requests:,}",
                  f"{first2.writes:,}", f"{len(first2.plan.steps):,}",
                  f"{wall2:.1f} s (one run)", goal="verified: the second plan is empty",
                  met=first2.remaining is not None and first2.remaining.empty)
    gunicorn = os.environ.get("XAPICTL_NETBOX_GUNICORN", "gunicorn")
    table.notes.append(
        f"NetBox 4.7.3 under {gunicorn} with PostgreSQL and Redis on the same machine, "
        "started by tests/netbox/harness.py; "
        f"{args.parallel} bulk request(s) of a kind in flight at once. Writes are bulk "
        "requests (up to 200 objects each); a no-op sync reads each owned kind of the pool "
        "(one page per 1,000 objects), the shared objects it names, the prefixes and the "
        "ownership markers, and writes nothing.")
    where = page.table(
        "Where the first sync's time goes: NetBox's answers, by request kind (the "
        "five slowest, then the rest; the first row of the table above)",
        ["requests", "count", "objects sent", "time in NetBox's answers"])
    ranked = sorted(spent.items(), key=lambda kv: -kv[1][2])
    for (method, endpoint), (count, objects, took) in ranked[:5]:
        where.add(f"{method} {endpoint}", f"{count:,}", f"{objects:,}", f"{took:.1f} s")
    rest = ranked[5:]
    where.add("the rest", f"{sum(int(t[0]) for _, t in rest):,}",
              f"{sum(int(t[1]) for _, t in rest):,}", f"{sum(t[2] for _, t in rest):.1f} s")
    where.notes.append(
        "A bulk write's time is NetBox's work per object: validation, the save, the change "
        "log record, the search index, the tag, and for an interface with a MAC address a "
        "MAC address object of its own, each with PostgreSQL round trips (a profile of the "
        "gunicorn worker during a first sync: about 40% of its time waits on PostgreSQL); "
        "the client's part is a few bulk requests per kind. docs/cmdb.md says what an "
        "operator can tune.")
    page.emit(sys.argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
