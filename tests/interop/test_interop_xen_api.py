"""Xen Orchestra's ``xen-api`` npm client against the simulator (CLIENTS §6): the strictest
referee for content types, compact XML, JSON-RPC ids, HOST_IS_SLAVE and task events.

The client is installed at test time into a cache dir (``~/.cache/xapictl-interop``) and the
test is skipped, with the reason, when node/npm are missing or the install fails offline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.requires_node, pytest.mark.slow]

XEN_API_VERSION = "4.7.6"
PROBE = Path(__file__).with_name("interop_xen_api_probe.mjs")


@pytest.fixture(scope="module")
def xen_api_dir(interop_cache: Path, interop_cache_lock) -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the xen-api interop test")
    scratch = interop_cache / f"xen-api-{XEN_API_VERSION}"
    marker = scratch / "node_modules" / "xen-api" / "package.json"
    with interop_cache_lock(scratch.name):
        _install_xen_api(npm, scratch, marker)
        # atomically: a probe running from another worker or checkout reads a whole file
        partial = scratch / f".{PROBE.name}.{os.getpid()}"
        shutil.copy(PROBE, partial)
        os.replace(partial, scratch / PROBE.name)
    return scratch


def _install_xen_api(npm: str, scratch: Path, marker: Path) -> None:
    if not marker.exists():
        scratch.mkdir(parents=True, exist_ok=True)
        (scratch / "package.json").write_text('{"name": "xapictl-interop", "private": true}')
        try:
            subprocess.run([npm, "install", "--no-audit", "--no-fund",
                            f"xen-api@{XEN_API_VERSION}"], cwd=scratch, check=True,
                           capture_output=True, timeout=300)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            output = getattr(exc, "stderr", b"") or b""
            pytest.skip(f"npm install xen-api failed (offline?): {output.decode()[-300:]}")


def run_probe(directory: Path, url: str, transport: str, mode: str) -> dict:
    done = subprocess.run(["node", PROBE.name, url, transport, mode], cwd=directory,
                          capture_output=True, text=True, timeout=90, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no output from the probe: {done.stdout}\n{done.stderr}"
    result = json.loads(lines[-1])
    assert "fatal" not in result and "timeout" not in result, (result, done.stderr)
    return result


def seed_network_names(sim) -> list[str]:
    with sim.state.lock:
        return sorted(r["name_label"] for r in sim.state.all("network").values())


@pytest.mark.parametrize("transport", ["json-rpc", "xml-rpc"])
def test_xen_api_connects_lists_networks_and_reads_errors(xen_api_dir, sim, sim_server,
                                                          transport):
    result = run_probe(xen_api_dir, sim_server.url, transport, "plain")
    assert result["networks"] == seed_network_names(sim)
    assert result["error"] == ["HANDLE_INVALID", "network", "OpaqueRef:nope"]
    # ints are numbers over JSON-RPC and strings over XML-RPC, as from real xapi
    assert result["mtu"] == (1500 if transport == "json-rpc" else "1500")
    protocols = {entry["protocol"] for entry in sim_server.control.request_log()}
    assert protocols == {"jsonrpc" if transport == "json-rpc" else "xmlrpc"}


@pytest.mark.parametrize("transport", ["json-rpc", "xml-rpc"])
def test_xen_api_follows_host_is_slave_to_the_master(xen_api_dir, sim, sim_server, transport):
    member = next(url for url in sim_server.urls.values() if url != sim_server.url)
    result = run_probe(xen_api_dir, member, transport, "plain")
    assert result["hostname"] == "127.0.0.1"
    assert result["networks"] == seed_network_names(sim)
    outcomes = [(e["host"], e["method"], e["outcome"]) for e in sim_server.control.request_log()]
    assert outcomes[0][1:] == ("session.login_with_password", "HOST_IS_SLAVE")
    assert outcomes[1] == ("127.0.0.1", "session.login_with_password", "success")


@pytest.mark.parametrize("transport", ["json-rpc", "xml-rpc"])
def test_xen_api_event_round_and_call_async_complete(xen_api_dir, sim, sim_server, transport):
    result = run_probe(xen_api_dir, sim_server.url, transport, "events")
    assert result["eventSeen"] == "from-node"
    assert result["asyncResult"].startswith("OpaqueRef:")
    assert result["asyncName"] == "async-node"
    methods = sim_server.control.methods_called()
    assert "event.from" in methods and "Async.network.create" in methods
    assert "task.destroy" in methods or "task.destroy" in _later_calls(sim_server)


def test_xen_api_with_default_events_fetches_every_class_and_follows_events(xen_api_dir, sim,
                                                                          sim_server):
    result = run_probe(xen_api_dir, sim_server.url, "json-rpc", "all-events")
    assert result["eventSeen"] == "from-node" and result["asyncName"] == "async-node"
    assert {"VM", "VIF", "PIF", "host", "network", "pool"} <= set(result["cachedTypes"])
    # removed classes (VBD_metrics, VIF_metrics, VMPP) answer MESSAGE_REMOVED, as xapi does
    failed = [e["method"] for e in sim_server.control.request_log()
              if e["method"].endswith(".get_all_records")
              and e["outcome"] not in ("success", "MESSAGE_REMOVED")]
    assert failed == []


def test_xen_api_over_https_with_a_self_signed_certificate(xen_api_dir, sim):
    from xapictl.sim.server import SimServer

    with SimServer(sim, tls=True) as server:
        result = run_probe(xen_api_dir, server.url, "json-rpc", "plain")
    assert result["networks"] == seed_network_names(sim)


def _later_calls(sim_server) -> list[str]:
    # xen-api destroys the task without waiting; give it a moment to arrive
    import time

    for _ in range(20):
        methods = sim_server.control.methods_called()
        if "task.destroy" in methods:
            return methods
        time.sleep(0.1)
    return sim_server.control.methods_called()
