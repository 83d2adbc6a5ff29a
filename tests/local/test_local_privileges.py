"""Without the capabilities netlink writes and namespaces need, every ``xapictl local`` command
says so in one line (no traceback) and changes nothing. Root runs them with CAP_SYS_ADMIN and
CAP_NET_ADMIN dropped by ``capsh``, which is what an unprivileged user lacks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from local_netns_helpers import snapshot_of, veth

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "local-xenbr0.yaml"
DROP = "cap_sys_admin,cap_net_admin"

pytestmark = pytest.mark.skipif(shutil.which("capsh") is None,
                                reason="needs capsh (Debian package libcap2-bin)")


def _unprivileged(*argv: str, netns: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "xapictl", "local", *argv]
    inner = " ".join(f"'{a}'" for a in cmd)
    wrapped = ["capsh", f"--drop={DROP}", "--", "-c", inner]
    if netns is not None:  # already inside: the missing capability is the netlink one
        wrapped = ["ip", "netns", "exec", netns, *wrapped]
    return subprocess.run(wrapped, capture_output=True, text=True, timeout=60)


def _settled(ns: str) -> object:
    """The namespace's links, addresses and routes, less IPv6 link-local ones: the kernel adds
    those on its own a moment after a link comes up, whatever xapictl does."""
    snap = snapshot_of(ns)
    return (snap.links, [a for a in snap.addresses if not a.link_local],
            [r for r in snap.routes if not str(r.dst).startswith("fe80:")])


@pytest.fixture
def host(namespaces) -> str:
    name = namespaces("host")
    peer = namespaces("peer")
    veth(name, "eth0", peer, "p0")
    return name


@pytest.mark.parametrize(("command", "code"), [("plan", 2), ("apply --yes", 4)])
def test_entering_a_namespace_without_cap_sys_admin_is_one_clear_line(host, command, code):
    before = _settled(host)
    done = _unprivileged(*command.split(), str(RECIPE), "--netns", host)
    assert done.returncode == code, done.stderr
    assert done.stderr.strip() == (f"xapictl: entering network namespace {host!r} needs root"
                                   " (CAP_SYS_ADMIN): run xapictl with sudo")
    assert _settled(host) == before


def test_apply_inside_a_namespace_without_cap_net_admin_changes_nothing(host):
    before = _settled(host)
    done = _unprivileged("apply", "--yes", str(RECIPE), netns=host)
    assert done.returncode == 4, done.stderr
    assert "Traceback" not in done.stderr
    assert "needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)" in done.stderr
    assert _settled(host) == before
