"""One writer per pool: ``converge`` takes the pool's write lease; a second run waits for it."""

from __future__ import annotations

import os
from typing import Any

import xapictl
from xapictl.errors import PoolLocked
from xapictl.plan.apply import converge
from xapictl.plan.backend import XapiBackend
from xapictl.recipes import ensure_vlan_network


def main(url: str, password: str, **options: Any) -> list[str]:
    out = []
    desired = ensure_vlan_network("backup", 107, device="eth1")
    with xapictl.connect(url, password=password, **options) as conn, \
            xapictl.connect(url, password=password, **options) as other:
        # Another run (another process, another machine) holds the lease...
        with other.lease(command="nightly CMDB sync"):
            try:
                # ...so this converge waits up to lock_timeout seconds, then gives up.
                converge(desired, XapiBackend(conn, lock_timeout=0))
            except PoolLocked as exc:
                out.append(f"locked: {exc.holder.command}")  # type: ignore[attr-defined]
        # Released: this converge takes the lease, applies, verifies, and lets go.
        result = converge(desired, XapiBackend(conn, lock_timeout=30,
                                               command="provision backup VLAN"))
        out.append(f"applied {result.applied}")
    return out


if __name__ == "__main__":
    print(main(os.environ["XAPI_URL"], os.environ["XAPI_PASSWORD"]))
