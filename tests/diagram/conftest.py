"""Fixtures of the diagram tests (the pools are in diagram_pools)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from diagram_pools import build_rich


@pytest.fixture
def rich(sim: Any) -> Any:
    build_rich(sim)
    return sim


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str
    stdout_bytes: bytes


@pytest.fixture
def cli(sim_server: Any, tmp_path: Path) -> Callable[..., Ran]:
    """``cli("pool", "diagram", ...)`` against the simulator on loopback."""
    from typer.testing import CliRunner

    from xapictl.cli import app

    env = {"XAPICTL_URL": sim_server.url, "XAPICTL_PASSWORD": "xapictl",
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}

    def run(*args: str, extra_env: dict[str, str | None] | None = None) -> Ran:
        result = CliRunner().invoke(app, list(args), env={**env, **(extra_env or {})})
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Ran(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)

    return run
