"""Open the pool the global options name: a profile, a URL, or the embedded simulated pool.

With no ``--pool``, ``--url`` or ``XAPICTL_URL`` the CLI runs on an embedded simulated pool
(the ``seed`` scenario on first use) whose state persists in
``<user data dir>/embedded-pool.sqlite``, and says so on stderr.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xapictl.cli.options import GlobalOptions

EMBEDDED_PASSWORD = "xapictl"  # noqa: S105 - the documented sandbox default of the simulator


def embedded_state_file() -> Path:
    override = os.environ.get("XAPICTL_EMBEDDED_STATE")
    if override:
        return Path(override)
    import platformdirs

    return platformdirs.user_data_path("xapictl") / "embedded-pool.sqlite"


def audit_log_path() -> Path:
    override = os.environ.get("XAPICTL_AUDIT_LOG")
    if override:
        return Path(override)
    import platformdirs

    return platformdirs.user_state_path("xapictl") / "audit.jsonl"


def _password(opts: GlobalOptions) -> Any:
    from xapictl.errors import ConfigError
    from xapictl.xapi.credentials import PasswordSource, Secret

    if opts.password_file is not None:
        return PasswordSource("file", str(opts.password_file)).resolve(username=opts.user or "")
    env = os.environ.get("XAPICTL_PASSWORD")
    if env is not None:
        return Secret(env)
    if sys.stdin.isatty():
        return PasswordSource("prompt").resolve(username=opts.user or "root")
    raise ConfigError("no password: give --password-file PATH, set XAPICTL_PASSWORD, or use "
                      "a profile (--pool NAME)")


def _tls(opts: GlobalOptions) -> dict[str, Any]:
    """TLS and timing options for ``connect``."""
    out: dict[str, Any] = {}
    if opts.timeout is not None:
        from xapictl.xapi.retry import RetryPolicy

        out["retry"] = RetryPolicy(deadline=opts.timeout)
        out["connect_timeout"] = min(opts.timeout, 10.0)
        # A host that accepts the connection but stops answering is given up on as well.
        out["timeout"] = opts.timeout
    if opts.ca is not None:
        out["ca"] = opts.ca
    if opts.fingerprint:
        out["fingerprint"] = opts.fingerprint
    if opts.insecure:
        out["insecure"] = True
    return out


@contextlib.contextmanager
def open_pool(opts: GlobalOptions) -> Iterator[Any]:
    """The open ``Connection``, logged out and closed at the end (also on errors)."""
    import xapictl
    import xapictl.state.collect  # teaches Connection.snapshot() to build snapshots
    from xapictl.client.connection import connect_profile

    if opts.pool:
        overrides = _tls(opts)
        if opts.user:
            overrides["username"] = opts.user
        with _warnings_as_lines():
            conn = connect_profile(opts.pool, **overrides)
        with conn:
            yield conn
        return
    url = opts.url or os.environ.get("XAPICTL_URL")
    if url:
        with _warnings_as_lines():
            conn = xapictl.connect(url, username=opts.user or "root",
                                   password=_password(opts), **_tls(opts))
        with conn:
            yield conn
        return
    with _embedded(opts) as conn:
        yield conn


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """While connecting: the insecure-TLS warning as one ``xapictl: warning:`` line on stderr
    (not Python's warning format with a source line); other warnings pass through."""
    from xapictl.xapi.tls import InsecureTLSWarning

    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InsecureTLSWarning)
            yield
    finally:
        for seen in caught:
            if issubclass(seen.category, InsecureTLSWarning):
                print(f"xapictl: warning: {seen.message}", file=sys.stderr)
            else:
                warnings.warn_explicit(seen.message, seen.category, seen.filename,
                                       seen.lineno)


@contextlib.contextmanager
def _embedded(opts: GlobalOptions) -> Iterator[Any]:
    import xapictl
    from xapictl.sim.engine import Simulator
    from xapictl.sim.inprocess import InProcessTransport

    path = embedded_state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not opts.quiet:
        print(f"xapictl: no pool configured (--pool, --url or XAPICTL_URL): using the "
              f"embedded simulated pool in {path}", file=sys.stderr)
    sim = Simulator(state_file=path, scenario="seed", password=EMBEDDED_PASSWORD)
    try:
        with xapictl.connect("http://127.0.0.1", username="root", password=EMBEDDED_PASSWORD,
                             transport=InProcessTransport(sim)) as conn:
            yield conn
    finally:
        sim.close()


__all__ = ["audit_log_path", "embedded_state_file", "open_pool"]
