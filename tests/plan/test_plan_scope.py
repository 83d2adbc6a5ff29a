"""A scoped read (``xapictl.plan.scope``) is exact: on every pool of tests/plan_cases (bonds,
VLANs moved onto them, a tag split between networks, offline hosts, unplugged PIFs, networks
made by hand …), for VLAN recipes on every device there and on a missing one, with the tags
of the pool and a new one, adopting or not, one network or several, the plan, its refusal,
each step's pre-write check and verify are the same from the records the scope selects as
from the whole classes.

The records are selected by the simulator's filter (``xapictl.sim.where``, itself checked
against XAPI's grammar in tests/sim), as ``get_all_records_where`` selects them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from xapictl.errors import PlanError
from xapictl.model.schema import datamodel
from xapictl.plan.desired import DesiredState, NetworkSpec
from xapictl.plan.diff import diff
from xapictl.plan.scope import closed, read_scope
from xapictl.plan.steps import RunContext, XapiStep
from xapictl.plan.verify import mismatches
from xapictl.recipes import ensure_network, ensure_vlan_network, ensure_vm_attached
from xapictl.sim.where import compile_filter
from xapictl.state.snapshot import PoolSnapshot

CASES = Path(__file__).resolve().parents[1] / "plan_cases"
Raw = Mapping[str, Mapping[str, Mapping[str, Any]]]


def scoped(raw: Raw, scope: Mapping[str, str]) -> PoolSnapshot:
    """The snapshot the scoped read gives: each scoped class's records that its expression
    selects, the others whole."""
    out: dict[str, Mapping[str, Mapping[str, Any]]] = {}
    for cls, records in raw.items():
        info = datamodel().find_class(cls)
        if cls not in scope or info is None:
            out[cls] = records
            continue
        keep = compile_filter(scope[cls], info)
        out[cls] = {ref: rec for ref, rec in records.items() if keep(rec)}
    return PoolSnapshot.from_records(out)


def outcome(desired: DesiredState, snap: PoolSnapshot) -> tuple[Any, ...]:
    """Everything a run decides from a read: the plan (or its refusal), each step's pre-write
    check, and what verify would find."""
    try:
        plan = diff(desired, snap)
    except PlanError as exc:
        return ("refused", str(exc), [str(m) for m in mismatches(desired, snap)])
    ctx = RunContext(conn=None)  # type: ignore[arg-type]  # preconditions send nothing
    checks = [s.precondition(snap, ctx) for s in plan.steps if isinstance(s, XapiStep)]
    return ([s.describe() for s in plan.steps], [n.describe() for n in plan.noops],
            list(plan.warnings), [d.describe() for d in plan.deferred], checks,
            [str(m) for m in mismatches(desired, snap)])


def recipes(raw: Raw) -> list[DesiredState]:
    pifs = raw.get("PIF", {}).values()
    devices = sorted({str(p["device"]) for p in pifs} | {"eth9"})
    tags = sorted({int(v["tag"]) for v in raw.get("VLAN", {}).values()} | {905})
    out = []
    for device in devices:
        for tag in tags:
            for adopt in (False, True):
                out.append(ensure_vlan_network(f"VLAN {tag}", tag, device=device, adopt=adopt))
        out.append(ensure_vlan_network("other name", tags[0], device=device))
    out.append(ensure_vlan_network("A", tags[0], device="eth1").merged(
        ensure_vlan_network("B", 905, device="eth2")))
    return out


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_a_scoped_read_plans_checks_and_verifies_as_a_whole_read(case: str) -> None:
    raw: Raw = json.loads((CASES / case / "current.json").read_text())
    whole = PoolSnapshot.from_records(raw)
    compared = 0
    for desired in recipes(raw):
        scope = read_scope(desired)
        assert set(scope) == {"PIF", "VLAN"}
        part = scoped(raw, scope)
        assert closed(part)
        assert outcome(desired, part) == outcome(desired, whole), (case, desired)
        compared += 1
    assert compared > 10


def test_a_scope_reads_fewer_records_on_a_pool_with_many_vlans() -> None:
    raw: Raw = json.loads((CASES / "tag_used_by_two_networks" / "current.json").read_text())
    part = scoped(raw, read_scope(ensure_vlan_network("X", 905, device="eth1")))
    assert 0 < len(part.pifs) < len(raw["PIF"])
    assert not part.vlans and raw["VLAN"]


def test_recipes_a_scope_cannot_hold_are_read_whole() -> None:
    assert read_scope(ensure_vm_attached("vm-1", "net")) == {}
    assert read_scope(ensure_network("plain")) == {}
    assert read_scope(ensure_vlan_network("V", 5, device="eth1", mtu=9000)) == {}
    assert read_scope(ensure_vlan_network("V", 5, bond="bond")) == {}
    quoted = NetworkSpec("V", vlan=5, device='et"h1')  # no literal spells it (not a device)
    assert read_scope(DesiredState(networks=(quoted,))) == {}
    assert read_scope(DesiredState()) == {}
    vlan = ensure_vlan_network("V", 5, device="eth1")
    assert read_scope(vlan) != {}
    for other in ("bonds", "vifs", "interfaces"):  # any other section: read whole
        attached = ensure_vm_attached("vm-1", "V")
        mixed = replace(vlan, **{other: attached.vifs if other == "vifs" else (
            object(),)})
        assert read_scope(mixed) == {}, other
    assert read_scope(replace(vlan, management=object())) == {}  # type: ignore[arg-type]


def test_a_read_that_misses_what_its_scope_promises_is_not_closed() -> None:
    raw: Raw = json.loads((CASES / "vlan_already_in_place" / "current.json").read_text())
    whole = PoolSnapshot.from_records(raw)
    assert closed(whole)
    vlan = next(iter(whole.vlans.values()))
    pifs = {r: p for r, p in whole.pifs.items() if r != vlan.untagged_pif}
    assert not closed(PoolSnapshot(pools=whole.pools, pifs=pifs, vlans=whole.vlans))
