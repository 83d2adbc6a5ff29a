"""Helpers of the Ansible tests (fixtures in conftest.py): the environment of one isolated
ansible run, its results, simulated seed pools on loopback, and what the pools got.

Every run is isolated: its own ``HOME``, Ansible temp folders and audit log under the test's
``tmp_path`` (worker-safe). Modules run with the controller's Python (the implicit
localhost, or ``ansible_python_interpreter={{ ansible_playbook_python }}``), the one where
xapictl is importable.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xapictl.ansible_collection import collection_root

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Not "xapictl": Ansible masks every occurrence of a no_log value in its output, and the
# ownership mark xapictl writes is the word "xapictl".
PASSWORD = "sim-Pw-7731"


def ansible_bin(name: str) -> Path | None:
    """``ansible-playbook`` (…) of the running venv, else on PATH."""
    local = BIN / name
    if local.exists():
        return local
    found = shutil.which(name)
    return Path(found) if found else None


@dataclass
class Played:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        """The json callback's document (``callback="json"``)."""
        data: dict[str, Any] = json.loads(self.stdout)
        return data

    def task(self, name: str, host: str = "localhost") -> dict[str, Any]:
        """The result of the task named ``name`` on ``host`` (json callback)."""
        for play in self.json()["plays"]:
            for task in play["tasks"]:
                if task["task"]["name"] == name and host in task["hosts"]:
                    result: dict[str, Any] = task["hosts"][host]
                    return result
        raise AssertionError(f"no task {name!r} on {host} in:\n{self.stdout[:3000]}")


def ansible_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of one isolated ansible run (collection in place, xapictl importable)."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    path = [str(ROOT), *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "XAPICTL_"))}
    env.update({
        "HOME": str(home), "PYTHONPATH": os.pathsep.join(path),
        "PATH": os.pathsep.join([str(BIN), env.get("PATH", "")]),
        "ANSIBLE_COLLECTIONS_PATH": str(collection_root()),
        "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-local"),
        "ANSIBLE_REMOTE_TEMP": str(tmp / "ansible-remote"),
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "XAPICTL_AUDIT_LOG": str(tmp / "audit.jsonl"),
    })
    env.update(extra)
    return env


def serve_seed_pools(count: int, scenario: str = "seed", **options: Any
                     ) -> Iterator[list[Any]]:
    """``count`` simulated pools of ``scenario`` (the seed: 3 hosts each), each served on
    loopback, port 0."""
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer

    sims, servers = [], []
    try:
        for _ in range(count):
            sim = Simulator(password=PASSWORD)
            sim.reset(scenario=scenario)
            sims.append(sim)
            servers.append(SimServer(sim, **options).start())
        yield servers
    finally:
        for server in servers:
            server.stop()
        for sim in sims:
            sim.close()


def writes(server: Any) -> list[str]:
    """Write calls that reached the pool and succeeded, in order (lease calls left out)."""
    from xapictl.client.lease import is_lease_call
    from xapictl.plan.audit import is_write

    return [e["method"] for e in server.control.request_log()
            if is_write(e["method"]) and e["outcome"] == "success"
            and not is_lease_call(e["method"], e["params"])]


def vlans_on_eth1(server: Any) -> dict[str, list[int]]:
    """Read with the official XenAPI client: network name -> VLAN tags of its eth1 PIFs, one
    per host."""
    import XenAPI

    session = XenAPI.Session(server.url)
    session.login_with_password("root", PASSWORD, "2.21", "xapictl-ansible-tests")
    try:
        x = session.xenapi
        networks = x.network.get_all_records()
        out: dict[str, list[int]] = {}
        for pif in x.PIF.get_all_records().values():
            if pif["device"] == "eth1" and int(pif["VLAN"]) >= 0:
                name = networks[pif["network"]]["name_label"]
                out.setdefault(name, []).append(int(pif["VLAN"]))
        return {k: sorted(v) for k, v in sorted(out.items())}
    finally:
        session.xenapi.session.logout()
        session("close")()
