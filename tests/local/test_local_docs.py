"""Every example in docs/local-backend.md runs: included recipes validate, console blocks are
executed in order against one namespace host and must print what the page shows, the
hotplug wrapper works."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from fake_xenstore import FakeXenStore, vif_backend
from local_netns_helpers import build_xen_host, snapshot_of, veth
from typer.testing import CliRunner

from xapictl.cli.local import app
from xapictl.local.apply import apply
from xapictl.local.desired import load_recipe, parse_recipe

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "local-backend.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)
STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}")


def blocks(lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(DOC.read_text()) if kind == lang]


def test_included_recipes_exist_and_validate():
    included = [m for b in blocks("yaml") for m in re.findall(r'--8<-- "([^"]+)"', b)]
    assert included == ["recipes/local-xenbr0.yaml", "recipes/local-trunk-vlans.yaml",
                        "recipes/local-vlan-aware.yaml"]
    for path in included:
        assert load_recipe(REPO / path).bridges


def test_every_recipe_written_on_the_page_is_a_file_the_console_examples_use():
    written = [b.splitlines()[0].removeprefix("# file: ") for b in blocks("yaml")
               if b.startswith("# file: ")]
    used = {w for command, _ in _sessions() for w in command if w.endswith(".yaml")}
    assert written == ["bad.yaml", "lab.yaml", "teardown.yaml"]
    assert set(written) <= used


def _normalise(text: str, netns: str = "") -> str:
    text = re.sub(r"in \d+(\.\d+)? s\b", "in N s", text)
    text = STAMP.sub("<time>", text)
    if netns:
        text = text.replace(f" --netns {netns}", "")
    return text.rstrip()


def _sessions() -> list[tuple[list[str], str]]:
    """(words of the command, what the page shows it printing), in page order."""
    out = []
    for body in blocks("console"):
        for chunk in re.split(r"^\$ ", body, flags=re.M)[1:]:
            command, _, expected = chunk.partition("\n")
            out.append((shlex.split(command), expected))
    return out


def _split_env(words: list[str]) -> tuple[dict[str, str], list[str]]:
    env = {}
    while words and re.match(r"^[A-Za-z_]\w*=", words[0]):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    return env, words


@pytest.mark.requires_root
def test_console_examples_print_what_the_page_shows(namespaces, tmp_path, monkeypatch):
    from xapictl.local.check import capabilities

    host = build_xen_host(namespaces)
    for body in blocks("yaml"):
        if body.startswith("# file: "):
            name = body.splitlines()[0].removeprefix("# file: ")
            (tmp_path / name).write_text(body)
    (tmp_path / "recipes").symlink_to(REPO / "recipes")
    monkeypatch.chdir(tmp_path)
    store: FakeXenStore | None = None
    ran: list[str] = []
    for words, expected in _sessions():
        env, words = _split_env(list(words))
        if words[0] == "xenstore-read":
            assert store is not None, "xenstore-read before any vif-hotplug example"
            done = subprocess.run(words, env=store.env(), capture_output=True, text=True)
            assert done.stdout.rstrip() == expected.rstrip(), words
            ran.append(words[0])
            continue
        assert words[:2] == ["xapictl", "local"], words
        args = words[2:]
        ran.append(args[0])
        if args[0] == "check":
            if capabilities()["vlan"][0]:
                continue  # the page shows the build machine's kernel; this one has 802.1Q
            result = CliRunner().invoke(app, args)
            shown = expected.rstrip().splitlines()
            # the advice names the running kernel's release: the page shows the build machine's
            out = result.output.replace(f"({os.uname().release})", "(6.18.44-fc-v1300)")
            assert out.splitlines()[: len(shown)] == shown
            assert result.exit_code == 4  # the recipe needs 802.1Q, which this kernel lacks
            continue
        if args[0] == "vif-hotplug" and store is None:
            # what xl and netback would have done: a guest with vif3.0 in dom0, and the
            # backend directory libxl writes (bridge=xenbr0 in the guest's vif= line)
            veth(host.dom0, "vif3.0", namespaces("g3"), "eth0")
            store = FakeXenStore(tmp_path, vif_backend(3, 0, bridge="xenbr0"))
        if store is not None:
            env = store.env(XAPICTL_HOTPLUG_LOG=str(tmp_path / "vif.log"), **env)
        result = CliRunner().invoke(app, [*args, "--netns", host.dom0], env=env or None)
        assert _normalise(result.output, host.dom0) == _normalise(expected), " ".join(words)
    assert ran == ["plan", "apply", "plan", "show", "plan", "apply", "rollback", "apply",
                   "confirm", "vif-hotplug", "xenstore-read", "vif-hotplug", "plan", "apply",
                   "check"]
    # the last example took everything down: eth0 has its addresses back, nothing is left
    snap = snapshot_of(host.dom0)
    assert set(snap.links) == {"lo", "eth0", "vif3.0"}
    assert {a.cidr for a in snap.addresses_on("eth0") if not a.link_local} == {
        "192.0.2.10/24", "192.0.2.11/24", "2001:db8::10/64"}


@pytest.mark.requires_root
@pytest.mark.parametrize("which", [0, 1], ids=["xapictl-local-vif-hotplug",
                                              "xapictl-vif-hotplug"])
def test_hotplug_wrapper_script_from_the_page_attaches_a_vif(namespaces, tmp_path, which):
    """Both wrappers the page shows: the CLI command, and the lean console script."""
    wrappers = blocks("sh")
    assert len(wrappers) == 2
    wrapper = wrappers[which]
    host = build_xen_host(namespaces)
    apply(parse_recipe("local:\n  bridges:\n    xenbr0: {uplink: eth0}\n"), netns=host.dom0,
          run_probe=False)
    veth(host.dom0, "vif3.0", namespaces("g3"), "eth0")
    store = FakeXenStore(tmp_path, vif_backend(3, 0, bridge="xenbr0"))
    shim = store.bin / "xapictl"  # `xapictl local ...` -> the local command group
    shim.write_text(f"#!{sys.executable}\nimport sys\nassert sys.argv[1] == 'local'\n"
                    "from xapictl.cli.local import app\napp(sys.argv[2:])\n")
    shim.chmod(0o755)
    import tomllib

    scripts = tomllib.loads(Path("pyproject.toml").read_text())["project"]["scripts"]
    module, func = scripts["xapictl-vif-hotplug"].split(":")  # the console script pip installs
    lean = store.bin / "xapictl-vif-hotplug"
    lean.write_text(f"#!{sys.executable}\nfrom {module} import {func}\n"
                    f"raise SystemExit({func}())\n")
    lean.chmod(0o755)
    script = tmp_path / "vif-xapictl"
    script.write_text(wrapper)
    script.chmod(0o755)
    env = store.env(XENBUS_PATH="backend/vif/3/0", vif="vif3.0",
                    XAPICTL_HOTPLUG_LOG=str(tmp_path / "vif.log"))
    done = subprocess.run([str(script), "online", "type_if=vif", "--netns", host.dom0],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert store.data["backend/vif/3/0/hotplug-status"] == "connected"
    assert snapshot_of(host.dom0).links["vif3.0"].master == "xenbr0"
