"""``async-xenapi`` (PyPI), a minimal JSON-RPC 2.0 client on aiohttp, against the simulator:
a referee for the v2 shapes, string ids and ints as numbers (CLIENTS §5).

It needs Python >= 3.12 and, in 1.0.5, a one-line fix (``from __future__ import
annotations``) applied to a scratch copy. Installed at test time into the interop cache;
skipped, with the reason, when no such Python exists or the install fails offline.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

VERSION = "1.0.5"
PROBE = """
import asyncio, json, sys
from async_xenapi import AsyncXenAPISession

async def main(url):
    session = AsyncXenAPISession(url)
    await session.login_with_password("root", "xapictl")
    networks = await session.xenapi.network.get_all_records()
    out = {"names": sorted(n["name_label"] for n in networks.values()),
           "mtu_types": sorted({type(n["MTU"]).__name__ for n in networks.values()})}
    try:
        await session.xenapi.network.get_record("OpaqueRef:nope")
    except RuntimeError as exc:
        out["error"] = str(exc)
    await session.logout()
    print(json.dumps(out))

asyncio.run(main(sys.argv[1]))
"""


# read at import, before the autouse fixture swaps HOME: pyenv keeps its Pythons there
_PYENV_PYTHONS = sorted(
    (Path.home() / ".pyenv" / "versions").glob("3.1[2-9]*/bin/python3"), reverse=True)


def _python312() -> str | None:
    if sys.version_info >= (3, 12):
        return sys.executable
    candidates = [shutil.which(name) for name in ("python3.13", "python3.12")]
    for found in [*(c for c in candidates if c), *map(str, _PYENV_PYTHONS)]:
        probe = subprocess.run([found, "-c", "import sys, venv; assert sys.version_info >= "
                                "(3, 12)"], capture_output=True, check=False)
        if probe.returncode == 0:
            return found
    return None


def _install(python: str, venv: Path, venv_python: Path) -> None:
    try:
        if not venv_python.exists():
            subprocess.run([python, "-m", "venv", str(venv)], check=True, capture_output=True,
                           timeout=120)
        if subprocess.run([str(venv_python), "-c", "import aiohttp"], capture_output=True,
                          check=False).returncode != 0:
            subprocess.run([str(venv_python), "-m", "pip", "install", "-q",
                            f"async-xenapi=={VERSION}"], check=True, capture_output=True,
                           timeout=300)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        output = getattr(exc, "stderr", b"") or b""
        pytest.skip(f"pip install async-xenapi failed (offline?): {output.decode()[-300:]}")


@pytest.fixture(scope="module")
def async_xenapi(interop_cache: Path, interop_cache_lock,
                 tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(python of a venv with aiohttp, a dir holding the patched package). The venv is filled
    once, under the cache's lock; the patched copy is this run's own."""
    python = _python312()
    if python is None:
        pytest.skip("async-xenapi needs Python >= 3.12, and none is installed")
    venv = interop_cache / f"async-xenapi-{VERSION}"
    venv_python = venv / "bin" / "python"
    patched = tmp_path_factory.mktemp(f"async-xenapi-{VERSION}-patched")
    with interop_cache_lock(venv.name):
        _install(python, venv, venv_python)
    installed = subprocess.run(
        [str(venv_python), "-c", "import importlib.util as u; "
         "print(u.find_spec('async_xenapi').submodule_search_locations[0])"],
        capture_output=True, text=True, check=True).stdout.strip()
    target = patched / "async_xenapi"
    shutil.copytree(installed, target)
    session_py = target / "session.py"
    source = session_py.read_text()
    if "from __future__ import annotations" not in source:
        # the upstream bug: a forward reference evaluated at import time (CLIENTS §5)
        lines = source.splitlines(keepends=True)
        first_import = next(i for i, line in enumerate(lines) if line.startswith("import "))
        lines.insert(first_import, "from __future__ import annotations\n")
        session_py.write_text("".join(lines))
    return venv_python, patched


def test_async_xenapi_logs_in_reads_networks_and_errors_over_jsonrpc_v2(async_xenapi, sim,
                                                                        sim_server):
    python, path = async_xenapi
    done = subprocess.run([str(python), "-c", PROBE, sim_server.url], capture_output=True,
                          text=True, timeout=120, check=False, env={"PYTHONPATH": str(path)})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    with sim.state.lock:
        assert result["names"] == sorted(r["name_label"]
                                         for r in sim.state.all("network").values())
    assert result["mtu_types"] == ["int"]  # JSON-RPC ints are numbers
    assert "HANDLE_INVALID" in result["error"] and "OpaqueRef:nope" in result["error"]
    log = sim_server.control.request_log()
    assert {e["protocol"] for e in log} == {"jsonrpc"}
    assert log[0]["params"] == ["root", "******", "version", "originator"]  # its placeholders
