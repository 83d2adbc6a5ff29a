"""A stand-in for the ``xenstore-read``/``-list``/``-write`` commands, backed by a JSON file,
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
with open(path + ".calls", "a") as calls:  # one line per command run, for counting
    calls.write(cmd + "\\n")
if cmd == "read":  # as xenstore-read: each path's value on a line, stop at a missing one
    for key in (a.lstrip("/") for a in sys.argv[1:]):
        if key not in data:
            sys.stderr.write("couldn't read path " + key + "\\n")
            sys.exit(1)
        print(data[key])
elif cmd == "list":
    prefix = sys.argv[1].strip("/") + "/"
    names = sorted(set(k[len(prefix):].split("/")[0] for k in data if k.startswith(prefix)))
    if not names:
        sys.stderr.write("xenstore-list: could not list path " + sys.argv[1] + "\\n")
        sys.exit(1)
    print("\\n".join(names))
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
        for cmd in ("read", "list", "write"):
            script = self.bin / f"xenstore-{cmd}"
            script.write_text(_SCRIPT.format(python=sys.executable, store=str(self.path),
                                             cmd=cmd))
            script.chmod(0o755)

    @property
    def calls(self) -> list[str]:
        """The commands run so far (read, list, write), in order."""
        log = self.path.with_name(self.path.name + ".calls")
        return log.read_text().split() if log.exists() else []

    @property
    def data(self) -> dict[str, str]:
        return json.loads(self.path.read_text())

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}", **extra}


def fake_firewall(bin_dir: Path) -> Path:
    """``nft``, ``iptables``, ``ip6tables`` and ``ebtables`` in ``bin_dir`` (put it first on
    PATH) that succeed doing nothing; each run adds a line (the command and its arguments) to
    the returned file, for counting what the hotplug spawns."""
    calls = bin_dir / "firewall.calls"
    for tool in ("nft", "iptables", "ip6tables", "ebtables"):
        script = bin_dir / tool
        script.write_text(f"#!/bin/sh\necho {tool} \"$*\" >> {calls}\ncat >/dev/null\n")
        script.chmod(0o755)
    return calls


def vif_backend(domid: int, devid: int, **keys: str) -> dict[str, str]:
    """What libxl writes into backend/vif/<domid>/<devid> (plus our keys)."""
    base = f"backend/vif/{domid}/{devid}"
    data = {f"{base}/mac": "00:16:3e:00:01:01", f"{base}/handle": str(devid),
            f"{base}/script": "/etc/xen/scripts/vif-xapictl", f"{base}/type": "vif"}
    data |= {f"{base}/{k}": v for k, v in keys.items()}
    return data
