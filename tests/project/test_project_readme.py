"""The README's two set-up commands are real: CI runs the second verbatim, the first's job runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setup_commands() -> list[str]:
    section = (ROOT / "README.md").read_text().split("## Try it", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section, flags=re.DOTALL)


def test_the_readme_has_exactly_two_single_line_setup_commands() -> None:
    commands = _setup_commands()
    assert len(commands) == 2, commands
    assert all("\n" not in c for c in commands)


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, test_command = _setup_commands()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


def test_the_readme_main_job_runs_on_the_embedded_pool_and_is_idempotent(tmp_path: Path) -> None:
    main_command, _ = _setup_commands()
    install, job = main_command.rsplit(" && ", 1)
    assert install == "python3 -m venv .venv && .venv/bin/pip install ."
    argv = [sys.executable, "-m", "xapictl", *_split(job.removeprefix(".venv/bin/xapictl "))]
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    for key in ("XAPICTL_URL", "XAPICTL_PASSWORD", "XAPICTL_CONFIG"):
        env.pop(key, None)
    first = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "embedded simulated pool" in first.stderr
    assert "Verified" in first.stdout
    second = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "already in place" in second.stdout


def _split(command: str) -> list[str]:
    import shlex

    return shlex.split(command)
