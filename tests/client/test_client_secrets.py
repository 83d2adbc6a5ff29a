"""The password appears in no log line, repr, exception text or request-log entry."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

import pytest

import xapictl
from xapictl.errors import XapictlError
from xapictl.xapi.credentials import PasswordSource, Secret
from xapictl.xapi.profiles import Profile

SECRET = "Zq9-very-distinct-p4ssw0rd"
WRONG = "Wr0ng-but-also-s3cret"


@pytest.fixture
def secret_sim(tmp_path: Path) -> Any:
    from xapictl.sim.engine import Simulator

    sim = Simulator(password=SECRET)
    sim.reset(scenario="seed")
    return sim


def test_password_is_nowhere(secret_sim: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    from xapictl.sim.control import Control
    from xapictl.sim.inprocess import InProcessTransport

    control = Control(secret_sim, log_file=tmp_path / "requests.jsonl")
    transport = InProcessTransport(secret_sim, control)
    texts: list[str] = []
    caplog.set_level(logging.DEBUG)

    def keep(exc: BaseException) -> None:
        texts.extend([str(exc), repr(exc), "".join(traceback.format_exception(exc))])

    for protocol in ("jsonrpc", "xmlrpc"):
        with xapictl.connect("http://127.0.0.2", password=SECRET, transport=transport,
                             protocol=protocol) as conn:
            texts += [repr(conn), repr(conn.session), str(conn.session.__dict__)]
            conn.snapshot()
            try:
                conn.networks.get_record("OpaqueRef:missing")
            except XapictlError as exc:
                keep(exc)
            secret_sim.expire_sessions()  # forces a re-login with the password
            conn.networks.get_all()
            control.inject_fault("network.create", "drop_after", times=1)
            try:
                conn.networks.create(name_label="x")
            except XapictlError as exc:
                keep(exc)
        try:
            xapictl.connect("http://127.0.0.1", password=WRONG, transport=transport,
                            protocol=protocol)
        except XapictlError as exc:
            keep(exc)

    monkeypatch.setenv("POOL_PW", SECRET)
    profile = Profile("lab", "http://127.0.0.1", password=PasswordSource.parse("env:POOL_PW"))
    texts += [repr(profile), str(profile.to_table()), repr(profile.resolve_password()),
              str(profile.connect_options())]
    try:
        PasswordSource.parse(SECRET)  # a literal password where a source belongs
    except XapictlError as exc:
        keep(exc)
    try:
        import pickle

        pickle.dumps(Secret(SECRET))
    except TypeError as exc:
        keep(exc)

    control.close()
    everything = "\n".join([
        *texts,
        caplog.text,
        *(str(entry) for entry in control.request_log()),
        (tmp_path / "requests.jsonl").read_text(),
    ])
    assert "login_with_password" in everything  # the log did record the logins
    assert SECRET not in everything
    assert WRONG not in everything
