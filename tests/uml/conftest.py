"""The UML tier: these tests need 802.1Q, bonding and bridge VLAN filtering, which only the
User-Mode Linux test kernel has here. On the host they skip with the command that runs them;
``harness.py`` boots UML and runs them with IN_TEST_VM=1."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "local"))

from local_netns_helpers import IS_ROOT, Namespaces

IN_VM = os.environ.get("IN_TEST_VM") == "1"


def pytest_collection_modifyitems(config, items):
    if IN_VM:
        return
    skip = pytest.mark.skip(
        reason="needs the UML kernel (802.1Q, bonding, VLAN filtering):"
        " python tests/uml/harness.py"
    )
    for item in items:
        if item.get_closest_marker("uml") is not None:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Inside UML nothing may skip: a skipped tier test is a tier that did not run, and CI
    must go red for it, not green."""
    outcome = yield
    report = outcome.get_result()
    if IN_VM and report.skipped and item.get_closest_marker("uml") is not None:
        report.outcome = "failed"
        report.longrepr = f"skipped inside UML, which counts as a failure: {report.longrepr}"


@pytest.fixture(autouse=True)
def local_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XAPICTL_LOCAL_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("XAPICTL_LOCAL_LOCK_DIR", str(tmp_path / "lock"))
    return tmp_path


@pytest.fixture
def namespaces() -> Iterator[Namespaces]:
    if not IS_ROOT:
        pytest.skip("needs root to create network namespaces")
    ns = Namespaces()
    try:
        yield ns
    finally:
        ns.cleanup()
