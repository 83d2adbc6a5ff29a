"""Every docs/examples/*.py run as a script (``python example.py``) writes only to temporary
directories: not to the user's home (pools.toml, known hosts, state) nor to the directory it
runs in (issue 10, clause 9: library_profiles.py once wrote into the real pools.toml)."""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.py"))
PASSWORD = "xapictl"
# Examples that write where their command line tells them (and nowhere else).
TOLD_WHERE = {"cmdb_sync.py": "its CMDB path is a required argument"}
# Examples that need a service this test does not start (run by that service's own tier).
RUN_ELSEWHERE = {"netbox_sync.py": "needs a running NetBox: tests/netbox/test_netbox_sync.py"}


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


@pytest.fixture
def tls_server() -> Iterator[Any]:
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer

    sim = Simulator(password=PASSWORD)
    sim.reset(scenario="seed")
    with SimServer(sim, tls=True) as server:
        yield server
    sim.close()


def test_every_example_is_covered() -> None:
    assert EXAMPLES and {p.name for p in EXAMPLES} >= set(TOLD_WHERE) | set(RUN_ELSEWHERE)


@pytest.mark.parametrize("example", [p for p in EXAMPLES
                                     if p.name not in TOLD_WHERE and p.name not in RUN_ELSEWHERE],
                         ids=lambda p: p.name)
def test_an_example_run_as_a_script_writes_only_to_temporary_directories(
        example: Path, sim_server: Any, tls_server: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    home, cwd = Path(os.environ["HOME"]), tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", [str(example)])
    url = tls_server.url if example.name == "library_tls.py" else sim_server.url
    for name, value in (("XAPI_URL", url), ("XAPI_PASSWORD", PASSWORD),
                        ("LAB_XAPI_PASSWORD", PASSWORD),
                        ("XAPI_FINGERPRINT", tls_server.fingerprint)):
        monkeypatch.setenv(name, value)
    before = _files(home)
    runpy.run_path(str(example), run_name="__main__")
    assert _files(home) == before
    assert _files(cwd) == set()
