"""Fixtures of the Ansible tests: ``playbook`` runs real ansible-playbook (isolated HOME,
temp folders, audit log under the test's tmp_path: worker-safe), ``pool`` / ``three_pools``
serve simulated seed pools on loopback (port 0). Skipped, with the reason, when ansible-core
is not installed."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_harness import PASSWORD, Played, ansible_bin, ansible_env, serve_seed_pools

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Without ansible-core, every test of this folder is skipped with the reason."""
    if ansible_bin("ansible-playbook") is not None:
        return
    skip = pytest.mark.skip(reason="ansible-core is not installed (pip install ansible-core; "
                                   "it is in the test dependency group)")
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(skip)


@pytest.fixture
def playbook(tmp_path: Path) -> Callable[..., Played]:
    """``playbook(path_or_text, *args, callback="json", env={...})``: run ansible-playbook."""
    exe = ansible_bin("ansible-playbook")
    counter = iter(range(1000))

    def run(book: str | Path, *args: str, callback: str = "json",
            env: dict[str, str] | None = None, cwd: Path | None = None) -> Played:
        if isinstance(book, str):
            path = tmp_path / f"play-{next(counter)}.yml"
            path.write_text(book)
        else:
            path = book
        extra = {"ANSIBLE_STDOUT_CALLBACK": "record" if callback == "json" else callback,
                 "ANSIBLE_CALLBACK_PLUGINS": str(Path(__file__).parent / "callback_plugins"),
                 **(env or {})}
        done = subprocess.run([str(exe), str(path), *args], capture_output=True, text=True,
                              env=ansible_env(tmp_path, **extra), timeout=300, check=False,
                              cwd=cwd or tmp_path)
        return Played(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def pool() -> Iterator[Any]:
    """A simulated seed pool (3 hosts) served on loopback, port 0."""
    yield from (servers[0] for servers in serve_seed_pools(1))


@pytest.fixture
def three_pools() -> Iterator[list[Any]]:
    """Three simulated seed pools, each served on its own loopback port."""
    yield from serve_seed_pools(3)


@pytest.fixture
def pool_env(pool: Any) -> dict[str, str]:
    """The connection of ``pool`` as the modules read it from the environment."""
    return {"XAPICTL_URL": pool.url, "XAPICTL_PASSWORD": PASSWORD}
