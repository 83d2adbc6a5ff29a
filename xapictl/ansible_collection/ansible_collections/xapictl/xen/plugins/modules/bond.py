#!/usr/bin/python
# Copyright: The xapictl developers
# BSD 2-Clause License (see LICENSE of the xapictl package)

from __future__ import annotations

DOCUMENTATION = r"""
module: bond
short_description: A bond of NICs on every host of the pool
description:
  - Ensures a bond of O(members) on every host, on the network named O(network), with
    xapictl's engine.
  - VLANs go on it with M(xapictl.xen.network) and its O(xapictl.xen.network#module:bond).
version_added: 0.1.0
author:
  - The xapictl developers (@xapictl)
extends_documentation_fragment:
  - xapictl.xen.connection
options:
  network:
    description: The bond's network name.
    type: str
    required: true
  members:
    description: The bonded NICs (C(eth2), C(eth3)).
    type: list
    elements: str
  mode:
    description: Bond mode.
    type: str
    choices: [balance-slb, active-backup, lacp]
  hashing_algorithm:
    description: LACP hashing algorithm.
    type: str
    choices: [src_mac, tcpudp_ports]
  mtu:
    description: MTU of the bond's network.
    type: int
  adopt:
    description: Take over (or remove) a matching object that xapictl did not make.
    type: bool
    default: false
  state:
    description: Whether it should exist.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    description: Check mode returns the plan (changed when it has steps) and writes nothing.
    support: full
  diff_mode:
    description: Diff mode shows each planned change's fields before and after.
    support: full
"""

EXAMPLES = r"""
- name: bond0 of eth2 and eth3
  xapictl.xen.bond:
    network: bond0
    members: [eth2, eth3]
    mode: active-backup
"""

RETURN = r"""
plan:
  description: The plan (the document of C(xapictl plan -o json)).
  returned: success
  type: dict
writes:
  description: The XAPI writes made (method, outcome, host, error); empty in check mode.
  returned: always
  type: list
  elements: dict
verified:
  description: Whether the pool matched when read again after the writes (null if none).
  returned: success
  type: bool
exit_code:
  description: The CLI's exit code of the failure (2 bad input, 4 failure, 5 partial).
  returned: failure
  type: int
exit_class:
  description: The name of the exit code (bad_input, failure, partial).
  returned: failure
  type: str
xapi_code:
  description: The XAPI error code, when XAPI refused something.
  returned: failure
  type: str
xapi_params:
  description: The XAPI error's parameters, exactly as XAPI sent them.
  returned: failure
  type: list
  elements: str
"""

from ansible_collections.xapictl.xen.plugins.module_utils.xapictl_common import run


def main():
    run("bond", {
        "network": {"type": "str", "required": True},
        "members": {"type": "list", "elements": "str"},
        "mode": {"type": "str", "choices": ["balance-slb", "active-backup", "lacp"]},
        "hashing_algorithm": {"type": "str", "choices": ["src_mac", "tcpudp_ports"]},
        "mtu": {"type": "int"},
        "adopt": {"type": "bool", "default": False},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    }, supports_check_mode=True)


if __name__ == "__main__":
    main()
