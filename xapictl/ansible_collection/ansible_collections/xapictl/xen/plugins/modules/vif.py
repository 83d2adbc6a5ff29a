#!/usr/bin/python
# Copyright: The xapictl developers
# BSD 2-Clause License (see LICENSE of the xapictl package)

from __future__ import annotations

DOCUMENTATION = r"""
module: vif
short_description: A VM's VIF on a network (locking mode, allowed IPs, QoS)
description:
  - Ensures VM O(vm) is attached to O(network) on VIF O(device), with xapictl's engine.
  - A new VIF is plugged when the VM runs; a VIF on another network is moved (C(VIF.move)),
    never rebuilt; O(state=absent) unplugs and destroys VIF O(device).
version_added: 0.1.0
author:
  - The xapictl developers (@xapictl)
extends_documentation_fragment:
  - xapictl.xen.connection
options:
  vm:
    description: The VM, by name or uuid.
    type: str
    required: true
  network:
    description: The network, by name.
    type: str
    required: true
  device:
    description: VIF device number; C(auto) is the VIF it already has there, else the next free.
    type: str
    default: auto
  mac:
    description: MAC address of a new VIF.
    type: str
  mtu:
    description: MTU of the VIF.
    type: int
  locking_mode:
    description: Locking mode.
    type: str
    choices: [network_default, locked, unlocked, disabled]
  ipv4_allowed:
    description: IPv4 addresses the VIF may use (locking mode C(locked)).
    type: list
    elements: str
  ipv6_allowed:
    description: IPv6 addresses the VIF may use (locking mode C(locked)).
    type: list
    elements: str
  qos_kbps:
    description: Rate limit in kB/s.
    type: int
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
- name: web-01 on VLAN 101
  xapictl.xen.vif:
    vm: web-01
    network: VLAN 101
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
    run("vif", {
        "vm": {"type": "str", "required": True},
        "network": {"type": "str", "required": True},
        "device": {"type": "str", "default": "auto"},
        "mac": {"type": "str"},
        "mtu": {"type": "int"},
        "locking_mode": {"type": "str",
                         "choices": ["network_default", "locked", "unlocked", "disabled"]},
        "ipv4_allowed": {"type": "list", "elements": "str"},
        "ipv6_allowed": {"type": "list", "elements": "str"},
        "qos_kbps": {"type": "int"},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    }, supports_check_mode=True)


if __name__ == "__main__":
    main()
