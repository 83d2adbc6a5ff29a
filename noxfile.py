"""Every way the project is checked, the same on a laptop and in CI.

    nox -s tests        the test suite (the README's test command)
    nox -s lint         ruff
    nox -s typecheck    mypy --strict on xapictl/
    nox -s docs         mkdocs build --strict
    nox -s bench        benchmarks: print figures and write the docs' tables (docs/bench/)
    nox -s uml          the real-kernel tier in User-Mode Linux (802.1Q, VLAN filtering, bonds)
    nox -s ansible      opt-in: Ansible's XenServer modules against the simulator (~500 MB)
    nox -s ansible_collection   the Galaxy tarball of the collection xapictl.xen (build/ansible/)
    nox -s ansible_sanity       ansible-test sanity on the collection (its venvs need PyPI)
    nox -s xen          opt-in: a real Xen dom0 under QEMU runs the vif hotplug script
    nox -s netbox       tests/netbox against a real NetBox (PostgreSQL, Redis, NetBox from PyPI)

Sessions use the interpreter nox runs with, so a fresh machine needs only Python.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
nox.options.error_on_missing_interpreters = True

PYPROJECT = nox.project.load_toml("pyproject.toml")
ROOT = Path(__file__).parent


def _install(session: nox.Session, *groups: str, editable: bool = False) -> None:
    session.install("--upgrade", "pip")
    session.install("-e", ".") if editable else session.install(".")
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


# The suite in parallel (pytest-xdist): `auto` is two workers per core (tests/conftest.py
# says why), each test file on one worker so a module's fixtures are built once.
# `nox -s tests -- -n 0` runs in one process.
PARALLEL = ["-n", "auto", "--dist", "loadfile"]


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite: unit, simulator conformance, client, recipes, e2e, faults, local."""
    _install(session, "test")
    session.run("pytest", *PARALLEL, *(session.posargs or ["-q"]))


@nox.session
def lint(session: nox.Session) -> None:
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    _install(session, "lint", editable=True)
    session.run("mypy", "xapictl")


def _graphviz(session: nox.Session) -> None:
    """Graphviz's dot, which the docs build runs to draw its diagrams (docs/hooks/diagrams.py):
    installed quietly on Debian when missing and running as root, else a clear stop."""
    if shutil.which("dot"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        session.run("sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
                    "apt-get install -y -qq graphviz >/dev/null", external=True)
        return
    session.error("the docs draw their diagrams with Graphviz's dot, which is not installed: "
                  "apt-get install graphviz (Debian, Ubuntu)")


@nox.session
def docs(session: nox.Session) -> None:
    """mkdocs build --strict; its hook draws the diagrams from the simulator (needs dot)."""
    _graphviz(session)
    _install(session, "docs", editable=True)
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / "build" / "site"))


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: print figures and write the tables the docs include (docs/bench/).

    They assert nothing. XAPICTL_BENCH_WRITE=1 makes each write docs/bench/<name>.md;
    `nox -s bench -- bench_main_job` runs one."""
    _install(session, "test")
    names = session.posargs or sorted(p.stem for p in (ROOT / "tests" / "bench").glob("bench_*.py"))
    for name in names:
        session.run("python", str(ROOT / "tests" / "bench" / f"{name}.py"),
                    env={"XAPICTL_BENCH_WRITE": "1"})


@nox.session
def uml(session: nox.Session) -> None:
    """Boot Debian's User-Mode Linux kernel and run the tests this machine's kernel cannot."""
    _install(session, "test")
    session.run("python", str(ROOT / "tests" / "uml" / "harness.py"), *session.posargs)


@nox.session
def ansible(session: nox.Session) -> None:
    """Opt-in: community.general XenServer modules read a seed VM through the simulator."""
    _install(session, "test")
    session.install("ansible", "XenAPI")
    session.run("pytest", "-q", "tests/interop/test_interop_ansible.py",
                env={"XAPICTL_ANSIBLE": "1"})


COLLECTION = ROOT / "xapictl" / "ansible_collection" / "ansible_collections" / "xapictl" / "xen"


@nox.session
def ansible_collection(session: nox.Session) -> None:
    """Build the Galaxy tarball of the collection xapictl.xen with ansible-galaxy (offline):
    build/ansible/xapictl-xen-VERSION.tar.gz, for Galaxy, Automation Hub or an execution
    environment (docs/ansible.md)."""
    session.install("ansible-core")
    session.run("ansible-galaxy", "collection", "build", str(COLLECTION), "--output-path",
                str(ROOT / "build" / "ansible"), "--force")


@nox.session
def ansible_sanity(session: nox.Session) -> None:
    """ansible-test sanity on the collection, the tests that run without containers (it
    builds a venv per test from PyPI: about a minute cold); see tests/ansible/run_sanity.py."""
    _install(session)
    session.install("ansible-core")
    session.run("python", str(ROOT / "tests" / "ansible" / "run_sanity.py"), *session.posargs)


@nox.session
def xen(session: nox.Session) -> None:
    """Opt-in: boot Xen + a PV dom0 under QEMU; the CLI moves dom0's address to xenbr0 and
    guests on VLANs ping through the hotplug script's vifs (tests/xen/README.md)."""
    if not os.environ.get("XAPICTL_XEN_TIER"):
        session.skip("set XAPICTL_XEN_TIER=1 to boot Xen under QEMU (slow: tens of minutes)")
    _install(session, "test")
    session.run("python", str(ROOT / "tests" / "xen" / "run_xen_tier.py"), *session.posargs)


@nox.session
def netbox(session: nox.Session) -> None:
    """tests/netbox against a real NetBox on loopback: PostgreSQL and Redis (Debian packages,
    installed when missing), NetBox from PyPI in a venv of its own with a Python >= 3.12 found
    on the machine (skipped with the reason when none), a migrated database cached as a dump
    under $XAPICTL_NETBOX_CACHE (default ~/.cache/xapictl/netbox). tests/netbox/harness.py.
    After the tests, tests/bench/bench_netbox.py (the big pool's first and no-op sync) unless
    XAPICTL_NETBOX_BENCH=0 (CI: the tests already sync the whole big pool once; the
    benchmark would do it again)."""
    _install(session, "test")
    # The tests, then (when they pass) the big pool's benchmark against the same NetBox.
    session.run("python", str(ROOT / "tests" / "netbox" / "harness.py"), *session.posargs,
                env={"XAPICTL_NETBOX_BENCH": os.environ.get("XAPICTL_NETBOX_BENCH", "1")})
