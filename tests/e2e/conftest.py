"""The CLI against a simulator served on loopback, as a user types it: ``xapictl`` with
``XAPICTL_URL`` / ``XAPICTL_PASSWORD`` in the environment (CliRunner for speed; a few tests
run the real executable in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xapictl.client.lease import is_lease_call
from xapictl.plan.audit import is_write


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(sim_server: Any, tmp_path: Path) -> Callable[..., Ran]:
    """``cli("network", "create", ...)`` -> exit code, stdout, stderr."""
    from xapictl.cli import app

    env = {"XAPICTL_URL": sim_server.url, "XAPICTL_PASSWORD": "xapictl",
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}

    def run(*args: str, input: str | None = None, extra_env: dict[str, str] | None = None
            ) -> Ran:
        result = CliRunner().invoke(app, list(args), env={**env, **(extra_env or {})},
                                    input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Ran(result.exit_code, result.stdout, result.stderr)

    run.env = env  # type: ignore[attr-defined]
    return run


@pytest.fixture
def xapictl_exe(sim_server: Any, tmp_path: Path) -> Callable[..., Ran]:
    """The installed ``xapictl`` executable in a subprocess."""
    exe = Path(sys.executable).with_name("xapictl")

    def run(*args: str) -> Ran:
        env = {**os.environ, "XAPICTL_URL": sim_server.url, "XAPICTL_PASSWORD": "xapictl",
               "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
        done = subprocess.run([str(exe), *args], capture_output=True, text=True, env=env,
                              timeout=120, check=False)
        return Ran(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def writes(sim_server: Any) -> Callable[[], list[str]]:
    def get() -> list[str]:
        return [e["method"] for e in sim_server.control.request_log()
                if is_write(e["method"]) and e["outcome"] == "success"
                and not is_lease_call(e["method"], e["params"])]
    return get
