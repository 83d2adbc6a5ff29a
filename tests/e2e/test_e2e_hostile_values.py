"""No tracebacks, ever (issue 10, clause 8): every command and option of the real typer app,
walked the way tests/project/test_project_cli_docs.py walks it, is given hypothesis-generated
hostile values (unicode digits, inf/nan, huge and negative numbers, malformed URLs, paths to
missing/unreadable files and directories, empty strings, control characters, YAML bombs).

Each run must end with exit 2 or 4 (0 or 3 where the value is in fact valid), at most a short
message on stderr, no Python traceback (CliRunner keeps any uncaught exception), and, when it
exits 2 or 4, no change in the embedded, isolated simulated pool.

Bounded and deterministic: ``derandomize=True`` (the same examples on every run),
``max_examples`` below, ``deadline=None`` (a loaded machine is slow, not wrong). Values that
could name a host (``--url``) are drawn from a fixed loopback-or-malformed list only: nothing
leaves the machine. Commands left out, and why, are in ``SKIPPED``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.core import TyperArgument, TyperOption
from typer.testing import CliRunner

from xapictl.cli import app
from xapictl.plan.audit import is_write

SKIPPED = {
    "sim serve": "serves until killed (its options are parsed by click/typer before it binds)",
    "inventory watch": "streams until killed",
    "local apply": "changes the host's networking (its recipe loader is tested in tests/local)",
    "local confirm": "acts on the host's networking",
    "local rollback": "acts on the host's networking",
    "local boot": "changes the host's networking (re-applies the boot recipe)",
    "local vif-hotplug": "acts on the host's networking (called by Xen's hotplug scripts)",
}
# Flags take no value; these two write to the shell's rc files.
NO_VALUE = {"--install-completion", "--show-completion", "--help", "--version"}

# Required values that are harmless when the hostile value goes elsewhere.
BENIGN = {"vm": "web-01", "network": "Pool-wide network 1", "name": "Pool-wide network 1",
          "device": "0", "mtu": "1500", "recipe": "MISSING.yaml", "path": "MISSING.yaml",
          "old": "MISSING.json", "new": "MISSING.json", "rollout_id": "1", "action": "status",
          "--name": "Pool-wide network 1", "--fleet": "MISSING-fleet.yaml"}

NUMBERS = ["²", "٣", "１２", "¹⁰", "inf", "-inf", "nan", "1e400", "1e3", "9" * 40, "9" * 5000,
           "-1", "-0", "0", "0x10", "010", " 5", "5 ", "1_000", "+5", "5.5", "true"]
TEXTS = ["", " ", "\x1b[31mred", "a\x00b", "\n", "\t", "é" * 300, "-", "--", "*", "[", "{",
         "'", '"', "\\", "%s", "{0}", "..", "/", "\ud800"]
URLS = ["http://[::1", "http://127.0.0.1:99999", "https://127.0.0.1:0", "ftp://127.0.0.1",
        "http://", "://", "http://127.0.0.1:-1", "http://127.0.0.1:٣", "http://127.0.0.1:1",
        "https://[::1]:1", "http://127.0.0.1:1/\x00", "", "unix:///nonexistent/socket"]


@dataclass(frozen=True)
class Param:
    command: tuple[str, ...]
    name: str  # "--opt" or the argument's name
    is_option: bool
    is_flag: bool
    required: bool


def _walk() -> tuple[list[Param], dict[tuple[str, ...], list[Param]]]:
    found: dict[tuple[str, ...], list[Param]] = {}

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        subs = getattr(cmd, "commands", None) or {}
        if not subs or path == ():
            params = []
            for p in cmd.params:
                if isinstance(p, TyperOption):
                    params.append(Param(path, p.opts[0], True, bool(p.is_flag), p.required))
                elif isinstance(p, TyperArgument):
                    params.append(Param(path, str(p.name), False, False, p.required))
            found[path] = params
        for name, sub in subs.items():
            if not getattr(sub, "hidden", False):
                walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    commands = {c: ps for c, ps in found.items() if " ".join(c) not in SKIPPED}
    targets = [p for ps in commands.values() for p in ps
               if not p.is_flag and p.name not in NO_VALUE]
    return targets, commands


TARGETS, COMMANDS = _walk()
ROOT_PARAMS = COMMANDS[()]
LEAVES = [c for c in COMMANDS if c]


def test_the_walk_sees_every_command_and_many_options() -> None:
    assert {"network create", "vif detach", "inventory diff", "rollout run", "drift",
            "apply"} <= {" ".join(c) for c in LEAVES}
    assert len(TARGETS) > 60


POOL_CLASSES = ("network", "PIF", "VLAN", "VIF", "Bond", "tunnel")


def _pool_state(path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as db:
        marks = ",".join("?" * len(POOL_CLASSES))
        rows = db.execute(f"SELECT cls, ref, data FROM objects WHERE cls IN ({marks}) "
                          "ORDER BY cls, ref", POOL_CLASSES).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


@dataclass
class World:
    home: Path
    env: dict[str, str]
    files: dict[str, str]
    state: Path


def _make_files(home: Path) -> None:
    """The hostile files (again: a generated ``--out`` may have written over one, or made
    the missing path exist)."""
    import shutil

    shutil.rmtree(home / "no", ignore_errors=True)
    (home / "binary").write_bytes(b"\xff\xfe\x00\x81")
    (home / "bomb.yaml").write_text(
        "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
            f"{x}: &{x} [{', '.join([f'*{p}'] * 9)}]\n"
            for p, x in zip("abcdefgh", "bcdefghi", strict=True)))
    (home / "deep.yaml").write_text("[" * 5000 + "]" * 5000 + "\n")
    (home / "dupes.yaml").write_text("networks: []\nnetworks: []\n")
    (home / "text.txt").write_text("just some text\n")
    (home / "empty").write_text("")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("hostile")
    (home / "a-directory").mkdir()
    (home / "cwd").mkdir()
    _make_files(home)
    files = {
        "missing": str(home / "no" / "such" / "file.yaml"),
        "directory": str(home / "a-directory"),
        "not-a-directory": str(home / "text.txt" / "below-a-file"),
        "binary": str(home / "binary"),
        "bomb": str(home / "bomb.yaml"),
        "deep": str(home / "deep.yaml"),
        "dupes": str(home / "dupes.yaml"),
        "text": str(home / "text.txt"),
        "empty": str(home / "empty"),
        "dev-null": "/dev/null",
        "proc-mem": "/proc/self/mem",  # exists, cannot be read from the start
    }
    # tests/conftest.py clears XAPICTL_* and HOME for each test; these runs name theirs
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_DATA_HOME": str(home / "data"), "XDG_STATE_HOME": str(home / "state"),
           "XAPICTL_EMBEDDED_STATE": str(home / "pool.sqlite"),
           "XAPICTL_AUDIT_LOG": str(home / "audit.jsonl")}
    # nothing configured: every run goes to the embedded pool, made once here
    first = CliRunner().invoke(app, ["network", "list"], env=env)
    assert first.exit_code == 0, first.output
    assert (home / "pool.sqlite").exists()
    yield World(home, env, files, home / "pool.sqlite")


def _values(param: Param, files: dict[str, str]) -> st.SearchStrategy[str]:
    if param.name in ("--url",):
        return st.sampled_from(URLS)  # never a host name: nothing may leave the machine
    hostile = [*NUMBERS, *TEXTS, *files.values()]
    generated = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6)
    if param.name == "--pool":
        return st.one_of(st.sampled_from(hostile), generated)
    return st.one_of(st.sampled_from(hostile), generated, st.sampled_from(URLS))


def _argv(param: Param, value: str) -> list[str]:
    """The command line: options first, then ``--`` and the positionals (so that a hostile
    positional such as ``-1`` is a value, not an option), the other required ones benign."""
    if not param.command:  # a global option: put it before a read-only command
        return [param.name, value, "network", "list"]
    options: list[str] = []
    positionals: list[str] = []
    for p in COMMANDS[param.command]:
        if p == param:
            given = value
        elif p.required:
            given = BENIGN.get(p.name, BENIGN.get(p.name.lstrip("-"), "x"))
        else:
            continue
        if p.is_option:
            options += [p.name, given]
        else:
            positionals.append(given)
    return [*param.command, *options, *(["--", *positionals] if positionals else [])]


@st.composite
def cases(draw: st.DrawFn, files: dict[str, str]) -> list[str]:
    param = draw(st.sampled_from(TARGETS))
    return _argv(param, draw(_values(param, files)))


@dataclass
class Outcome:
    code: int
    stderr: str
    exception: BaseException | None


def run(argv: list[str], env: dict[str, str], cwd: Path) -> Outcome:
    """One CLI run, in ``cwd``: a hostile --output or recipe name lands there, not in the
    checkout."""
    before = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, argv, env=env)
    finally:
        os.chdir(before)
    exception = result.exception
    if isinstance(exception, SystemExit):
        exception = None
    return Outcome(result.exit_code, result.stderr, exception)


def check(world: World, argv: list[str]) -> Outcome:
    before = _pool_state(world.state)
    out = run(argv, world.env, world.home / "cwd")
    assert out.exception is None, (argv, repr(out.exception))
    assert "Traceback" not in out.stderr, (argv, out.stderr)
    assert out.code in (0, 2, 3, 4), (argv, out.code, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()
             and not line.startswith("xapictl: no pool configured")]
    # short: a few lines (click's usage errors take 4), each short but for the value it quotes
    quoted = max((len(repr(a)) for a in argv), default=0)
    assert len(lines) <= 6 and all(len(line) <= 300 + 2 * quoted for line in lines), (
        argv, out.stderr)
    if out.code in (2, 4):
        assert _pool_state(world.state) == before, (argv, "a refused run changed the pool")
    return out


@settings(max_examples=200, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_values_never_give_a_traceback(world: World, data: st.DataObject) -> None:
    check(world, data.draw(cases(world.files)))


@settings(max_examples=40, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_global_options_with_a_pool_configured(world: World, sim_server: Any,
                                                       data: st.DataObject) -> None:
    """The connection options (--timeout, --url, --password-file, --ca, --fingerprint …)
    with a real pool configured (a simulator on loopback), so that they are used: exit 2 or 4
    (0 where valid), a short message, no traceback, and no write reached that pool."""
    param = data.draw(st.sampled_from(ROOT_PARAMS).filter(
        lambda p: not p.is_flag and p.name not in NO_VALUE))
    argv = _argv(param, data.draw(_values(param, world.files)))
    env = {**world.env, "XAPICTL_URL": sim_server.url, "XAPICTL_PASSWORD": "xapictl"}
    out = run(argv, env, world.home / "cwd")
    assert out.exception is None, (argv, repr(out.exception))
    assert "Traceback" not in out.stderr, (argv, out.stderr)
    assert out.code in (0, 2, 4), (argv, out.code, out.stderr)
    assert len(out.stderr.strip().splitlines()) <= 6, (argv, out.stderr)
    assert not [e for e in sim_server.control.request_log() if is_write(e["method"])]


@pytest.mark.parametrize("name", ["directory", "not-a-directory", "text", "binary", "empty-arg"])
@pytest.mark.parametrize("command", [("rollout", "list"), ("rollout", "status", "--", "1"),
                                     ("rollout", "resume", "--", "1"),
                                     ("rollout", "audit", "--", "1"),
                                     ("rollout", "run", "MISSING.yaml", "--fleet", "@")])
def test_a_journal_path_that_cannot_hold_a_journal(world: World, command: tuple[str, ...],
                                                   name: str) -> None:
    """--journal a directory, '' (the working directory), a path under a regular file or a
    file that is not a journal: exit 2, one line naming --journal and the fix."""
    _make_files(world.home)
    (world.home / "fleet.yaml").write_text(
        "pools:\n  - name: a\n    url: http://127.0.0.1:1\n")
    (world.home / "cwd" / "MISSING.yaml").write_text("networks: []\n")
    path = "" if name == "empty-arg" else world.files[name]
    argv = [*command[:2], "--journal", path,
            *[str(world.home / "fleet.yaml") if a == "@" else a for a in command[2:]]]
    out = check(world, argv)
    assert out.code == 2, (argv, out.stderr)
    assert "--journal: cannot open the journal" in out.stderr and "give --journal" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


@pytest.mark.parametrize("kind", ["missing", "not-listening"])
def test_a_unix_socket_nobody_listens_on_fails_fast_and_leaks_nothing(world: World,
                                                                      kind: str) -> None:
    """``--url unix:///…`` whose socket file is missing (or nothing listens on it) is like a
    refused port (clause 4): two attempts (-v shows each), exit 4 naming the unix URL, and no
    socket left open (a ResourceWarning per attempt before)."""
    import gc
    import socket as socket_module
    import warnings

    path = world.home / "no" / "socket"
    if kind == "not-listening":  # bound, then closed: the file stays, nothing listens
        path = world.home / "dead.sock"
        path.unlink(missing_ok=True)
        with socket_module.socket(socket_module.AF_UNIX) as bound:
            bound.bind(str(path))
    env = {**world.env, "XAPICTL_PASSWORD": "x"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # --timeout 60: the attempts are counted, the deadline is far
        out = run(["-v", "--timeout", "60", "--url", f"unix://{path}", "network", "list"],
                  env, world.home / "cwd")
        gc.collect()
    assert out.code == 4 and out.exception is None, out.stderr
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    attempts = [line for line in out.stderr.splitlines() if line.startswith("xapictl: attempt")]
    assert len(attempts) == 2 and attempts[-1].endswith("giving up"), out.stderr
    assert f"cannot connect to unix://{path}" in out.stderr, out.stderr


@pytest.mark.parametrize("rollout_id", ["9" * 40, "-" + "9" * 30, str(2**63)])
@pytest.mark.parametrize("command", ["resume", "status", "audit"])
def test_a_rollout_id_beyond_sqlite_integers(world: World, command: str,
                                            rollout_id: str) -> None:
    out = check(world, ["rollout", command, "--", rollout_id])
    assert out.code == 2, out.stderr
    assert f"no rollout {int(rollout_id)} in the journal" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


@pytest.mark.parametrize("name", ["missing", "directory", "not-a-directory", "binary", "bomb",
                                  "deep", "dupes", "text", "empty", "proc-mem"])
@pytest.mark.parametrize("command", [("plan",), ("apply", "--yes"), ("local", "plan"),
                                     ("inventory", "diff", "@", "@")])
def test_every_kind_of_bad_file_in_every_file_argument(world: World, name: str,
                                                       command: tuple[str, ...]) -> None:
    _make_files(world.home)  # a generated --out may have written over one
    path = world.files[name]
    argv = [path if a == "@" else a for a in command]
    if "@" not in command:
        argv.insert(len(command) - (1 if command[-1] == "--yes" else 0), path)
    out = check(world, argv)
    assert out.code == (0 if name == "empty" and command[0] in ("plan", "apply") else 2), (
        argv, out.stderr)  # an empty recipe states nothing: valid


@pytest.mark.parametrize("name", ["missing", "directory", "binary", "bomb", "deep", "dupes",
                                  "text", "empty"])
@pytest.mark.parametrize("command", [("drift", "--fleet"), ("inventory", "export", "--fleet"),
                                     ("rollout", "run", "MISSING.yaml", "--fleet")])
def test_every_kind_of_bad_fleet_file(world: World, name: str, command: tuple[str, ...]) -> None:
    _make_files(world.home)
    out = check(world, [*command, world.files[name]])
    assert out.code == 2, out.stderr


@pytest.mark.parametrize("name", ["not-a-directory", "missing"])
def test_rollout_audit_out_that_cannot_be_written(world: World, name: str) -> None:
    """``rollout audit ID --out PATH`` of a rollout that exists, PATH under a regular file
    or in a missing folder: exit 2, one line naming --out (the check passes a path that is not
    a directory; the write itself fails)."""
    from xapictl.fleet.journal import Journal

    _make_files(world.home)
    path = world.home / "audit-journal.sqlite"
    with Journal(path) as journal:
        rid = journal.new_rollout(recipe="r.yaml", fleet="f.yaml", selection=None,
                                  options={}, pools=["a"])
    out = check(world, ["rollout", "audit", "--journal", str(path), "--out",
                        world.files[name], "--", str(rid)])
    assert out.code == 2, out.stderr
    assert out.stderr.startswith("xapictl: --out: cannot write"), out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


@pytest.mark.parametrize("command", [("plan",), ("apply", "--yes")])
def test_an_inventory_export_given_as_a_recipe_is_one_line(world: World,
                                                           command: tuple[str, ...]) -> None:
    """Found by a long run of the property test: an export written by a generated ``--out``
    and then read as a recipe gave one problem per top-level key (61 lines)."""
    export = world.home / "cwd" / "export.json"
    made = run(["inventory", "export", "--out", str(export)], world.env, world.home / "cwd")
    assert made.code == 0, made.stderr
    out = check(world, [command[0], str(export), *command[1:]])
    assert out.code == 2, out.stderr
    assert out.stderr.count("\n") == 1 and "not a recipe" in out.stderr, out.stderr
