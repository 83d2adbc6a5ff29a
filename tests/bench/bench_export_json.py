"""``inventory export --format json`` encoding: the old ``json.dumps(indent=2)`` (the standard
library's pure-Python indenting encoder) against ``formats.to_json`` (orjson, byte-identical).

    python tests/bench/bench_export_json.py [--write] [--megabytes 40] [--runs 5]

The export of a simulated ``big`` pool (8 hosts) is repeated under new UUIDs until the document
is about ``megabytes`` MB; process CPU time, min/median/max of ``runs`` (prints figures,
asserts nothing). With ``--write`` the table goes to ``docs/bench/export-json.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdoc import Page, seconds

from xapictl.inventory import Inventory, export_snapshot, formats
from xapictl.sim.engine import Simulator
from xapictl.state.snapshot import SNAPSHOT_CLASSES, PoolSnapshot


def _document(megabytes: float) -> Inventory:
    sim = Simulator()
    sim.reset(scenario="big", hosts=8, nics=4, vms=64, vlans=64, vifs=128)
    raw = {c: dict(sim.state.all(c)) for c in SNAPSHOT_CLASSES}
    base = export_snapshot(PoolSnapshot.from_records(raw), source="bench")
    size = len(formats.to_json(base))
    copies = max(1, int(megabytes * 1e6 / size))
    objects = {kind: tuple({**o, "uuid": f"{o['uuid']}-{n}"} for n in range(copies)
                           for o in base.of(kind))
               for kind in base.objects}
    return Inventory(objects, dict(base.tokens), base.generated_at)


def _cpu(fn: object, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.process_time()
        fn()  # type: ignore[operator]
        out.append(time.process_time() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="write docs/bench/export-json.md")
    parser.add_argument("--megabytes", type=float, default=40.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    inv = _document(args.megabytes)
    text = formats.to_json(inv)
    assert text == json.dumps(inv.to_document(), indent=2) + "\n"  # the same bytes
    old = _cpu(lambda: json.dumps(inv.to_document(), indent=2) + "\n", args.runs)
    new = _cpu(lambda: formats.to_json(inv), args.runs)
    flat = _cpu(lambda: json.dumps(inv.to_document()), args.runs)

    page = Page("export-json", args.runs)
    table = page.table(
        f"`inventory export --format json` of a {len(text) / 1e6:.0f} MB document: process CPU",
        ["encoder", "CPU"])
    table.add("`json.dumps(indent=2)` (the pure-Python indenting encoder; before)",
              seconds(old, 3))
    table.add("`formats.to_json` (orjson, the same bytes; now)", seconds(new, 3),
              goal="not the pure-Python encoder: faster than it (median)",
              met=statistics.median(new) < statistics.median(old))
    table.add("for scale: `json.dumps` without indent (the C encoder)", seconds(flat, 3))
    table.notes.append(
        f"orjson takes {statistics.median(new) / statistics.median(old):.2f}× the old "
        "encoder's CPU (medians). The document: a simulated 8-host pool's export repeated "
        "under new UUIDs.")
    page.emit(sys.argv)


if __name__ == "__main__":
    main()
