"""Real ``ansible-playbook`` (ansible-core from PyPI, the ``test`` dependency group) runs the
collection ``xapictl.xen`` in place against simulated pools served on loopback.

Every run is isolated: its own ``HOME``, Ansible temp folders and audit log under the test's
``tmp_path`` (worker-safe). Modules run with the controller's Python (the implicit
localhost, ``ansible_python_interpreter={{ ansible_playbook_python }}``), the one where
xapictl is importable. The tests skip, with the reason, when ansible-core is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from xapictl.ansible_collection import collection_root

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSWORD = "xapictl"


def ansible_bin(name: str) -> Path | None:
    """``ansible-playbook`` (…) of the running venv, else on PATH."""
    local = BIN / name
    if local.exists():
        return local
    found = shutil.which(name)
    return Path(found) if found else None


if ansible_bin("ansible-playbook") is None:
    pytest.skip("ansible-core is not installed (pip install ansible-core; it is in the test "
                "dependency group)", allow_module_level=True)


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


@pytest.fixture
def playbook(tmp_path: Path) -> Callable[..., Played]:
    """``playbook(path_or_text, *args, callback="json", env={...})``: run ansible-playbook."""
    exe = ansible_bin("ansible-playbook")
    counter = iter(range(1000))

    def run(book: str | Path, *args: str, callback: str = "json",
            env: dict[str, str] | None = None, cwd: Path | None = None) -> Played:
        if isinstance(book, str):
            path = tmp_path / f"play-{next(counter)}.yml"
            path.write_text(book)
        else:
            path = book
        extra = {"ANSIBLE_STDOUT_CALLBACK": callback, **(env or {})}
        if callback == "json":
            extra["ANSIBLE_CALLBACK_RESULT_FORMAT"] = "json"
        done = subprocess.run([str(exe), str(path), *args], capture_output=True, text=True,
                              env=ansible_env(tmp_path, **extra), timeout=300, check=False,
                              cwd=cwd or tmp_path)
        return Played(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def pool_env(sim_server: Any) -> dict[str, str]:
    """The connection of the seed pool as the modules read it from the environment."""
    return {"XAPICTL_URL": sim_server.url, "XAPICTL_PASSWORD": PASSWORD}


@pytest.fixture
def three_pools() -> Iterator[list[Any]]:
    """Three simulated seed pools, each served on its own loopback port."""
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer

    servers = []
    try:
        for _ in range(3):
            sim = Simulator(password=PASSWORD)
            sim.reset(scenario="seed")
            servers.append(SimServer(sim).start())
        yield servers
    finally:
        for server in servers:
            server.stop()
