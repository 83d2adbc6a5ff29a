"""Open the pool the global options name: a profile, a URL, or the embedded simulated pool.

Choosing a pool is never silent (docs/unattended.md):

* ``--url`` / ``XAPICTL_URL`` names a pool by URL, ``--pool NAME`` / ``XAPICTL_POOL`` a profile
  of pools.toml, ``--pool embedded`` the embedded simulated pool;
* with nothing at all configured (no URL, profile, credential or TLS option or variable, and
  no profile in pools.toml) the embedded simulated pool serves (the ``seed`` scenario on first
  use, its state kept in ``<user data dir>/embedded-pool.sqlite``), and says so on stderr;
* ``XAPICTL_EMBEDDED=never`` (or ``embedded = "never"`` at the top of pools.toml) turns the
  embedded pool off: an unconfigured run is then refused;
* a credential or TLS option or variable without a URL or profile is refused, always: that is
  the cron job that lost its URL, and it must not "succeed" on a simulator.

``choose_pool`` decides (nothing is read from the pool, nothing is sent); ``open_pool`` opens
it and records the choice on the options (``GlobalOptions.chosen``, ``.pool_label``) so that
outputs can name the pool.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from xapictl.cli.options import EMBEDDED, GlobalOptions, PoolChoice

EMBEDDED_PASSWORD = "xapictl"  # noqa: S105 - the documented sandbox default of the simulator
EMBEDDED_SWITCH = "XAPICTL_EMBEDDED"
EMBEDDED_VALUES = ("auto", "never")
WAYS = "give --url URL (or XAPICTL_URL) or --pool PROFILE (or XAPICTL_POOL)"


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


def attempts_on_stderr() -> Callable[[], None]:
    """``-v``: each connection attempt, what failed and the next wait, as it happens (the
    session's and the retry policy's INFO lines). Returns the undo, for the end of the run."""
    import logging  # only with -v: a run without it never loads logging

    class StderrLines(logging.Handler):
        """Log records as ``xapictl: …`` lines on the stderr of the moment (a test runner
        swaps it per run)."""

        def emit(self, record: logging.LogRecord) -> None:
            print(f"xapictl: {self.format(record)}", file=sys.stderr)

    handler = StderrLines(logging.INFO)
    loggers = [logging.getLogger(name) for name in ("xapictl.retry", "xapictl.session")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)

    def undo() -> None:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)

    return undo


def credentials_given(opts: GlobalOptions) -> list[str]:
    """The credential and TLS options and variables set (each as the user wrote it)."""
    given = [opts.sources.get(name, option) for name, option, value in (
        ("user", "--user", opts.user), ("password_file", "--password-file", opts.password_file),
        ("ca", "--ca", opts.ca), ("fingerprint", "--fingerprint", opts.fingerprint),
        ("insecure", "--insecure", opts.insecure)) if value]
    if os.environ.get("XAPICTL_PASSWORD") is not None:
        given.append("XAPICTL_PASSWORD")
    return given


def single_pool_options(opts: GlobalOptions) -> list[str]:
    """The options given on the command line that choose or open ONE pool (``--url``,
    ``--pool``, credentials, TLS): a fleet command refuses them rather than ignore them.
    Variables are not counted (a fleet file may read ``XAPICTL_PASSWORD`` itself)."""
    named = [option for name, option, value in (
        ("pool", "--pool", opts.pool), ("url", "--url", opts.url), ("user", "--user", opts.user))
        if value and name not in opts.sources]
    return named + [option for option, value in (
        ("--password-file", opts.password_file), ("--ca", opts.ca),
        ("--fingerprint", opts.fingerprint), ("--insecure", opts.insecure)) if value]


def _embedded_switch() -> tuple[str, str]:
    """``(auto|never, where it was said)``: the variable wins over the config file."""
    from xapictl.errors import ConfigError
    from xapictl.xapi.profiles import config_setting

    value = os.environ.get(EMBEDDED_SWITCH)
    where = f"{EMBEDDED_SWITCH}={value}"
    if value is None:
        value, where = config_setting("embedded", "auto")
        where = f'embedded = "{value}" in {where}'
    if value.strip().lower() not in EMBEDDED_VALUES:
        raise ConfigError(f"{where}: {value!r} is not a setting of the embedded pool; use "
                          f"{' or '.join(EMBEDDED_VALUES)} (never turns it off)")
    return value.strip().lower(), where


def choose_pool(opts: GlobalOptions) -> PoolChoice:
    """Which pool the options name, or a ``UsageError`` saying how to name one. Reads the
    environment and the config file; sends nothing."""
    from xapictl.errors import UsageError

    url = opts.url or os.environ.get("XAPICTL_URL") or None
    given = credentials_given(opts)
    if opts.pool == EMBEDDED:
        if url or given:
            clash = ", ".join([*([opts.sources.get("url", "--url")] if url else []), *given])
            raise UsageError(f"--pool embedded is the simulated pool, which takes no URL, "
                             f"credential or TLS option ({clash}): drop them, or {WAYS}")
        return _embedded_choice(named=True)
    if opts.pool and url:
        pool_from = opts.sources.get("pool", "--pool")
        url_from = opts.sources.get("url", "--url")
        if pool_from.startswith("--") == url_from.startswith("--"):
            raise UsageError(f"{pool_from} and {url_from} both name a pool: give one of them")
        if url_from.startswith("--"):  # the command line wins over the environment
            return _url_choice(opts, url)
    if opts.pool:
        return PoolChoice("profile", _profile_url(opts.pool), profile=opts.pool)
    if url:
        return _url_choice(opts, url)
    if given:
        raise UsageError(f"{', '.join(given)} given but no pool: {WAYS}. Credentials and TLS "
                         "options never go to the embedded simulated pool")
    from xapictl.xapi.profiles import load_profiles

    profiles = load_profiles()
    if profiles:
        from xapictl.xapi.profiles import config_path

        raise UsageError(f"no pool chosen and {config_path()} defines "
                         f"{', '.join(sorted(profiles))}: give --pool PROFILE (or "
                         "XAPICTL_POOL), --url URL, or --pool embedded for the simulated pool")
    return _embedded_choice(named=False)


def _url_choice(opts: GlobalOptions, url: str) -> PoolChoice:
    from xapictl.errors import UsageError
    from xapictl.xapi.transport import Endpoint

    try:
        Endpoint.parse(url)
    except UsageError as exc:
        raise UsageError(f"{opts.sources.get('url', '--url')}: {exc}") from None
    return PoolChoice("url", url)


def _embedded_choice(*, named: bool) -> PoolChoice:
    from xapictl.errors import UsageError

    switch, where = _embedded_switch()
    if switch == "never":
        what = "--pool embedded given" if named else "no pool chosen"
        raise UsageError(f"{what} and the embedded simulated pool is turned off ({where}): "
                         f"{WAYS}")
    return PoolChoice("embedded", EMBEDDED)


def _profile_url(name: str) -> str:
    from xapictl.xapi.profiles import get_profile

    return get_profile(name).url


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
def open_pool(opts: GlobalOptions, *, login_ahead: bool = False) -> Iterator[Any]:
    """The open ``Connection``, logged out and closed at the end (also on errors). The choice
    is kept on ``opts.chosen`` (``opts.pool_label`` names the pool in outputs). Every command
    calls at once, so the pool's members are read beside its first call
    (``learn_pool_at_login=False``): a login is one round trip. ``login_ahead``: the login is
    sent at once, beside what the command does before its first call (loading its modules:
    ``XapiSession.login_ahead``); only for a command whose input is checked already."""
    import xapictl
    from xapictl.client.connection import connect_profile

    choice = choose_pool(opts)
    opts.chosen = choice
    if choice.kind == "embedded":
        with _embedded(opts) as conn:
            _started(conn, login_ahead=False)  # in-process: nothing travels
            yield conn
        return
    _warn_plain_http(choice.url)
    if choice.profile is not None:
        overrides = {**_tls(opts), "learn_pool_at_login": False}
        if opts.user:
            overrides["username"] = opts.user
        if opts.password_file is not None:  # given on the command line: it wins
            overrides["password"] = _password(opts)
        with _warnings_as_lines():
            conn = connect_profile(choice.profile, **overrides)
        _started(conn, login_ahead)
        with conn:
            try:
                yield conn
            finally:
                _say_if_moved(opts, choice, conn)
        return
    with _warnings_as_lines():
        conn = xapictl.connect(choice.url, username=opts.user or "root",
                               password=_password(opts), learn_pool_at_login=False,
                               **_tls(opts))
    _started(conn, login_ahead)
    with conn:
        try:
            yield conn
        finally:
            _say_if_moved(opts, choice, conn)


def _started(conn: Any, login_ahead: bool) -> None:
    """Start the login if asked (it travels while the snapshot builder loads), and teach
    ``Connection.snapshot()`` to build snapshots."""
    if login_ahead:
        conn.session.login_ahead()
    import xapictl.state.collect  # noqa: F401 - registers the snapshot builder


def _say_if_moved(opts: GlobalOptions, choice: PoolChoice, conn: Any) -> None:
    """The run moved the master's management interface (also when it failed after that):
    say where it answers now, and what to update, so the next run finds the pool; the
    command that resumes uses that URL (``opts.moved_to``)."""
    from xapictl.xapi.endpoint import Endpoint

    if getattr(getattr(conn, "session", None), "moved_to", None) is None:
        return
    given, now = Endpoint.parse(choice.url), Endpoint.parse(str(conn.url))
    if given.socket is not None or given.host == now.host:
        return
    opts.moved_to = str(now)
    where = (f"update url of [pools.{choice.profile}] in pools.toml to {now}"
             if choice.profile is not None else f"use --url {now} from now on")
    print(f"xapictl: the pool master now answers at {now.host}, not {given.host}: {where}",
          file=sys.stderr)


def _warn_plain_http(url: str) -> None:
    """One ``xapictl: warning:`` line when the password is about to cross a network in clear
    text (``http://`` to anything but this machine's loopback)."""
    from xapictl.xapi.transport import crosses_network_in_clear

    if crosses_network_in_clear(url):
        print(f"xapictl: warning: {url} is plain http://: the password and everything sent "
              "cross the network unencrypted; use https:// (with --ca or --fingerprint)",
              file=sys.stderr)


def plain_http_warner() -> Callable[[str], None]:
    """For fleet commands: ``warn(url)`` prints the warning once per URL of the run."""
    seen: set[str] = set()
    lock = threading.Lock()

    def warn(url: str) -> None:
        with lock:
            if url in seen:
                return
            seen.add(url)
        _warn_plain_http(url)

    return warn


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
    from xapictl._files import private_dir
    from xapictl.sim.engine import Simulator
    from xapictl.sim.inprocess import InProcessTransport

    path = embedded_state_file()
    private_dir(path.parent)
    # Said even with --quiet: a script must never mistake the simulator for its pool.
    why = ("--pool embedded" if opts.pool == EMBEDDED else
           "no pool chosen (--url, --pool or XAPICTL_URL)")
    print(f"xapictl: {why}: using the embedded simulated pool in {path} "
          f"(XAPICTL_EMBEDDED=never turns it off)", file=sys.stderr)
    sim = Simulator(state_file=path, scenario="seed", password=EMBEDDED_PASSWORD)
    try:
        with xapictl.connect("http://127.0.0.1", username="root", password=EMBEDDED_PASSWORD,
                             transport=InProcessTransport(sim),
                             learn_pool_at_login=False) as conn:
            yield conn
    finally:
        sim.close()



def pool_label(opts: GlobalOptions) -> str | None:
    """How documents name the pool of a single-pool command: the pool opened (its URL, a
    profile's URL, or ``embedded``), else the one the options choose; None when they choose
    none (an error document about that very choice)."""
    if opts.pool_label is not None:
        return opts.pool_label
    from xapictl.errors import UsageError

    try:
        return choose_pool(opts).label
    except UsageError:
        return None


__all__ = ["attempts_on_stderr", "audit_log_path", "choose_pool", "credentials_given",
           "embedded_state_file", "open_pool", "plain_http_warner", "pool_label",
           "single_pool_options"]
