"""Fixtures for the local backend tests: namespaces made and removed by name, temp dirs for
undo files and locks, and a guard that the root namespace is unchanged afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_netns_helpers import IS_ROOT, Namespaces, XenHost, build_xen_host, root_fingerprint


@pytest.fixture(scope="module", autouse=True)
def root_namespace_unchanged() -> Iterator[None]:
    if not IS_ROOT:
        yield
        return
    before = root_fingerprint()
    yield
    assert root_fingerprint() == before, "a test changed the root network namespace"


@pytest.fixture(autouse=True)
def local_dirs(tmp_path, monkeypatch):
    """Undo files and locks go to the test's temp dir, never /run."""
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


@pytest.fixture
def xen_host(namespaces) -> XenHost:
    return build_xen_host(namespaces)
