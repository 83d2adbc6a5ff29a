"""Persistence: a settled change is re-applied by ``xapictl local boot`` after a "reboot"
(fresh namespaces with the NIC's original state, an empty /run, the same --root); an
unconfirmed one is not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from local_netns_helpers import build_xen_host, snapshot_of
from typer.testing import CliRunner

from xapictl.cli import app
from xapictl.local import deadman
from xapictl.local.apply import undo_path
from xapictl.local.persist import BOOT_RECIPE

pytestmark = pytest.mark.requires_root
XENBR0 = str(Path(__file__).resolve().parents[2] / "recipes" / "local-xenbr0.yaml")
runner = CliRunner()


def _reboot(namespaces, host, state: Path):
    """What a reboot does to the host: the kernel's network state is the NIC's original one,
    /run (undo files, staged recipes) is empty and the dead-man timer is gone."""
    from pyroute2 import netns

    undo = undo_path(host.dom0)
    if undo.exists():
        deadman.disarm(json.loads(undo.read_text())["deadman_pid"])
    shutil.rmtree(state, ignore_errors=True)
    for name in (host.dom0, host.lan):
        netns.remove(name)
    return build_xen_host(namespaces)


def _cli(*args: str):
    return runner.invoke(app, ["local", *args])


def test_confirmed_apply_is_restored_by_boot_after_a_reboot(namespaces, local_dirs):
    host = build_xen_host(namespaces)
    root = local_dirs / "root"
    original = snapshot_of(host.dom0).fingerprint()
    r = _cli("apply", XENBR0, "--yes", "--netns", host.dom0, "--root", str(root),
             "--confirm-within", "120", "--no-probe")
    assert r.exit_code == 0, r.output
    assert "only then is it re-applied at boot" in r.output
    assert not (root / BOOT_RECIPE).exists()  # not before confirm
    r = _cli("confirm", "--netns", host.dom0, "--root", str(root))
    assert r.exit_code == 0, r.output
    assert f"re-applied at boot from {root / BOOT_RECIPE}" in r.output
    applied = snapshot_of(host.dom0).fingerprint()
    assert applied != original and "xenbr0" in applied["links"]
    r = _cli("show", "--netns", host.dom0, "--root", str(root), "-o", "json")
    assert json.loads(r.output)["persisted"] == str(root / BOOT_RECIPE)

    host = _reboot(namespaces, host, local_dirs / "state")
    assert snapshot_of(host.dom0).fingerprint() == original
    r = _cli("boot", "--netns", host.dom0, "--root", str(root))
    assert r.exit_code == 0, r.output
    assert r.output.startswith("boot: 13 change(s) from ")
    restored = snapshot_of(host.dom0).fingerprint()
    assert restored == applied  # bridge, addresses (flags too) and routes
    assert not undo_path(host.dom0).exists()  # boot settles: nothing left to confirm
    r = _cli("boot", "--netns", host.dom0, "--root", str(root))
    assert (r.exit_code, r.output.startswith("boot: 0 change(s)")) == (0, True)


def test_unconfirmed_apply_is_gone_after_a_reboot(namespaces, local_dirs):
    host = build_xen_host(namespaces)
    root = local_dirs / "root"
    original = snapshot_of(host.dom0).fingerprint()
    r = _cli("apply", XENBR0, "--yes", "--netns", host.dom0, "--root", str(root),
             "--confirm-within", "120", "--no-probe")
    assert r.exit_code == 0, r.output
    host = _reboot(namespaces, host, local_dirs / "state")
    r = _cli("boot", "--netns", host.dom0, "--root", str(root))
    assert r.exit_code == 0, r.output
    assert r.output.startswith("nothing persisted (")
    assert snapshot_of(host.dom0).fingerprint() == original
    r = _cli("show", "--netns", host.dom0, "--root", str(root))
    assert "persisted: nothing; at boot the host's own network configuration applies" in r.output


def test_apply_without_confirm_within_persists_and_rollback_never_does(namespaces, local_dirs):
    host = build_xen_host(namespaces)
    root = local_dirs / "root"
    r = _cli("apply", XENBR0, "--yes", "--netns", host.dom0, "--root", str(root), "--no-probe")
    assert r.exit_code == 0, r.output
    assert f"persisted: re-applied at boot from {root / BOOT_RECIPE}" in r.output
    kept = (root / BOOT_RECIPE).read_text()
    assert kept.startswith("# xapictl local: re-applied at boot") and "uplink: eth0" in kept

    other = local_dirs / "root2"
    teardown = local_dirs / "down.yaml"
    teardown.write_text("local:\n  bridges:\n    xenbr0: {state: absent}\n")
    r = _cli("apply", str(teardown), "--yes", "--netns", host.dom0, "--root", str(other),
             "--confirm-within", "120", "--no-probe")
    assert r.exit_code == 0, r.output
    r = _cli("rollback", "--netns", host.dom0)
    assert r.exit_code == 0, r.output
    r = _cli("confirm", "--netns", host.dom0, "--root", str(other))
    assert r.exit_code == 2
    assert not (other / BOOT_RECIPE).exists()


def test_a_namespace_without_root_persists_nothing(namespaces, local_dirs):
    host = build_xen_host(namespaces)
    r = _cli("apply", XENBR0, "--yes", "--netns", host.dom0, "--no-probe")
    assert r.exit_code == 0, r.output
    assert "persisted" not in r.output
    assert not list((local_dirs / "state").glob("recipe-*"))


def test_boot_with_a_damaged_recipe_exits_2_and_changes_nothing(namespaces, local_dirs):
    host = build_xen_host(namespaces)
    root = local_dirs / "root"
    (root / BOOT_RECIPE).parent.mkdir(parents=True)
    (root / BOOT_RECIPE).write_text("local:\n  bridges:\n    xenbr0: {mtu: big}\n")
    before = snapshot_of(host.dom0).fingerprint()
    r = _cli("boot", "--netns", host.dom0, "--root", str(root))
    assert r.exit_code == 2
    assert "boot-recipe.yaml:3: local.bridges.xenbr0.mtu" in r.output
    assert snapshot_of(host.dom0).fingerprint() == before


def test_the_boot_unit_on_the_page_runs_local_boot_after_the_network_before_the_guests():
    import configparser
    import re

    page = (Path(__file__).resolve().parents[2] / "docs" / "local-backend.md").read_text()
    (unit,) = re.findall(r"^```ini\n(.*?)^```", page, re.M | re.S)
    parsed = configparser.ConfigParser(strict=True)
    parsed.read_string(unit)
    assert parsed["Service"]["ExecStart"] == "/usr/bin/xapictl local boot"
    assert parsed["Service"]["Type"] == "oneshot"
    assert parsed["Unit"]["After"] == "network.target"
    assert parsed["Unit"]["Before"] == "xendomains.service"
    assert parsed["Unit"]["ConditionPathExists"] == "/" + str(BOOT_RECIPE)
