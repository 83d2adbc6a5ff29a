"""Drift of IP configuration: where the PIFs of a recipe's ``interfaces:`` entries differ from
what the entries state, field by field (``xapictl drift --recipe``, and verify after apply).

Pure. It is the interfaces planner's own judgement: a PIF drifts exactly when planning the
entries would write to it, so "drifts clean" and "re-plans empty" cannot disagree. Each
planned write is turned back into the fields it would change, each with the pool's value
and the recipe's: ``ipv4`` (mode and address/prefix), ``gateway``, ``dns``, ``ipv6``,
``gateway6``, ``dns6``, ``primary_address_type``, ``purpose``, ``disallow_unplug``,
``plugged``.
"""

from __future__ import annotations

import ipaddress

from xapictl._frozen import Frozen, frozen
from xapictl.errors import PreflightError
from xapictl.model.pif import PIF
from xapictl.model.refs import HostRef, PIFRef
from xapictl.plan import identity as ident
from xapictl.plan.core import Step
from xapictl.plan.desired import STORAGE_PURPOSE, DesiredState
from xapictl.plan.diff.interface import plan_interfaces
from xapictl.plan.diff.planner import Planner
from xapictl.plan.steps import (
    PlugPIF,
    ReconfigureIP,
    ReconfigureIPv6,
    SetField,
    SetOtherConfig,
    SetPrimaryAddressType,
)
from xapictl.plan.steps.pif import dns_of
from xapictl.state.snapshot import PoolSnapshot

FieldDrift = tuple[str, str, str]
"""(field, the pool's value, the recipe's value)."""


@frozen
class InterfaceDrift(Frozen):
    """One PIF whose IP configuration differs from its ``interfaces:`` entry."""

    subject: str
    """``interface eth2 on xcp-host-01 (xenbr2)``: the entry, the host, the PIF's bridge."""
    host: HostRef
    host_uuid: str
    pif: PIFRef
    fields: tuple[FieldDrift, ...]

    @property
    def detail(self) -> str:
        return "; ".join(f"{name} is {have or '-'}, the recipe says {want or '-'}"
                         for name, have, want in self.fields)


def interface_drift(desired: DesiredState, snap: PoolSnapshot) -> list[InterfaceDrift]:
    """The PIFs of the live hosts whose IP configuration differs from ``desired``'s
    ``interfaces``, in plan order. Raises ``PreflightError`` when an entry cannot be
    applied to this pool at all (no such network, an address in use elsewhere…)."""
    if not desired.interfaces:
        return []
    d = Planner(DesiredState(interfaces=desired.interfaces, source=desired.source), snap)
    plan_interfaces(d, desired.interfaces)
    if d.problems:
        raise PreflightError(d.problems)
    by_pif: dict[PIFRef, list[FieldDrift]] = {}
    subjects: dict[PIFRef, str] = {}
    for step in d.steps:
        ref = _pif_of(step)
        if ref is None or ref not in snap.pifs:
            continue
        subjects.setdefault(ref, step.subject)
        by_pif.setdefault(ref, []).extend(_fields(step, snap.pifs[ref]))
    out = []
    for ref, fields in by_pif.items():
        pif = snap.pifs[ref]
        net = snap.networks.get(pif.network)
        bridge = net.bridge if net is not None else ""
        host = snap.hosts.get(pif.host)
        out.append(InterfaceDrift(f"{subjects[ref]} ({bridge or ident.pif_words(snap, ref)})",
                                  pif.host, host.uuid if host is not None else "", ref,
                                  tuple(fields)))
    return out


def _pif_of(step: Step) -> PIFRef | None:
    if isinstance(step, ReconfigureIP | ReconfigureIPv6 | SetPrimaryAddressType):
        return step.pif
    if isinstance(step, PlugPIF):
        return step.pif if isinstance(step.pif, str) else None
    if isinstance(step, SetField | SetOtherConfig) and step.xapi_class == "PIF" and \
            isinstance(step.ref, str):
        return PIFRef(step.ref)
    return None


def _fields(step: Step, pif: PIF) -> list[FieldDrift]:
    if isinstance(step, ReconfigureIP):
        return _differ([
            ("ipv4", _v4(pif.ip_configuration_mode.value, pif.ip, pif.netmask),
             _v4(step.mode, step.ip, step.netmask)),
            ("gateway", pif.gateway, step.gateway),
            ("dns", ",".join(dns_of(pif.dns, 4)), ",".join(dns_of(step.dns, 4)))]) or [
            ("ipv4", f"{pif.ip_configuration_mode.value} {pif.ip} {pif.netmask}",
             f"{step.mode} {step.ip} {step.netmask}")]
    if isinstance(step, ReconfigureIPv6):
        have = ",".join(a for a in pif.ipv6 if a)
        mode = pif.ipv6_configuration_mode.value
        return _differ([
            ("ipv6", f"{mode} {have}" if mode == "Static" else mode,
             f"{step.mode} {step.ipv6}" if step.mode == "Static" else step.mode),
            ("gateway6", pif.ipv6_gateway, step.gateway),
            ("dns6", ",".join(dns_of(pif.dns, 6)), ",".join(dns_of(step.dns, 6)))]) or [
            ("ipv6", f"{mode} {have}", f"{step.mode} {step.ipv6}")]
    if isinstance(step, SetPrimaryAddressType):
        return [("primary_address_type", pif.primary_address_type.value, step.value)]
    if isinstance(step, SetOtherConfig):
        key, value = STORAGE_PURPOSE
        return [("purpose", f"{key}={pif.other_config[key]}" if key in pif.other_config
                 else "", f"{key}={value}")]
    if isinstance(step, SetField):
        return [(step.field_name, str(getattr(pif, step.field_name)).lower(),
                 str(step.value).lower())]
    return [("plugged", str(pif.currently_attached).lower(), "true")]


def _v4(mode: str, ip: str, netmask: str) -> str:
    if mode != "Static":
        return mode
    try:
        prefix = ipaddress.IPv4Network(f"0.0.0.0/{netmask}").prefixlen
    except ValueError:
        return f"Static {ip or '-'}"
    return f"Static {ip}/{prefix}"


def _differ(pairs: list[FieldDrift]) -> list[FieldDrift]:
    return [(name, have, want) for name, have, want in pairs if have != want]


__all__ = ["FieldDrift", "InterfaceDrift", "interface_drift"]
