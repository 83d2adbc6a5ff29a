# Copyright: The xapictl developers
# BSD 2-Clause License (see LICENSE of the xapictl package)
"""What every module of xapictl.xen shares: the connection options (with their XAPICTL_*
environment fallbacks) and the call into the xapictl library, whose result the module returns
as it is."""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

try:
    from xapictl.ansible_collection.bridge import run_module
except ImportError:
    run_module = None
    XAPICTL_IMPORT_ERROR = traceback.format_exc()
else:
    XAPICTL_IMPORT_ERROR = None

CONNECTION_ARGS = {
    "url": {"type": "str", "fallback": (env_fallback, ["XAPICTL_URL"])},
    "username": {"type": "str", "fallback": (env_fallback, ["XAPICTL_USER"])},
    "password": {"type": "str", "no_log": True, "fallback": (env_fallback, ["XAPICTL_PASSWORD"])},
    "validate_certs": {"type": "bool", "default": True},
    "fingerprint": {"type": "str"},
    "ca": {"type": "path"},
    "profile": {"type": "str", "fallback": (env_fallback, ["XAPICTL_POOL"])},
    "timeout": {"type": "float"},
}


def run(kind, argument_spec, **kwargs):
    """Build the module, run ``kind`` through the library, exit with its result."""
    exclusive = [("url", "profile"), *kwargs.pop("mutually_exclusive", [])]
    module = AnsibleModule(argument_spec={**CONNECTION_ARGS, **argument_spec},
                           mutually_exclusive=exclusive, **kwargs)
    if run_module is None:
        module.fail_json(msg=missing_required_lib("xapictl"), exception=XAPICTL_IMPORT_ERROR)
    outcome = run_module(kind, module.params, check_mode=module.check_mode)
    if outcome.failed:
        module.fail_json(msg=outcome.msg, **outcome.result)
    module.exit_json(**outcome.result)
