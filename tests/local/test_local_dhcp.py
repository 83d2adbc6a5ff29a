"""A DHCP-addressed NIC (issue 16 item 5): the bridge takes over the lease. A DHCP server
(dnsmasq) runs on the LAN side, dhclient holds eth0's lease in dom0; after apply the bridge
holds the lease (the same address, dynamic, renewed by dhclient moved to xenbr0) and eth0
has none; a rollback puts the address and dhclient back on eth0."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_netns_helpers import add_addr, add_route, snapshot_of, veth
from typer.testing import CliRunner

from xapictl.cli import app
from xapictl.local import dhcp, wait
from xapictl.local.observe import IFA_F_SETTABLE

pytestmark = [
    pytest.mark.requires_root,
    pytest.mark.skipif(shutil.which("dnsmasq") is None,
                       reason="needs dnsmasq (apt-get install dnsmasq-base)"),
]
XENBR0 = str(Path(__file__).resolve().parents[2] / "recipes" / "local-xenbr0.yaml")
MAC = "00:16:3e:00:00:10"
runner = CliRunner()


def _client_argv(client: str, tmp: Path) -> list[str]:
    """The client's command line as the distribution starts it for eth0: dhclient and
    udhcpc as ifupdown does (pid and lease files named after the interface), dhcpcd per
    interface with its own configuration (/etc/dhcpcd.conf: ``persistent``)."""
    if client == "dhclient":
        return ["dhclient", "-4", "-pf", str(tmp / "dhclient.eth0.pid"),
                "-lf", str(tmp / "dhclient.eth0.leases"), "eth0"]
    if client == "udhcpc":
        return ["udhcpc", "-n", "-p", str(tmp / "udhcpc.eth0.pid"), "-i", "eth0"]
    return ["dhcpcd", "-4", "eth0"]


@contextlib.contextmanager
def _dhcp_host(namespaces, tmp_path: Path, client: str) -> Iterator[tuple[str, Path]]:
    """dom0's eth0 leased from dnsmasq in the LAN namespace by ``client``. The clients'
    scripts write /etc/resolv.conf: ``ip netns exec`` gives dom0 its own (bound over the
    host's from /etc/netns/DOM0/), and the host's is checked unchanged afterwards."""
    if shutil.which(client) is None:
        pytest.skip(f"needs {client} (apt-get install {_PACKAGES[client]})")
    lan, dom0 = namespaces("lan"), namespaces("dom0")
    private_etc = Path("/etc/netns") / dom0
    made_parent = not private_etc.parent.exists()
    private_etc.mkdir(parents=True)
    (private_etc / "resolv.conf").write_text("# dom0's own, for the test\n")
    host_resolv = Path("/etc/resolv.conf").read_bytes()
    dhcpcd_state = {p: p.exists() for p in (Path("/var/lib/dhcpcd/eth0.lease"),
                                           Path("/var/lib/dhcpcd/xenbr0.lease"))}
    veth(dom0, "eth0", lan, "lan0", mac=MAC)
    add_addr(lan, "lan0", "192.0.2.1/24")
    server = subprocess.Popen(
        ["ip", "netns", "exec", lan, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
         "--no-resolv", "--no-hosts", "--port=0", "--user=root", "--interface=lan0",
         "--bind-interfaces", "--dhcp-authoritative",
         "--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,2m",
         "--dhcp-option=option:dns-server",  # no DNS server: nothing for resolv.conf
         f"--dhcp-leasefile={tmp_path / 'dnsmasq.leases'}",
         f"--log-facility={tmp_path / 'dnsmasq.log'}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        subprocess.run(["ip", "netns", "exec", dom0, *_client_argv(client, tmp_path)],
                       check=True, timeout=90, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        add_route(dom0, "198.51.100.0/24", "192.0.2.254", "eth0")  # one of the admin's own
        yield dom0, tmp_path
    finally:
        for ifname in ("eth0", "xenbr0"):
            for c in dhcp.find_clients(ifname, dom0):
                subprocess.run(["kill", str(c.pid)], check=False)
            wait.retry_until(lambda i=ifname: dhcp.find_clients(i, dom0), lambda f: not f,
                             first=0.02, cap=0.5, budget=10.0)
        server.terminate()
        server.wait(timeout=30)
        for path, existed in dhcpcd_state.items():
            if not existed:
                path.unlink(missing_ok=True)
        shutil.rmtree(private_etc)
        if made_parent:
            private_etc.parent.rmdir()
        assert Path("/etc/resolv.conf").read_bytes() == host_resolv


_PACKAGES = {"dhclient": "isc-dhcp-client", "dhcpcd": "dhcpcd-base", "udhcpc": "udhcpc"}


@pytest.fixture
def dhcp_host(namespaces, tmp_path):
    """dom0's eth0 leased by dhclient (the kill-at-every-step and refusal tests)."""
    with _dhcp_host(namespaces, tmp_path, "dhclient") as host:
        yield host


@pytest.fixture(params=sorted(_PACKAGES))
def any_client_host(request, namespaces, tmp_path):
    """dom0's eth0 leased by each DHCP client xapictl moves."""
    with _dhcp_host(namespaces, tmp_path, request.param) as host:
        yield (*host, request.param)


def _v4(snap, ifname):
    return [a for a in snap.addresses_on(ifname) if a.family == 4]


def test_the_bridge_takes_over_the_lease_and_rollback_gives_it_back(any_client_host):
    dom0, tmp, client = any_client_host
    before = snapshot_of(dom0)
    (leased,) = _v4(before, "eth0")
    assert leased.address.startswith("192.0.2.1")
    assert leased.dynamic == (client != "udhcpc")  # udhcpc's script sets it permanent
    (original,) = dhcp.find_clients("eth0", dom0)
    assert original.kind == client

    r = runner.invoke(app, ["local", "plan", XENBR0, "--netns", dom0])
    assert r.exit_code == 3, r.output
    lines = r.output.splitlines()
    assert lines[1].strip().startswith(f"1. stop DHCP client {client} (pid ")
    assert lines[1].endswith("of eth0: its lease moves to xenbr0")
    assert lines[-1].strip().endswith(
        f"start DHCP client {client} on xenbr0: renews the lease eth0 had")

    r = runner.invoke(app, ["local", "apply", XENBR0, "--yes", "--netns", dom0,
                            "--confirm-within", "300"])
    assert r.exit_code == 0, r.output
    _assert_bridge_holds_the_lease(dom0, before, original.argv)

    r = runner.invoke(app, ["local", "rollback", "--netns", dom0])
    assert r.exit_code == 0, r.output
    after = snapshot_of(dom0)
    assert after.fingerprint() == before.fingerprint()
    assert [(a.address, a.dynamic) for a in _v4(after, "eth0")] == [
        (leased.address, leased.dynamic)]
    assert [c.argv for c in dhcp.find_clients("eth0", dom0)] == [original.argv]
    assert not dhcp.find_clients("xenbr0", dom0)

    r = runner.invoke(app, ["local", "apply", XENBR0, "--yes", "--netns", dom0])
    assert r.exit_code == 0, r.output
    _assert_bridge_holds_the_lease(dom0, before, original.argv)
    if client == "dhclient":
        lease = (tmp / "dhclient.xenbr0.leases").read_text()
        assert 'interface "xenbr0";' in lease and f"fixed-address {leased.address};" in lease
    assert f"{MAC} {leased.address}" in (tmp / "dnsmasq.leases").read_text()


def _routes_v4(snap, ifname):
    """The IPv4 routes through ``ifname``, without their metric: dhcpcd gives its own routes
    1000 + the interface's index (1002 on eth0, 1003 on the bridge)."""
    return sorted((r.dst, r.gateway or "", r.proto) for r in snap.routes
                  if r.oif == ifname and r.family == 4)


def _assert_bridge_holds_the_lease(dom0: str, before, argv: tuple[str, ...]) -> None:
    snap = snapshot_of(dom0)
    (leased,) = _v4(before, "eth0")
    (on_bridge,) = _v4(snap, "xenbr0")
    # the lease, not made static (nor made dynamic: udhcpc's were never), with eth0's flags
    # (dhcpcd's noprefixroute: no kernel route beside dhcpcd's own subnet route)
    assert (on_bridge.address, on_bridge.dynamic) == (leased.address, leased.dynamic)
    assert on_bridge.flags & IFA_F_SETTABLE == leased.flags & IFA_F_SETTABLE
    assert _routes_v4(snap, "xenbr0") == _routes_v4(before, "eth0")  # no more, no fewer
    assert _v4(snap, "eth0") == []  # the old NIC has none
    assert snap.links["eth0"].master == "xenbr0"
    assert not dhcp.find_clients("eth0", dom0)
    (client,) = dhcp.find_clients("xenbr0", dom0)
    assert client.argv == dhcp.renamed(argv, "eth0", "xenbr0")
    assert [r.dst for r in snap.routes if r.oif == "eth0"] == []


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


def test_apply_killed_at_any_step_gives_the_lease_and_client_back_to_eth0(any_client_host):
    """Issue 16 item 2 for a DHCP host: the dead-man timer's rollback also restarts the
    client on eth0 (and stops one on the bridge) wherever the apply died, for each client:
    before each step, and after the last (the client runs on the bridge). The fingerprint
    holds the addresses' flags: dhcpcd's noprefixroute comes back, with no kernel route."""
    from test_local_crash import _await_timer, _kill_apply_at

    from xapictl.local.apply import current_plan, undo_path
    from xapictl.local.desired import load_recipe

    dom0, _, _ = any_client_host
    before = snapshot_of(dom0)
    (original,) = dhcp.find_clients("eth0", dom0)
    steps = len(current_plan(load_recipe(Path(XENBR0)), dom0)[0].steps)
    assert steps >= 8  # stop client, bridge, port, address, routes ..., start client
    for step in range(steps + 1):
        _await_timer(_kill_apply_at(step, "SIGKILL", dom0, confirm=0.5, recipe=Path(XENBR0)))
        assert not undo_path(dom0).exists(), f"killed at {step}"
        snap = snapshot_of(dom0)
        assert snap.fingerprint() == before.fingerprint(), f"killed at {step}"
        assert [c.argv for c in dhcp.find_clients("eth0", dom0)] == [original.argv], step
        assert not dhcp.find_clients("xenbr0", dom0), f"killed at {step}"


def test_dhcpcd_is_known_by_its_process_title_and_its_helpers_are_not_clients():
    assert dhcp._command_line(("dhcpcd: eth0 [ip4]",)) == ("dhcpcd", "-4", "eth0")
    assert dhcp._command_line(("dhcpcd: eth0 [ip6]",)) == ("dhcpcd", "-6", "eth0")
    assert dhcp._command_line(("dhcpcd: eth0 [ip4] [ip6]",)) == ("dhcpcd", "eth0")
    for helper in ("dhcpcd: [privileged proxy] eth0 [ip4]", "dhcpcd: [manager] [ip4]",
                   "dhcpcd: [BPF ARP] eth0 192.0.2.150"):
        assert dhcp._command_line((helper,)) == (helper,)  # basename is no client's name
    argv = ("udhcpc", "-n", "-p", "/run/udhcpc.eth0.pid", "-i", "eth0")
    assert dhcp._command_line(argv) == argv
