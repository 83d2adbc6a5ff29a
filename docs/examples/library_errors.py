"""Typed XAPI errors, and what to do when the outcome of a write is unknown."""

from __future__ import annotations

import os
from typing import Any

import xapictl
from xapictl.errors import OutcomeUnknown, XapiFailure
from xapictl.xapi.failures import HandleInvalid, VlanTagInvalid


def ensure_network(conn: Any, name: str) -> str:
    """Create a network named ``name`` unless one exists; safe when an answer is lost."""
    existing = conn.networks.get_by_name_label(name)
    if existing:
        return str(existing[0])
    try:
        return str(conn.networks.create(name_label=name))
    except OutcomeUnknown:
        # The request was sent and the answer lost: it may have happened. Re-read, decide.
        again = conn.networks.get_by_name_label(name)
        return str(again[0]) if again else str(conn.networks.create(name_label=name))


def main(url: str, password: str, **options: Any) -> list[str]:
    out = []
    with xapictl.connect(url, password=password, **options) as conn:
        try:
            conn.networks.get_record("OpaqueRef:no-such-network")
        except HandleInvalid as exc:  # one class per XAPI error code
            out.append(f"{exc.code} {exc.named_params}")
        network = ensure_network(conn, "backup")
        trunk = next(ref for ref, pif in conn.pifs.get_all_records().items()
                     if pif.device == "eth1" and pif.vlan == -1)
        try:
            conn.vlans.create(trunk, 5000, network)
        except VlanTagInvalid as exc:
            out.append(f"{exc.code}: {exc.explanation}")
        except XapiFailure as exc:  # every code is a XapiFailure
            out.append(f"other failure {exc.code}")
        out.append(f"network {ensure_network(conn, 'backup') == network}")
    return out


if __name__ == "__main__":
    print(main(os.environ["XAPI_URL"], os.environ["XAPI_PASSWORD"]))
