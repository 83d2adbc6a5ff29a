#!/usr/bin/python
# Copyright: The xapictl developers
# BSD 2-Clause License (see LICENSE of the xapictl package)

from __future__ import annotations

DOCUMENTATION = r"""
module: pool_info
short_description: Facts of a pool (the document of xapictl pool show -o json)
description:
  - Reads the pool once and returns its summary, in the shape of C(xapictl pool show -o json).
version_added: 0.1.0
author:
  - The xapictl developers (@xapictl)
extends_documentation_fragment:
  - xapictl.xen.connection
options:
  {}
attributes:
  check_mode:
    description: A read only; it runs in check mode as it does otherwise.
    support: full
  diff_mode:
    description: Nothing changes, so there is nothing to show.
    support: none
"""

EXAMPLES = r"""
- name: Read the pool
  xapictl.xen.pool_info:
  register: pool
"""

RETURN = r"""
pool:
  description: Name, uuid, master, and the counts of hosts, networks, VLANs, bonds, VMs, VIFs.
  returned: success
  type: dict
url:
  description: The URL of the pool master.
  returned: success
  type: str
"""

from ansible_collections.xapictl.xen.plugins.module_utils.xapictl_common import run


def main():
    run("pool_info", {}, supports_check_mode=True)


if __name__ == "__main__":
    main()
