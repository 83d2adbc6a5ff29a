"""The audit log records writes only, with secrets redacted, and exports per rollout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from xapictl.fleet.audit import REDACTED, AuditedCaller, export_audit, is_write
from xapictl.fleet.journal import Journal


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def call(self, method: str, *args: Any) -> Any:
        self.calls.append((method, args))
        if method == "VLAN.create" and args[1] == 4095:
            raise ValueError("VLAN_TAG_INVALID")
        return "OpaqueRef:new"


@pytest.mark.parametrize(("method", "write"), [
    ("VLAN.create", True), ("Async.network.set_MTU", True), ("PIF.plug", True),
    ("network.get_all_records", False), ("VIF.get_record", False), ("event.from", False),
    ("session.login_with_password", False), ("pool.get_master", False),
])
def test_writes_are_told_from_reads_by_method_name(method: str, write: bool) -> None:
    assert is_write(method) is write


def test_each_write_is_recorded_with_pool_host_call_args_result(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    conn = AuditedCaller(Recorder(), journal, pool="par1", rollout=7, host="10.1.0.1")
    conn.call("network.get_all_records")
    conn.call("VLAN.create", "OpaqueRef:pif", 105, "OpaqueRef:net")
    with pytest.raises(ValueError):
        conn.call("VLAN.create", "OpaqueRef:pif", 4095, "OpaqueRef:net")
    rows = journal.audit(7)
    assert [(r.pool, r.host, r.call, r.ok) for r in rows] == [
        ("par1", "10.1.0.1", "VLAN.create", True), ("par1", "10.1.0.1", "VLAN.create", False)]
    assert rows[0].args == ["OpaqueRef:pif", 105, "OpaqueRef:net"]
    assert rows[0].result == "OpaqueRef:new" and rows[1].result["error"] == "ValueError"
    assert journal.audit(8) == []


def test_secrets_never_reach_the_audit_log(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    conn = AuditedCaller(Recorder(), journal, pool="p", rollout=1, host="h")
    conn.call("pool.join", "10.0.0.9", "root", "hunter2")
    conn.call("network.set_other_config", "OpaqueRef:n", {"vpn_password": "hunter3", "a": "b"})
    text = export_audit(journal, 1, "json")
    assert "hunter2" not in text and "hunter3" not in text
    rows = json.loads(text)
    assert rows[0]["args"] == ["10.0.0.9", "root", REDACTED]
    assert rows[1]["args"][1] == {"vpn_password": REDACTED, "a": "b"}


def _parsed(text: str, fmt: str) -> list[dict[str, Any]]:
    """An export read back into the rows ``AuditRow.to_json`` gives."""
    import csv
    import io

    if fmt == "json":
        return list(json.loads(text))
    if fmt == "ndjson":
        return [json.loads(line) for line in text.splitlines()]
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == ["at", "rollout", "pool", "host", "call", "args", "result", "ok",
                                 "outcome", "user", "step", "sent", "url"]
    return [{**r, "rollout": int(r["rollout"]), "args": json.loads(r["args"]),
             "result": json.loads(r["result"]), "ok": {"True": True, "False": False}[r["ok"]]}
            for r in reader]


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv"])
def test_audit_exports_in_every_format(tmp_path: Path, fmt: str) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    conn = AuditedCaller(Recorder(), journal, pool="par1", rollout=1, host="10.1.0.1")
    conn.call("PIF.plug", "OpaqueRef:pif")
    with pytest.raises(ValueError):
        conn.call("VLAN.create", "OpaqueRef:pif", 4095, "OpaqueRef:net")
    AuditedCaller(Recorder(), journal, pool="par2", rollout=2, host="h").call("PIF.plug", "r")
    rows = _parsed(export_audit(journal, 1, fmt), fmt)
    assert rows == [r.to_json() for r in journal.audit(1)]  # every column, as recorded
    assert [(r["pool"], r["host"], r["call"], r["args"], r["ok"]) for r in rows] == [
        ("par1", "10.1.0.1", "PIF.plug", ["OpaqueRef:pif"], True),
        ("par1", "10.1.0.1", "VLAN.create", ["OpaqueRef:pif", 4095, "OpaqueRef:net"], False)]
    assert rows[0]["result"] == "OpaqueRef:new" and rows[1]["result"]["error"] == "ValueError"
    assert all(r["rollout"] == 1 and r["at"] for r in rows)
