"""``--insecure`` says so on stderr in one plain line, every run, without Python's warning
format (no source file, no category name)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner


@pytest.fixture
def tls_url(sim: Any) -> Iterator[str]:
    from xapictl.sim.server import SimServer

    with SimServer(sim, tls=True) as server:
        yield server.url


def test_insecure_prints_one_clean_warning_line_per_run(tls_url: str) -> None:
    from xapictl.cli import app

    env = {"XAPICTL_URL": tls_url, "XAPICTL_PASSWORD": "xapictl"}
    for _ in range(2):
        done = CliRunner().invoke(app, ["--insecure", "network", "list"], env=env)
        assert done.exit_code == 0, done.stderr
        lines = [line for line in done.stderr.splitlines() if "insecure" in line.lower()]
        assert lines == [lines[0]] and lines[0].startswith("xapictl: warning: TLS certificate")
        assert "InsecureTLSWarning" not in done.stderr and ".py:" not in done.stderr
