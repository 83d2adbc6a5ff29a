"""A stand-in for the ``xenstore-read``/``xenstore-write`` commands, backed by a JSON file,
so the vif hotplug script runs unchanged without Xen."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

_SCRIPT = """#!{python}
import json, sys
path = {store!r}
data = json.load(open(path))
cmd = {cmd!r}
if cmd == "read":
    key = sys.argv[1].lstrip("/")
    if key not in data:
        sys.stderr.write("couldn't read path " + key + "\\n")
        sys.exit(1)
    print(data[key])
else:
    data[sys.argv[1].lstrip("/")] = sys.argv[2]
    json.dump(data, open(path, "w"))
"""


class FakeXenStore:
    def __init__(self, root: Path, data: dict[str, str]) -> None:
        self.bin = root / "xenstore-bin"
        self.bin.mkdir()
        self.path = root / "xenstore.json"
        self.path.write_text(json.dumps(data))
        for cmd in ("read", "write"):
            script = self.bin / f"xenstore-{cmd}"
            script.write_text(_SCRIPT.format(python=sys.executable, store=str(self.path),
                                             cmd=cmd))
            script.chmod(0o755)

    @property
    def data(self) -> dict[str, str]:
        return json.loads(self.path.read_text())

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}", **extra}


def vif_backend(domid: int, devid: int, **keys: str) -> dict[str, str]:
    """What libxl writes into backend/vif/<domid>/<devid> (plus our keys)."""
    base = f"backend/vif/{domid}/{devid}"
    data = {f"{base}/mac": "00:16:3e:00:01:01", f"{base}/handle": str(devid),
            f"{base}/script": "/etc/xen/scripts/vif-xapictl", f"{base}/type": "vif"}
    data |= {f"{base}/{k}": v for k, v in keys.items()}
    return data
