"""A DHCP-addressed NIC (issue 16 item 5): the bridge takes over the lease. A DHCP server
(dnsmasq) runs on the LAN side, dhclient holds eth0's lease in dom0; after apply the bridge
holds the lease (the same address, dynamic, renewed by dhclient moved to xenbr0) and eth0
has none; a rollback puts the address and dhclient back on eth0."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from local_netns_helpers import add_addr, snapshot_of, veth
from typer.testing import CliRunner

from xapictl.cli import app
from xapictl.local import dhcp

pytestmark = [
    pytest.mark.requires_root,
    pytest.mark.skipif(not (shutil.which("dnsmasq") and shutil.which("dhclient")),
                       reason="needs dnsmasq and dhclient (apt-get install dnsmasq-base"
                              " isc-dhcp-client)"),
]
XENBR0 = str(Path(__file__).resolve().parents[2] / "recipes" / "local-xenbr0.yaml")
MAC = "00:16:3e:00:00:10"
runner = CliRunner()


@pytest.fixture
def dhcp_host(namespaces, tmp_path):
    """dom0's eth0 leased from dnsmasq in the LAN namespace by dhclient, as ifupdown
    starts it (pid and lease files named after the interface)."""
    lan, dom0 = namespaces("lan"), namespaces("dom0")
    veth(dom0, "eth0", lan, "lan0", mac=MAC)
    add_addr(lan, "lan0", "192.0.2.1/24")
    server = subprocess.Popen(
        ["ip", "netns", "exec", lan, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
         "--no-resolv", "--no-hosts", "--port=0", "--user=root", "--interface=lan0",
         "--bind-interfaces", "--dhcp-authoritative",
         "--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,2m",
         "--dhcp-option=option:dns-server",  # no DNS server: dhclient leaves resolv.conf
         f"--dhcp-leasefile={tmp_path / 'dnsmasq.leases'}",
         f"--log-facility={tmp_path / 'dnsmasq.log'}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    argv = ["dhclient", "-4", "-pf", str(tmp_path / "dhclient.eth0.pid"),
            "-lf", str(tmp_path / "dhclient.eth0.leases"), "eth0"]
    try:
        subprocess.run(["ip", "netns", "exec", dom0, *argv], check=True, timeout=90,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        yield dom0, tmp_path
    finally:
        for ifname in ("eth0", "xenbr0"):
            for c in dhcp.find_clients(ifname, dom0):
                subprocess.run(["kill", str(c.pid)], check=False)
        server.terminate()
        server.wait(timeout=30)


def _v4(snap, ifname):
    return [a for a in snap.addresses_on(ifname) if a.family == 4]


def test_the_bridge_takes_over_the_lease_and_rollback_gives_it_back(dhcp_host):
    dom0, tmp = dhcp_host
    before = snapshot_of(dom0)
    (leased,) = _v4(before, "eth0")
    assert leased.dynamic and leased.address.startswith("192.0.2.1")
    assert [c.kind for c in dhcp.find_clients("eth0", dom0)] == ["dhclient"]

    r = runner.invoke(app, ["local", "plan", XENBR0, "--netns", dom0])
    assert r.exit_code == 3, r.output
    lines = r.output.splitlines()
    assert lines[1].strip().startswith("1. stop DHCP client dhclient (pid ")
    assert lines[1].endswith("of eth0: its lease moves to xenbr0")
    assert lines[-1].strip().endswith(
        "start DHCP client dhclient on xenbr0: renews the lease eth0 had")

    r = runner.invoke(app, ["local", "apply", XENBR0, "--yes", "--netns", dom0,
                            "--confirm-within", "300"])
    assert r.exit_code == 0, r.output
    _assert_bridge_holds_the_lease(dom0, tmp, leased.address)

    r = runner.invoke(app, ["local", "rollback", "--netns", dom0])
    assert r.exit_code == 0, r.output
    after = snapshot_of(dom0)
    assert after.fingerprint() == before.fingerprint()
    assert [a.address for a in _v4(after, "eth0") if a.dynamic] == [leased.address]
    assert [c.argv[-1] for c in dhcp.find_clients("eth0", dom0)] == ["eth0"]
    assert not dhcp.find_clients("xenbr0", dom0)

    r = runner.invoke(app, ["local", "apply", XENBR0, "--yes", "--netns", dom0])
    assert r.exit_code == 0, r.output
    _assert_bridge_holds_the_lease(dom0, tmp, leased.address)


def _assert_bridge_holds_the_lease(dom0: str, tmp: Path, address: str) -> None:
    snap = snapshot_of(dom0)
    (on_bridge,) = _v4(snap, "xenbr0")
    assert on_bridge.address == address and on_bridge.dynamic  # a lease, not made static
    assert _v4(snap, "eth0") == []  # the old NIC has none
    assert snap.links["eth0"].master == "xenbr0"
    assert not dhcp.find_clients("eth0", dom0)
    (client,) = dhcp.find_clients("xenbr0", dom0)
    assert client.argv == ("dhclient", "-4", "-pf", str(tmp / "dhclient.xenbr0.pid"),
                           "-lf", str(tmp / "dhclient.xenbr0.leases"), "xenbr0")
    lease = (tmp / "dhclient.xenbr0.leases").read_text()
    assert 'interface "xenbr0";' in lease and f"fixed-address {address};" in lease
    assert f"{MAC} {address}" in (tmp / "dnsmasq.leases").read_text()


def test_renamed_replaces_the_interface_as_a_word_only():
    assert dhcp.renamed(["dhclient", "-pf", "/run/dhclient.eth0.pid", "eth01", "eth0"],
                        "eth0", "xenbr0") == (
        "dhclient", "-pf", "/run/dhclient.xenbr0.pid", "eth01", "xenbr0")


def test_a_lease_no_movable_client_holds_is_refused_before_any_change(dhcp_host):
    dom0, _ = dhcp_host
    dhcp.stop("eth0", dom0)  # the lease stays on eth0, but nothing would renew it
    before = snapshot_of(dom0).fingerprint()
    r = runner.invoke(app, ["local", "apply", XENBR0, "--yes", "--netns", dom0])
    assert r.exit_code == 4
    assert "no DHCP client xapictl can move to the bridge serves it" in r.output
    assert snapshot_of(dom0).fingerprint() == before


def test_allow_dhcp_without_a_client_makes_the_address_static(dhcp_host, tmp_path):
    dom0, _ = dhcp_host
    dhcp.stop("eth0", dom0)
    recipe = tmp_path / "static.yaml"
    recipe.write_text(Path(XENBR0).read_text() + "  allow_dhcp: true\n")
    r = runner.invoke(app, ["local", "apply", str(recipe), "--yes", "--netns", dom0])
    assert r.exit_code == 0, r.output
    assert "DHCP client" not in r.output
    (on_bridge,) = _v4(snapshot_of(dom0), "xenbr0")
    assert not on_bridge.dynamic and on_bridge.valid_lft is None  # nothing would renew it


def test_apply_killed_at_any_step_gives_the_lease_and_client_back_to_eth0(dhcp_host):
    """Issue 16 item 2 for a DHCP host: the dead-man timer's rollback also restarts the
    client on eth0 (and stops one on the bridge) wherever the apply died."""
    from test_local_crash import _await_timer, _kill_apply_at

    from xapictl.local.apply import current_plan, undo_path
    from xapictl.local.desired import load_recipe

    dom0, _ = dhcp_host
    before = snapshot_of(dom0)
    steps = len(current_plan(load_recipe(Path(XENBR0)), dom0)[0].steps)
    assert steps >= 8  # stop client, bridge, port, address, routes ..., start client
    for step in range(steps):
        _await_timer(_kill_apply_at(step, "SIGKILL", dom0, confirm=0.5, recipe=Path(XENBR0)))
        assert not undo_path(dom0).exists(), f"killed at {step}"
        snap = snapshot_of(dom0)
        assert snap.fingerprint() == before.fingerprint(), f"killed at {step}"
        assert [c.argv[-1] for c in dhcp.find_clients("eth0", dom0)] == ["eth0"], step
        assert not dhcp.find_clients("xenbr0", dom0), f"killed at {step}"
