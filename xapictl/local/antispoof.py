"""Antispoofing for a guest vif's ``ip=`` key, as Xen's vif-common.sh (``handle_iptable``)
does it, with nftables (iptables and ebtables where nft is absent).

vif-common.sh inserts FORWARD rules accepting what comes in through the vif from each
``ip`` source, plus DHCP requests (udp 68 -> 67); they guard only when the admin's FORWARD
policy drops the rest and br_netfilter passes bridged frames to iptables. With nftables the
guard is complete on its own: each vif gets a table in the ``bridge`` family whose
prerouting chain (every frame the guest sends, bridged or to dom0) accepts IPv4 from the
listed sources, ARP claiming only those addresses (or 0.0.0.0, the DHCP/DAD probe), DHCP
requests, and IPv6 (only from the listed IPv6 sources and link-local, when ``ip`` lists
IPv6; else all, as upstream, whose ``ip`` is IPv4 only); everything else the guest sends
is dropped. ``online`` installs it (replacing a stale one), ``offline`` removes it.

What a vif's guard is made of is recorded when it is installed, in a small file under the
state directory (``guard-NETNS-VIF.json`` in /run/xapictl: gone at reboot, with the rules):
``offline`` removes exactly that, in one ``nft`` run for nftables, and spawns nothing for a
vif that was never guarded (libxl gives the script 40 s in all, and one ``nft`` run took
3.5 s in a slow dom0). Rules no record names are left alone.

Where ``nft`` is absent (the tools are found on ``$PATH``: :func:`available_tools`), the
same guard is built from upstream's pieces: an iptables chain per vif (ip6tables when ``ip``
lists IPv6) reached through the physdev match from INPUT and FORWARD, which lets the listed
sources and DHCP requests through and drops the rest, upstream's FORWARD ACCEPT rules after
it, and an ebtables chain for ARP (which iptables never sees). It needs br_netfilter with
``bridge-nf-call-iptables`` on in the vif's namespace, and refuses without it.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
from collections.abc import Collection, Sequence
from pathlib import Path

from xapictl.errors import LocalBackendError, UsageError
from xapictl.local.lock import state_dir

__all__ = ["TOOLS", "arp_commands", "available_tools", "backend", "bridge_nf", "guard_record",
           "install", "parse_ip_key", "remove", "ruleset", "table_name", "xt_commands"]

_IPV4_PROBE = "0.0.0.0"  # noqa: S104 - ARP probes (DHCP, DAD) claim no address yet
_IPV6_OWN = ("fe80::/10", "::")  # link-local and DAD: neighbour discovery must work
_IPV6_OWN_XT = ("fe80::/10", "::/128")
TOOLS = ("nft", "iptables", "ip6tables", "ebtables")
"""The firewall tools the guard can use, found on ``$PATH`` (:func:`available_tools`)."""


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


def available_tools(path: str | None = None) -> frozenset[str]:
    """The firewall tools found on ``path`` (None: ``$PATH``): what the guard can use."""
    return frozenset(t for t in TOOLS if shutil.which(t, path=path))


def backend(tools: Collection[str], vif: str) -> str:
    """nftables when ``nft`` is there, else vif-common.sh's iptables; neither is an error
    (a guest that asked for a guard on ``vif`` must not run without one)."""
    if "nft" in tools:
        return "nft"
    if "iptables" in tools:
        return "iptables"
    raise LocalBackendError(
        f"ip= asks for antispoofing on {vif} but neither nft nor iptables is installed:"
        " install nftables (apt-get install nftables)")


def install(vif: str, sources: Sequence[str], *, netns: str | None = None,
            tools: Collection[str] | None = None) -> str:
    """Install the guard of ``vif`` with the best of ``tools`` (None: those on ``$PATH``);
    returns what did it. Raises, leaving no rule behind, when neither nft nor iptables is
    there, bridged frames bypass iptables, or a tool refuses (a hotplug error for the
    caller)."""
    tools = available_tools() if tools is None else frozenset(tools)
    if backend(tools, vif) == "nft":
        if set(_recorded(vif, netns)) - {"nft"}:  # iptables rules of an earlier online
            remove(vif, netns=netns, tools=tools)  # (nft -f itself replaces a stale table)
        _record(vif, netns, ["nft"])  # before the rules: a crash leaves nothing unrecorded
        out = _run(["nft", "-f", "-"], netns, ruleset(vif, sources))
        if out.returncode:
            guard_record(vif, netns).unlink(missing_ok=True)  # nft -f is atomic: none there
            raise LocalBackendError(f"nft refused the antispoofing rules of {vif}:"
                                    f" {out.stderr.strip()}")
        return "nft"
    families = ["iptables", *(["ip6tables"] if any(":" in s for s in sources) else [])]
    for family in families:
        _check_bridge_nf(vif, family, netns)
    remove(vif, netns=netns, tools=tools)  # a stale guard of an earlier online
    if "ebtables" in tools:
        families.append("ebtables")
    _record(vif, netns, families)
    commands = [c for f in families if f != "ebtables" for c in xt_commands(vif, sources, f)]
    if "ebtables" in tools:
        commands += arp_commands(vif, sources)
    for argv in commands:
        out = _run(argv, netns)
        if out.returncode:
            remove(vif, netns=netns, tools=tools)
            raise LocalBackendError(f"{argv[0]} refused the antispoofing rules of {vif}:"
                                    f" {out.stderr.strip()}")
    return ("iptables+ebtables" if "ebtables" in tools
            else "iptables (ARP unguarded: install ebtables)")


def remove(vif: str, sources: Sequence[str] = (), *, netns: str | None = None,
           tools: Collection[str] | None = None) -> int:
    """Remove the guard of ``vif`` as its record says it was built (no record: never
    guarded, nothing to run); returns how many commands ran. Failures are ignored and the
    record goes: offline must always finish, and a rule that is not there is the goal.
    ``sources`` is accepted for the callers' symmetry; the rules are found by the vif's
    name alone. ``tools`` (None: those on ``$PATH``) limits what is run."""
    del sources
    built = _recorded(vif, netns)
    if not built:
        return 0  # never guarded (or guarded before records were kept): nothing to run
    tools = available_tools() if tools is None else frozenset(tools)
    commands: list[tuple[list[str], str | None]] = []
    if "nft" in built and "nft" in tools:
        name = table_name(vif)  # declaring the table first makes the delete never fail
        commands.append((["nft", "-f", "-"],
                         f"table bridge {name}\ndelete table bridge {name}\n"))
    commands += [(argv, None) for family in ("iptables", "ip6tables", "ebtables")
                 if family in built and family in tools for argv in _removal(vif, family)]
    for argv, stdin in commands:
        _run(argv, netns, stdin)
    guard_record(vif, netns).unlink(missing_ok=True)
    return len(commands)


def guard_record(vif: str, netns: str | None) -> Path:
    """The file recording which tools built the guard of ``vif`` in ``netns``."""
    return state_dir() / f"guard-{netns or 'host'}-{vif}.json"


def _recorded(vif: str, netns: str | None) -> list[str]:
    """The tools the record of ``vif`` names ([]: no record, or not one of ours)."""
    try:
        tools = json.loads(guard_record(vif, netns).read_text())["tools"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [str(t) for t in tools] if isinstance(tools, list) else []


def _record(vif: str, netns: str | None, tools: Sequence[str]) -> None:
    path = guard_record(vif, netns)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"vif": vif, "netns": netns, "tools": list(tools)}) + "\n")


def _jumps(vif: str, family: str) -> list[tuple[str, list[str]]]:
    """(chain, rule) pairs hooking the vif's chain in, in their final order."""
    chain = table_name(vif)
    if family == "ebtables":
        return [("INPUT", ["-i", vif, "-j", chain]), ("FORWARD", ["-i", vif, "-j", chain])]
    return [("INPUT", ["-m", "physdev", "--physdev-in", vif, "-j", chain]),
            ("FORWARD", ["-m", "physdev", "--physdev-in", vif, "-j", chain]),
            # vif-common.sh's own two ACCEPT rules, for hosts whose FORWARD policy is DROP
            ("FORWARD", ["-m", "physdev", "--physdev-is-bridged", "--physdev-in", vif,
                         "-j", "ACCEPT"]),
            ("FORWARD", ["-m", "state", "--state", "RELATED,ESTABLISHED", "-m", "physdev",
                         "--physdev-is-bridged", "--physdev-out", vif, "-j", "ACCEPT"])]


def xt_commands(vif: str, sources: Sequence[str], family: str) -> list[list[str]]:
    """iptables (or ip6tables) commands installing the guard: a chain ``xapictl_vif_VIF``
    that returns for the allowed sources (and DHCP requests) and drops the rest, jumped to
    from INPUT and FORWARD for what comes in through the vif (the physdev match, as
    vif-common.sh), then upstream's ACCEPT rules for a FORWARD policy of DROP."""
    chain = table_name(vif)
    if family == "ip6tables":
        allowed = [["-s", s] for s in (*_IPV6_OWN_XT, *(s for s in sources if ":" in s))]
    else:
        allowed = [["-s", s] for s in sources if ":" not in s]
        allowed.append(["-p", "udp", "--sport", "68", "--dport", "67"])
    cmds = [[family, "-N", chain]]
    cmds += [[family, "-A", chain, *m, "-j", "RETURN"] for m in allowed]
    cmds.append([family, "-A", chain, "-j", "DROP"])
    cmds += [[family, "-I", hook, "1", *rule] for hook, rule in reversed(_jumps(vif, family))]
    return cmds


def arp_commands(vif: str, sources: Sequence[str]) -> list[list[str]]:
    """ebtables commands guarding ARP (which iptables never sees): the guest may claim only
    its own IPv4 addresses (or none: 0.0.0.0, the DHCP/DAD probe)."""
    chain = table_name(vif)
    cmds = [["ebtables", "-N", chain, "-P", "RETURN"]]
    cmds += [["ebtables", "-A", chain, "-p", "ARP", "--arp-ip-src", s, "-j", "RETURN"]
             for s in (_IPV4_PROBE, *(s for s in sources if ":" not in s))]
    cmds.append(["ebtables", "-A", chain, "-p", "ARP", "-j", "DROP"])
    cmds += [["ebtables", "-I", hook, "1", *rule]
             for hook, rule in reversed(_jumps(vif, "ebtables"))]
    return cmds


def _removal(vif: str, family: str) -> list[list[str]]:
    chain = table_name(vif)
    return [*([family, "-D", hook, *rule] for hook, rule in _jumps(vif, family)),
            [family, "-F", chain], [family, "-X", chain]]


def bridge_nf(key: str, netns: str | None) -> str | None:
    """``net.bridge.KEY`` in ``netns`` (None: br_netfilter is not loaded there)."""
    path = f"/proc/sys/net/bridge/{key}"
    if netns:  # /proc/sys/net shows the namespace of the process that reads it
        out = _run(["cat", path], netns)
        return out.stdout.strip() if out.returncode == 0 else None
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _check_bridge_nf(vif: str, family: str, netns: str | None) -> None:
    """iptables sees bridged frames only through br_netfilter with its sysctl on (per
    network namespace): otherwise the rules would install and guard nothing."""
    key = f"bridge-nf-call-{family}"
    value = bridge_nf(key, netns)
    if value is None:
        raise LocalBackendError(
            f"the {family} guard of {vif} needs br_netfilter, which is not loaded (bridged"
            f" frames would bypass {family}): modprobe br_netfilter, or install nftables")
    if value != "1":
        raise LocalBackendError(
            f"the {family} guard of {vif} needs net.bridge.{key}=1 (it is {value}: bridged"
            f" frames bypass {family}): sysctl -w net.bridge.{key}=1, or install nftables")
