"""DHCP-addressed uplinks: the host's DHCP client moves with the address to the bridge.

When a bridge takes its uplink's addresses (``addresses: from-uplink``) and the uplink got
its IPv4 address from DHCP, the client that holds the lease is found (``dhclient``,
``dhcpcd`` or ``udhcpc`` serving that interface in the same network namespace, as the
distribution started it: ifupdown, a boot script, by hand) and moved: it is stopped before
the first change with SIGTERM, which leaves the lease and the address in place (a release
would drop them), the address moves bridge-first with its remaining lifetimes, and the same
command line, with the interface renamed (``-pf /run/dhclient.eth0.pid`` becomes
``/run/dhclient.xenbr0.pid``), runs on the bridge once the bridge carries the address. The
bridge keeps the NIC's MAC (``mac: from-uplink``), so the server hands out the same lease.
Both are steps with inverses: a rollback stops the client on the bridge first and starts
the original one on the NIC last. systemd-networkd's own DHCP client is not a process to
move; a NIC it manages is refused with the configuration to write instead.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from xapictl._frozen import Frozen, frozen
from xapictl.errors import LocalBackendError
from xapictl.local import wait

__all__ = ["CLIENTS", "DhcpClient", "find_clients", "networkd_lease", "renamed", "start",
           "stop"]

CLIENTS = ("dhclient", "dhcpcd", "udhcpc")
START_TIMEOUT = 90.0
"""Seconds a client may take to get its lease on the bridge (dhclient gives up after 60)."""


@frozen
class DhcpClient(Frozen):
    pid: int
    kind: str
    argv: tuple[str, ...]


def _netns_inode(netns: str | None) -> int:
    # None is the namespace xapictl runs in (the host's): our own, not PID 1's, which a
    # sandboxed init may not let even root read.
    path = f"/run/netns/{netns}" if netns else "/proc/self/ns/net"
    return os.stat(path).st_ino


def _serves(kind: str, argv: Sequence[str], ifname: str) -> bool:
    args = list(argv[1:])
    if kind == "udhcpc":
        return any(a == ifname and i > 0 and args[i - 1] in ("-i", "--interface")
                   for i, a in enumerate(args)) or f"--interface={ifname}" in args
    return ifname in args


_DHCPCD_TITLE = re.compile(r"dhcpcd: (?P<ifname>[^\s\[]\S*) (?P<family>\[ip4\]|\[ip6\]|"
                           r"\[ip4\] \[ip6\])")
_DHCPCD_FAMILY = {"[ip4]": ("-4",), "[ip6]": ("-6",), "[ip4] [ip6]": ()}


def _command_line(argv: tuple[str, ...]) -> tuple[str, ...]:
    """The command line that started a client. dhcpcd 9 replaces its own with a title
    (``dhcpcd: eth0 [ip4]`` for the instance serving one interface; its privilege-separated
    helpers have ``[...]`` where the name stands): that instance is started again as
    ``dhcpcd -4 eth0``, its options coming from /etc/dhcpcd.conf as the distribution's."""
    title = _DHCPCD_TITLE.fullmatch(argv[0]) if len(argv) == 1 else None
    if title is None:
        return argv
    return ("dhcpcd", *_DHCPCD_FAMILY[title["family"]], title["ifname"])


def find_clients(ifname: str, netns: str | None) -> list[DhcpClient]:
    """The DHCP client processes serving ``ifname`` in ``netns`` (None: the host's)."""
    target = _netns_inode(netns)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = tuple(a for a in (entry / "cmdline").read_bytes().decode(
                errors="replace").split("\0") if a)
            if not argv:
                continue
            argv = _command_line(argv)
            kind = os.path.basename(argv[0])
            if kind not in CLIENTS or not _serves(kind, argv, ifname):
                continue
            if os.stat(entry / "ns" / "net").st_ino != target:
                continue
        except OSError:  # gone meanwhile, or not ours to read
            continue
        found.append(DhcpClient(int(entry.name), kind, argv))
    return sorted(found, key=lambda c: c.pid)


def networkd_lease(ifindex: int, netns: str | None) -> bool:
    """systemd-networkd holds a DHCP lease for this link (host namespace only)."""
    return netns is None and Path(f"/run/systemd/netif/leases/{ifindex}").exists()


def renamed(argv: Sequence[str], old: str, new: str) -> tuple[str, ...]:
    """The command line for ``new``: ``old`` replaced where it stands as a word (also inside
    file names such as ``dhclient.eth0.leases``), never inside a longer name (``eth01``)."""
    word = re.compile(rf"(?<![A-Za-z0-9]){re.escape(old)}(?![A-Za-z0-9])")
    return tuple(word.sub(new, a) for a in argv)


def stop(ifname: str, netns: str | None) -> None:
    """SIGTERM every client serving ``ifname``: the lease and the address stay. Wait (a few
    seconds at most) until they are gone; none running is fine (undo may find it so)."""
    clients = find_clients(ifname, netns)
    for c in clients:
        try:
            os.kill(c.pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    left = wait.retry_until(lambda: find_clients(ifname, netns), lambda found: not found,
                            first=0.02, cap=0.5, budget=5.0)
    if left:
        raise LocalBackendError(f"the DHCP client of {ifname} (pid {left[0].pid}) did not stop"
                                " on SIGTERM")


def start(ifname: str, argv: Sequence[str], netns: str | None) -> None:
    """Run ``argv`` (a client for ``ifname``) in ``netns`` unless one already serves it; it
    returns once the client has its lease and went to the background (dhclient, dhcpcd)."""
    if find_clients(ifname, netns):
        return
    cmd = ["ip", "netns", "exec", netns, *argv] if netns else list(argv)
    with tempfile.TemporaryFile() as err:  # a pipe would stay open in the daemon
        try:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,  # noqa: S603
                                  stderr=err, timeout=START_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as exc:
            raise LocalBackendError(f"{argv[0]} on {ifname} got no lease within"
                                    f" {START_TIMEOUT:g} s") from exc
        except OSError as exc:
            raise LocalBackendError(f"cannot start {argv[0]} on {ifname}: {exc}") from exc
        err.seek(0)
        tail = err.read().decode(errors="replace").strip().splitlines()[-1:]
    if done.returncode:
        raise LocalBackendError(f"{argv[0]} on {ifname} got no lease (exit {done.returncode}"
                                f"{': ' + tail[0] if tail else ''})")
