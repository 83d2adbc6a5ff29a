"""Apply against the simulator through the real client: pre-flight before any write, drift
instead of forcing, stop at the first failure with a report, lost answers resolved by
re-reading, an audit line per write with no secret in it."""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

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


def _vlan105_by_hand(conn: object, name: str = "VLAN 105") -> None:
    call = conn.call  # type: ignore[attr-defined]
    snap = conn.snapshot()  # type: ignore[attr-defined]
    net = call("network.create", {"name_label": name, "other_config": {}})
    call("VLAN.create", snap.pif_on(snap.master, "eth1"), 105, net)


def test_drift_between_plan_and_apply_writes_nothing_and_the_rerun_adopts() -> None:
    """A VLAN 105 made by hand after planning: every precondition is checked against a fresh
    read before the first write, so no orphan network is left to make the re-run ambiguous."""
    pool = SimPool()
    with pool.connect() as conn:
        backend = XapiBackend(conn)
        plan = diff(VLAN105, backend.collect())
        _vlan105_by_hand(conn)
        pool.clear()
        report = apply(plan, backend)
    assert [r.status for r in report.results] == [StepStatus.NOT_RUN, StepStatus.DRIFT]
    assert "VLAN 105 appeared on the trunk since planning" in report.results[1].detail
    assert pool.writes() == []
    with pytest.raises(PreflightError, match="adopt"):
        pool.converge(VLAN105)
    result = pool.converge(ensure_vlan_network("VLAN 105", 105, device="eth1", adopt=True))
    assert result.replan is not None and result.replan.is_empty
    assert len(networks_named(pool, "VLAN 105")) == 1


def test_converge_never_checks_against_the_planning_snapshot() -> None:
    pool = SimPool()
    with pool.connect() as conn:
        from xapictl.plan.apply import converge

        backend = XapiBackend(conn)
        collect = backend.collect

        def collect_then_change(classes: object = None) -> object:
            snap = collect(classes)  # type: ignore[arg-type]
            if backend.collect is collect_then_change:  # only the planning read
                backend.collect = collect  # type: ignore[method-assign]
                _vlan105_by_hand(conn)
            return snap

        backend.collect = collect_then_change  # type: ignore[method-assign]
        with pytest.raises(ApplyError, match="nothing was written") as info:
            converge(VLAN105, backend)
    assert "create VLAN pool-wide network 'VLAN 105': VLAN 105 appeared" in str(info.value)
    assert info.value.report.done == []  # type: ignore[attr-defined]
    assert networks_named(pool, "VLAN 105") != [] and all(
        "xapictl.owner" not in pool.snapshot().networks[n].other_config
        for n in networks_named(pool, "VLAN 105"))


def _vlan105_behind_the_client(pool: SimPool, name: str) -> None:
    """``_vlan105_by_hand`` straight into the simulator (no request, so no request hook)."""
    def call(method: str, *params: object) -> Any:
        return pool.sim.call(method, list(params), protocol="jsonrpc")

    session = call("session.login_with_password", "root", pool.password, "2.21", "test")
    master = next(iter(call("pool.get_all_records", session).values()))["master"]
    trunk = next(ref for ref, pif in call("PIF.get_all_records", session).items()
                 if pif["host"] == master and pif["device"] == "eth1"
                 and int(pif["VLAN"]) == -1)
    net = call("network.create", session, {"name_label": name, "other_config": {}})
    call("VLAN.create", session, trunk, 105, net)
    call("session.logout", session)


def test_a_later_step_is_checked_against_what_the_pool_is_when_it_runs() -> None:
    """Drift that happens during apply, after the first write was sent, stops the next step.
    Step 2's re-check read goes beside network.create, which cannot change the PIFs and VLANs
    it looks at: the VLAN is made by hand as the first request of that round trip arrives,
    and none of them is answered before it is made."""
    pool = SimPool()
    before_call = pool.control.before_call
    reads: Counter[str] = Counter()
    lock = threading.Lock()
    done = threading.Event()

    def meddle_at_the_recheck(host_address: str, method: str, **kw: Any) -> object:
        if method in ("PIF.get_all_records_where", "VLAN.get_all_records_where", "event.from",
                      "network.create"):
            with lock:  # the other requests of that round trip wait until the VLAN is made
                reads[method] += 1
                # After the plan's read and the pre-write read: network.create and step 2's
                # re-check (the changes since the pre-write read, or PIFs and VLANs again).
                if not done.is_set() and (reads[method] == 3 or method in (
                        "event.from", "network.create")):
                    _vlan105_behind_the_client(pool, "by hand")
                    done.set()
        return before_call(host_address, method, **kw)

    pool.control.before_call = meddle_at_the_recheck  # type: ignore[method-assign]
    with pytest.raises(ApplyError, match="apply stopped at") as info:
        pool.converge(VLAN105)
    assert done.is_set()
    report = info.value.report
    assert [r.status for r in report.results] == [StepStatus.DONE, StepStatus.DRIFT]
    assert "VLAN 105 appeared on the trunk since planning" in report.results[1].detail
    assert "pool.create_VLAN_from_PIF" not in pool.control.methods_called()


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
    # Written ahead: each write's intent, then its outcome, with the same run and number.
    assert [(r["method"], r["outcome"], r["write"]) for r in lines] == [
        ("network.create", "intent", 1), ("network.create", "ok", 1),
        ("pool.create_VLAN_from_PIF", "intent", 2), ("pool.create_VLAN_from_PIF", "ok", 2)]
    assert all(r["step"] and r["run"] == lines[0]["run"] for r in lines)
    assert all(r["client"] and r["host"] for r in lines)
    assert secret not in log.read_text()


class _InterruptAfter:
    """A connection whose ``n``-th write takes effect, then Ctrl-C lands before its answer is
    used."""

    def __init__(self, conn: object, n: int) -> None:
        self.conn, self.n, self.writes = conn, n, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.conn, name)

    def call(self, method: str, *args: object) -> object:
        result = self.conn.call(method, *args)  # type: ignore[attr-defined]
        from xapictl.plan.audit import is_write

        if is_write(method):
            self.writes += 1
            if self.writes == self.n:
                raise KeyboardInterrupt
        return result


def test_ctrl_c_after_a_write_is_apply_interrupted_with_the_report() -> None:
    """The library's contract: still a KeyboardInterrupt (``except KeyboardInterrupt`` keeps
    working), and an ApplyError whose report says done / interrupted / not run."""
    from xapictl.errors import ApplyInterrupted
    from xapictl.plan.apply import converge

    pool = SimPool()
    with pool.connect() as conn:
        backend = XapiBackend(_InterruptAfter(conn, 1))  # type: ignore[arg-type]
        with pytest.raises(ApplyInterrupted) as info:
            converge(VLAN105, backend)
    assert isinstance(info.value, KeyboardInterrupt) and isinstance(info.value, ApplyError)
    report = info.value.report
    assert [r.status for r in report.results] == [StepStatus.INTERRUPTED, StepStatus.NOT_RUN]
    assert report.writes == 1 and not report.done
    assert [(r["method"], r["outcome"]) for r in backend.audit.records] == [
        ("network.create", "intent"), ("network.create", "unknown")]
    assert pool.writes() == ["network.create"]


def test_ctrl_c_before_any_write_stays_a_plain_keyboard_interrupt() -> None:
    from xapictl.errors import ApplyInterrupted
    from xapictl.plan.apply import converge

    class Interrupting:
        """Ctrl-C during apply's fresh read, before the first write (a Ctrl-C during a write
        call is not "before": the request may have left)."""

        def __init__(self, conn: object) -> None:
            self.conn, self.reads = conn, 0

        def __getattr__(self, name: str) -> object:
            return getattr(self.conn, name)

        def _count(self) -> None:
            self.reads += 1
            if self.reads == 2:
                raise KeyboardInterrupt

        def snapshot(self) -> object:
            self._count()
            return self.conn.snapshot()  # type: ignore[attr-defined]

        def read_all(self, classes: list[str], **scope: object) -> object:  # converge's reads
            self._count()
            return self.conn.read_all(classes, **scope)  # type: ignore[attr-defined]

        def read_all_with_permissions(self, classes: list[str], **scope: object) -> object:
            self._count()
            return self.conn.read_all_with_permissions(  # type: ignore[attr-defined]
                classes, **scope)

    pool = SimPool()
    with pool.connect() as conn:
        backend = XapiBackend(Interrupting(conn))  # type: ignore[arg-type]
        with pytest.raises(KeyboardInterrupt) as info:
            converge(VLAN105, backend)
    assert not isinstance(info.value, ApplyInterrupted)
    assert pool.writes() == []
