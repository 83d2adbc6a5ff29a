"""`xapictl netbox plan|sync --fleet FILE [--select EXPR]`: several simulated pools into one
real NetBox, each pool its own cluster (named after its fleet entry: the simulated pools all
call themselves seed-pool), orphans looked for in each pool's own cluster only."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from netbox_fixtures import NetBoxServer
from typer.testing import CliRunner

import xapictl
from xapictl.netbox import NetBoxApi
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer
from xapictl.xapi.credentials import Secret

PASSWORD = "pw-netbox-fleet"


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A fleet file of two seed pools (names unique to this test) and their URLs by name."""
    run = uuid.uuid4().hex[:8]
    sims = {f"nbf-{run}-{n}": Simulator(scenario="seed", password=PASSWORD) for n in "ab"}
    servers = {name: SimServer(sim).start() for name, sim in sims.items()}
    try:
        text = "version: 1\ndefaults:\n  username: root\n  credentials: env:NBF_PASSWORD\n" \
               "pools:\n" + "".join(f"  - name: {name}\n    url: {server.url}\n"
                                    f"    tags: [{'canary' if name.endswith('a') else 'rest'}]\n"
                                    for name, server in servers.items())
        (tmp_path / "fleet.yaml").write_text(text)
        yield tmp_path / "fleet.yaml", {name: s.url for name, s in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
        for sim in sims.values():
            sim.close()


def test_a_fleet_syncs_into_one_netbox_each_pool_its_own_cluster(
        netbox_server: NetBoxServer, fleet: tuple[Path, dict[str, str]],
        tmp_path: Path) -> None:
    from xapictl.cli import app

    path, urls = fleet
    a, b = sorted(urls)
    env = {"NBF_PASSWORD": PASSWORD, "XAPICTL_NETBOX_URL": netbox_server.url,
           "XAPICTL_NETBOX_TOKEN": netbox_server.token,
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, list(args), env=env)

    planned = run("-o", "json", "netbox", "plan", "--fleet", str(path))
    assert planned.exit_code == 3, planned.stdout + planned.stderr
    doc = json.loads(planned.stdout)
    assert doc["kind"] == "NetBoxPlanList" and doc["pool"] is None
    assert [(i["pool"], i["cluster"]) for i in doc["items"]] == [(a, a), (b, b)]
    assert all(i["counts"]["create"] > 30 for i in doc["items"])

    synced = run("netbox", "sync", "--fleet", str(path))
    assert synced.exit_code == 0, synced.stdout + synced.stderr
    assert synced.stdout.count("verified: NetBox matches the pool") == 2
    again = run("-o", "json", "netbox", "sync", "--fleet", str(path))
    assert again.exit_code == 0, again.stdout + again.stderr
    assert [i["writes"] for i in json.loads(again.stdout)["items"]] == [0, 0]

    with NetBoxApi(netbox_server.url, Secret(netbox_server.token)) as api:
        clusters = {c["name"]: c for c in api.all("virtualization/clusters", "clusters",
                                                  name=[a, b])}
        assert sorted(clusters) == [a, b]
        vms = {name: {v["name"] for v in api.all("virtualization/virtual-machines", "vms",
                                                 cluster_id=c["id"])}
               for name, c in clusters.items()}
        assert vms[a] == vms[b] and "web-01" in vms[a]

        # web-01 goes from pool a: a sync of the canary deletes it there and only there.
        with xapictl.connect(urls[a], password=PASSWORD) as conn:
            web = next(r for r, v in conn.call("VM.get_all_records").items()
                       if v["name_label"] == "web-01")
            conn.call("VM.hard_shutdown", web)
            conn.call("VM.destroy", web)
        planned = run("netbox", "plan", "--fleet", str(path), "--select", "tag:canary")
        assert planned.exit_code == 3 and f"NetBox cluster {a}:" in planned.stdout
        assert f"NetBox cluster {b}" not in planned.stdout
        assert run("netbox", "sync", "--fleet", str(path)).exit_code == 0
        for name, c in clusters.items():
            left = {v["name"] for v in api.all("virtualization/virtual-machines", "vms",
                                               cluster_id=c["id"])}
            assert ("web-01" in left) == (name == b), (name, left)
    assert run("netbox", "plan", "--fleet", str(path)).exit_code == 0


def test_fleet_refusals(netbox_server: NetBoxServer, fleet: tuple[Path, dict[str, str]],
                        tmp_path: Path) -> None:
    from xapictl.cli import app

    path, urls = fleet
    env = {"NBF_PASSWORD": PASSWORD, "XAPICTL_NETBOX_URL": netbox_server.url,
           "XAPICTL_NETBOX_TOKEN": netbox_server.token,
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    runner = CliRunner()
    alone = runner.invoke(app, ["netbox", "plan", "--select", "tag:canary"],
                          env={**env, "XAPICTL_URL": next(iter(urls.values())),
                               "XAPICTL_PASSWORD": PASSWORD})
    assert alone.exit_code == 2
    assert "--select picks pools of a fleet: give --fleet FILE too" in alone.stderr
    nothing = runner.invoke(app, ["netbox", "sync", "--fleet", str(path), "--select", "zz*"],
                            env=env)
    assert nothing.exit_code == 2, nothing.stderr

    # A pool that cannot be read: the others are synced, the pool named, exit 5 (written).
    dead = path.read_text().replace(sorted(urls)[1] + "\n    url: " + urls[sorted(urls)[1]],
                                    sorted(urls)[1] + "\n    url: http://127.0.0.1:9")
    (tmp_path / "dead.yaml").write_text(dead)
    partly = runner.invoke(app, ["--timeout", "5", "netbox", "sync", "--fleet",
                                 str(tmp_path / "dead.yaml")], env=env)
    assert partly.exit_code == 5, partly.stdout + partly.stderr
    assert f"xapictl: pool {sorted(urls)[1]}: " in partly.stderr
    assert partly.stdout.count("verified: NetBox matches the pool") == 1


def test_a_fleet_watch_follows_each_pool_from_one_checkpoint(
        netbox_server: NetBoxServer, fleet: tuple[Path, dict[str, str]],
        tmp_path: Path) -> None:
    """`netbox watch --fleet`: one stream per pool, each its own cluster, one checkpoint file
    with every pool's position; a restart syncs only the pool that changed."""
    from xapictl.cli import app

    path, urls = fleet
    a, b = sorted(urls)
    state = tmp_path / "watch.json"
    env = {"NBF_PASSWORD": PASSWORD, "XAPICTL_NETBOX_URL": netbox_server.url,
           "XAPICTL_NETBOX_TOKEN": netbox_server.token,
           "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}

    def watch(*args: str) -> dict[str, str]:
        # --max-seconds 0: each pool's first batch, then stop (the first read is always made).
        done = CliRunner().invoke(app, ["netbox", "watch", "--fleet", str(path), "--state",
                                        str(state), "--max-seconds", "0", *args], env=env)
        assert done.exit_code == 0, done.stdout + done.stderr
        lines = dict(line.split(": ", 1) for line in done.stdout.splitlines())
        assert len(lines) == len(done.stdout.splitlines()), done.stdout  # one line a pool
        return lines

    first = watch()
    assert sorted(first) == [a, b]
    assert all(line.startswith("0 pool events: ") and "(0 NetBox writes)" not in line
               for line in first.values()), first
    saved = json.loads(state.read_text())
    assert len(saved["tokens"]) == 2 and saved["netbox"] == netbox_server.url

    with xapictl.connect(urls[a], password=PASSWORD) as conn:
        eth1 = next(r for r, p in conn.call("PIF.get_all_records").items()
                    if p["device"] == "eth1" and p["VLAN"] == -1)
        net = conn.call("network.create", {"name_label": "VLAN 170", "name_description": "",
                                           "MTU": 1500, "other_config": {}})
        conn.call("pool.create_VLAN_from_PIF", eth1, net, 170)
    again = watch()
    assert again[b] == "0 pool events: nothing to do (0 NetBox writes)", again
    events, rest = again[a].split(" pool events: ")
    assert int(events) > 0 and "create" in rest and "(0 NetBox writes)" not in rest, again
    with NetBoxApi(netbox_server.url, Secret(netbox_server.token)) as api:
        groups = {g["name"]: g for g in api.all("ipam/vlan-groups", "VLAN groups", name=[a, b])}
        assert [v["vid"] for v in api.all("ipam/vlans", "vlans",
                                          group_id=groups[a]["id"])] == [170]
        assert b not in groups  # pool b has no VLAN: no group

    only_b = watch("--select", "tag:rest")
    assert list(only_b) == [b]
    assert len(json.loads(state.read_text())["tokens"]) == 2  # pool a's position is kept
