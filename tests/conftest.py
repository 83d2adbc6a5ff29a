"""Shared fixtures: an isolated environment for every test, and a simulated pool to talk to.

* ``sim``: a fresh ``Simulator`` holding the ``seed`` scenario (3 hosts).
* ``sim_server``: that simulator served on 127.0.0.1 (and 127.0.0.2 … for members), port 0.
* ``xenapi_session``: the official ``XenAPI.Session`` logged in as root on ``sim_server``.
* ``jsonrpc``: ``jsonrpc("network.get_all", session)`` over ``POST /jsonrpc`` with httpx;
  returns the result or raises ``SimFailure`` with the error code and parameters.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

SIM_PASSWORD = "xapictl"

# Property tests draw the same examples on every run (a run is a verdict on the commit, not a
# lottery: an input found on one CI run only would make it flaky). Explore with fresh random
# examples on purpose: XAPICTL_HYPOTHESIS=explore (then add what it finds as an @example).
settings.register_profile("fixed", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("XAPICTL_HYPOTHESIS", "fixed"))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (what ``nox -s tests`` passes): two workers per core this process may use.
    The suite mostly waits (injected latency, subprocesses, timers; about a third of its wall
    time in one process is CPU), so one worker per core leaves the cores half idle."""
    return 2 * len(os.sched_getaffinity(0))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``requires_root`` skips, with the reason, when not root (not just a label)."""
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root: creates network namespaces (requires_root)")
    for item in items:
        if item.get_closest_marker("requires_root") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real HOME/XDG dirs, or sees the caller's XAPICTL_*."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache"),
                      ("XDG_DATA_HOME", ".local/share"), ("XDG_STATE_HOME", ".local/state")):
        monkeypatch.setenv(name, str(home / sub))
    for name in [n for n in os.environ if n.startswith("XAPICTL_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def sim() -> Iterator[Any]:
    """A fresh simulator with the ``seed`` scenario."""
    from xapictl.sim.engine import Simulator

    simulator = Simulator(password=SIM_PASSWORD)
    simulator.reset(scenario="seed")
    yield simulator
    simulator.close()


@pytest.fixture
def sim_server(sim: Any) -> Iterator[Any]:
    """``sim`` served on loopback, port 0; stopped after the test."""
    from xapictl.sim.server import SimServer

    with SimServer(sim) as server:
        yield server


@pytest.fixture
def xenapi_session(sim_server: Any) -> Iterator[Any]:
    """The official XenAPI client, logged in as root."""
    import XenAPI

    session = XenAPI.Session(sim_server.url)
    session.login_with_password("root", SIM_PASSWORD, "2.21", "xapictl-tests")
    try:
        yield session
    finally:
        try:
            session.xenapi.session.logout()
        finally:
            session("close")()  # ServerProxy's way to close the keep-alive connection


@pytest.fixture
def jsonrpc(sim_server: Any) -> Iterator[Callable[..., Any]]:
    """``call(method, *params)`` over JSON-RPC v2; ``SimFailure`` on an XAPI error."""
    import httpx

    from xapictl.sim.errors import SimFailure

    with httpx.Client(base_url=sim_server.url, timeout=30) as client:
        def call(method: str, *params: Any) -> Any:
            reply = client.post("/jsonrpc", json={"jsonrpc": "2.0", "method": method,
                                                  "params": list(params), "id": 1})
            reply.raise_for_status()
            body = reply.json()
            if "error" in body:
                raise SimFailure(body["error"]["message"], *body["error"]["data"])
            return body["result"]

        yield call


@pytest.fixture(scope="session")
def interop_cache() -> Path:
    """Where heavy third-party test tools are cached between runs (outside the fake HOME).
    Shared by parallel workers and other checkouts: fill it under ``cache_lock``."""
    return _REAL_CACHE / "xapictl-interop"


@pytest.fixture(scope="session")
def interop_cache_lock(
        interop_cache: Path) -> Callable[[str], contextlib.AbstractContextManager[None]]:
    """``with interop_cache_lock("xen-api"):`` holds an exclusive lock on that entry of the
    cache (one filler at a time, whichever worker, whichever checkout); the others wait, then
    find it filled."""

    @contextlib.contextmanager
    def hold(name: str) -> Iterator[None]:
        interop_cache.mkdir(parents=True, exist_ok=True)
        with open(interop_cache / f"{name}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    return hold


_REAL_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
