"""Issue 16 item 1 through a real reboot: apply and confirm in User-Mode Linux, power off,
boot the kernel again with the same root directory, and ``xapictl local boot`` restores the
bridge, addresses and routes; an apply left unconfirmed is gone after the reboot.

It boots UML itself (twice per case), so it runs on the host, from ``harness.py``, which sets
XAPICTL_UML_REBOOT=1 once UML is known to work here; otherwise it skips, saying why."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# the kernel harness.py chose (suite, cache), read at import: the suite's autouse fixture
# hides XAPICTL_* and HOME from each test
KERNEL_ENV = {k: v for k, v in os.environ.items()
              if k in ("XAPICTL_UML_SUITE", "XAPICTL_UML_CACHE")}
pytestmark = [
    pytest.mark.requires_root,
    pytest.mark.skipif(os.environ.get("XAPICTL_UML_REBOOT") != "1",
                       reason="boots UML twice from the host: run python tests/uml/harness.py"),
]


def _boot(phase: str, root: Path) -> dict:
    from uml_harness import run

    rc = run([sys.executable, str(HERE / "uml_boot_phase.py"), phase, str(root)],
             modules=("ipv6", "bridge", "veth"), shared=(root,))
    assert rc == 0, f"UML boot for {phase!r} exited {rc}"
    return json.loads((root / f"{phase}.json").read_text())


@pytest.fixture
def shared_root(monkeypatch):
    import tempfile

    for name, value in KERNEL_ENV.items():
        monkeypatch.setenv(name, value)

    root = Path(tempfile.mkdtemp(prefix="xapictl-uml-root-", dir="/tmp"))
    yield root
    import shutil

    shutil.rmtree(root, ignore_errors=True)


def test_confirmed_apply_is_back_after_a_real_reboot(shared_root):
    original = _boot("setup", shared_root)["fingerprint"]
    applied = _boot("apply", shared_root)
    assert "re-applied at boot from" in applied["output"]
    assert "xenbr0" in applied["fingerprint"]["links"]
    booted = _boot("boot", shared_root)
    assert booted["output"].startswith("boot: 13 change(s)")
    assert booted["fingerprint"] == applied["fingerprint"] != original


def test_unconfirmed_apply_is_gone_after_a_real_reboot(shared_root):
    original = _boot("setup", shared_root)["fingerprint"]
    applied = _boot("apply-unconfirmed", shared_root)
    assert "xenbr0" in applied["fingerprint"]["links"]
    booted = _boot("boot", shared_root)
    assert booted["output"].startswith("nothing persisted (")
    assert booted["fingerprint"] == original
