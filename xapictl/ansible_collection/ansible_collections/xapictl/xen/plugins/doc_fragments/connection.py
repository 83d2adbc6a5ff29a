# Copyright: The xapictl developers
# BSD 2-Clause License (see LICENSE of the xapictl package)
"""The connection options every module of xapictl.xen takes."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  url:
    description:
      - URL of the pool master (C(https://host)); a member's address works too.
      - Falls back to the environment variable E(XAPICTL_URL).
      - Give O(url) or O(profile).
    type: str
  username:
    description:
      - XAPI user. Falls back to E(XAPICTL_USER), else C(root).
    type: str
  password:
    description:
      - Password of O(username). Falls back to E(XAPICTL_PASSWORD).
    type: str
  validate_certs:
    description:
      - Verify the pool's TLS certificate (C(false) is xapictl's C(--insecure)).
    type: bool
    default: true
  fingerprint:
    description:
      - Pinned SHA-256 fingerprint of the master's certificate (trust a self-signed host).
    type: str
  ca:
    description:
      - A CA bundle to verify the pool's certificate with.
    type: path
  profile:
    description:
      - A pool profile of xapictl's C(pools.toml) instead of O(url). Falls back to
        E(XAPICTL_POOL).
    type: str
  timeout:
    description:
      - Seconds to wait for the pool (connection and each call).
    type: float
requirements:
  - xapictl (the Python package, on the controller's or the target's Python)
"""
