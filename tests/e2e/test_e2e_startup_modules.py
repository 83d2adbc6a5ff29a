"""What a CLI run loads (issue 12): the main job, ``network create --vlan`` against a pool on
loopback, and its ``--help``, each in a fresh interpreter, counted from ``sys.modules`` when
the program ends. Counts of modules, never times: a module a path does not need is start-up
CPU paid on every run (``docs/bench/main-job.md`` measures it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# Loaded by no run below: the wire is xapi/http11.py (on the standard library's socket: not
# http.client, which brought email's parser and ssl; ssl only for an https pool),
# XML-RPC only for a pool that speaks it, YAML only when a recipe file is read, asyncio only
# for asyncio callers, tenacity only once a call fails in a way worth retrying, a thread pool
# executor (concurrent) only for a batch run outside the connection's kept threads; hashlib
# (which loads OpenSSL) only for saved plans' digests and certificate pins (the lease's id is
# the built-in SHA-256); logging only for a record of WARNING or above, or with -v
# (``xapictl._log``: the library's debug and info records cost nothing until then).
NEVER = {"httpx", "httpcore", "h11", "anyio", "certifi", "click", "rich", "pygments",
         "XenAPI", "xmlrpc", "yaml", "asyncio", "sqlite3", "pyroute2", "cryptography",
         "keyring", "jsonschema", "urllib3", "tenacity", "http", "email", "ssl",
         "concurrent", "hashlib", "_hashlib", "logging"}
# `--help` loads nothing of the library either, nor the JSON codec.
NEVER_FOR_HELP = NEVER | {"orjson"}

OTHER_GROUPS = {f"xapictl.cli.{name}" for name in (
    "vif", "sim", "local", "rollout", "inventory", "drift", "diagram", "plan", "listing", "bond",
    "netbox", "ansible")}
"""The modules of the root's other entries: a run of one command imports (and builds) only its
own group (``xapictl.cli.build_app``)."""

MOST_MODULES = 248
"""The run's module count, measured so, was 628 before issue 12's start-up work, 398 after it,
375 once the typed clients, the record classes of unread classes, the recipe and plan
document models, the bond and VIF planning and steps were loaded only when used, 259 once
the wire no longer used http.client (which loaded email's parser and ssl; typer, with the
standard library modules it loads, is 106 of them), 244 once neither hashlib (OpenSSL),
the idna codec nor the recipes it does not use were loaded, and 241 once logging was loaded
only for a record someone can want; a bound with a little room, so that a new heavy import
shows up here."""

DUMP = ("import atexit, json, runpy, sys\n"
        "out = sys.argv.pop(1)\n"
        "atexit.register(lambda: open(out, 'w').write(json.dumps(sorted(sys.modules))))\n"
        "sys.argv[0] = 'xapictl'\n"
        "runpy.run_module('xapictl', run_name='__main__', alter_sys=True)\n")


def _modules(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, set[str]]:
    out = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, "-c", DUMP, str(out), *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, set(json.loads(out.read_text()))


def _tops(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.fixture
def env(sim_server: Any, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XAPICTL_URL": sim_server.url, "XAPICTL_PASSWORD": "xapictl",
            "XAPICTL_EMBEDDED": "never", "HOME": str(tmp_path),
            "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}


def test_network_create_and_its_rerun_load_no_module_they_do_not_need(
        env: dict[str, str], tmp_path: Path) -> None:
    command = ("network", "create", "--name", "startup", "--vlan", "905", "--device", "eth1")
    for expected in (0, 0):  # the change, then the same command with nothing to do
        code, modules = _modules(tmp_path, env, *command)
        assert code == expected
        assert _tops(modules) & NEVER == set()
        assert len(modules) <= MOST_MODULES, len(modules)
        # built without the recipe and plan document models, no VM or VIF record read
        # the XAPI failure classes load with the first failure; none here
        assert not modules & {"xapictl.plan.recipe_model", "xapictl.plan.document",
                              "xapictl.xapi.failures",
                              "xapictl.model.vm", "xapictl.model.vif",
                              "xapictl.client.networks", "xapictl.plan.steps.vif",
                              "xapictl.plan.steps.bond", "xapictl.plan.diff.vif",
                              "xapictl.plan.diff.bond"}, modules
        # only the recipe it uses (xapictl.recipes loads each recipe's module on first use)
        assert {m for m in modules if m.startswith("xapictl.recipes.")} == {
            "xapictl.recipes._build", "xapictl.recipes.vlan"}
        # an ASCII host name reaches getaddrinfo as bytes: no idna codec (nor what it loads)
        assert not modules & {"encodings.idna", "stringprep", "unicodedata"}
    assert "xapictl.xapi.http11" in modules  # the check sees the run it describes
    assert "xapictl.cli.network" in modules and modules & OTHER_GROUPS == set()
    assert not any(m.startswith(("xapictl.sim", "xapictl.xapi.xmlrpc")) for m in modules)


def test_help_loads_neither_the_library_nor_pydantic(env: dict[str, str],
                                                     tmp_path: Path) -> None:
    code, modules = _modules(tmp_path, env, "network", "create", "--help")
    assert code == 0
    assert _tops(modules) & NEVER_FOR_HELP == set()
    layers = {m.split(".")[1] for m in modules if m.startswith("xapictl.")}
    # the shared stdlib-only leaves: the frozen dataclasses' methods, the run's gc settings
    assert layers <= {"cli", "_version", "errors", "_frozen", "_startup"}, layers
    assert modules & OTHER_GROUPS == set()
    code, modules = _modules(tmp_path, env, "--help")  # the root's help builds every entry
    assert code == 0 and modules >= OTHER_GROUPS
    assert _tops(modules) & NEVER_FOR_HELP == set()


def test_the_check_sees_a_heavy_module_when_one_is_loaded(env: dict[str, str],
                                                          tmp_path: Path) -> None:
    code, modules = _modules(tmp_path, env, "--version")
    assert code == 0 and "yaml" not in modules
    import_yaml = tmp_path / "sitecustomize.py"
    import_yaml.write_text("import yaml\n")
    code, modules = _modules(tmp_path, {**env, "PYTHONPATH": os.pathsep.join(
        [str(tmp_path), env.get("PYTHONPATH", "")])}, "--version")
    assert code == 0 and "yaml" in _tops(modules) & NEVER


GC_DUMP = ("import atexit, gc, json, runpy, sys\n"
           "out = sys.argv.pop(1)\n"
           "atexit.register(lambda: open(out, 'w').write(json.dumps(\n"
           "    [s['collections'] for s in gc.get_stats()])))\n"
           "sys.argv[0] = 'xapictl'\n"
           "runpy.run_module('xapictl', run_name='__main__', alter_sys=True)\n")
MOST_YOUNG_COLLECTIONS = 30
"""Young garbage collections of a ``network create`` run started as the console script
starts (``xapictl.__main__.main``, ``xapictl._startup``): 16 measured here (the test run
compiles every module from source), 3-7 with bytecode compiled as the benchmark has it, where
CPython's default threshold made ~85; none of the oldest generation."""


def test_network_create_runs_few_garbage_collections(env: dict[str, str],
                                                     tmp_path: Path) -> None:
    out = tmp_path / "gc.json"
    done = subprocess.run([sys.executable, "-c", GC_DUMP, str(out), "network", "create",
                           "--name", "gc", "--vlan", "906", "--device", "eth1"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    young, _, oldest = json.loads(out.read_text())
    assert young <= MOST_YOUNG_COLLECTIONS and oldest == 0, (young, oldest)


RECORDS_DUMP = ("import atexit, json, runpy, sys\n"
                "out = sys.argv.pop(1)\n"
                "def records():\n"
                "    from xapictl.model import Record\n"
                "    found = [v for name, m in list(sys.modules.items())\n"
                "             if name.startswith('xapictl.model.') for v in vars(m).values()\n"
                "             if isinstance(v, type) and issubclass(v, Record)\n"
                "             and v is not Record]\n"
                "    return {v.__name__: isinstance(vars(v)['__dataclass_fields__'], dict)\n"
                "            for v in found}\n"
                "atexit.register(lambda: open(out, 'w').write(json.dumps(records())))\n"
                "sys.argv[0] = 'xapictl'\n"
                "runpy.run_module('xapictl', run_name='__main__', alter_sys=True)\n")


def test_network_create_makes_no_record_class_a_dataclass(env: dict[str, str],
                                                          tmp_path: Path) -> None:
    # The generated records carry what the dataclass decorator would compute; its tables
    # (``__dataclass_fields__``) are made only when something reads them (``_base.record``),
    # which decoding, comparing and printing records never does.
    out = tmp_path / "records.json"
    done = subprocess.run([sys.executable, "-c", RECORDS_DUMP, str(out), "network", "create",
                           "--name", "records", "--vlan", "907", "--device", "eth1"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    made = json.loads(out.read_text())
    assert {"Host", "Pool", "PIF", "Network", "VLAN"} <= set(made)  # the check sees them
    assert [name for name, is_made in made.items() if is_made] == []


def test_fewer_collections_raises_the_young_threshold_only() -> None:
    import gc

    from xapictl._startup import YOUNG_GC_THRESHOLD, fewer_collections

    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        fewer_collections()
        assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, 10, 10)
        gc.set_threshold(YOUNG_GC_THRESHOLD * 2, 5, 7)  # a process's own higher setting stays
        fewer_collections()
        assert gc.get_threshold() == (YOUNG_GC_THRESHOLD * 2, 5, 7)
    finally:
        gc.set_threshold(*saved)
