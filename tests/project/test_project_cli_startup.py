"""``xapictl --help`` stays fast: the CLI imports nothing heavy at start-up."""

from __future__ import annotations

import subprocess
import sys

HEAVY = {"rich", "httpx", "pyroute2", "XenAPI", "yaml", "tenacity", "cryptography", "sqlite3",
         "keyring", "jsonschema", "pydantic"}


def test_importing_the_cli_loads_no_heavy_module() -> None:
    code = ("import sys, xapictl.cli; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout.split())
    assert loaded & HEAVY == set()


def test_importing_the_cli_loads_no_library_layer() -> None:
    code = ("import sys, xapictl.cli; "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('xapictl.'))))")
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True).stdout.split()
    layers = {m.split(".")[1] for m in loaded}
    # and the shared stdlib-only leaves (the frozen dataclasses' methods, the run's gc settings)
    assert layers <= {"cli", "_version", "errors", "_frozen", "_startup"}, loaded
