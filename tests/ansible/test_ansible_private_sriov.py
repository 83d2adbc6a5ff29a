"""The ``tunnel`` and ``sriov`` options of ``xapictl.xen.network`` with real ansible-playbook:
the docs' example playbooks create a private network (a VXLAN tunnel on every host of a
simulated openvswitch pool whose storage network has IPs) and an SR-IOV network (the
simulator's ``sriov`` scenario), then change nothing on a second run; check mode writes
nothing (read back with the official XenAPI client)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_harness import PASSWORD, serve_seed_pools, writes

pytestmark = pytest.mark.slow  # each ansible run starts Ansible: seconds apiece

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "ansible"


def tunnels_of(server: Any, name: str) -> list[tuple[str, str]]:
    """Read with the official XenAPI client: (host name, protocol) of each tunnel whose
    access PIF is on the network ``name``."""
    import XenAPI

    session = XenAPI.Session(server.url)
    session.login_with_password("root", PASSWORD, "2.21", "xapictl-ansible-tests")
    try:
        x = session.xenapi
        networks = x.network.get_all_records()
        pifs = x.PIF.get_all_records()
        hosts = x.host.get_all_records()
        out = []
        for tunnel in x.tunnel.get_all_records().values():
            access = pifs[tunnel["access_PIF"]]
            if networks[access["network"]]["name_label"] == name:
                out.append((hosts[access["host"]]["name_label"], tunnel["protocol"]))
        return sorted(out)
    finally:
        session.xenapi.session.logout()
        session("close")()


@pytest.fixture
def sriov_pool() -> Iterator[Any]:
    """A simulated pool of the ``sriov`` scenario (NICs with the capability) on loopback."""
    yield from (servers[0] for servers in serve_seed_pools(1, scenario="sriov"))


def test_the_private_network_example_makes_a_tunnel_per_host_then_nothing(
        playbook, pool, pool_env):
    checked = playbook(EXAMPLES / "private-network.yml", "--check", env=pool_env)
    assert checked.code == 0, checked.stdout + checked.stderr
    task = checked.task("Lab private over the storage network")
    assert task["changed"] is True and task["writes"] == []
    assert [c["calls"][0]["method"] for c in task["plan"]["changes"]] == [
        "network.create"] + ["tunnel.create"] * 3
    assert tunnels_of(pool, "Lab private") == [] and writes(pool) == []
    diffed = playbook(EXAMPLES / "private-network.yml", "--check", "--diff", callback="default",
                      env=pool_env)
    assert "+++ after: network 'Lab private' (create)" in diffed.stdout, diffed.stdout
    assert "+name_label: Lab private" in diffed.stdout and writes(pool) == []

    ran = playbook(EXAMPLES / "private-network.yml", env=pool_env)
    assert ran.code == 0, ran.stdout + ran.stderr
    task = ran.task("Lab private over the storage network")
    assert task["changed"] is True and task["verified"] is True
    assert writes(pool) == ["network.create"] + ["tunnel.create"] * 3
    assert tunnels_of(pool, "Lab private") == [
        ("xcp-host-01", "vxlan"), ("xcp-host-02", "vxlan"), ("xcp-host-03", "vxlan")]

    pool.control.clear_log()
    again = playbook(EXAMPLES / "private-network.yml", env=pool_env)
    assert again.code == 0, again.stdout + again.stderr
    task = again.task("Lab private over the storage network")
    assert task["changed"] is False and task["writes"] == []
    assert writes(pool) == [] and again.json()["stats"]["localhost"]["changed"] == 0


def test_tunnel_with_vlan_is_refused_by_the_module_before_anything_is_sent(
        playbook, pool, pool_env):
    book = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Both
      xapictl.xen.network:
        name: x
        vlan: 5
        tunnel: {transport: Pool-wide network 2}
"""
    pool.control.clear_log()
    task = playbook(book, env=pool_env).task("Both")
    assert task["failed"] is True
    assert task["msg"] == "parameters are mutually exclusive: tunnel|vlan"
    assert pool.control.request_log() == []


def test_the_sriov_example_enables_sriov_on_every_host_then_nothing(playbook, sriov_pool):
    env = {"XAPICTL_URL": sriov_pool.url, "XAPICTL_PASSWORD": PASSWORD}
    ran = playbook(EXAMPLES / "sriov-network.yml", env=env)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert ran.task("VF network on eth1")["changed"] is True
    assert writes(sriov_pool) == ["network.create"] + ["network_sriov.create"] * 3
    sriov_pool.control.clear_log()
    again = playbook(EXAMPLES / "sriov-network.yml", env=env)
    assert again.code == 0, again.stdout + again.stderr
    assert again.task("VF network on eth1")["changed"] is False
    assert writes(sriov_pool) == []
