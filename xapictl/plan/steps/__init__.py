"""The XAPI steps a plan is made of, one module per XAPI class (``network``, ``vlan``, ``pif``,
``bond``, ``vif``, ``tunnel``, ``sriov``, ``pool``, ``management``) plus the generic ones in
``base`` (``SetField``, ``SetOtherConfig``).

Each step is one call (or a short fixed sequence) with its reason; see ``base`` for what a
step offers (calls, precondition, execute, effect_in) and how ``Later`` refs work, and
``facts`` for how a step describes itself as data (``step.facts(snapshot)``: action, class,
identity, before/after, calls with parameters, the objects it relies on).
"""

from typing import TYPE_CHECKING, Any

from xapictl.plan.steps.base import (
    Caller,
    Later,
    RunContext,
    SetField,
    SetOtherConfig,
    XapiStep,
)
from xapictl.plan.steps.network import AddPurpose, CreateNetwork, DestroyNetwork
from xapictl.plan.steps.pif import (
    PlugPIF,
    ReconfigureIP,
    ReconfigureIPv6,
    ReplugPIF,
    ScanPIFs,
    SetPrimaryAddressType,
)
from xapictl.plan.steps.vlan import CreatePoolVLAN, CreateVLAN, DestroyVLAN

if TYPE_CHECKING:
    from xapictl.plan.steps.bond import CreateBond, DestroyBond, SetBondProperty
    from xapictl.plan.steps.management import MoveManagement, RecoverSlaves
    from xapictl.plan.steps.pool import ForgetSdnController, IntroduceSdnController
    from xapictl.plan.steps.sriov import CreateSriov, DestroySriov
    from xapictl.plan.steps.tunnel import CreateTunnel, DestroyTunnel
    from xapictl.plan.steps.vif import (
        CreateVIF,
        DestroyVIF,
        MoveVIF,
        PlugVIF,
        ReplugVIF,
        ReplugVIFQoS,
        UnplugVIF,
    )

_ON_FIRST_USE = {"ForgetSdnController": "pool", "IntroduceSdnController": "pool",
                 "CreateSriov": "sriov", "DestroySriov": "sriov",
                 "CreateTunnel": "tunnel", "DestroyTunnel": "tunnel",
                 "MoveManagement": "management", "RecoverSlaves": "management",
                 "CreateBond": "bond", "DestroyBond": "bond", "SetBondProperty": "bond",
                 **dict.fromkeys(("CreateVIF", "DestroyVIF", "MoveVIF", "PlugVIF", "ReplugVIF",
                                  "ReplugVIFQoS", "UnplugVIF"), "vif")}
"""Step modules loaded when first asked for: plans without bonds, VIFs, tunnels, SR-IOV, an
SDN controller or a management move do not import them (tests/e2e/test_e2e_startup_modules.py
counts the modules)."""


def __getattr__(name: str) -> Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_ON_FIRST_USE})

__all__ = [
    "AddPurpose",
    "Caller",
    "CreateBond",
    "CreateNetwork",
    "CreatePoolVLAN",
    "CreateSriov",
    "CreateTunnel",
    "CreateVIF",
    "CreateVLAN",
    "DestroyBond",
    "DestroyNetwork",
    "DestroySriov",
    "DestroyTunnel",
    "DestroyVIF",
    "DestroyVLAN",
    "ForgetSdnController",
    "IntroduceSdnController",
    "Later",
    "MoveManagement",
    "MoveVIF",
    "PlugPIF",
    "PlugVIF",
    "ReconfigureIP",
    "ReconfigureIPv6",
    "RecoverSlaves",
    "ReplugPIF",
    "ReplugVIF",
    "ReplugVIFQoS",
    "RunContext",
    "ScanPIFs",
    "SetBondProperty",
    "SetField",
    "SetOtherConfig",
    "SetPrimaryAddressType",
    "UnplugVIF",
    "XapiStep",
]
