"""Simulated pools synced into a real NetBox (tests/netbox/harness.py starts one).

Each test has a pool of its own (a unique name, so a cluster and a site of its own); the NetBox
is shared, so nothing here depends on what other tests left in it.
"""

from __future__ import annotations

import importlib.util
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from netbox_fixtures import NetBoxServer

import xapictl
from xapictl.errors import NetBoxError
from xapictl.netbox import NetBoxApi, OrphanPolicy, SyncOptions, sync
from xapictl.netbox.disks import read_disks
from xapictl.netbox.mapping import MappingOptions
from xapictl.netbox.model import GuestDisk
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer
from xapictl.xapi.credentials import Secret

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "netbox_sync.py"


class Pool:
    """A seed pool on loopback with a unique name, and short-hands to change it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = f"nb-{uuid.uuid4().hex[:10]}"
        self.call("pool.set_name_label", self.ref("pool"), self.name)

    def call(self, method: str, *args: Any) -> Any:
        with xapictl.connect(self.url, password="xapictl") as conn:
            return conn.call(method, *args)

    def ref(self, xapi_class: str, name: str | None = None) -> str:
        records = self.call(f"{xapi_class}.get_all_records")
        return str(next(r for r, rec in records.items()
                        if name is None or rec.get("name_label") == name))

    def connect(self) -> Any:
        """A new connection (what a watch opens, again after a loss)."""
        return xapictl.connect(self.url, password="xapictl")

    def snapshot(self) -> Any:
        with xapictl.connect(self.url, password="xapictl") as conn:
            return conn.snapshot()

    def state(self) -> tuple[Any, tuple[GuestDisk, ...]]:
        """The snapshot and the VMs' disks, as `xapictl netbox sync` reads them."""
        with xapictl.connect(self.url, password="xapictl") as conn:
            snap = conn.snapshot()
            return snap, read_disks(conn, snap)

    def add_vlan(self, tag: int) -> None:
        eth1 = next(r for r, p in self.call("PIF.get_all_records").items()
                    if p["device"] == "eth1" and p["VLAN"] == -1)
        net = self.call("network.create", {"name_label": f"VLAN {tag}", "name_description": "",
                                           "MTU": 1500, "other_config": {}})
        self.call("pool.create_VLAN_from_PIF", eth1, net, tag)


@pytest.fixture
def pool() -> Iterator[Pool]:
    sim = Simulator(password="xapictl")
    sim.reset(scenario="seed")
    with SimServer(sim) as server:
        yield Pool(server.url)
    sim.close()


@pytest.fixture
def api(netbox_server: NetBoxServer) -> Iterator[NetBoxApi]:
    with NetBoxApi(netbox_server.url, Secret(netbox_server.token)) as client:
        yield client


def options(pool: Pool, orphans: OrphanPolicy = OrphanPolicy.DELETE) -> SyncOptions:
    return SyncOptions(MappingOptions(site=f"site-{pool.name}"), orphans)


def one(api: NetBoxApi, endpoint: str, **filters: Any) -> dict[str, Any]:
    found = api.all(endpoint, endpoint, **filters)
    assert len(found) == 1, (endpoint, filters, found)
    return found[0]


def test_first_sync_fills_netbox_and_the_second_writes_nothing(api: NetBoxApi,
                                                                pool: Pool) -> None:
    report = sync(api, pool.snapshot(), options(pool))
    assert report.writes > 0 and report.remaining is not None and report.remaining.empty

    cluster = one(api, "virtualization/clusters", name=pool.name)
    assert cluster["type"]["name"] == "XCP-ng" and cluster["status"]["value"] == "active"
    assert [t["slug"] for t in cluster["tags"]] == ["xapictl"]
    devices = api.all("dcim/devices", "devices", cluster_id=cluster["id"])
    assert sorted(d["name"] for d in devices) == ["xcp-host-01", "xcp-host-02", "xcp-host-03"]
    host1 = next(d for d in devices if d["name"] == "xcp-host-01")
    assert host1["serial"] == "SIM0001X" and host1["role"]["name"] == "Hypervisor"
    assert host1["device_type"]["model"] == "PowerEdge R650"
    assert host1["platform"]["name"] == "XCP-ng 8.3.0"
    assert host1["primary_ip4"]["address"] == "192.0.2.11/24"
    eth1 = one(api, "dcim/interfaces", device_id=host1["id"], name="eth1")
    assert (eth1["type"]["value"], eth1["mtu"], eth1["speed"]) == ("25gbase-x-sfp28", 1500,
                                                                     25_000_000)
    assert eth1["mac_address"] == "00:1B:21:00:00:01"

    web = one(api, "virtualization/virtual-machines", cluster_id=cluster["id"], name="web-01")
    assert (web["status"]["value"], web["vcpus"], web["memory"]) == ("active", 2, 4096)
    assert web["platform"]["name"] == "Debian GNU/Linux 12"
    # The length of the pool's own prefix (the management network's subnet).
    assert web["primary_ip4"]["address"] == "192.0.2.101/24"
    vif = one(api, "virtualization/interfaces", virtual_machine_id=web["id"])
    assert vif["name"] == "eth0" and vif["mtu"] == 1500 and vif["mac_address"]
    halted = one(api, "virtualization/virtual-machines", cluster_id=cluster["id"],
                 name="build-01")
    assert halted["status"]["value"] == "offline"

    again = sync(api, pool.snapshot(), options(pool))
    assert again.writes == 0 and again.plan.empty
    assert len(again.plan.noops) > 30  # every object, each with its reason
    assert all(n.reason for n in again.plan.noops)


def test_disks_prefixes_qos_locking_and_other_config_reach_netbox(api: NetBoxApi,
                                                                 pool: Pool) -> None:
    pool.add_vlan(120)
    vlan_net = pool.ref("network", "VLAN 120")
    pool.call("network.add_to_other_config", vlan_net, "owner", "team-a")
    web = pool.ref("VM", "web-01")
    vif = pool.call("VM.get_VIFs", web)[0]
    pool.call("VIF.set_qos_algorithm_type", vif, "ratelimit")
    pool.call("VIF.set_qos_algorithm_params", vif, {"kbps": "20480"})
    pool.call("VIF.set_locking_mode", vif, "locked")
    pool.call("VIF.set_ipv4_allowed", vif, ["192.0.2.101"])
    snap, disks = pool.state()
    report = sync(api, snap, options(pool), disks)
    assert report.remaining is not None and report.remaining.empty, report.remaining

    cluster = one(api, "virtualization/clusters", name=pool.name)
    db = one(api, "virtualization/virtual-machines", cluster_id=cluster["id"], name="db-01")
    assert db["disk"] == 20480 + 102400  # NetBox's sum of the virtual disks, in MB
    db_disks = api.all("virtualization/virtual-disks", "disks", virtual_machine_id=db["id"])
    assert sorted((d["name"], d["size"]) for d in db_disks) == [
        ("db-01 data 1", 102400), ("db-01 system", 20480)]
    web_nb = one(api, "virtualization/virtual-machines", cluster_id=cluster["id"],
                 name="web-01")
    iface = one(api, "virtualization/interfaces", virtual_machine_id=web_nb["id"])
    assert (iface["custom_fields"]["xapi_qos_kbps"], iface["custom_fields"]["xapi_locking"]) \
        == (20480, "locked: 192.0.2.101")
    group = one(api, "ipam/vlan-groups", name=pool.name)
    vlan = one(api, "ipam/vlans", group_id=group["id"], vid=120)
    assert vlan["custom_fields"]["xapi_other_config"] == {"owner": "team-a"}
    prefixes = api.all("ipam/prefixes", "prefixes", tag="xapictl",
                       cf_xapi_pool=snap.pool.uuid)
    assert sorted(p["prefix"] for p in prefixes) == ["192.0.2.0/24", "198.51.100.0/24"]
    assert {p["scope"]["name"] for p in prefixes} == {f"site-{pool.name}"}
    assert sync(api, snap, options(pool), disks).writes == 0

    # A renamed disk, a lifted rate limit, an unlocked VIF: updates, then nothing again.
    vdi = pool.call("VBD.get_VDI", pool.call("VM.get_VBDs", pool.ref("VM", "db-01"))[0])
    pool.call("VDI.set_name_label", vdi, "db-01 root")
    pool.call("VIF.set_qos_algorithm_type", vif, "")
    pool.call("VIF.set_locking_mode", vif, "unlocked")
    snap, disks = pool.state()
    changed = sync(api, snap, options(pool), disks)
    assert sorted((s.kind, *s.changes) for s in changed.plan.steps) == [
        ("virtual-disk", "name"), ("vm-interface", "xapi_qos_kbps", "xapi_locking")]
    assert changed.remaining is not None and changed.remaining.empty
    iface = one(api, "virtualization/interfaces", id=iface["id"])
    assert (iface["custom_fields"]["xapi_qos_kbps"], iface["custom_fields"]["xapi_locking"]) \
        == (None, "unlocked")
    pool.call("VM.hard_shutdown", pool.ref("VM", "db-01"))
    pool.call("VM.destroy", pool.ref("VM", "db-01"))
    snap, disks = pool.state()
    gone = sync(api, snap, options(pool), disks)
    assert ("delete", "virtual-disk") in {(s.action.value, s.kind) for s in gone.plan.steps}
    assert not api.all("virtualization/virtual-disks", "disks",
                       id=[d["id"] for d in db_disks])
    snap, disks = pool.state()
    assert sync(api, snap, options(pool), disks).writes == 0


def test_changes_in_the_pool_reach_netbox(api: NetBoxApi, pool: Pool) -> None:
    sync(api, pool.snapshot(), options(pool))
    pool.add_vlan(105)
    pool.call("VM.set_name_label", pool.ref("VM", "web-02"), "web-02-renamed")
    pool.call("VM.destroy", pool.ref("VM", "build-01"))

    report = sync(api, pool.snapshot(), options(pool))
    actions = {(s.action.value, s.kind) for s in report.plan.steps}
    assert ("create", "vlan") in actions and ("update", "virtual-machine") in actions
    assert ("delete", "virtual-machine") in actions
    assert report.remaining is not None and report.remaining.empty

    cluster = one(api, "virtualization/clusters", name=pool.name)
    group = one(api, "ipam/vlan-groups", name=pool.name)
    vlan = one(api, "ipam/vlans", group_id=group["id"], vid=105)
    assert vlan["name"] == "VLAN 105"
    host1 = one(api, "dcim/devices", cluster_id=cluster["id"], name="xcp-host-01")
    sub = one(api, "dcim/interfaces", device_id=host1["id"], name="eth1.105")
    assert sub["mode"]["value"] == "tagged" and [v["vid"] for v in sub["tagged_vlans"]] == [105]
    assert sub["parent"]["name"] == "eth1"
    names = {v["name"] for v in api.all("virtualization/virtual-machines", "vms",
                                        cluster_id=cluster["id"])}
    assert "web-02-renamed" in names and "web-02" not in names and "build-01" not in names
    assert sync(api, pool.snapshot(), options(pool)).writes == 0


def test_user_edits_of_fields_xapictl_does_not_own_survive(api: NetBoxApi, pool: Pool) -> None:
    sync(api, pool.snapshot(), options(pool))
    cluster = one(api, "virtualization/clusters", name=pool.name)
    web = one(api, "virtualization/virtual-machines", cluster_id=cluster["id"], name="web-01")
    host = one(api, "dcim/devices", cluster_id=cluster["id"], name="xcp-host-02")
    api.update("virtualization/virtual-machines",
               [{"id": web["id"], "comments": "owned by team A", "description": "front end"}],
               ["web-01"])
    api.update("dcim/devices", [{"id": host["id"], "asset_tag": f"AT-{pool.name}",
                                 "description": "rack 4, U12"}], ["xcp-host-02"])
    halted = pool.ref("VM", "build-01")
    pool.call("VM.set_VCPUs_at_startup", halted, 1)  # an owned field moves

    report = sync(api, pool.snapshot(), options(pool))
    assert [(s.label, list(s.changes)) for s in report.plan.steps] == [
        ("virtual machine build-01", ["vcpus"])]
    assert one(api, "virtualization/virtual-machines", cluster_id=cluster["id"],
               name="build-01")["vcpus"] == 1
    web = one(api, "virtualization/virtual-machines", id=web["id"])
    assert (web["comments"], web["description"]) == ("owned by team A", "front end")
    host = one(api, "dcim/devices", id=host["id"])
    assert (host["asset_tag"], host["description"]) == (f"AT-{pool.name}", "rack 4, U12")


def test_orphans_follow_the_policy(api: NetBoxApi, pool: Pool) -> None:
    sync(api, pool.snapshot(), options(pool))
    cluster = one(api, "virtualization/clusters", name=pool.name)
    web = pool.ref("VM", "web-01")
    pool.call("VM.hard_shutdown", web)
    pool.call("VM.destroy", web)

    ignored = sync(api, pool.snapshot(), options(pool, OrphanPolicy.IGNORE))
    assert ignored.writes == 0
    assert any("orphan policy ignore" in n.reason for n in ignored.plan.noops)
    kept = one(api, "virtualization/virtual-machines", cluster_id=cluster["id"], name="web-01")
    assert kept["status"]["value"] == "active"

    marked = sync(api, pool.snapshot(), options(pool, OrphanPolicy.MARK_OFFLINE))
    assert sorted((s.action.value, s.kind) for s in marked.plan.steps) == [
        ("mark-offline", "ip-address"), ("mark-offline", "virtual-machine"),
        ("mark-offline", "vm-interface")]
    assert one(api, "virtualization/virtual-machines", id=kept["id"])["status"]["value"] == \
        "offline"
    assert one(api, "virtualization/interfaces",
               virtual_machine_id=kept["id"])["enabled"] is False
    assert one(api, "ipam/ip-addresses", virtual_machine_id=kept["id"])["status"]["value"] == \
        "deprecated"
    assert sync(api, pool.snapshot(), options(pool, OrphanPolicy.MARK_OFFLINE)).writes == 0

    deleted = sync(api, pool.snapshot(), options(pool))
    assert {(s.action.value, s.kind) for s in deleted.plan.steps} == {
        ("delete", "virtual-machine"), ("delete", "vm-interface"), ("delete", "ip-address")}
    assert not api.all("virtualization/virtual-machines", "vms", id=kept["id"])
    assert sync(api, pool.snapshot(), options(pool)).writes == 0


def test_netbox_refusals_name_the_object(api: NetBoxApi, pool: Pool,
                                         netbox_server: NetBoxServer) -> None:
    pool.call("VM.set_name_label", pool.ref("VM", "web-02"), "web-01")  # NetBox: unique
    with pytest.raises(NetBoxError) as refused:
        sync(api, pool.snapshot(), options(pool))
    message = str(refused.value)
    assert "\n" not in message and "virtual machine web-01" in message, message
    assert refused.value.status == 400

    with NetBoxApi(netbox_server.url, Secret("nbt_nothing.wrong")) as wrong, \
            pytest.raises(NetBoxError) as denied:
        sync(wrong, pool.snapshot(), options(pool))
    assert denied.value.status == 403 and "token" in str(denied.value)
    assert "nbt_nothing" not in str(denied.value)



def test_the_cli_plans_syncs_and_plans_nothing(netbox_server: NetBoxServer, pool: Pool,
                                               tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from xapictl.cli import app

    token_file = tmp_path / "token"
    token_file.write_text(netbox_server.token + "\n")
    env = {"XAPICTL_URL": pool.url, "XAPICTL_PASSWORD": "xapictl",
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
           "XAPICTL_NETBOX_URL": netbox_server.url}
    common = ["--token", f"file:{token_file}", "--site", f"site-{pool.name}"]

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, list(args), env=env)

    planned = run("-o", "json", "netbox", "plan", *common)
    assert planned.exit_code == 3, planned.stderr
    doc = json.loads(planned.stdout)
    assert doc["kind"] == "NetBoxPlan" and doc["cluster"] == pool.name
    assert doc["counts"]["create"] == len(doc["steps"]) > 30
    synced = run("netbox", "sync", *common)
    assert synced.exit_code == 0, synced.stdout + synced.stderr
    assert "verified: NetBox matches the pool" in synced.stdout
    again = run("-o", "json", "netbox", "sync", *common)
    assert again.exit_code == 0 and json.loads(again.stdout)["writes"] == 0
    assert run("netbox", "plan", *common).exit_code == 0
    watched = run("netbox", "watch", *common, "--max-seconds", "1")
    assert watched.exit_code == 0, watched.stderr
    assert watched.stdout.splitlines()[0] == "0 pool events: nothing to do (0 NetBox writes)"
    assert netbox_server.token not in planned.stdout + synced.stdout + again.stdout

    bad = run("netbox", "sync", "--token", f"file:{token_file}", "--orphans", "shred")
    assert bad.exit_code == 2 and "--orphans 'shred'" in bad.stderr


def test_the_library_example_runs(netbox_server: NetBoxServer, pool: Pool,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("netbox_sync_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("NETBOX_TOKEN", netbox_server.token)
    out = module.main(pool.url, netbox_server.url, "xapictl", site=f"site-{pool.name}")
    assert out[0].startswith("create ") and out[-1].endswith("verified: True")
    assert module.main(pool.url, netbox_server.url, "xapictl",
                       site=f"site-{pool.name}")[-1] == "0 writes; verified: True"


def test_the_recipe_round_trip_makes_the_pool_carry_netboxs_vlans(
        netbox_server: NetBoxServer, api: NetBoxApi, pool: Pool, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from xapictl.cli import app

    sync(api, pool.snapshot(), options(pool))
    cluster = one(api, "virtualization/clusters", name=pool.name)
    # The network team's own VLAN group for the cluster: two VLANs, one on a named trunk.
    group = api.post("ipam/vlan-groups", {
        "name": f"cmdb-{pool.name}", "slug": f"cmdb-{pool.name}",
        "scope_type": "virtualization.cluster", "scope_id": cluster["id"]}, "group")
    api.create("ipam/vlans", [
        {"group": group["id"], "vid": 210, "name": "VLAN 210", "status": "active"},
        {"group": group["id"], "vid": 211, "name": "VLAN 211", "status": "active",
         "description": "backups"}], ["VLAN 210", "VLAN 211"])
    env = {"XAPICTL_URL": pool.url, "XAPICTL_PASSWORD": "xapictl",
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
           "XAPICTL_NETBOX_URL": netbox_server.url, "XAPICTL_NETBOX_TOKEN": netbox_server.token}

    def run(*args: str, stdin: str | None = None) -> Any:
        return CliRunner().invoke(app, list(args), env=env, input=stdin)

    made = run("netbox", "recipe", "--cluster", pool.name)
    assert made.exit_code == 0, made.stderr
    assert made.stdout == ("version: 1\nnetworks:\n"
                           "- name: VLAN 210\n  vlan: 210\n  device: eth1\n"
                           "- name: VLAN 211\n  vlan: 211\n  device: eth1\n"
                           "  description: backups\n")
    planned = run("plan", "-", stdin=made.stdout)
    assert planned.exit_code == 3, planned.stdout + planned.stderr
    applied = run("apply", "-", "--yes", stdin=made.stdout)
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert run("plan", "-", stdin=made.stdout).exit_code == 0
    names = {n.name_label for n in pool.snapshot().networks.values()}
    assert {"VLAN 210", "VLAN 211"} <= names

    missing = run("netbox", "recipe", "--cluster", "no-such-cluster")
    assert missing.exit_code == 2 and "no cluster named 'no-such-cluster'" in missing.stderr


def test_watch_follows_the_pools_changes(api: NetBoxApi, pool: Pool) -> None:
    import threading

    from xapictl.netbox.watch import watch

    synced: list[tuple[int, int]] = []
    first, changed, stop = threading.Event(), threading.Event(), threading.Event()

    def on_sync(report: Any, events: int) -> None:
        synced.append((events, report.writes))
        (changed if events and report.writes else first).set()

    def run() -> None:
        watch(api, pool.connect, options(pool), stop=stop, on_sync=on_sync, poll_timeout=2)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        assert first.wait(600), "no first sync"  # safety nets only: events decide
        pool.add_vlan(107)
        assert changed.wait(600), f"the change did not reach NetBox: {synced}"
    finally:
        stop.set()
        worker.join(120)
    assert not worker.is_alive()
    assert synced[0][0] == 0 and synced[0][1] > 0  # the full sync first
    group = one(api, "ipam/vlan-groups", name=pool.name)
    assert one(api, "ipam/vlans", group_id=group["id"], vid=107)["name"] == "VLAN 107"
    # What the watch wrote is what a sync would: nothing left to write.
    snap, disks = pool.state()
    assert sync(api, snap, options(pool), disks).writes == 0


class Watcher:
    """`xapictl netbox watch --state FILE` in a process of its own, read line by line."""

    def __init__(self, pool: Pool, server: NetBoxServer, state: Path, home: Path) -> None:
        import os
        import subprocess
        import sys

        env = {**os.environ, "XAPICTL_URL": pool.url, "XAPICTL_PASSWORD": "xapictl",
               "XAPICTL_NETBOX_URL": server.url, "XAPICTL_NETBOX_TOKEN": server.token,
               "XAPICTL_AUDIT_LOG": str(home / "audit.jsonl"), "HOME": str(home),
               "PYTHONPATH": str(EXAMPLE.parents[2])}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "xapictl", "netbox", "watch", "--site", f"site-{pool.name}",
             "--state", str(state)], env=env, stdout=subprocess.PIPE, text=True,
            stdin=subprocess.DEVNULL)

    def line(self) -> str:
        assert self.process.stdout is not None
        text = self.process.stdout.readline()  # the watcher prints one line per sync
        assert text, f"the watcher ended: {self.process.wait(60)}"
        return text.strip()

    def kill(self) -> None:
        """SIGKILL: no clean-up, no last checkpoint, as a crash or an OOM kill."""
        self.process.kill()
        self.process.wait(60)
        assert self.process.stdout is not None
        self.process.stdout.close()


def test_a_killed_watch_resumes_from_its_checkpoint(netbox_server: NetBoxServer, api: NetBoxApi,
                                                     pool: Pool, tmp_path: Path) -> None:
    state = tmp_path / "watch.json"
    first = Watcher(pool, netbox_server, state, tmp_path)
    try:
        assert first.line().startswith("0 pool events: ")  # the first full sync
        pool.add_vlan(130)
        applied = first.line()
        assert "create" in applied and "(0 NetBox writes)" not in applied, applied
    finally:
        first.kill()  # between changes: after its checkpoint for VLAN 130
    assert json.loads(state.read_text())["tokens"]

    # Nothing changed while it was down: it does not sync (the library test below counts
    # its NetBox requests: none).
    idle = Watcher(pool, netbox_server, state, tmp_path)
    try:
        assert idle.line() == "0 pool events: nothing to do (0 NetBox writes)"
    finally:
        idle.kill()

    # A change while it was down: the restart writes it, and only it (one VLAN and its
    # three VLAN interfaces; VLAN 130 is not written again).
    pool.add_vlan(131)
    resumed = Watcher(pool, netbox_server, state, tmp_path)
    try:
        line = resumed.line()
    finally:
        resumed.kill()
    events, rest = line.split(" pool events: ")
    assert int(events) > 0 and rest == "4 create (2 NetBox writes)", line
    group = one(api, "ipam/vlan-groups", name=pool.name)
    assert {v["vid"] for v in api.all("ipam/vlans", "vlans", group_id=group["id"])} == {130,
                                                                                       131}
    snap, disks = pool.state()
    assert sync(api, snap, options(pool), disks).writes == 0


def test_a_watch_killed_before_its_checkpoint_writes_nothing_twice(api: NetBoxApi,
                                                                  pool: Pool,
                                                                  tmp_path: Path) -> None:
    """The kill between NetBox's writes and the checkpoint: the restart replays the batch,
    finds NetBox showing it and writes nothing."""
    import threading

    from xapictl.netbox.watch import WatchCheckpoint, watch

    class Crash(Exception):
        pass

    class CrashOnSecondSave(WatchCheckpoint):
        saves = 0

        def save(self, netbox: str, inventory: Any) -> None:
            self.saves += 1
            if self.saves == 2:
                raise Crash  # after the sync of the first change, before its checkpoint
            super().save(netbox, inventory)

    stop = threading.Event()
    reports: list[tuple[int, int]] = []
    checkpoint = CrashOnSecondSave(tmp_path / "watch.json")

    def on_sync(report: Any, events: int) -> None:
        reports.append((events, report.writes))
        if len(reports) == 1:
            pool.add_vlan(140)  # the change the watch is about to see

    with pytest.raises(Crash):
        watch(api, pool.connect, options(pool), stop=stop, on_sync=on_sync, poll_timeout=30,
              checkpoint=checkpoint)
    assert len(reports) == 1 and reports[0][1] > 0  # VLAN 140 was written, not checkpointed
    writes_before = api.writes
    after: list[tuple[int, int]] = []

    def once(report: Any, events: int) -> None:
        after.append((events, report.writes))
        stop.set()

    watch(api, pool.connect, options(pool), stop=stop, on_sync=once,
          checkpoint=WatchCheckpoint(tmp_path / "watch.json"))
    assert after[0][0] > 0 and after[0][1] == 0  # the batch replayed, nothing written
    assert api.writes == writes_before
    # Restarted again with nothing changed since: not one NetBox request.
    requests_before = api.requests
    watch(api, pool.connect, options(pool), stop=stop, on_sync=once,
          checkpoint=WatchCheckpoint(tmp_path / "watch.json"))
    assert after[1] == (0, 0) and api.requests == requests_before


def test_watch_and_inventory_watch_see_the_same_changes(api: NetBoxApi, pool: Pool,
                                                        tmp_path: Path) -> None:
    """`netbox watch` consumes the change stream `inventory watch` writes: resumed from the
    same base, `inventory watch --disks` prints exactly the changes the NetBox watch syncs,
    and the NetBox watch's checkpoint is the base with those changes applied. The changes are
    of fields the inventory carries since 1.3 (vCPUs, QoS, other_config, a disk's name): they
    reach NetBox."""
    import threading

    from typer.testing import CliRunner

    from xapictl.cli import app
    from xapictl.inventory import Inventory, apply
    from xapictl.inventory.diff import Change
    from xapictl.netbox.watch import WatchCheckpoint, watch

    state = tmp_path / "watch.json"
    stop = threading.Event()
    seen: list[tuple[int, int]] = []

    def once(report: Any, events: int) -> None:
        seen.append((events, report.writes))
        stop.set()

    pool.add_vlan(159)
    # The source is the pool's label in the inventory: the CLI's is its URL.
    watch(api, pool.connect, options(pool), stop=stop, on_sync=once,
          checkpoint=WatchCheckpoint(state), source=pool.url)
    assert seen[0][0] == 0 and seen[0][1] > 0  # the first full sync
    base = json.loads(state.read_text())["inventory"]
    (tmp_path / "base.json").write_text(json.dumps(base))

    vms = pool.call("VM.get_all_records")
    vm = next(r for r, v in vms.items() if v["name_label"] == "web-01")
    vif = next(r for r, v in pool.call("VIF.get_all_records").items() if v["VM"] == vm)
    vlan_net = next(r for r, n in pool.call("network.get_all_records").items()
                    if n["name_label"] == "VLAN 159")
    vbd = next(r for r, b in pool.call("VBD.get_all_records").items()
               if b["VM"] == vm and b["type"] == "Disk")
    pool.call("VM.set_VCPUs_at_startup", vm, 1)
    pool.call("VIF.set_qos_algorithm_type", vif, "ratelimit")
    pool.call("VIF.set_qos_algorithm_params", vif, {"kbps": "4096"})
    pool.call("network.add_to_other_config", vlan_net, "folder", "/cmdb")
    pool.call("VDI.set_name_label", pool.call("VBD.get_VDI", vbd), "web-01 data")
    pool.add_vlan(160)

    printed = CliRunner().invoke(app, ["inventory", "watch", "--disks", "--base",
                                       str(tmp_path / "base.json"), "--max-seconds", "0"],
                                 env={"XAPICTL_URL": pool.url, "XAPICTL_PASSWORD": "xapictl",
                                      "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")})
    assert printed.exit_code == 0, printed.stderr
    lines = [json.loads(line) for line in printed.stdout.splitlines()]
    changes = [Change.from_json(line) for line in lines]
    assert {(c.object, f) for c in changes for f in c.fields} >= {
        ("vm", "vcpus"), ("vif", "qos_kbps"), ("network", "other_config"), ("disk", "name")}

    stop.clear()
    seen.clear()
    watch(api, pool.connect, options(pool), stop=stop, on_sync=once,
          checkpoint=WatchCheckpoint(state), source=pool.url)
    assert seen[0][0] == len(changes) and seen[0][1] > 0, (seen, len(changes))
    synced = Inventory.from_document(json.loads(state.read_text())["inventory"])
    expected = apply(Inventory.from_document(base), changes)
    assert synced.to_document() | {"tokens": {}} == expected.to_document() | {"tokens": {}}

    machine = one(api, "virtualization/virtual-machines", cf_xapi_uuid=vms[vm]["uuid"])
    assert machine["vcpus"] == 1
    assert one(api, "virtualization/interfaces", virtual_machine_id=machine["id"],
               name=f"eth{pool.call('VIF.get_device', vif)}")["custom_fields"][
                   "xapi_qos_kbps"] == 4096
    assert "web-01 data" in {d["name"] for d in api.all(
        "virtualization/virtual-disks", "virtual disks", virtual_machine_id=machine["id"])}
    group = one(api, "ipam/vlan-groups", name=pool.name)
    assert {160} <= {v["vid"] for v in api.all("ipam/vlans", "vlans", group_id=group["id"])}
    snap, disks = pool.state()
    assert sync(api, snap, options(pool), disks).writes == 0
