"""Built-in idempotent recipes: ``ensure_*`` functions from arguments to desired state.

Each returns a ``DesiredState`` (combine several with ``DesiredState.merged``), validated by
the same rules as recipe files, so a bad value is a ``DesiredStateError`` before any call::

    from xapictl.recipes import ensure_vlan_network, ensure_vm_attached
    desired = ensure_vlan_network("VLAN 105", 105, device="eth1").merged(
        ensure_vm_attached("web-01", "VLAN 105"))
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xapictl.recipes.bond import ensure_bond
    from xapictl.recipes.existing import ensure_deleted, ensure_mtu_of
    from xapictl.recipes.interface import ensure_interface
    from xapictl.recipes.management import ensure_management
    from xapictl.recipes.mtu import ensure_mtu
    from xapictl.recipes.network import ensure_network
    from xapictl.recipes.pool import ensure_pool_settings
    from xapictl.recipes.private import ensure_private_network
    from xapictl.recipes.sriov import ensure_sriov_network
    from xapictl.recipes.vlan import ensure_vlan_network
    from xapictl.recipes.vm import ensure_vm_attached

_ON_FIRST_USE = {"ensure_bond": "bond", "ensure_deleted": "existing",
                 "ensure_interface": "interface", "ensure_management": "management",
                 "ensure_mtu": "mtu", "ensure_mtu_of": "existing", "ensure_network": "network",
                 "ensure_pool_settings": "pool", "ensure_private_network": "private",
                 "ensure_sriov_network": "sriov", "ensure_vlan_network": "vlan",
                 "ensure_vm_attached": "vm"}
"""Each recipe's module is loaded when the recipe is first asked for: a run imports only the
ones it uses (``network create --vlan``: vlan; tests/e2e/test_e2e_startup_modules.py counts
the modules)."""


def __getattr__(name: str) -> Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = ["ensure_bond", "ensure_deleted", "ensure_interface", "ensure_management",
           "ensure_mtu", "ensure_mtu_of",
           "ensure_network", "ensure_pool_settings", "ensure_private_network",
           "ensure_sriov_network", "ensure_vlan_network", "ensure_vm_attached"]
