"""Fleet commands warn about pools reached over plain http:// (issue 10, clause 9): once per
URL and run, not for loopback simulators, not for https://. Building a pool's connect options
sends nothing, so no test here leaves the machine."""

from __future__ import annotations

import pytest

from xapictl.fleet.connect import PoolConnector
from xapictl.fleet.fleetfile import FleetPool
from xapictl.xapi.credentials import PasswordSource


@pytest.mark.parametrize(("url", "warned"), [
    ("http://10.0.0.1", True), ("http://pool.example", True), ("https://10.0.0.1", False),
    ("http://127.0.0.1:8080", False), ("http://127.0.0.2", False), ("http://[::1]", False),
    ("http://localhost", False)])
def test_a_pool_over_plain_http_to_another_machine_is_reported(
        url: str, warned: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_PW", "x")
    told: list[str] = []
    connector = PoolConnector(on_plain_http=told.append)
    connector.options(FleetPool("a", url=url, credentials=PasswordSource.parse("env:FLEET_PW")))
    assert told == ([url] if warned else [])


def test_the_cli_warns_once_per_url(capsys: pytest.CaptureFixture[str]) -> None:
    from xapictl.cli.connection import plain_http_warner

    warn = plain_http_warner()
    for url in ("http://10.0.0.1", "http://10.0.0.1", "http://10.0.0.2"):
        warn(url)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" is plain")[0] for line in lines] == [
        "xapictl: warning: http://10.0.0.1", "xapictl: warning: http://10.0.0.2"]
