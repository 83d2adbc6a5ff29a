"""TLS options of the CLI: ``--insecure`` says so on stderr in one plain line, every run,
without Python's warning format; ``--fingerprint`` repeats, one pin per pool member."""

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


def test_fingerprint_repeats_one_pin_per_member(sim: Any) -> None:
    from xapictl.cli import app
    from xapictl.sim.server import SimServer

    with SimServer(sim, tls="per-host") as server:
        member = server.url.replace("127.0.0.1", "127.0.0.2")
        env = {"XAPICTL_URL": member, "XAPICTL_PASSWORD": "xapictl"}
        alone = ["--fingerprint", server.fingerprints["127.0.0.2"]]
        refused = CliRunner().invoke(app, [*alone, "network", "list"], env=env)
        assert refused.exit_code != 0 and "--fingerprint HOST=SHA256" in refused.stderr
        both = [*alone, "--fingerprint", f"127.0.0.1={server.fingerprints['127.0.0.1']}"]
        done = CliRunner().invoke(app, [*both, "network", "list"], env=env)
        assert done.exit_code == 0, done.stderr
        bad = CliRunner().invoke(app, ["--fingerprint", "127.0.0.1=nope", "network", "list"],
                                 env=env)
        assert bad.exit_code == 2 and "64 hex digits" in bad.stderr
