"""House rules of the client layers: one module waits, the CLI-cheap import stays cheap."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "xapictl"
CLIENT_CODE = [*(PACKAGE / "xapi").glob("*.py"), *(PACKAGE / "client").glob("*.py"),
               PACKAGE / "state" / "collect.py", PACKAGE / "state" / "live.py"]


def test_only_the_retry_module_sleeps() -> None:
    sleepers = [p.name for p in CLIENT_CODE
                if re.search(r"\btime\.sleep\b|\bsleep\(", p.read_text())
                and p.name != "retry.py"]
    assert sleepers == []


def test_importing_xapictl_does_not_load_the_client() -> None:
    code = ("import sys, xapictl; assert callable(xapictl.connect); "
            "print(sorted(m for m in sys.modules if m.startswith('xapictl.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "xapictl.client" not in out and "xapictl.xapi" not in out and "httpx" not in out
