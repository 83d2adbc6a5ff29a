#!/usr/bin/python
# Copyright: The xapictl developers
# BSD 2-Clause License (see LICENSE of the xapictl package)

from __future__ import annotations

DOCUMENTATION = r"""
module: recipe
short_description: A whole xapictl recipe (plan, apply, verify)
description:
  - Converges the pool to a recipe (networks, bonds, VIFs), given as a file (O(src)) or
    inline (O(recipe)), exactly as C(xapictl apply) does.
version_added: 0.1.0
author:
  - The xapictl developers (@xapictl)
extends_documentation_fragment:
  - xapictl.xen.connection
options:
  src:
    description: A recipe file (YAML) on the machine the module runs on.
    type: path
  recipe:
    description: The recipe as a mapping (C(version), C(networks), C(bonds), C(vifs)).
    type: dict
attributes:
  check_mode:
    description: Check mode returns the plan (changed when it has steps) and writes nothing.
    support: full
  diff_mode:
    description: Diff mode shows each planned change's fields before and after.
    support: full
"""

EXAMPLES = r"""
- name: The trunk of VLANs 101-105
  xapictl.xen.recipe:
    src: recipes/trunk-vlans.yaml
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
    run("recipe", {
        "src": {"type": "path"},
        "recipe": {"type": "dict"},
    }, supports_check_mode=True,
        mutually_exclusive=[("src", "recipe")],
        required_one_of=[("src", "recipe")])


if __name__ == "__main__":
    main()
