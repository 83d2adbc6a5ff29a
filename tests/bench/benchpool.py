"""A simulated pool served in its own process, and the runs the main-job benchmarks time.

The simulator runs in a forked process (its encoding must not share the client's GIL), on
loopback, with latency injected per call; its request log is read over ``/_sim/control``.
Every run is a separate program, as users run them: ``xapictl`` (``python -m xapictl``), the
5-call XenAPI script and the naive per-host loop (``scripts/``); each one's wall time and its
own CPU time are measured, and what it sent is counted from the request log.

Programs run with their bytecode compiled beforehand, as an installed package has it (pip
compiles on install): a source tree run with ``PYTHONDONTWRITEBYTECODE`` set compiles every
module it imports on every run, ~0.2 s of CPU that no user pays. The bytecode goes to the
pool's temporary directory (``PYTHONPYCACHEPREFIX``), never into the tree.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from benchdoc import Tally, Timed, spawn

PASSWORD = "xapictl"
SCRIPTS = Path(__file__).resolve().parent / "scripts"


def _serve(params: dict[str, Any], pipe: Any) -> None:
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer
    from xapictl.state.snapshot import SNAPSHOT_CLASSES

    started = time.perf_counter()
    sim = Simulator(password=PASSWORD)
    sim.reset(scenario="big", **params)
    counts = {c: sim.state.count(c) for c in ("host", "PIF", "network", "VLAN", "VM", "VIF")}
    counts["objects"] = sum(sim.state.count(c) for c in SNAPSHOT_CLASSES)
    with SimServer(sim) as server:
        pipe.send((server.url, counts, time.perf_counter() - started))
        pipe.recv()  # until the parent is done
    sim.close()


@dataclass
class Run:
    timed: Timed
    tally: Tally


class ServedPool:
    """``big`` with ``params``, served until the ``with`` block ends."""

    def __init__(self, latency_ms: float, **params: Any) -> None:
        self.latency_ms = latency_ms
        self.params = params
        self._home = tempfile.TemporaryDirectory(prefix="xapictl-bench-")

    def __enter__(self) -> ServedPool:
        self._parent, child = multiprocessing.Pipe()
        self._proc = multiprocessing.get_context("fork").Process(
            target=_serve, args=(self.params, child), daemon=True)
        self._proc.start()
        self.url, self.counts, self.built = self._parent.recv()
        self.http = httpx.Client(timeout=120)
        self.latency(self.latency_ms)
        # round trips counted from the log stay exact on a busy machine (sim.roundtrips);
        # the client sends a batch's requests at once, so holding their answers until the
        # last has been served adds at most the spread of that batch's own answers
        self.control("batch_gate", enabled=True)
        import xapictl

        subprocess.run([sys.executable, "-m", "compileall", "-q",
                        str(Path(xapictl.__file__).parent)], env=self.env(), check=True)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.http.close()
        self._parent.send("stop")
        self._proc.join(timeout=60)
        self._home.cleanup()

    # --- control ---------------------------------------------------------------------------

    def control(self, action: str, **args: Any) -> Any:
        reply = self.http.post(f"{self.url}/_sim/control", json={"action": action, **args})
        reply.raise_for_status()
        return reply.json()["result"]

    def latency(self, ms: float) -> None:
        self.control("latency", ms=ms)

    def log(self) -> list[dict[str, Any]]:
        return list(self.control("log"))

    # --- runs ------------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        home = self._home.name
        inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        return {**inherited, "HOME": home, "PYTHONPYCACHEPREFIX": str(Path(home) / "pycache"),
                "XAPICTL_URL": self.url,
                "XAPICTL_PASSWORD": PASSWORD, "XAPICTL_EMBEDDED": "never",
                "XAPICTL_AUDIT_LOG": str(Path(home) / "audit.jsonl"),
                "XAPICTL_EMBEDDED_STATE": str(Path(home) / "pool.sqlite"),
                "NO_COLOR": "1"}

    def run(self, argv: Sequence[str]) -> Run:
        """One program, timed, with what it sent (the log is cleared first)."""
        self.control("clear_log")
        timed = spawn(argv, env=self.env())
        return Run(timed, Tally.of(self.log()))

    def xapictl(self, *args: str) -> Run:
        return self.run([sys.executable, "-m", "xapictl", *args])

    def script(self, name: str, *args: str) -> Run:
        return self.run([sys.executable, str(SCRIPTS / name), self.url, PASSWORD, *args])

    def call(self, session: str, method: str, *args: Any) -> Any:
        body = self.http.post(f"{self.url}/jsonrpc", json={
            "jsonrpc": "2.0", "method": method, "params": [session, *args], "id": 1}).json()
        if "error" in body:
            raise RuntimeError(f"{method}: {body['error']}")
        return body["result"]

    def remove_network(self, name: str) -> None:
        """Undo a run (not timed, latency off): the network ``name`` and its VLANs."""
        self.latency(0)
        try:
            login = self.http.post(f"{self.url}/jsonrpc", json={
                "jsonrpc": "2.0", "method": "session.login_with_password",
                "params": ["root", PASSWORD], "id": 0}).json()["result"]
            for net in self.call(login, "network.get_by_name_label", name):
                for pif in self.call(login, "network.get_PIFs", net):
                    vlan = self.call(login, "PIF.get_VLAN_master_of", pif)
                    if vlan != "OpaqueRef:NULL":
                        self.call(login, "VLAN.destroy", vlan)
                self.call(login, "network.destroy", net)
            self.call(login, "session.logout")
        finally:
            self.latency(self.latency_ms)


def describe(counts: Mapping[str, int]) -> str:
    """``64 hosts, 1,012 PIFs, …`` (the classes a snapshot reads, all counted in objects)."""
    return ", ".join(f"{n:,} {c}s" if c != "objects" else f"{n:,} objects read by a snapshot"
                     for c, n in counts.items())
