"""Antispoofing for a guest vif's ``ip=`` key, as Xen's vif-common.sh (``handle_iptable``)
does it, with nftables (iptables where nft is absent).

vif-common.sh inserts FORWARD rules accepting what comes in through the vif from each
``ip`` source, plus DHCP requests (udp 68 -> 67); they guard only when the admin's FORWARD
policy drops the rest and br_netfilter passes bridged frames to iptables. With nftables the
guard is complete on its own: each vif gets a table in the ``bridge`` family whose
prerouting chain (every frame the guest sends, bridged or to dom0) accepts IPv4 from the
listed sources, ARP claiming only those addresses (or 0.0.0.0, the DHCP/DAD probe), DHCP
requests, and IPv6 (only from the listed IPv6 sources and link-local, when ``ip`` lists
IPv6; else all, as upstream, whose ``ip`` is IPv4 only); everything else the guest sends
is dropped. ``online`` installs it (replacing a stale one), ``offline`` removes it.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from collections.abc import Sequence

from xapictl.errors import LocalBackendError, UsageError

__all__ = ["install", "parse_ip_key", "remove", "ruleset", "table_name"]

_IPV4_PROBE = "0.0.0.0"  # noqa: S104 - ARP probes (DHCP, DAD) claim no address yet
_IPV6_OWN = ("fe80::/10", "::")  # link-local and DAD: neighbour discovery must work


def parse_ip_key(text: str) -> tuple[str, ...]:
    """The ``ip`` xenstore key: addresses or networks separated by spaces (as the shell
    loop of vif-common.sh splits it); each is checked, in canonical form."""
    found = []
    for word in text.split():
        try:
            found.append(str(ipaddress.ip_network(word, strict=False)))
        except ValueError:
            raise UsageError(f"ip={text!r}: {word!r} is not an IP address or network;"
                             " write e.g. 'ip=192.0.2.20' or 'ip=192.0.2.0/28 2001:db8::20'"
                             ) from None
    return tuple(found)


def table_name(vif: str) -> str:
    return f"xapictl_vif_{vif}"


def _set(items: Sequence[str]) -> str:
    return "{ " + ", ".join(items) + " }"


def ruleset(vif: str, sources: Sequence[str]) -> str:
    """The nft script that (re)creates the vif's table: atomic under ``nft -f``."""
    v4 = [s for s in sources if ":" not in s]
    v6 = [s for s in sources if ":" in s]
    name = table_name(vif)
    rules = [f'iifname != "{vif}" accept']
    if v4:
        rules.append(f"ip saddr {_set(v4)} accept")
    rules.append(f"arp saddr ip {_set([_IPV4_PROBE, *v4])} accept")
    rules.append("udp sport 68 udp dport 67 accept")
    rules.append(f"ip6 saddr {_set([*_IPV6_OWN, *v6])} accept" if v6 else
                 "ether type ip6 accept")
    rules.append("counter drop")
    body = "\n".join(f"    {r}" for r in rules)
    return (f"table bridge {name}\ndelete table bridge {name}\n"
            f"table bridge {name} {{\n  chain guard {{\n"
            f"    type filter hook prerouting priority filter; policy accept;\n"
            f"{body}\n  }}\n}}\n")


def _run(argv: list[str], netns: str | None, stdin: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True,  # noqa: S603
                          check=False)


def install(vif: str, sources: Sequence[str], *, netns: str | None = None) -> str:
    """Install the guard of ``vif``; returns which tool did. Raises when neither nft nor
    iptables is there, or the tool refuses (the caller reports it as a hotplug error)."""
    if shutil.which("nft"):
        out = _run(["nft", "-f", "-"], netns, ruleset(vif, sources))
        if out.returncode:
            raise LocalBackendError(f"nft refused the antispoofing rules of {vif}:"
                                    f" {out.stderr.strip()}")
        return "nft"
    if shutil.which("iptables"):
        _iptables(vif, sources, "-I", netns)
        return "iptables"
    raise LocalBackendError(
        f"ip= asks for antispoofing on {vif} but neither nft nor iptables is installed:"
        " install nftables (apt-get install nftables)")


def remove(vif: str, sources: Sequence[str] = (), *, netns: str | None = None) -> None:
    """Remove the guard of ``vif`` (none there is fine: offline must always finish);
    ``sources`` (the ``ip`` key, when still readable) name the iptables rules to delete."""
    if shutil.which("nft"):
        name = table_name(vif)
        _run(["nft", "-f", "-"], netns, f"table bridge {name}\ndelete table bridge {name}\n")
    if shutil.which("iptables"):
        _iptables(vif, sources, "-D", netns)


def _iptables(vif: str, sources: Sequence[str], op: str, netns: str | None) -> None:
    """vif-common.sh's ``frob_iptable``, rule for rule (``-I`` online, ``-D`` offline)."""
    matches = [["-s", s] for s in sources if ":" not in s] + [
        ["-p", "udp", "--sport", "68", "--dport", "67"]] if sources else [[]]
    for match in matches:
        for rule in (["-m", "physdev", "--physdev-in", vif, *match, "-j", "ACCEPT"],
                     ["-m", "state", "--state", "RELATED,ESTABLISHED", "-m", "physdev",
                      "--physdev-out", vif, "-j", "ACCEPT"]):
            out = _run(["iptables", op, "FORWARD", *rule], netns)
            if op == "-I" and out.returncode:
                raise LocalBackendError(f"iptables refused the antispoofing rules of {vif}:"
                                        f" {out.stderr.strip()}")
