"""What a step says about itself as data (for the structured plan and saved plans): its
``action`` (create, update, delete, plug, unplug, move, replug), the XAPI class, the
``identity`` of the object, its fields ``before`` and ``after``, the XAPI calls with their
parameters, and the existing objects it relies on (whose fingerprints a saved plan keeps).

Pure functions of a step and a snapshot: no I/O. Refs of objects the plan has not created
yet are symbolic placeholders (``<key>``); secrets in call parameters are masked.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any, Literal, get_args

from xapictl._frozen import Frozen, frozen
from xapictl.state.snapshot import PoolSnapshot

Action = Literal["create", "update", "delete", "plug", "unplug", "move", "replug"]
"""Every ``Facts.action``: what happens to the object, in one word."""
ACTIONS: tuple[str, ...] = get_args(Action)

SECRET_WORDS = ("password", "secret", "token", "key_material")
MASK = "********"


@frozen
class Call(Frozen):
    """One XAPI call with its parameters (plain JSON-able values)."""

    method: str
    params: tuple[Any, ...] = ()


@frozen
class Facts(Frozen):
    """A step as data (see the module docstring). ``relies_on`` names the existing objects
    (XAPI class, ref) the step touches or whose state it was planned from."""

    action: Action
    xapi_class: str
    identity: Mapping[str, Any] = field(default_factory=dict)
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    calls: tuple[Call, ...] = ()
    relies_on: tuple[tuple[str, str], ...] = ()


def plain(value: Any) -> Any:
    """A typed value as JSON data: enums by value, tuples and sets as lists, mappings as
    dicts (keys sorted), ``Later`` refs as their placeholder."""
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in sorted(value.items(), key=lambda i: str(i[0]))}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)  # a Later ref: "<key>"


def masked(value: Any) -> Any:
    """``plain(value)`` with the values of secret-looking keys replaced by ``MASK``."""
    data = plain(value)
    if isinstance(data, dict):
        return {k: MASK if any(w in k.lower() for w in SECRET_WORDS) else masked(v)
                for k, v in data.items()}
    if isinstance(data, list):
        return [masked(v) for v in data]
    return data


def call(method: str, *params: Any) -> Call:
    return Call(method, tuple(masked(p) for p in params))


def records(snap: PoolSnapshot, xapi_class: str) -> Mapping[Any, Any]:
    tables: dict[str, Mapping[Any, Any]] = {
        "network": snap.networks, "VIF": snap.vifs, "PIF": snap.pifs, "VLAN": snap.vlans,
        "Bond": snap.bonds, "VM": snap.vms, "host": snap.hosts, "tunnel": snap.tunnels,
        "network_sriov": snap.sriovs, "pool": snap.pools,
        "SDN_controller": snap.sdn_controllers}
    return tables.get(xapi_class, {})


def is_ref(value: Any) -> bool:
    """An existing object's ref (not a ``Later`` placeholder, not empty or NULL)."""
    return isinstance(value, str) and bool(value) and value != "OpaqueRef:NULL"


def relying(*pairs: tuple[str, Any]) -> tuple[tuple[str, str], ...]:
    """The ``(class, ref)`` pairs that name existing objects."""
    return tuple((cls, str(ref)) for cls, ref in pairs if is_ref(ref))


def _label(snap: PoolSnapshot, xapi_class: str, ref: Any) -> str:
    record = records(snap, xapi_class).get(ref)
    return str(getattr(record, "name_label", "")) if record is not None else ""


def _pif_label(snap: PoolSnapshot, ref: Any) -> str:
    pif = snap.pifs.get(ref)
    if pif is None:
        return ""
    return f"{_label(snap, 'host', pif.host)}/{pif.device}"


def _vif_label(snap: PoolSnapshot, ref: Any) -> str:
    vif = snap.vifs.get(ref)
    if vif is None:
        return ""
    return f"{_label(snap, 'VM', vif.vm)}/{vif.device}"


def identity(snap: PoolSnapshot | None, xapi_class: str, ref: Any, **known: Any
             ) -> dict[str, Any]:
    """Who the object is: what the step knows (``known``: name, device, tag …), and from the
    snapshot its uuid and its names (host name and uuid, VM, network, device, tag). A ref not
    created yet is shown as its placeholder (``ref: "<key>"``)."""
    out = {k: plain(v) for k, v in known.items() if v not in (None, "", ())}
    if not is_ref(ref):
        if ref is not None and str(ref):
            out["ref"] = str(ref)
        return out
    record = records(snap, xapi_class).get(ref) if snap is not None else None
    if snap is None or record is None:
        return out
    found: dict[str, Any] = {"uuid": record.uuid}
    if xapi_class in ("network", "VM", "host"):
        found["name"] = record.name_label
    if xapi_class == "PIF":
        found.update(_on_host(snap, record.host), device=record.device,
                     network=_label(snap, "network", record.network))
        if record.vlan >= 0:
            found["tag"] = record.vlan
    if xapi_class == "VIF":
        vm = snap.vms.get(record.vm)
        found.update(vm=vm.name_label if vm else "", vm_uuid=vm.uuid if vm else "",
                     device=record.device, network=_label(snap, "network", record.network))
    if xapi_class == "VLAN":
        tagged = snap.pifs.get(record.tagged_pif)
        untagged = snap.pifs.get(record.untagged_pif)
        found["tag"] = record.tag
        if tagged is not None:
            found.update(_on_host(snap, tagged.host), device=tagged.device)
        if untagged is not None:
            found["network"] = _label(snap, "network", untagged.network)
    if xapi_class == "Bond":
        master = snap.pifs.get(record.master)
        if master is not None:
            found.update(_on_host(snap, master.host), device=master.device,
                         network=_label(snap, "network", master.network))
    return {**found, **out}


def _on_host(snap: PoolSnapshot, host: Any) -> dict[str, str]:
    record = snap.hosts.get(host)
    if record is None:
        return {}
    return {"host": record.name_label, "host_uuid": record.uuid}


def field_of(snap: PoolSnapshot | None, xapi_class: str, ref: Any, name: str) -> Any:
    """One field's current value as JSON data (``None`` when not known)."""
    if snap is None or not is_ref(ref):
        return None
    record = records(snap, xapi_class).get(ref)
    return None if record is None else plain(getattr(record, name, None))


# --- fingerprints: the fields the planner reads, per class --------------------------------------

def _network(snap: PoolSnapshot, r: Any) -> dict[str, Any]:
    return {"name_label": r.name_label, "name_description": r.name_description,
            "MTU": r.mtu, "purpose": sorted(plain(r.purpose)), "tags": sorted(r.tags),
            "managed": r.managed, "other_config": plain(r.other_config),
            "default_locking_mode": plain(r.default_locking_mode),
            "VIFs": sorted(_vif_label(snap, v) for v in r.vifs),
            "PIFs": sorted(_pif_label(snap, p) for p in r.pifs)}


def _pif(snap: PoolSnapshot, r: Any) -> dict[str, Any]:
    return {"host": _label(snap, "host", r.host), "device": r.device, "VLAN": r.vlan,
            "network": _label(snap, "network", r.network), "MTU": r.mtu,
            "currently_attached": r.currently_attached, "management": r.management,
            "bonded": is_ref(r.bond_slave_of) and r.bond_slave_of in snap.bonds,
            "VLANs": sorted(snap.vlans[v].tag for v in r.vlan_slave_of if v in snap.vlans)}


def _vif(snap: PoolSnapshot, r: Any) -> dict[str, Any]:
    return {"VM": _label(snap, "VM", r.vm), "device": r.device,
            "network": _label(snap, "network", r.network), "MAC": r.mac, "MTU": r.mtu,
            "currently_attached": r.currently_attached,
            "locking_mode": plain(r.locking_mode), "ipv4_allowed": sorted(r.ipv4_allowed),
            "ipv6_allowed": sorted(r.ipv6_allowed), "other_config": plain(r.other_config)}


def _vm(snap: PoolSnapshot, r: Any) -> dict[str, Any]:
    return {"name_label": r.name_label, "power_state": plain(r.power_state),
            "VIFs": sorted(_vif_label(snap, v) for v in r.vifs)}


def _vlan(snap: PoolSnapshot, r: Any) -> dict[str, Any]:
    untagged = snap.pifs.get(r.untagged_pif)
    return {"tag": r.tag, "trunk": _pif_label(snap, r.tagged_pif),
            "network": _label(snap, "network", untagged.network) if untagged else ""}


def _bond(snap: PoolSnapshot, r: Any) -> dict[str, Any]:
    return {"master": _pif_label(snap, r.master),
            "members": sorted(_pif_label(snap, p) for p in r.slaves),
            "mode": plain(r.mode), "properties": plain(r.properties)}


def _host(snap: PoolSnapshot, r: Any) -> dict[str, Any]:
    live = snap.host_metrics.get(r.metrics)
    return {"name_label": r.name_label, "live": live.live if live is not None else True}


FINGERPRINTED: dict[str, Callable[[PoolSnapshot, Any], dict[str, Any]]] = {
    "network": _network, "PIF": _pif, "VIF": _vif, "VM": _vm, "VLAN": _vlan, "Bond": _bond,
    "host": _host}


def fingerprint_fields(snap: PoolSnapshot, xapi_class: str, ref: str) -> dict[str, Any] | None:
    """The fields a plan read of one object (``None``: the object does not exist)."""
    record = records(snap, xapi_class).get(ref)
    reader = FINGERPRINTED.get(xapi_class)
    if record is None or reader is None:
        return None
    return reader(snap, record)


def digest(data: Any) -> str:
    """``sha256:…`` of ``data`` as canonical JSON."""
    import hashlib  # here: saved plans digest, a network create does not (hashlib loads OpenSSL)

    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


__all__ = [
    "ACTIONS",
    "FINGERPRINTED",
    "MASK",
    "Action",
    "Call",
    "Facts",
    "call",
    "digest",
    "field_of",
    "fingerprint_fields",
    "identity",
    "is_ref",
    "masked",
    "plain",
    "records",
    "relying",
]
