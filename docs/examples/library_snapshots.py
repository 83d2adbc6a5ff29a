"""A pool's networking state in one go, its indexes, and a live copy kept current."""

from __future__ import annotations

import os
from typing import Any

import xapictl
from xapictl.state.live import LiveSnapshot


def main(url: str, password: str, **options: Any) -> list[str]:
    out = []
    with xapictl.connect(url, password=password, **options) as conn:
        snap = conn.snapshot()  # every class at once: a fixed number of round trips
        for host_ref, host in snap.hosts.items():
            trunk = snap.pif_on(host_ref, "eth1")  # index: PIF by host and device
            vlans = sorted(v.tag for v in snap.vlans.values() if v.tagged_pif == trunk)
            out.append(f"{host.name_label}: eth1 carries VLANs {vlans}")
        for vm_ref in list(snap.guest_vms())[:2]:
            vif = snap.vif_on(vm_ref, "0")  # index: VIF by VM and device
            if vif is not None:
                net = snap.networks[snap.vifs[vif].network]
                out.append(f"{snap.vms[vm_ref].name_label} eth0 -> {net.name_label}")

        live = LiveSnapshot(conn, snap)  # follows event.from from the snapshot's token
        new = conn.networks.create(name_label="seen-by-live")
        live.poll(timeout=10)
        out.append(f"live sees it: {live.current.networks[new].name_label}")
    return out


if __name__ == "__main__":
    print(main(os.environ["XAPI_URL"], os.environ["XAPI_PASSWORD"]))
