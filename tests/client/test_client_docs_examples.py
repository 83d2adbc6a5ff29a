"""Every example of docs/library.md is a real file and runs against the simulator."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from client_helpers import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
GUIDE = ROOT / "docs" / "library.md"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MINE = {f"library_{name}.py" for name in
        ("connect", "profiles", "tls", "errors", "tasks", "snapshots", "lease")}


def test_the_guide_includes_every_example_run_here_and_only_real_files() -> None:
    included = set(re.findall(r'--8<-- "docs/examples/(library_\w+\.py)"', GUIDE.read_text()))
    on_disk = {p.name for p in EXAMPLES.glob("library_*.py")}
    assert included == MINE
    assert included <= on_disk


def test_connect_example(transport: Any, protocol: str) -> None:
    lines = _load("library_connect").main("http://127.0.0.1", PASSWORD, transport=transport,
                                          protocol=protocol)
    assert "created storage" in lines and "MTU 9000" in lines


def test_profiles_example(transport: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_XAPI_PASSWORD", PASSWORD)
    out = _load("library_profiles").main("http://127.0.0.1", tmp_path / "pools.toml",
                                         transport=transport)
    assert out == ["lab", "3 hosts"]


def test_tls_example(sim: Any, tmp_path: Path) -> None:
    from xapictl.sim.server import SimServer

    with SimServer(sim, tls=True) as server:
        out = _load("library_tls").main(server.url, PASSWORD, server.fingerprint,
                                        tmp_path / "known_hosts")
    assert out[0] == "refused: TLSError"
    assert out[2] == "remembered" and out[3].startswith("changed certificate refused")


def test_errors_example(transport: Any, protocol: str) -> None:
    out = _load("library_errors").main("http://127.0.0.1", PASSWORD, transport=transport,
                                       protocol=protocol)
    assert out[0].startswith("HANDLE_INVALID")
    assert out[1].startswith("VLAN_TAG_INVALID: ")
    assert out[2] == "network True"


def test_tasks_example(sim: Any, transport: Any, protocol: str) -> None:
    sim.task_delay = 0.5
    out = _load("library_tasks").main("http://127.0.0.1", PASSWORD, transport=transport,
                                      protocol=protocol)
    assert out == ["created async-net", "task failed: VLAN_TAG_INVALID", "cancelled"]


def test_snapshots_example(transport: Any, protocol: str) -> None:
    out = _load("library_snapshots").main("http://127.0.0.1", PASSWORD, transport=transport,
                                          protocol=protocol)
    assert any("eth1 carries VLANs" in line for line in out)
    assert out[-1] == "live sees it: seen-by-live"


def test_lease_example(transport: Any, protocol: str) -> None:
    out = _load("library_lease").main("http://127.0.0.1", PASSWORD, transport=transport,
                                      protocol=protocol)
    assert out == ["locked: nightly CMDB sync", "applied True"]
