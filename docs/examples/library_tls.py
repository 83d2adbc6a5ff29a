"""Trusting a pool's self-signed certificate: pin its fingerprint, or trust it on first use."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import xapictl
from xapictl.errors import FingerprintMismatch, TLSError


def main(url: str, password: str, fingerprint: str, known_hosts: Path,
         **options: Any) -> list[str]:
    out = []
    try:
        xapictl.connect(url, password=password, **options)  # verified against system CAs
    except TLSError as exc:
        out.append(f"refused: {type(exc).__name__}")

    # Pinning: the SHA-256 fingerprint XenCenter shows for the pool's certificate.
    with xapictl.connect(url, password=password, fingerprint=fingerprint, **options) as conn:
        out.append(f"pinned: {len(conn.networks.get_all())} networks")

    # Trust on first use: the first connection remembers the fingerprint...
    with xapictl.connect(url, password=password, known_hosts=known_hosts, **options):
        out.append("remembered")
    # ...and a different certificate later is refused before the password is sent.
    try:
        xapictl.connect(url, password=password, fingerprint="00" * 32, **options)
    except FingerprintMismatch as exc:
        out.append(f"changed certificate refused (expected {exc.expected[:8]}…)")
    return out


if __name__ == "__main__":
    import tempfile

    # A scratch known-hosts file: running the example leaves nothing behind.
    with tempfile.TemporaryDirectory() as scratch:
        print(main(os.environ["XAPI_URL"], os.environ["XAPI_PASSWORD"],
                   os.environ["XAPI_FINGERPRINT"], Path(scratch) / "known_hosts"))
