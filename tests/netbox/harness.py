"""A real NetBox on loopback for tests/netbox, started and torn down around one pytest run.

    python tests/netbox/harness.py [pytest arguments...]     (what `nox -s netbox` runs)
    python tests/netbox/harness.py --serve    (prints the URL and token, serves until Ctrl-C)
    python tests/netbox/harness.py --bench [--write]   (tests/bench/bench_netbox.py alone)

With XAPICTL_NETBOX_BENCH=1 (what `nox -s netbox` sets) the benchmark runs after the tests
pass, against the same NetBox (it prints its table; --write or XAPICTL_BENCH_WRITE=1 writes
docs/bench/netbox.md).

It starts PostgreSQL and Redis (Debian packages, installed when missing and running as root)
on data directories of its own and free loopback ports, installs NetBox from PyPI (pinned:
NETBOX_VERSION) in a virtual environment of its own built with a Python >= 3.12 found on the
machine, migrates a fresh database, creates a superuser and a v2 API token, runs NetBox under
gunicorn on loopback, runs pytest on tests/netbox with XAPICTL_NETBOX_URL and
XAPICTL_NETBOX_TOKEN set, and stops everything it started (no process is left behind).

The slow part is NetBox's ~340 migrations (about 6 minutes of CPU). The migrated database is
kept as a pg_dump under the cache directory, keyed by the NetBox version, with the NetBox
virtual environment beside it; a rerun restores it in about a second. The cache directory is
$XAPICTL_NETBOX_CACHE, else $XDG_CACHE_HOME/xapictl/netbox (~/.cache/xapictl/netbox). Delete
it to start cold.

Exit status: pytest's; 0 with a "skipped" line when no Python >= 3.12 exists on the machine.
Standard library only: it runs before anything else is known to be installed.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

NETBOX_VERSION = "4.7.3"
ROOT = Path(__file__).resolve().parents[2]
PG_USER = "postgres"  # PostgreSQL refuses to run as root


def log(message: str) -> None:
    print(f"[netbox harness] {message}", flush=True)


def cache_dir() -> Path:
    if os.environ.get("XAPICTL_NETBOX_CACHE"):
        return Path(os.environ["XAPICTL_NETBOX_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "xapictl" / "netbox"


def find_python() -> str | None:
    """A Python >= 3.12 on this machine: PATH first, then pyenv's versions (its shims only
    work for the versions pyenv has activated, so the real interpreters are tried too)."""
    candidates: list[str] = []
    if sys.version_info >= (3, 12):
        candidates.append(sys.executable)
    for name in ("python3.14", "python3.13", "python3.12"):
        if found := shutil.which(name):
            candidates.append(found)
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.1[2-9]*/bin/python3"), reverse=True)
    for candidate in candidates:
        probe = subprocess.run([candidate, "-c", "import sys, venv; "
                                "print(sys.version_info >= (3, 12))"],
                               capture_output=True, text=True, check=False)
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return candidate
    return None


def workers() -> int:
    """gunicorn worker processes: 2, so that two requests in flight (a fleet watch's, bulk
    chunks sent in parallel) each have a process of their own (threads of one worker share
    one core); XAPICTL_NETBOX_WORKERS overrides it. Each worker costs about 250 MB and 7-10 s
    of CPU to start."""
    given = os.environ.get("XAPICTL_NETBOX_WORKERS", "")
    return int(given) if given.isdigit() and int(given) > 0 else 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(*argv: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("check", True)
    return subprocess.run([str(a) for a in argv], text=True, **kwargs)  # type: ignore[call-overload,no-any-return]


def as_postgres(*argv: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        return run("runuser", "-u", PG_USER, "--", *argv, **kwargs)
    return run(*argv, **kwargs)


def ensure_debian_packages() -> None:
    missing = []
    if not glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"):
        missing.append("postgresql")
    if not shutil.which("redis-server"):
        missing.append("redis-server")
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"NetBox needs {' and '.join(missing)}: apt-get install {' '.join(missing)}")
    log(f"installing {' '.join(missing)}")
    run("sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
        + " ".join(missing) + " >/dev/null")


def pg_bin() -> Path:
    return Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]).parent


def ensure_venv(python: str, cache: Path) -> Path:
    venv = cache / NETBOX_VERSION / "venv"
    marker = venv / ".xapictl-installed"
    if marker.exists():
        return venv
    log(f"installing netbox=={NETBOX_VERSION} in {venv} with {python} (about 80 s)")
    shutil.rmtree(venv, ignore_errors=True)
    run(python, "-m", "venv", venv)
    run(venv / "bin" / "pip", "install", "-q", f"netbox=={NETBOX_VERSION}", "gunicorn")
    marker.write_text(NETBOX_VERSION + "\n")
    return venv


CONFIGURATION = """\
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
DATABASES = {{'default': {{'NAME': 'netbox', 'USER': 'netbox', 'PASSWORD': 'netbox',
                          'HOST': '127.0.0.1', 'PORT': {pg_port}, 'CONN_MAX_AGE': 300}}}}
REDIS = {{
    'tasks': {{'HOST': '127.0.0.1', 'PORT': {redis_port}, 'DATABASE': 0, 'SSL': False}},
    'caching': {{'HOST': '127.0.0.1', 'PORT': {redis_port}, 'DATABASE': 1, 'SSL': False}},
}}
SECRET_KEY = {secret!r}
API_TOKEN_PEPPERS = {{1: {pepper!r}}}
CENSUS_REPORTING_ENABLED = False
# The tests sync many simulated pools that use the same documentation addresses.
ENFORCE_GLOBAL_UNIQUE = False
ISOLATED_DEPLOYMENT = True
DEBUG = False
LOGIN_REQUIRED = True
"""

# One shell call: a superuser and a v2 token (its plaintext printed as JSON on the last line).
PROVISION = """
import json
from users.models import Token, User
user = User.objects.create_superuser('admin', 'admin@example.invalid', 'admin-password')
token = Token(user=user, version=2, write_enabled=True, description='xapictl tests')
token.save()
prefix = token.get_auth_header_prefix().removeprefix('Bearer ')
print(json.dumps({'token': prefix + token.token}))
"""


class NetBox:
    """Everything one run starts, and its teardown."""

    def __init__(self, work: Path, venv: Path) -> None:
        self.work = work
        self.venv = venv
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.http_port = free_port()
        self.pgdata = work / "pgdata"
        self.started: list[str] = []
        self.server: subprocess.Popen[bytes] | None = None
        # The wheel reads $NETBOX_ROOT/conf/configuration.py.
        self.env = dict(os.environ, NETBOX_ROOT=str(work), PYTHONUNBUFFERED="1")

    def netbox(self, *argv: str, capture: bool = False) -> str:
        out = run(self.venv / "bin" / "netbox", *argv, env=self.env, cwd=self.work,
                  capture_output=capture)
        return out.stdout if capture else ""

    def start_postgres(self) -> None:
        self.work.chmod(0o755)
        self.pgdata.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.pgdata, PG_USER, PG_USER)
        as_postgres(pg_bin() / "initdb", "-D", self.pgdata, "-A", "trust", "-U", "postgres",
                    "--no-sync", stdout=subprocess.DEVNULL)
        opts = (f"-p {self.pg_port} -h 127.0.0.1 -k {self.pgdata} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off")
        as_postgres(pg_bin() / "pg_ctl", "-D", self.pgdata, "-l", self.pgdata / "server.log",
                    "-o", opts, "-w", "start", stdout=subprocess.DEVNULL)
        self.started.append("postgres")
        self.psql("CREATE ROLE netbox LOGIN CREATEDB PASSWORD 'netbox'")
        self.psql("CREATE DATABASE netbox OWNER netbox")

    def psql(self, sql: str) -> None:
        run("psql", "-q", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres",
            "-v", "ON_ERROR_STOP=1", "-c", sql, stdout=subprocess.DEVNULL)

    def start_redis(self) -> None:
        run("redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
            "--daemonize", "yes", "--save", "", "--appendonly", "no", "--dir", self.work,
            "--pidfile", self.work / "redis.pid", "--logfile", self.work / "redis.log")
        self.started.append("redis")

    def configure(self) -> None:
        (self.work / "conf").mkdir()
        (self.work / "conf" / "configuration.py").write_text(CONFIGURATION.format(
            pg_port=self.pg_port, redis_port=self.redis_port,
            secret=secrets.token_urlsafe(48), pepper=secrets.token_urlsafe(48)))

    def migrate(self, cache: Path) -> None:
        dump = cache / NETBOX_VERSION / "netbox.pgdump"
        pg = ["-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "netbox", "-d", "netbox"]
        if dump.exists():
            log(f"restoring the migrated database from {dump}")
            run("pg_restore", "-j", "2", "--no-owner", *pg, dump)
            return
        log("migrating a fresh database (about 6 minutes of CPU; cached for the next run)")
        self.netbox("migrate", "--no-input", "--skip-checks")
        partial = dump.with_suffix(".partial")
        run("pg_dump", "-Fc", "-f", partial, *pg)
        partial.rename(dump)

    def provision(self) -> str:
        out = self.netbox("shell", "-c", PROVISION, capture=True)
        return str(json.loads(out.strip().splitlines()[-1])["token"])

    def start_server(self) -> str:
        logfile = (self.work / "gunicorn.log").open("wb")
        self.server = subprocess.Popen(
            [str(self.venv / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{self.http_port}",
             "--workers", str(workers()), "--threads", "3", "--timeout", "300",
             "--no-control-socket", "netbox.wsgi"],
            env=self.env, cwd=self.work, stdout=logfile, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{self.http_port}"
        for _ in range(600):  # a safety net on a loaded machine: 5 minutes
            if self.server.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.work / 'gunicorn.log'}:\n"
                                   + (self.work / "gunicorn.log").read_text()[-3000:])
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/login/", timeout=5):
                return url
            time.sleep(0.5)
        raise RuntimeError("NetBox did not answer within 5 minutes")

    def stop(self) -> None:
        """Stop what was started; each part is tried even when another one failed."""
        try:
            self._stop_server()
        finally:
            try:
                if "redis" in self.started:
                    with contextlib.suppress(OSError, ValueError):
                        os.kill(int((self.work / "redis.pid").read_text()), signal.SIGTERM)
            finally:
                if "postgres" in self.started:
                    as_postgres(pg_bin() / "pg_ctl", "-D", self.pgdata, "-m", "fast", "-w",
                                "stop", stdout=subprocess.DEVNULL, check=False)
                self.started.clear()

    def _stop_server(self) -> None:
        if self.server is None or self.server.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.server.pid, signal.SIGTERM)
        try:
            self.server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait()


@contextlib.contextmanager
def netbox_running(python: str) -> Iterator[tuple[str, str]]:
    cache = cache_dir()
    (cache / NETBOX_VERSION).mkdir(parents=True, exist_ok=True)
    ensure_debian_packages()
    venv = ensure_venv(python, cache)
    work = Path(tempfile.mkdtemp(prefix="xapictl-netbox-"))
    nb = NetBox(work, venv)
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        nb.start_postgres()
        nb.start_redis()
        nb.configure()
        nb.migrate(cache)
        token = nb.provision()
        url = nb.start_server()
        log(f"NetBox {NETBOX_VERSION} answers at {url}")
        yield url, token
    finally:
        nb.stop()
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str]) -> int:
    python = find_python()
    if python is None:
        log("skipped: NetBox needs Python >= 3.12 and none was found on this machine "
            "(PATH, pyenv)")
        return 0
    with netbox_running(python) as (url, token):
        if argv == ["--serve"]:
            print(f"XAPICTL_NETBOX_URL={url}\nXAPICTL_NETBOX_TOKEN={token}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
            return 0
        env = dict(os.environ, XAPICTL_NETBOX_URL=url, XAPICTL_NETBOX_TOKEN=token,
                   XAPICTL_NETBOX_GUNICORN=f"gunicorn ({workers()} workers, 3 threads each)")
        bench = [sys.executable, str(ROOT / "tests" / "bench" / "bench_netbox.py")]
        if argv[:1] == ["--bench"]:
            return subprocess.run([*bench, *argv[1:]], env=env, cwd=ROOT,
                                  check=False).returncode
        args = argv or ["-q", "tests/netbox"]
        code = subprocess.run([sys.executable, "-m", "pytest", *args], env=env, cwd=ROOT,
                              check=False).returncode
        if code == 0 and os.environ.get("XAPICTL_NETBOX_BENCH") == "1":
            code = subprocess.run(bench, env=env, cwd=ROOT, check=False).returncode
        return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
