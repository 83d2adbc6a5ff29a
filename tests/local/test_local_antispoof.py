"""Antispoofing for the vif ``ip=`` key (vif-common.sh's handle_iptable, with nftables): a
guest sending from its own address passes, from a spoofed one is dropped at the vif; the
guard goes on offline. In namespaces, with a fake xenstore."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
from fake_xenstore import FakeXenStore, vif_backend
from local_netns_helpers import add_addr, ipr_in, snapshot_of, veth
from typer.testing import CliRunner

from xapictl.cli import app
from xapictl.errors import LocalBackendError
from xapictl.local import antispoof
from xapictl.local.antispoof import (
    arp_commands,
    available_tools,
    backend,
    parse_ip_key,
    ruleset,
    table_name,
    xt_commands,
)
from xapictl.local.apply import apply
from xapictl.local.desired import parse_recipe
from xapictl.local.probe import reachable

XB = "backend/vif/7/0"
needs_nft = pytest.mark.skipif(shutil.which("nft") is None,
                               reason="needs nft (apt-get install nftables)")


@pytest.fixture
def guarded_guest(xen_host, namespaces):
    """xenbr0 over dom0's eth0 (the LAN holds 192.0.2.1), and guest 7 on vif7.0."""
    apply(parse_recipe("local:\n  bridges:\n    xenbr0: {uplink: eth0, addresses: from-uplink}\n"),
          netns=xen_host.dom0, run_probe=False)
    guest = namespaces("g7")
    veth(xen_host.dom0, "vif7.0", guest, "eth0")
    return xen_host.dom0, guest


def _hotplug(store: FakeXenStore, ns: str, action: str):
    env = store.env(XENBUS_PATH=XB, vif="vif7.0", XENBUS_TYPE="vif",
                    XAPICTL_HOTPLUG_LOG=str(store.path.parent / "vif.log"))
    return CliRunner().invoke(app, ["local", "vif-hotplug", action, "type_if=vif", "--netns", ns],
                              env=env)


def _forget_neighbours(*namespaces: str) -> None:
    """Flush the neighbour caches: ARP for a spoofed address failed while the guard dropped it,
    and a FAILED entry can keep answering "unreachable" for a while after the guard is gone."""
    for ns in namespaces:
        subprocess.run(["ip", "-n", ns, "neigh", "flush", "all"], check=True)


def _readdress(ns: str, old: str, new: str) -> None:
    ipr = ipr_in(ns)
    try:
        ipr.addr("del", index=ipr.link_lookup(ifname="eth0")[0], address=old, prefixlen=24)
    finally:
        ipr.close()
    add_addr(ns, "eth0", f"{new}/24")


def _nft_tables(ns: str) -> list[str]:
    out = subprocess.run(["ip", "netns", "exec", ns, "nft", "-j", "list", "tables"],
                         capture_output=True, text=True, check=True)
    return [i["table"]["name"] for i in json.loads(out.stdout)["nftables"] if "table" in i]


def _dropped(ns: str) -> int:
    out = subprocess.run(["ip", "netns", "exec", ns, "nft", "-j", "list", "table", "bridge",
                          table_name("vif7.0")], capture_output=True, text=True, check=True)
    return sum(i["rule"]["expr"][0]["counter"]["packets"]
               for i in json.loads(out.stdout)["nftables"]
               if "rule" in i and "counter" in i["rule"]["expr"][0])


@pytest.mark.requires_root
@needs_nft
def test_spoofed_source_is_dropped_own_passes_and_offline_removes_the_guard(
        tmp_path, guarded_guest):
    dom0, guest = guarded_guest
    add_addr(guest, "eth0", "192.0.2.20/24")
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0", ip="192.0.2.20"))
    result = _hotplug(store, dom0, "online")
    assert result.exit_code == 0, result.output
    assert "vif7.0: antispoofing (nft) allows 192.0.2.20/32" in (tmp_path / "vif.log").read_text()
    assert snapshot_of(dom0).links["vif7.0"].master == "xenbr0"
    assert reachable("192.0.2.1", netns=guest, attempts=5, timeout=3.0)
    assert _dropped(dom0) == 0

    _readdress(guest, "192.0.2.20", "192.0.2.66")  # the guest claims another address
    assert not reachable("192.0.2.1", netns=guest, attempts=3, timeout=1.0)
    assert _dropped(dom0) > 0  # dropped by the guard, not lost elsewhere

    # control: without ip= the same spoofed address passes (online removes the stale guard)
    del_ip = {k: v for k, v in store.data.items() if k != f"{XB}/ip"}
    store.path.write_text(json.dumps(del_ip))
    assert _hotplug(store, dom0, "online").exit_code == 0
    assert table_name("vif7.0") not in _nft_tables(dom0)
    _forget_neighbours(guest, dom0)
    assert reachable("192.0.2.1", netns=guest, attempts=5, timeout=3.0)

    store.path.write_text(json.dumps({**del_ip, f"{XB}/ip": "192.0.2.20"}))
    assert _hotplug(store, dom0, "online").exit_code == 0
    assert table_name("vif7.0") in _nft_tables(dom0)
    assert _hotplug(store, dom0, "offline").exit_code == 0
    assert table_name("vif7.0") not in _nft_tables(dom0)


@pytest.mark.requires_root
@needs_nft
def test_a_bad_ip_key_fails_the_vif_with_a_hotplug_error(tmp_path, guarded_guest):
    dom0, _ = guarded_guest
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0", ip="192.0.2.300"))
    result = _hotplug(store, dom0, "online")
    assert result.exit_code == 4
    assert store.data[f"{XB}/hotplug-status"] == "error"
    assert ("'192.0.2.300' is not an IP address or network"
            in store.data[f"{XB}/hotplug-error"])
    assert snapshot_of(dom0).links["vif7.0"].master is None  # nothing attached unguarded


def test_ip_key_words_are_checked_and_made_canonical():
    assert parse_ip_key(" 192.0.2.20  192.0.2.0/28 2001:db8::20 ") == (
        "192.0.2.20/32", "192.0.2.0/28", "2001:db8::20/128")


def test_the_ruleset_accepts_own_sources_arp_dhcp_and_drops_the_rest():
    text = ruleset("vif7.0", ("192.0.2.20/32", "2001:db8::20/128"))
    assert 'iifname != "vif7.0" accept' in text
    assert "ip saddr { 192.0.2.20/32 } accept" in text
    assert "arp saddr ip { 0.0.0.0, 192.0.2.20/32 } accept" in text
    assert "udp sport 68 udp dport 67 accept" in text
    assert "ip6 saddr { fe80::/10, ::, 2001:db8::20/128 } accept" in text
    assert text.rstrip().splitlines()[-3].strip() == "counter drop"
    assert "ether type ip6 accept" in ruleset("vif7.0", ("192.0.2.20/32",))


@pytest.mark.requires_root
def test_ip_key_without_nft_or_iptables_fails_the_vif_instead_of_running_unguarded(
        tmp_path, guarded_guest):
    dom0, _ = guarded_guest
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0", ip="192.0.2.20"))
    env = {**store.env(XENBUS_PATH=XB, vif="vif7.0",
                       XAPICTL_HOTPLUG_LOG=str(tmp_path / "vif.log")), "PATH": str(store.bin)}
    result = CliRunner().invoke(app, ["local", "vif-hotplug", "online", "type_if=vif",
                                      "--netns", dom0], env=env)
    assert result.exit_code == 4
    assert store.data[f"{XB}/hotplug-error"] == (
        "xapictl: ip= asks for antispoofing on vif7.0 but neither nft nor iptables is"
        " installed: install nftables (apt-get install nftables)")
    assert snapshot_of(dom0).links["vif7.0"].master is None


# --- the iptables fallback: nft absent from PATH, iptables (nft-based or legacy) + ebtables

_XT_VARIANTS = {"iptables-nft": "nft", "iptables-legacy": "legacy"}


def _xt_path(tmp_path, variant: str) -> str:
    """A PATH without nft: the variant's iptables/ip6tables, ebtables (nft-based: this kernel
    family has no legacy ebtables), ip and the basic commands, nothing from /usr/sbin."""
    bin_dir = tmp_path / "xt-bin"
    bin_dir.mkdir()
    suffix = _XT_VARIANTS[variant]
    links = {"iptables": f"iptables-{suffix}", "ip6tables": f"ip6tables-{suffix}",
             "ebtables": "ebtables-nft", "ip": "ip"}
    for name, target in links.items():
        found = shutil.which(target)
        if found is None:
            pytest.skip(f"needs {target} (apt-get install iptables ebtables)")
        (bin_dir / name).symlink_to(found)
    return f"{bin_dir}:/usr/bin:/bin"


def _xt(ns: str, path: str, *args: str) -> str:
    out = subprocess.run(["ip", "netns", "exec", ns, *args], capture_output=True, text=True,
                         check=True, env={**os.environ, "PATH": path})
    return out.stdout


def _xt_drops(ns: str, path: str, tool: str) -> int:
    """Packets the vif's chain dropped (its last rule) according to ``tool``."""
    chain = table_name("vif7.0")
    if tool == "ebtables":
        text = _xt(ns, path, "ebtables", "-L", chain, "--Lc")
        return int(re.findall(r"-j DROP , pcnt = (\d+)", text)[-1])
    text = _xt(ns, path, tool, "-L", chain, "-n", "-v", "-x")
    return int(text.strip().splitlines()[-1].split()[0])


def _mac(ns: str, ifname: str) -> str:
    out = subprocess.run(["ip", "-j", "-n", ns, "link", "show", ifname], capture_output=True,
                         text=True, check=True)
    return str(json.loads(out.stdout)[0]["address"])


def _pin_neighbour(ns: str, ifname: str, address: str, mac: str) -> None:
    subprocess.run(["ip", "-n", ns, "neigh", "replace", address, "lladdr", mac, "dev", ifname,
                    "nud", "permanent"], check=True)


@pytest.fixture(params=sorted(_XT_VARIANTS))
def xt_path(request, tmp_path, namespaces):
    path = _xt_path(tmp_path, request.param)
    probe = namespaces("xt")
    out = subprocess.run(["ip", "netns", "exec", probe, "iptables", "-L", "-n"],
                         capture_output=True, text=True, env={**os.environ, "PATH": path},
                         check=False)
    if out.returncode:  # the kernel lacks what this variant needs
        pytest.skip(f"{request.param}: {out.stderr.strip()}")
    return path


def _hotplug_with(store: FakeXenStore, ns: str, action: str, path: str):
    env = {**store.env(XENBUS_PATH=XB, vif="vif7.0",
                       XAPICTL_HOTPLUG_LOG=str(store.path.parent / "vif.log")),
           "PATH": f"{store.bin}:{path}"}
    return CliRunner().invoke(app, ["local", "vif-hotplug", action, "type_if=vif", "--netns", ns],
                              env=env)


@pytest.mark.requires_root
def test_without_nft_iptables_and_ebtables_drop_spoofed_ipv4_and_arp_and_offline_removes_them(
        tmp_path, xen_host, guarded_guest, xt_path):
    dom0, guest = guarded_guest
    add_addr(guest, "eth0", "192.0.2.20/24")
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0", ip="192.0.2.20"))
    result = _hotplug_with(store, dom0, "online", xt_path)
    assert result.exit_code == 0, result.output
    assert ("vif7.0: antispoofing (iptables+ebtables) allows 192.0.2.20/32"
            in (tmp_path / "vif.log").read_text())
    assert snapshot_of(dom0).links["vif7.0"].master == "xenbr0"
    rules = _xt(dom0, xt_path, "iptables", "-S")
    assert "-A FORWARD -m physdev --physdev-in vif7.0 -j xapictl_vif_vif7.0" in rules
    assert "-A INPUT -m physdev --physdev-in vif7.0 -j xapictl_vif_vif7.0" in rules
    assert "-A xapictl_vif_vif7.0 -s 192.0.2.20/32 -j RETURN" in rules
    assert reachable("192.0.2.1", netns=guest, attempts=5, timeout=3.0)
    assert _xt_drops(dom0, xt_path, "iptables") == 0
    assert _xt_drops(dom0, xt_path, "ebtables") == 0

    _readdress(guest, "192.0.2.20", "192.0.2.66")
    # spoofed IPv4 with the gateway's MAC known (no ARP needed): iptables drops it
    # (and the LAN's for the spoofed address), so only the guard can stop the echo
    _pin_neighbour(guest, "eth0", "192.0.2.1", _mac(xen_host.lan, "lan0"))
    _pin_neighbour(xen_host.lan, "lan0", "192.0.2.66", _mac(guest, "eth0"))
    assert not reachable("192.0.2.1", netns=guest, attempts=3, timeout=1.0)
    assert _xt_drops(dom0, xt_path, "iptables") > 0
    # ARP claiming the spoofed address: ebtables drops it
    subprocess.run(["ip", "-n", guest, "neigh", "del", "192.0.2.1", "dev", "eth0"], check=True)
    assert not reachable("192.0.2.1", netns=guest, attempts=3, timeout=1.0)
    assert _xt_drops(dom0, xt_path, "ebtables") > 0

    assert _hotplug_with(store, dom0, "offline", xt_path).exit_code == 0
    assert "xapictl_vif" not in _xt(dom0, xt_path, "iptables", "-S")
    assert "xapictl_vif" not in _xt(dom0, xt_path, "ebtables", "-L")


@pytest.mark.requires_root
def test_iptables_guard_refuses_when_bridged_frames_bypass_iptables(
        tmp_path, guarded_guest, xt_path):
    dom0, _ = guarded_guest
    subprocess.run(["ip", "netns", "exec", dom0, "sysctl", "-qw",
                    "net.bridge.bridge-nf-call-iptables=0"], check=True)
    store = FakeXenStore(tmp_path, vif_backend(7, 0, bridge="xenbr0", ip="192.0.2.20"))
    result = _hotplug_with(store, dom0, "online", xt_path)
    assert result.exit_code == 4
    assert store.data[f"{XB}/hotplug-error"] == (
        "xapictl: the iptables guard of vif7.0 needs net.bridge.bridge-nf-call-iptables=1 (it"
        " is 0: bridged frames bypass iptables): sysctl -w"
        " net.bridge.bridge-nf-call-iptables=1, or install nftables")
    assert snapshot_of(dom0).links["vif7.0"].master is None
    assert "xapictl_vif" not in _xt(dom0, xt_path, "iptables", "-S")


def test_the_backend_is_nft_when_there_else_iptables_else_a_refusal():
    assert backend({"nft", "iptables"}, "vif1.0") == "nft"
    assert backend({"iptables", "ebtables"}, "vif1.0") == "iptables"
    with pytest.raises(LocalBackendError, match="neither nft nor iptables"):
        backend({"ebtables"}, "vif1.0")
    assert available_tools(path="/nonexistent") == frozenset()


def test_iptables_commands_as_vif_common_sh_plus_the_drop():
    cmds = [" ".join(c) for c in xt_commands("vif7.0", ("192.0.2.20/32",), "iptables")]
    chain = "xapictl_vif_vif7.0"
    assert cmds[:4] == [f"iptables -N {chain}", f"iptables -A {chain} -s 192.0.2.20/32 -j RETURN",
                        f"iptables -A {chain} -p udp --sport 68 --dport 67 -j RETURN",
                        f"iptables -A {chain} -j DROP"]
    assert ("iptables -I FORWARD 1 -m state --state RELATED,ESTABLISHED -m physdev"
            " --physdev-is-bridged --physdev-out vif7.0 -j ACCEPT") in cmds
    v6 = [" ".join(c) for c in xt_commands("vif7.0", ("2001:db8::20/128",), "ip6tables")]
    assert f"ip6tables -A {chain} -s 2001:db8::20/128 -j RETURN" in v6
    assert f"ip6tables -A {chain} -s fe80::/10 -j RETURN" in v6
    arp = [" ".join(c) for c in arp_commands("vif7.0", ("192.0.2.20/32",))]
    assert f"ebtables -A {chain} -p ARP --arp-ip-src 0.0.0.0 -j RETURN" in arp
    assert f"ebtables -A {chain} -p ARP --arp-ip-src 192.0.2.20/32 -j RETURN" in arp


# --- what offline spawns: the guard's record says what to remove (libxl's 40 s in a slow dom0)


@pytest.fixture
def spawned(monkeypatch) -> list[list[str]]:
    """Every command the guard code runs (faked: each succeeds), in order."""
    ran: list[list[str]] = []

    def fake_run(argv, netns, stdin=None):
        ran.append(argv)
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(antispoof, "_run", fake_run)
    return ran


def test_offline_of_a_vif_never_guarded_spawns_nothing(spawned):
    for tools in ({"nft", "iptables", "ip6tables", "ebtables"}, {"iptables", "ebtables"}):
        assert antispoof.remove("vif7.0", netns="dom0", tools=tools) == 0
    assert spawned == []


def test_an_nft_guard_is_put_in_one_run_and_taken_out_in_one_run(spawned):
    tools = {"nft", "iptables", "ip6tables", "ebtables"}
    assert antispoof.install("vif7.0", ("192.0.2.20/32",), netns="dom0", tools=tools) == "nft"
    assert antispoof.install("vif7.0", ("192.0.2.21/32",), netns="dom0", tools=tools) == "nft"
    assert spawned == [["nft", "-f", "-"], ["nft", "-f", "-"]]  # nft -f replaces the table
    assert antispoof.remove("vif7.0", netns="dom0", tools=tools) == 1
    assert spawned[2:] == [["nft", "-f", "-"]]  # the iptables families are not even listed
    assert not antispoof.guard_record("vif7.0", "dom0").exists()
    assert antispoof.remove("vif7.0", netns="dom0", tools=tools) == 0  # a second offline
    assert len(spawned) == 3


def test_a_record_is_per_namespace_and_vif(spawned):
    antispoof.install("vif7.0", ("192.0.2.20/32",), netns="dom0", tools={"nft"})
    assert antispoof.remove("vif7.0", netns="other", tools={"nft"}) == 0
    assert antispoof.remove("vif8.0", netns="dom0", tools={"nft"}) == 0
    assert antispoof.remove("vif7.0", netns="dom0", tools={"nft"}) == 1


def test_an_iptables_guard_is_taken_out_by_its_recorded_families_without_listing(
        spawned, monkeypatch):
    monkeypatch.setattr(antispoof, "bridge_nf", lambda key, netns: "1")
    tools = {"iptables", "ip6tables", "ebtables"}
    assert antispoof.install("vif7.0", ("192.0.2.20/32",), netns="dom0",
                             tools=tools) == "iptables+ebtables"
    installed = len(spawned)
    assert installed == len(xt_commands("vif7.0", ("192.0.2.20/32",), "iptables")) + len(
        arp_commands("vif7.0", ("192.0.2.20/32",)))  # no stale-guard probe before it
    assert antispoof.remove("vif7.0", netns="dom0", tools=tools) == 6 + 4  # -D of each jump, -F, -X
    removal = spawned[installed:]
    assert {c[0] for c in removal} == {"iptables", "ebtables"}  # no ip6tables: no IPv6 ip=
    assert not any("-L" in c for c in removal)
    assert removal[-2:] == [["ebtables", "-F", table_name("vif7.0")],
                            ["ebtables", "-X", table_name("vif7.0")]]


def test_an_iptables_guard_replaced_by_nft_is_removed_first(spawned, monkeypatch):
    monkeypatch.setattr(antispoof, "bridge_nf", lambda key, netns: "1")
    antispoof.install("vif7.0", ("192.0.2.20/32",), netns="dom0", tools={"iptables"})
    before = len(spawned)
    assert antispoof.install("vif7.0", ("192.0.2.20/32",), netns="dom0",
                             tools={"nft", "iptables"}) == "nft"
    assert [c[0] for c in spawned[before:]] == ["iptables"] * 6 + ["nft"]
    assert antispoof.remove("vif7.0", netns="dom0", tools={"nft", "iptables"}) == 1


def test_a_refused_nft_guard_leaves_no_record(monkeypatch):
    monkeypatch.setattr(antispoof, "_run", lambda argv, netns, stdin=None:
                        subprocess.CompletedProcess(argv, 1, "", "Error: syntax"))
    with pytest.raises(LocalBackendError, match=r"nft refused the antispoofing rules of vif7\.0"):
        antispoof.install("vif7.0", ("192.0.2.20/32",), netns="dom0", tools={"nft"})
    assert not antispoof.guard_record("vif7.0", "dom0").exists()
