"""``xapictl rollout --pause-after-canary`` on a real terminal (a pseudo-terminal driving the
real CLI in a subprocess, against simulated pools on loopback): the live table is drawn with
the canary's final state before the question, and nothing redraws over the prompt."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer

RECIPE = "version: 1\nnetworks:\n  - name: VLAN 105\n    vlan: 105\n    device: eth1\n"
PASSWORD = "pw-tty-4c1"
QUESTION = "canary done; continue with the waves?"
# The prompt's last space can reach the terminal in a write of its own (seen in CI): the
# prompt is whole only once that space has come, and only then may the quiet second start.
WHOLE_PROMPT = QUESTION + " [y/N]: "
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
# The live table refreshes 4 times a second: a quiet second means nobody draws any more.
QUIET_S = 1.0


@pytest.fixture
def fleet_dir(tmp_path: Path) -> Iterator[Path]:
    sims = {name: Simulator(scenario="seed", password=PASSWORD) for name in ("can0", "w1", "w2")}
    servers = [SimServer(sim).start() for sim in sims.values()]
    try:
        (tmp_path / "fleet.yaml").write_text(
            "version: 1\ndefaults:\n  credentials: env:FLEET_PW\npools:\n" + "".join(
                f"  - name: {n}\n    url: {s.url}\n" for n, s in zip(sims, servers,
                                                                      strict=True)))
        (tmp_path / "vlan.yaml").write_text(RECIPE)
        yield tmp_path
    finally:
        for s in servers:
            s.stop()


class Terminal:
    """The master side of a pty whose slave is the CLI's stdin, stdout and stderr."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.fd, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 140, 0, 0))
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True)
        os.close(slave)
        self.raw = b""

    def read(self, until: str | None, timeout: float) -> bool:
        """Read until ``until`` is on the screen (True) or ``timeout`` passes (False)."""
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            if until is not None and until in self.text():
                return True
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                break
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # EIO: the CLI has exited and closed the slave
                break
            if not chunk:
                break
            self.raw += chunk
        return until is not None and until in self.text()

    def text(self) -> str:
        return ANSI.sub("", self.raw.decode(errors="replace"))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        os.close(self.fd)


def _row_state(text: str, pool: str) -> str:
    """The state in the last table row drawn for ``pool``."""
    rows = re.findall(rf"│\s*{pool}\s*│\s*(\w+)\s*│", text)
    assert rows, text
    return rows[-1]


def test_the_pause_after_the_canary_shows_it_done_and_nothing_redraws_the_prompt(
        fleet_dir: Path) -> None:
    env = {**os.environ, "FLEET_PW": PASSWORD, "TERM": "xterm-256color", "COLUMNS": "140",
           "LINES": "50", "XAPICTL_JOURNAL": str(fleet_dir / "journal.sqlite")}
    for var in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CI"):
        env.pop(var, None)
    term = Terminal([sys.executable, "-m", "xapictl", "rollout", str(fleet_dir / "vlan.yaml"),
                     "--fleet", str(fleet_dir / "fleet.yaml"), "--pause-after-canary",
                     "--batch-size", "2"], env)
    try:
        assert term.read("apply these changes?", 60), term.text()
        os.write(term.fd, b"y\n")
        assert term.read(WHOLE_PROMPT, 60), term.text()
        before = term.text().rsplit(QUESTION, 1)[0]
        assert _row_state(before, "can0") == "done"
        assert _row_state(before, "w1") == "planned"

        shown = len(term.raw)
        term.read(None, QUIET_S)
        assert term.raw[shown:] == b"", "something drew over the prompt"

        os.write(term.fd, b"y\n")
        term.read(None, 60)
        assert term.proc.wait(timeout=30) == 0, term.text()
        after = term.text().rsplit(QUESTION, 1)[1]
        assert [_row_state(after, p) for p in ("can0", "w1", "w2")] == ["done"] * 3
    finally:
        term.close()
