"""``local plan/apply/show`` when the kernel or the OS refuses: one ``xapictl:`` line and a
documented exit code, never a traceback. A fake IPRoute stands in where a real kernel
will not refuse on demand (no namespace needed)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xapictl.cli import app
from xapictl.local import apply as apply_mod
from xapictl.local import netlink
from xapictl.local import observe as observe_mod
from xapictl.local.netlink import NetlinkError

XENBR0 = str(Path(__file__).resolve().parents[2] / "recipes" / "local-xenbr0.yaml")
runner = CliRunner()


class FakeIPRoute:
    closed = False

    def close(self) -> None:
        FakeIPRoute.closed = True


def _refusing(exc: BaseException):
    def refuse(ipr):
        raise exc
    return refuse


@pytest.fixture
def kernel_refuses(monkeypatch):
    """Make the first netlink dump raise ``exc``."""
    def install(exc: BaseException) -> None:
        FakeIPRoute.closed = False
        monkeypatch.setattr(netlink, "open_ipr", lambda netns: FakeIPRoute())
        monkeypatch.setattr(apply_mod, "observe", _refusing(exc))
        monkeypatch.setattr(observe_mod, "observe", _refusing(exc))
    return install


def _one_error_line(result) -> str:
    assert isinstance(result.exception, SystemExit), result.exception
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("xapictl: "), result.output
    return lines[0]


@pytest.mark.parametrize("command", [["plan", XENBR0], ["apply", XENBR0, "--yes"], ["show"]])
@pytest.mark.parametrize(("exc", "shown"), [
    (NetlinkError(errno.EPERM, "Operation not permitted"),
     "failed: EPERM (1, 'Operation not permitted'); run xapictl as root"),
    (NetlinkError(errno.EBUSY, "Device or resource busy"),
     "failed: EBUSY (16, 'Device or resource busy')"),
    (NetlinkError(errno.ENODEV, "No such device"), "failed: ENODEV (19, 'No such device')"),
    (OSError(errno.EMFILE, "Too many open files"),
     "failed: EMFILE [Errno 24] Too many open files"),
])
def test_a_refused_read_is_one_line_and_exit_4(kernel_refuses, command, exc, shown):
    kernel_refuses(exc)
    result = runner.invoke(app, ["local", *command])
    assert result.exit_code == 4, result.output
    assert _one_error_line(result) == f"xapictl: reading the host's network state {shown}"
    assert FakeIPRoute.closed


def test_a_netlink_socket_that_cannot_open_is_one_line_and_exit_4(monkeypatch):
    def no_socket(*args, **kwargs):
        raise OSError(errno.ENOBUFS, "No buffer space available")

    monkeypatch.setattr(netlink, "IPRoute", no_socket)
    for command in (["plan", XENBR0], ["apply", XENBR0, "--yes"], ["show"]):
        result = runner.invoke(app, ["local", *command])
        assert result.exit_code == 4, (command, result.output)
        assert _one_error_line(result) == ("xapictl: opening a netlink socket failed: ENOBUFS"
                                           " [Errno 105] No buffer space available")


def test_an_unusable_lock_directory_is_one_line_and_exit_4(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XAPICTL_LOCAL_LOCK_DIR", str(blocker / "lock"))
    monkeypatch.setattr(netlink, "open_ipr", lambda netns: FakeIPRoute())
    monkeypatch.setattr(apply_mod, "current_plan", lambda desired, netns: (
        apply_mod.plan(desired, _host()), _host()))
    result = runner.invoke(app, ["local", "apply", XENBR0, "--yes"])
    assert result.exit_code == 4, result.output
    assert _one_error_line(result) == (
        f"xapictl: cannot open the lock file {blocker}/lock/xapictl-local-host.lock: Not a"
        " directory (run xapictl as root, or set XAPICTL_LOCAL_LOCK_DIR)")


def _host():
    from xapictl.local.observe import Address, HostSnapshot, Link

    return HostSnapshot({"eth0": Link("eth0", 2, "veth", mac="00:16:3e:00:00:10", up=True,
                                      carrier=True)},
                        (Address("eth0", "192.0.2.10", 24, 4),))


def test_check_exits_4_when_the_recipe_needs_what_the_kernel_lacks(monkeypatch):
    """Issue 16 item 6: a NO on a needed line fails the check (it used to exit 0)."""
    from pathlib import Path

    from xapictl.local import check

    repo = Path(__file__).resolve().parents[2]
    monkeypatch.setattr(check, "capabilities", lambda: {
        "bridge": (True, "works"), "vlan": (False, "refused: Operation not supported (errno 95)"),
        "bond": (False, "refused: Operation not supported (errno 95)")})
    trunk = str(repo / "recipes" / "local-trunk-vlans.yaml")
    result = runner.invoke(app, ["local", "check", trunk])
    assert result.exit_code == 4, result.output
    assert "NO  kernel: vlan: refused: Operation not supported (errno 95) (needed)" in result.stdout
    assert ("xapictl: this host lacks what local-trunk-vlans.yaml needs: kernel: vlan; the"
            " advice is under each NO line (exit 4 until then)") in result.stderr
    # the same kernel is enough for the xenbr0 recipe and for the backend alone
    for args in ([str(repo / "recipes" / "local-xenbr0.yaml")], []):
        assert runner.invoke(app, ["local", "check", *args]).exit_code == 0
    data = runner.invoke(app, ["local", "check", trunk, "-o", "json"])
    assert data.exit_code == 4
    import json

    needed = {f["name"]: f["needed"] for f in json.loads(data.stdout)["findings"]}
    assert needed["kernel: vlan"] and not needed["kernel: bond"]


def test_check_exits_4_when_the_backend_itself_lacks_the_bridge(monkeypatch):
    from xapictl.local import check

    monkeypatch.setattr(check, "capabilities", lambda: {"bridge": (False, "refused")})
    result = runner.invoke(app, ["local", "check"])
    assert result.exit_code == 4
    assert "this host lacks what the local backend needs: kernel: bridge" in result.stderr
