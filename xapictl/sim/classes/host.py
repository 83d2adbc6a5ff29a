"""``host``: the management interface calls (REFERENCE §3.5 "Management interface")."""

from __future__ import annotations

import datetime as _dt

from xapictl.sim.classes import _pif_kinds as kinds
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import CallContext, handles
from xapictl.sim.state import SimState


def management_pif(state: SimState, host: str) -> str | None:
    for ref, pif in state.all("PIF").items():
        if pif["host"] == host and pif["management"]:
            return ref
    return None


def assert_usable_for_management(state: SimState, pif_ref: str) -> None:
    """A bond slave cannot carry it; the primary address family must be configured."""
    pif = state.get("PIF", pif_ref)
    if not pif["managed"]:
        return
    if kinds.is_bond_slave(state, pif):
        raise SimFailure("CANNOT_PLUG_BOND_SLAVE", pif_ref)
    if pif["primary_address_type"] == "IPv4" and pif["ip_configuration_mode"] == "None":
        raise SimFailure("PIF_HAS_NO_NETWORK_CONFIGURATION", pif_ref)
    if pif["primary_address_type"] == "IPv6" and pif["ipv6_configuration_mode"] == "None":
        raise SimFailure("PIF_HAS_NO_V6_NETWORK_CONFIGURATION", pif_ref)


def move_management(state: SimState, pif_ref: str) -> None:
    """Plug the new PIF, then flip the flags: the old PIF stays plugged."""
    pif = state.get("PIF", pif_ref)
    kinds.bring_up(state, pif_ref)
    old = management_pif(state, pif["host"])
    if old is not None and old != pif_ref:
        state.set_field("PIF", old, "management", False)
    state.set_field("PIF", pif_ref, "management", True)


def reconfigure_management(state: SimState, pif_ref: str) -> None:
    if kinds.ha_enabled(state):
        raise SimFailure("HA_IS_ENABLED")
    assert_usable_for_management(state, pif_ref)
    if state.get("PIF", pif_ref)["management"]:
        return
    move_management(state, pif_ref)


@handles("host.management_reconfigure")
def management_reconfigure(ctx: CallContext, pif: str) -> None:
    ctx.require_live(ctx.state.get("PIF", pif)["host"])
    reconfigure_management(ctx.state, pif)


@handles("host.get_management_interface")
def get_management_interface(ctx: CallContext, host: str) -> str:
    ctx.state.get("host", host)
    found = management_pif(ctx.state, host)
    if found is None:
        # XAPI raises OCaml's Not_found here, which reaches clients as an internal error.
        raise SimFailure("INTERNAL_ERROR", "Not_found")
    return found


@handles("host.management_disable")
def management_disable(ctx: CallContext) -> None:
    state = ctx.state
    if kinds.ha_enabled(state):
        raise SimFailure("HA_IS_ENABLED")
    if ctx.host != ctx.master():
        raise SimFailure("SLAVE_REQUIRES_MANAGEMENT_INTERFACE")
    found = management_pif(state, ctx.host)
    if found is not None:
        state.set_field("PIF", found, "management", False)


@handles("host.local_management_reconfigure")
def local_management_reconfigure(ctx: CallContext, interface: str) -> None:
    raise SimFailure("NOT_IN_EMERGENCY_MODE")


__all__ = ["assert_usable_for_management", "get_management_interface",
           "local_management_reconfigure", "management_disable", "management_pif",
           "management_reconfigure", "move_management", "reconfigure_management"]


@handles("host.get_servertime")
def get_servertime(ctx: CallContext, host: str) -> _dt.datetime:
    """The host's clock, in UTC with whole seconds (XAPI: ``Date.now ()``; a ``datetime`` on
    the wire, ``20261207T05:45:24Z``). Every host answers for itself, any host ref works."""
    ctx.state.get("host", host)
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0)
