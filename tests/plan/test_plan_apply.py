"""Apply against the simulator through the real client: pre-flight before any write, drift
instead of forcing, stop at the first failure with a report, lost answers resolved by
re-reading, an audit line per write with no secret in it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "recipes"))
from recipes_simpool import SimPool

from xapictl.errors import ApplyError, PreflightError
from xapictl.plan.apply import apply
from xapictl.plan.audit import AuditLog
from xapictl.plan.backend import XapiBackend
from xapictl.plan.core import StepStatus
from xapictl.plan.diff import diff
from xapictl.recipes import ensure_vlan_network, ensure_vm_attached

VLAN105 = ensure_vlan_network("VLAN 105", 105, device="eth1")


def networks_named(pool: SimPool, name: str) -> list[str]:
    return pool.snapshot().networks_named(name)


def test_role_too_weak_is_refused_before_any_write() -> None:
    pool = SimPool(users={"alice": "vm-admin"})
    with pytest.raises(PreflightError) as info:
        pool.converge(VLAN105, username="alice")
    assert "pool.create_VLAN_from_PIF (needs pool-operator or above)" in str(info.value)
    assert pool.writes() == []


def test_precondition_drift_is_reported_not_forced() -> None:
    pool = SimPool()
    with pool.connect() as conn:
        backend = XapiBackend(conn)
        plan = diff(VLAN105, backend.collect())
        trunk = backend.collect().pif_on(backend.collect().master, "eth1")
        other = conn.call("network.create", {"name_label": "by hand", "other_config": {}})
        conn.call("VLAN.create", trunk, 105, other)
        pool.clear()
        report = apply(plan, backend)
    assert [r.status for r in report.results] == [StepStatus.DONE, StepStatus.DRIFT]
    assert "appeared" in report.results[1].detail
    assert pool.writes() == ["network.create"]


def test_apply_stops_at_first_failure_and_rerun_converges_without_duplicates() -> None:
    pool = SimPool()
    pool.control.inject_fault("pool.create_VLAN_from_PIF", "error",
                              error=("INTERNAL_ERROR", "boom"), times=1)
    with pytest.raises(ApplyError) as info:
        pool.converge(VLAN105.merged(ensure_vm_attached("web-01", "VLAN 105")))
    report = info.value.report
    assert [r.status for r in report.results] == [
        StepStatus.DONE, StepStatus.FAILED, StepStatus.NOT_RUN, StepStatus.NOT_RUN]
    assert "INTERNAL_ERROR" in report.results[1].detail
    result = pool.converge(VLAN105)
    assert result.replan is not None and result.replan.is_empty
    assert len(networks_named(pool, "VLAN 105")) == 1


def test_lost_answer_after_commit_is_resolved_by_reading_not_resending() -> None:
    pool = SimPool()
    pool.control.inject_fault("network.create", "drop_after", times=1)
    result = pool.converge(VLAN105)
    assert result.report.ok
    assert "re-read shows it done" in result.report.results[0].detail
    assert len(networks_named(pool, "VLAN 105")) == 1
    assert pool.control.methods_called().count("network.create") == 1


def test_lost_request_before_sending_is_sent_once_after_checking() -> None:
    pool = SimPool()
    pool.control.inject_fault("pool.create_VLAN_from_PIF", "drop_before", times=1)
    result = pool.converge(VLAN105)
    assert result.report.ok and result.replan is not None and result.replan.is_empty
    assert pool.writes() == ["network.create", "pool.create_VLAN_from_PIF"]


def test_audit_log_has_a_json_line_per_write_and_no_secret(tmp_path: Path) -> None:
    secret = "s3cret-Pa55word"
    pool = SimPool(password=secret)
    log = tmp_path / "audit.jsonl"
    audit = AuditLog(log)
    with pool.connect() as conn:
        from xapictl.plan.apply import converge

        converge(VLAN105, XapiBackend(conn, audit=audit))
    audit.close()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["method"] for r in lines] == ["network.create", "pool.create_VLAN_from_PIF"]
    assert all(r["outcome"] == "ok" and r["step"] for r in lines)
    assert secret not in log.read_text()
