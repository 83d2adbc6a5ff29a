"""``xapictl local vif-hotplug`` as libxl runs it, with a fake xenstore, in namespaces."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_xenstore import FakeXenStore, fake_firewall, vif_backend
from local_netns_helpers import snapshot_of, veth
from typer.testing import CliRunner

from xapictl.cli import app
from xapictl.local.apply import apply
from xapictl.local.desired import parse_recipe

pytestmark = pytest.mark.requires_root
XB = "backend/vif/7/0"


@pytest.fixture
def dom0_with_bridge(xen_host, namespaces):
    apply(parse_recipe("local:\n  bridges:\n    xenbr0: {uplink: eth0}\n"), netns=xen_host.dom0,
          run_probe=False)
    guest = namespaces("g7")
    veth(xen_host.dom0, "vif7.0", guest, "eth0")
    return xen_host.dom0


def hotplug(store: FakeXenStore, ns: str, action: str):
    env = store.env(XENBUS_PATH=XB, vif="vif7.0", script="/etc/xen/scripts/vif-xapictl",
                    XENBUS_TYPE="vif", XAPICTL_HOTPLUG_LOG=str(store.path.parent / "vif.log"))
    return CliRunner().invoke(app, ["local", "vif-hotplug", action, "type_if=vif", "--netns", ns],
                              env=env)


def test_online_attaches_as_vif_bridge_does_and_reports_connected(tmp_path, dom0_with_bridge):
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0", mtu="1400"))
    result = hotplug(store, dom0_with_bridge, "online")
    assert result.exit_code == 0, result.output
    snap = snapshot_of(dom0_with_bridge)
    vif = snap.links["vif7.0"]
    # xenbr0 carries the host's addresses: mtu=1400 must not pull it (and the host) down,
    # so the vif stays at the bridge's 1500 and the guest is told 1400 (issue 16 item 4)
    assert (vif.master, vif.mac, vif.mtu, vif.addrgenmode, vif.up) == (
        "xenbr0", "fe:ff:ff:ff:ff:ff", 1500, 1, True)
    assert snap.links["xenbr0"].mtu == 1500
    assert store.data[f"{XB}/hotplug-status"] == "connected"
    assert store.data["local/domain/7/device/vif/0/mtu"] == "1400"
    log = (tmp_path / "vif.log").read_text()
    assert "online vif7.0 bridge=xenbr0 (guest MAC 00:16:3e:00:01:01): 6 steps" in log
    assert ("vif vif7.0: mtu 1400 would lower the MTU of xenbr0, which carries the host's"
            " addresses, from 1500: the vif stays at 1500") in log


def test_online_reads_the_backend_directory_in_two_commands(tmp_path, dom0_with_bridge):
    """libxl gives the script 40 s and each process counts on a slow dom0: one
    xenstore-list and one xenstore-read of every present key, not one read per key."""
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0", mtu="1500"))
    assert hotplug(store, dom0_with_bridge, "online").exit_code == 0
    assert store.calls == ["list", "read", "write", "write"]  # front mtu, hotplug-status
    assert store.data[f"{XB}/hotplug-status"] == "connected"


def test_online_twice_changes_nothing_the_second_time(tmp_path, dom0_with_bridge):
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0"))
    assert hotplug(store, dom0_with_bridge, "online").exit_code == 0
    before = snapshot_of(dom0_with_bridge).fingerprint()
    assert hotplug(store, dom0_with_bridge, "online").exit_code == 0
    assert snapshot_of(dom0_with_bridge).fingerprint() == before
    log = (tmp_path / "vif.log").read_text()
    assert "online vif7.0 bridge=xenbr0 (guest MAC 00:16:3e:00:01:01): 0 steps" in log


def test_offline_detaches_and_leaves_the_device(tmp_path, dom0_with_bridge):
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0"))
    assert hotplug(store, dom0_with_bridge, "online").exit_code == 0
    assert hotplug(store, dom0_with_bridge, "offline").exit_code == 0
    vif = snapshot_of(dom0_with_bridge).links["vif7.0"]
    assert (vif.master, vif.up) == (None, False)


def test_missing_bridge_writes_hotplug_error_for_libxl(tmp_path, dom0_with_bridge):
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr9"))
    result = hotplug(store, dom0_with_bridge, "online")
    assert result.exit_code == 4
    assert store.data[f"{XB}/hotplug-status"] == "error"
    assert "bridge xenbr9 does not exist" in store.data[f"{XB}/hotplug-error"]


def test_vlan_on_a_bridge_without_filtering_is_an_error_not_a_silent_untagged_port(
        tmp_path, dom0_with_bridge):
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0", vlan="105"))
    assert hotplug(store, dom0_with_bridge, "online").exit_code == 4
    assert "needs a VLAN-aware bridge" in store.data[f"{XB}/hotplug-error"]
    assert snapshot_of(dom0_with_bridge).links["vif7.0"].master is None


def test_hotplug_without_xenbus_path_is_bad_input(tmp_path):
    store = FakeXenStore(tmp_path, {})
    result = CliRunner().invoke(app, ["local", "vif-hotplug", "online"], env=store.env(
        XENBUS_PATH="", vif="", XAPICTL_HOTPLUG_LOG=str(tmp_path / "vif.log")))
    assert result.exit_code == 2


HOTPLUG_NEVER = {"typer", "click", "rich", "pydantic", "yaml", "httpx", "orjson", "sqlite3",
                 "xapictl.cli", "xapictl.client", "xapictl.xapi", "xapictl.state",
                 "xapictl.local.check", "xapictl.local.recipe_model", "pyroute2.ndb",
                 "pyroute2.ipdb", "pyroute2.conntrack", "pyroute2.plan9"}
"""Loaded by no vif hotplug run: not the CLI nor the XAPI side, no recipe reading, and of
pyroute2 only what IPRoute and netns need (its package ``__init__`` loads every family)."""

HOTPLUG_MOST_MODULES = 340
"""A whole ``online`` run of the lean entry point, counted at exit: 423 modules were imported
before pyroute2's package was loaded bare and yaml/tenacity where used, 326 after (Python's
own start-up is about 30); a bound with a little room, so that a new heavy import shows up."""

DUMP_AT_EXIT = ("import atexit, json, runpy, sys\n"
                "out = sys.argv.pop(1)\n"
                "atexit.register(lambda: open(out, 'w').write(json.dumps(sorted(sys.modules))))\n"
                "runpy.run_module('xapictl.local.hotplug', run_name='__main__', alter_sys=True)\n")


def test_lean_module_entry_point_does_the_same_job_with_few_modules(tmp_path, dom0_with_bridge):
    """``python -m xapictl.local.hotplug`` (the ``xapictl-vif-hotplug`` script) skips the
    CLI's start-up: libxl gives a vif script 40 s, and under emulation (the Xen tier) or on a
    slow dom0 every imported module counts. Counted, never timed."""
    import json
    import subprocess
    import sys

    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0"))
    env = store.env(XENBUS_PATH=XB, vif="vif7.0", XAPICTL_HOTPLUG_LOG=str(tmp_path / "v.log"))
    out = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, "-c", DUMP_AT_EXIT, str(out), "online",
                           "type_if=vif", "--netns", dom0_with_bridge], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert store.data[f"{XB}/hotplug-status"] == "connected"
    assert snapshot_of(dom0_with_bridge).links["vif7.0"].master == "xenbr0"
    modules = set(json.loads(out.read_text()))
    loaded = {m for m in modules if m in HOTPLUG_NEVER or m.rsplit(".", 1)[0] in HOTPLUG_NEVER
              or m.split(".")[0] in HOTPLUG_NEVER}
    assert not loaded, sorted(loaded)
    assert len(modules) <= HOTPLUG_MOST_MODULES, len(modules)


def test_pyroute2_loaded_bare_still_gives_every_name_to_later_importers():
    """The hotplug process loads pyroute2's package without its ``__init__``; a later importer
    of a name it skipped (``NDB``) gets the whole package, in the same interpreter. Importing
    the backend alone (a library caller) leaves pyroute2 as it is."""
    import subprocess
    import sys

    code = ("import sys, xapictl.local.lean_pyroute2\n"
            "xapictl.local.lean_pyroute2.load_bare()\n"
            "import xapictl.local.netlink\n"
            "bare = 'pyroute2.ndb.main' not in sys.modules\n"
            "from pyroute2 import NDB, IPRoute, netns\n"
            "import pyroute2\n"
            "print(bare, NDB.__name__, IPRoute is xapictl.local.netlink.IPRoute,"
            " 'NDB' in pyroute2.__all__ or NDB in pyroute2.__all__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.split() == ["True", "NDB", "True", "True"]
    plain = subprocess.run([sys.executable, "-c", "import sys, xapictl.local.netlink\n"
                            "print('pyroute2.ndb.main' in sys.modules)"],
                           capture_output=True, text=True, timeout=120, check=True)
    assert plain.stdout.split() == ["True"]


def test_online_for_a_vif_that_does_not_exist_fails_with_hotplug_error(tmp_path,
                                                                       dom0_with_bridge):
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0"))
    env = store.env(XENBUS_PATH=XB, vif="vif7.9", XAPICTL_HOTPLUG_LOG=str(tmp_path / "v.log"))
    result = CliRunner().invoke(app, ["local", "vif-hotplug", "online", "type_if=vif", "--netns",
                                      dom0_with_bridge], env=env)
    assert result.exit_code == 4
    assert store.data[f"{XB}/hotplug-status"] == "error"
    assert "vif vif7.9: no such device" in store.data[f"{XB}/hotplug-error"]


def test_a_hotplug_undo_file_left_by_an_incomplete_rollback_is_replayed_by_local_rollback(
        tmp_path, monkeypatch, dom0_with_bridge):
    """The kernel refuses the 5th step and then the undo of the 1st: the vif is left down,
    attached with its undo file; ``local show`` names the file, ``local rollback`` (under
    the lock) puts the vif back as it was and removes the file."""
    import errno
    import threading
    import types

    from xapictl.local import apply as apply_mod
    from xapictl.local import lock as lock_mod
    from xapictl.local.lock import locked
    from xapictl.local.netlink import NetlinkError

    before = snapshot_of(dom0_with_bridge).fingerprint()
    real, calls = apply_mod.netlink.execute, []

    def flaky(ipr, op):
        calls.append(op)
        if len(calls) in (5, 10):  # the 5th step, then the undo of the 1st (link down)
            raise NetlinkError(errno.EBUSY, "Device or resource busy")
        real(ipr, op)

    monkeypatch.setattr(apply_mod.netlink, "execute", flaky)
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0", mtu="1400"))
    assert hotplug(store, dom0_with_bridge, "online").exit_code == 4
    assert "rollback incomplete" in store.data[f"{XB}/hotplug-error"]
    monkeypatch.setattr(apply_mod.netlink, "execute", real)
    left = apply_mod.undo_path(dom0_with_bridge, "vif-vif7.0")
    assert left.exists() and snapshot_of(dom0_with_bridge).fingerprint() != before

    shown = CliRunner().invoke(app, ["local", "show", "--netns", dom0_with_bridge])
    assert shown.exit_code == 0 and f"  {left}" in shown.output
    assert CliRunner().invoke(app, ["local", "show", "--netns", dom0_with_bridge, "-o", "json"]
                              ).output.count(str(left)) == 1

    results = []
    waiting = threading.Event()  # set once the rollback has found the lock taken and waits

    def lock_wait(seconds: float) -> None:
        waiting.set()
        real_wait(seconds)

    real_wait = lock_mod.wait.sleep
    monkeypatch.setattr(lock_mod, "wait", types.SimpleNamespace(sleep=lock_wait))
    with locked(dom0_with_bridge):  # a hotplug run in progress: rollback must wait for it
        worker = threading.Thread(target=lambda: results.append(CliRunner().invoke(
            app, ["local", "rollback", "--netns", dom0_with_bridge])))
        worker.start()
        assert waiting.wait(30), "local rollback did not wait for the lock"
        assert left.exists() and not results
    worker.join(30)
    assert results[0].exit_code == 0, results[0].output
    assert results[0].output == f"rolled back (vif hotplug: {left.name})\n"
    assert not left.exists()
    assert snapshot_of(dom0_with_bridge).fingerprint() == before
    again = CliRunner().invoke(app, ["local", "rollback", "--netns", dom0_with_bridge])
    assert again.exit_code == 2


def test_vifname_renames_the_vif_as_vif_common_does(tmp_path, dom0_with_bridge):
    """Issue 16 item 4: ``vifname=web0`` in the guest's config: the device is renamed on
    online, attached under its new name, found by it on offline; a second online is a
    no-op."""
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0", vifname="web0"))
    result = hotplug(store, dom0_with_bridge, "online")
    assert result.exit_code == 0, result.output
    links = snapshot_of(dom0_with_bridge).links
    assert "vif7.0" not in links
    assert (links["web0"].master, links["web0"].mac, links["web0"].up) == (
        "xenbr0", "fe:ff:ff:ff:ff:ff", True)
    assert store.data[f"{XB}/hotplug-status"] == "connected"
    before = snapshot_of(dom0_with_bridge).fingerprint()
    assert hotplug(store, dom0_with_bridge, "online").exit_code == 0
    assert snapshot_of(dom0_with_bridge).fingerprint() == before
    assert hotplug(store, dom0_with_bridge, "offline").exit_code == 0
    assert snapshot_of(dom0_with_bridge).links["web0"].master is None


def test_a_vifname_another_device_has_is_refused(tmp_path, dom0_with_bridge):
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0", vifname="eth0"))
    assert hotplug(store, dom0_with_bridge, "online").exit_code == 4
    assert store.data[f"{XB}/hotplug-status"] == "error"
    assert ("cannot rename vif7.0 to eth0: an interface named eth0 already exists"
            in store.data[f"{XB}/hotplug-error"])
    links = snapshot_of(dom0_with_bridge).links
    assert "vif7.0" in links and links["vif7.0"].master is None


def _firewall_runs(calls) -> list[str]:
    return calls.read_text().splitlines() if calls.exists() else []


def test_offline_of_a_vif_without_ip_spawns_no_firewall_tool(tmp_path, dom0_with_bridge):
    """libxl gives offline 40 s too: a vif that was never guarded costs no nft/iptables run
    (the guard's record says so; nothing is listed)."""
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0"))
    calls = fake_firewall(store.bin)
    assert hotplug(store, dom0_with_bridge, "online").exit_code == 0
    assert hotplug(store, dom0_with_bridge, "offline").exit_code == 0
    assert _firewall_runs(calls) == []
    assert store.calls == ["list", "read", "write", "list", "read"]  # hotplug-status once
    assert snapshot_of(dom0_with_bridge).links["vif7.0"].master is None
    assert "offline vif7.0 bridge=xenbr0: " in (tmp_path / "vif.log").read_text()


def test_a_guarded_vif_costs_one_nft_run_online_and_one_offline(tmp_path, dom0_with_bridge):
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0", ip="192.0.2.20"))
    calls = fake_firewall(store.bin)
    assert hotplug(store, dom0_with_bridge, "online").exit_code == 0
    assert _firewall_runs(calls) == ["nft -f -"]
    assert hotplug(store, dom0_with_bridge, "offline").exit_code == 0
    assert _firewall_runs(calls) == ["nft -f -", "nft -f -"]
    assert "vif7.0: antispoofing removed (1 command)" in (tmp_path / "vif.log").read_text()
    assert hotplug(store, dom0_with_bridge, "offline").exit_code == 0  # libxl may repeat it
    assert len(_firewall_runs(calls)) == 2


def test_offline_of_a_vif_netback_removed_loads_no_netlink_code(tmp_path):
    """At ``xl destroy`` netback has removed the device before libxl runs ``offline``: in
    dom0's own namespace (no --netns) /sys says so, and the run detaches nothing without
    loading pyroute2 (most of a hotplug run's imports, inside libxl's 40 s). Counted at exit,
    never timed; the host's namespace is only read."""
    import json
    import subprocess
    import sys

    vif = "xtgone7.0"
    assert not Path(f"/sys/class/net/{vif}").exists()
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0"))
    env = store.env(XENBUS_PATH=XB, vif=vif, XAPICTL_HOTPLUG_LOG=str(tmp_path / "v.log"))
    out = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, "-c", DUMP_AT_EXIT, str(out), "offline",
                           "type_if=vif"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(out.read_text()))
    # the bare package shell main() registers is all of pyroute2 there is
    assert not {m for m in modules if m.startswith("pyroute2.")
                or m in ("xapictl.local.netlink", "xapictl.local.apply")}
    assert store.calls == ["list", "read"]  # no hotplug-status for an offline
    assert (f"offline {vif} bridge=xenbr0: 0 steps in" in (tmp_path / "v.log").read_text())
