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


def _chain(exc: BaseException | None) -> list[BaseException]:
    """Every exception reachable from ``exc``: its ``__cause__`` AND its ``__context__``
    (``raise … from None`` hides the context from the printout but keeps it), the members
    of exception groups, and the exceptions held in the locals of any of their frames,
    recursively (the whole graph, not one line of it)."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        link = todo.pop()
        if link is None or any(link is s for s in seen):
            continue
        seen.append(link)
        todo += [link.__cause__, link.__context__]
        todo += list(getattr(link, "exceptions", ()))
        tb = link.__traceback__
        while tb is not None:
            todo += [v for v in tb.tb_frame.f_locals.values() if isinstance(v, BaseException)]
            tb = tb.tb_next
    return seen


def _login_failures(sim: Any, transport: Any, control: Any, protocol: str
                    ) -> list[BaseException]:
    from xapictl.xapi.retry import RetryPolicy

    failures: list[BaseException] = []
    if protocol == "auto":  # an XAPI without JSON-RPC: the login falls back to XML-RPC
        control.set_jsonrpc(False)

    def attempt(password: str = SECRET) -> None:
        try:
            xapictl.connect("http://127.0.0.1", password=password, transport=transport,
                            protocol=protocol, retry=RetryPolicy.immediate(deadline=2))
        except XapictlError as exc:
            failures.append(exc)

    control.inject_fault("session.login_with_password", "drop_after")  # answer lost
    attempt()
    control.clear_faults()
    if protocol == "auto":
        control.set_jsonrpc(False)
    attempt(WRONG)  # refused by the pool
    for host in sim.host_addresses():
        sim.set_host_live(host, False)  # nobody answers
    attempt()
    return failures


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc", "auto"])
def test_login_errors_keep_no_reference_to_the_request(secret_sim: Any, protocol: str) -> None:
    # `raise ... from None` only hides the httpx exception: it stays in __context__, and its
    # .request.content is the login body, password included.
    import httpx

    from xapictl.sim.control import Control
    from xapictl.sim.inprocess import InProcessTransport

    control = Control(secret_sim)
    failures = _login_failures(secret_sim, InProcessTransport(secret_sim, control), control,
                               protocol)
    assert len(failures) == 3
    for failure in failures:
        for link in _chain(failure):
            assert not isinstance(link, httpx.HTTPError), (failure, link)
            assert SECRET not in repr(vars(link)) and WRONG not in repr(vars(link))


def _holds_password(value: Any, depth: int, seen: set[int]) -> bool:
    """Whether ``value`` reaches a password within ``depth`` attribute or item steps. A
    ``Secret`` (masked) and the simulator (it knows its password) are not leaks."""
    if depth < 0 or id(value) in seen or isinstance(value, Secret):
        return False
    seen.add(id(value))
    if isinstance(value, str | bytes | bytearray | memoryview):
        text = value if isinstance(value, str) else bytes(value).decode("latin-1")
        return SECRET in text or WRONG in text
    if type(value).__module__.startswith("xapictl.sim"):
        return False
    if isinstance(value, dict):
        inner: list[Any] = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        inner = list(value)
    else:
        inner = list(getattr(value, "__dict__", {}).values())
        inner += [getattr(value, slot, None) for cls in type(value).__mro__
                  for slot in getattr(cls, "__slots__", ())]
    return any(_holds_password(item, depth - 1, seen) for item in inner)


def _frames(failure: BaseException) -> list[Any]:
    """Every frame a traceback of ``failure`` (or of its causes) keeps, outside this file."""
    frames = []
    for link in _chain(failure):
        tb = link.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename != __file__:
                frames.append(tb.tb_frame)
            tb = tb.tb_next
    return frames


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc", "auto"])
def test_login_tracebacks_keep_no_local_holding_the_password(secret_sim: Any,
                                                             protocol: str) -> None:
    # A traceback keeps every frame's locals alive: a debugger, a crash reporter or a
    # `traceback.TracebackException(capture_locals=True)` shows them all.
    from xapictl.sim.control import Control
    from xapictl.sim.inprocess import InProcessTransport

    control = Control(secret_sim)
    failures = _login_failures(secret_sim, InProcessTransport(secret_sim, control), control,
                               protocol)
    assert len(failures) == 3
    for failure in failures:
        frames = _frames(failure)
        assert any(f.f_code.co_name == "_login_following_redirects" for f in frames), failure
        leaks = [(f.f_code.co_filename.rsplit("/", 2)[-2:], f.f_code.co_name, name)
                 for f in frames for name, value in f.f_locals.items()
                 if _holds_password(value, 4, set())]
        assert not leaks, (type(failure).__name__, leaks)


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc", "auto"])
def test_login_failures_over_real_http_keep_the_password_nowhere_in_the_graph(
        protocol: str) -> None:
    # The same walk over a real loopback server and a real refused port: httpx's own
    # exceptions (whose .request.content is the body) and xmlrpc.client's frames (whose
    # request_body is the body) are the ones that must not stay reachable.
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer
    from xapictl.xapi.retry import RetryPolicy

    sim = Simulator(password=SECRET)
    sim.reset(scenario="seed")
    failures: list[BaseException] = []
    with SimServer(sim) as server:
        if protocol == "auto":
            server.control.set_jsonrpc(False)
        for url, password in ((server.url, WRONG), ("http://127.0.0.1:1", SECRET)):
            try:
                xapictl.connect(url, password=password, protocol=protocol,
                                retry=RetryPolicy.immediate(deadline=2), timeout=10)
            except XapictlError as exc:
                failures.append(exc)
    sim.close()
    from xapictl.errors import ConnectError, XapiFailure

    assert len(failures) == 2, failures
    assert isinstance(failures[0], XapiFailure) and isinstance(failures[1], ConnectError)
    for failure in failures:
        frames = _frames(failure)
        leaks = [(f.f_code.co_name, name) for f in frames for name, value in f.f_locals.items()
                 if _holds_password(value, 4, set())]
        assert not leaks, (type(failure).__name__, leaks)
        for link in _chain(failure):
            assert SECRET not in repr(vars(link)) and WRONG not in repr(vars(link))
