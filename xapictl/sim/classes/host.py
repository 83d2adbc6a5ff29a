"""``host``: the management interface calls (REFERENCE §3.5 "Management interface").

``host.management_reconfigure`` is ``xapi_host.ml``'s: the checks, the network attached, the
management flags moved, then ``Xapi_mgmt_iface.on_dom0_networking_change``: ``host.address``
becomes the new interface's address (its IPv4 ``IP``, or its first IPv6 address when IPv6 is
the primary type; ``""`` when it has none yet). The server (``server.py``) then listens on the
new address (loopback ones only) and no longer on the old one. When the master moves, the
members keep the old master address (their ``pool.conf``) until ``pool.recover_slaves`` (or
``pool.emergency_reset_master`` on each) tells them the new one: until then a member names the
old address in ``HOST_IS_SLAVE``.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
from collections.abc import Mapping
from typing import Any

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


def is_loopback(address: str) -> bool:
    """``127.0.0.0/8``, ``::1``, and IPv4-mapped loopback addresses (``::ffff:127.0.2.11``,
    carried over IPv4 loopback): the addresses the served simulator listens on."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def management_address(pif: Mapping[str, Any]) -> str:
    """``Helpers.get_management_ip_addr``: the interface's address of the primary type."""
    if pif["primary_address_type"] == "IPv6":
        found = [a for a in pif.get("IPv6", []) if a]
        return str(found[0]).split("/", 1)[0] if found else ""
    return str(pif.get("IP", ""))


def readdress(state: SimState, host: str, address: str) -> None:
    """``on_dom0_networking_change``: ``host.address`` follows the management interface. When
    the master's changes, each member keeps the address it knew (``pool.conf``).

    A difference: a host served on loopback whose new address is not a loopback one (the
    ``seed`` pool's ``198.51.100.x``, or none: DHCP or autoconf, which get no lease here)
    keeps its address, as the simulator serves nothing else (use the ``loopback`` scenario,
    or loopback addresses, to move it end to end)."""
    old = str(state.get("host", host)["address"])
    if old == address or (is_loopback(old) and not is_loopback(address)):
        return  # the simulator serves loopback only: such a host stays where it is served
    pool = kinds.pool_record(state)
    if pool is not None and pool.get("master") == host:
        for member in state.refs("host"):
            if member != host:
                state.master_seen_by.setdefault(member, old)
    state.set_field("host", host, "address", address)


def reconfigure_management(state: SimState, pif_ref: str) -> None:
    if kinds.ha_enabled(state):
        raise SimFailure("HA_IS_ENABLED")
    assert_usable_for_management(state, pif_ref)
    if state.get("PIF", pif_ref)["management"]:
        return
    move_management(state, pif_ref)
    pif = state.get("PIF", pif_ref)
    readdress(state, str(pif["host"]), management_address(pif))


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
    """Only in emergency mode (a member that lost its master), which the simulator does not
    enter: always ``NOT_IN_EMERGENCY_MODE`` (``pool_not_in_emergency_mode``)."""
    raise SimFailure("NOT_IN_EMERGENCY_MODE")


__all__ = ["assert_usable_for_management", "get_management_interface",
           "is_loopback", "local_management_reconfigure", "management_address",
           "management_disable",
           "management_pif", "management_reconfigure", "move_management", "readdress",
           "reconfigure_management"]


@handles("host.get_servertime")
def get_servertime(ctx: CallContext, host: str) -> _dt.datetime:
    """The host's clock, in UTC with whole seconds (XAPI: ``Date.now ()``; a ``datetime`` on
    the wire, ``20261207T05:45:24Z``). Every host answers for itself, any host ref works."""
    ctx.state.get("host", host)
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0)
