#!/usr/bin/python
# Copyright: The xapictl developers
# BSD 2-Clause License (see LICENSE of the xapictl package)

from __future__ import annotations

DOCUMENTATION = r"""
module: network
short_description: A network of a XenServer / XCP-ng pool, VLAN trunks included
description:
  - Ensures a network is present (or absent) on every host of the pool with xapictl's engine
    (plan, pre-flight, apply, verify).
  - A VLAN network (O(vlan) with O(device) or O(bond)) carries the tag on the trunk of every
    host; without O(vlan), a plain network or the network of NIC O(device).
  - A private network (O(tunnel)) has a GRE or VXLAN tunnel on every host whose PIF on the
    transport network has an IP (openvswitch network backend only).
  - An SR-IOV network (O(sriov) with O(device)) enables SR-IOV on that NIC of every host that
    can; the plan names the hosts whose NIC cannot, and those that need a reboot.
  - Check mode returns the plan and writes nothing; diff mode shows each planned change's
    before and after.
version_added: 0.1.0
author:
  - The xapictl developers (@xapictl)
extends_documentation_fragment:
  - xapictl.xen.connection
options:
  name:
    description: The network's name label.
    type: str
    required: true
  vlan:
    description: VLAN tag 0-4094 (needs O(device) or O(bond)).
    type: int
  device:
    description: Trunk NIC of the VLAN (C(eth1)), the NIC of a NIC network, or the NIC of an
      SR-IOV network.
    type: str
  bond:
    description: Trunk bond of the VLAN, by its network name.
    type: str
  tunnel:
    description:
      - Makes a private network, carried by a tunnel on every host.
      - Excludes O(vlan), O(device), O(bond) and O(sriov).
    type: dict
    suboptions:
      protocol:
        description: The tunnel's protocol.
        type: str
        choices: [gre, vxlan]
        default: gre
      transport:
        description: The network whose PIFs carry the tunnels (they need an IP).
        type: str
        required: true
  sriov:
    description:
      - Enables SR-IOV on NIC O(device) of every capable host for this network.
      - Needs O(device); excludes O(vlan), O(bond) and O(tunnel).
    type: bool
  mtu:
    description: MTU in octets.
    type: int
  replug:
    description:
      - A NIC or plain network whose O(mtu) changes re-plugs its PIFs and VIFs that still carry
        the old MTU (C(PIF.plug) applies it without unplugging; VIFs are unplugged and
        plugged). Without it they keep the old MTU until re-plugged (a warning).
      - Not on a VLAN network (use O(raise_trunk_mtu)).
    type: bool
    default: false
  raise_trunk_mtu:
    description:
      - A VLAN network whose O(mtu) is above its trunk's network MTU raises the trunk's network
        first, with its own re-plugs (its PIFs, then its VIFs). Without it such a VLAN is
        refused before any write (a VLAN carries no frame larger than its trunk).
      - Needs O(vlan) and O(mtu).
    type: bool
    default: false
  replug_management:
    description:
      - Allows O(replug) or O(raise_trunk_mtu) to re-plug the management interface (re-plugged
        first). Without it a change that would re-plug it is refused before any write.
    type: bool
    default: false
  description:
    description: The network's description.
    type: str
  adopt:
    description: Take over (or remove) a matching network that xapictl did not make.
    type: bool
    default: false
  state:
    description: Whether the network should exist.
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
- name: VLAN 105 on eth1 of every host
  xapictl.xen.network:
    url: https://pool-a.example.com
    password: "{{ xapi_password }}"
    name: VLAN 105
    vlan: 105
    device: eth1

- name: VLAN 110 at MTU 9000, its trunk (eth1's network) raised first
  xapictl.xen.network:
    name: VLAN 110 jumbo
    vlan: 110
    device: eth1
    mtu: 9000
    raise_trunk_mtu: true

- name: A private network over the storage network, VXLAN tunnels
  xapictl.xen.network:
    name: Lab private
    tunnel:
      protocol: vxlan
      transport: Pool-wide network 2

- name: An SR-IOV network on eth1
  xapictl.xen.network:
    name: VF eth1
    sriov: true
    device: eth1
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
  description: The name of RV(exit_code) (bad_input, failure, partial).
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
    run("network", {
        "name": {"type": "str", "required": True},
        "vlan": {"type": "int"},
        "device": {"type": "str"},
        "bond": {"type": "str"},
        "tunnel": {"type": "dict", "options": {
            "protocol": {"type": "str", "choices": ["gre", "vxlan"], "default": "gre"},
            "transport": {"type": "str", "required": True}}},
        "sriov": {"type": "bool"},
        "mtu": {"type": "int"},
        "description": {"type": "str"},
        "replug": {"type": "bool", "default": False},
        "raise_trunk_mtu": {"type": "bool", "default": False},
        "replug_management": {"type": "bool", "default": False},
        "adopt": {"type": "bool", "default": False},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    }, supports_check_mode=True,
        mutually_exclusive=[("device", "bond"), ("tunnel", "vlan"), ("tunnel", "device"),
                            ("tunnel", "bond"), ("tunnel", "sriov"), ("sriov", "vlan"),
                            ("sriov", "bond")],
        required_if=[("sriov", True, ["device"])])


if __name__ == "__main__":
    main()
