#!/usr/bin/python
# Copyright: The xapictl developers
# BSD 2-Clause License (see LICENSE of the xapictl package)

from __future__ import annotations

DOCUMENTATION = r"""
module: network_info
short_description: Facts of the networks of a pool (as xapictl network show -o json)
description:
  - Reads the pool once and returns every network (or those named O(name)), each in the
    shape of C(xapictl network show -o json).
version_added: 0.1.0
author:
  - The xapictl developers (@xapictl)
extends_documentation_fragment:
  - xapictl.xen.connection
options:
  name:
    description: Only the networks with this name (or uuid).
    type: str
attributes:
  check_mode:
    description: A read only; it runs in check mode as it does otherwise.
    support: full
  diff_mode:
    description: Nothing changes, so there is nothing to show.
    support: none
"""

EXAMPLES = r"""
- name: The networks of the pool
  xapictl.xen.network_info:
  register: found
"""

RETURN = r"""
networks:
  description: The networks, with VLAN tags, PIFs per host, VIFs, MTU, owner.
  returned: success
  type: list
  elements: dict
url:
  description: The URL of the pool master.
  returned: success
  type: str
"""

from ansible_collections.xapictl.xen.plugins.module_utils.xapictl_common import run


def main():
    run("network_info", {"name": {"type": "str"}}, supports_check_mode=True)


if __name__ == "__main__":
    main()
