"""The XAPI steps a plan is made of: each one call (or a short fixed sequence) with its reason.

A step is plain data. ``calls`` lists the XAPI methods it sends (for the role pre-flight and
the audit log); ``precondition`` re-checks, against the state read at apply time, that the
step still makes sense (else it is drift, not forced); ``execute`` sends it; ``effect_in``
tells whether its effect is already in a snapshot, which is how a write whose answer was lost
is resolved: re-read, and send again only if the effect is absent.

Objects created earlier in the same plan are referred to by ``Later(key)``; ``RunContext``
resolves them from what earlier steps produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from xapictl.model.refs import BondRef, HostRef, NetworkRef, PIFRef, VIFRef, VLANRef, VMRef
from xapictl.plan.core import Step
from xapictl.plan.identity import IDENTITY_KEY, owned_with_identity
from xapictl.state.snapshot import PoolSnapshot


class Caller(Protocol):
    """What a step needs from a connection: ``xapictl.connect(...)`` objects fit."""

    def call(self, method: str, *args: Any) -> Any: ...


@dataclass(frozen=True)
class Later:
    """A ref that an earlier step of the same plan will produce."""

    key: str

    def __str__(self) -> str:
        return f"<{self.key}>"


@dataclass
class RunContext:
    conn: Caller
    produced: dict[str, str] = field(default_factory=dict)

    def ref(self, value: str | Later) -> str:
        if isinstance(value, Later):
            return self.produced[value.key]
        return value

    def known(self, value: str | Later) -> str | None:
        """The ref of an object that existed when the plan was made (``None`` for one this
        plan creates: the pool read before apply cannot hold it, so it is not re-checked)."""
        if isinstance(value, Later):
            return None
        return value


@dataclass(frozen=True, kw_only=True)
class XapiStep(Step):
    """A step against a XAPI pool. ``key`` names what it creates, for ``Later`` refs."""

    key: str = ""

    @property
    def calls(self) -> tuple[str, ...]:
        return ()

    def args_text(self) -> str:
        """The call's arguments in words, for the plan (no refs when a name will do)."""
        return ""

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        """``None`` when the step still applies, else what changed."""
        return None

    def execute(self, ctx: RunContext) -> str | None:
        raise NotImplementedError

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        """The produced ref (or True) if the effect is already there, else False."""
        return False


def _gone(kind: str, ref: str) -> str:
    return f"{kind} {ref} no longer exists"


# --- networks ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CreateNetwork(XapiStep):
    name_label: str
    name_description: str = ""
    mtu: int = 1500
    other_config: Mapping[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    managed: bool = True

    action = "create"
    calls = ("network.create",)

    def args_text(self) -> str:
        parts = [f"name {self.name_label!r}", f"MTU {self.mtu}"]
        if self.name_description:
            parts.append(f"description {self.name_description!r}")
        if self.tags:
            parts.append(f"tags {list(self.tags)}")
        if not self.managed:
            parts.append("unmanaged")
        return ", ".join(parts)

    def execute(self, ctx: RunContext) -> str | None:
        record = {"name_label": self.name_label, "name_description": self.name_description,
                  "MTU": self.mtu, "other_config": dict(self.other_config),
                  "tags": list(self.tags), "managed": self.managed}
        return str(ctx.conn.call("network.create", record))

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        found = owned_with_identity(snap, self.other_config.get(IDENTITY_KEY, ""))
        return found[0] if found else False


@dataclass(frozen=True, kw_only=True)
class DestroyNetwork(XapiStep):
    network: NetworkRef

    action = "destroy"
    calls = ("network.destroy",)

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        return None if self.network in snap.networks else _gone("network", self.network)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("network.destroy", self.network)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return self.network not in snap.networks


@dataclass(frozen=True, kw_only=True)
class SetField(XapiStep):
    """A plain setter: ``<class>.set_<Field>(ref, value)`` (and a few named like it)."""

    xapi_class: str
    ref: str | Later
    method: str
    """The message name: ``set_MTU``, ``set_name_label``, ``set_default_locking_mode``…"""
    field_name: str
    """The record's Python field the setter writes (to check its effect)."""
    value: Any

    @property
    def action(self) -> str:
        return self.method.replace("_", " ")

    @property
    def calls(self) -> tuple[str, ...]:
        return (f"{self.xapi_class}.{self.method}",)

    def args_text(self) -> str:
        return f"{self.field_name} = {self.value!r}"

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        ref = ctx.known(self.ref)
        if ref is None or _table(snap, self.xapi_class).get(ref) is not None:
            return None
        return _gone(self.xapi_class, ref)

    def execute(self, ctx: RunContext) -> str | None:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        ctx.conn.call(self.calls[0], ctx.ref(self.ref), value)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        record = _table(snap, self.xapi_class).get(ctx.ref(self.ref))
        if record is None:
            return False
        current = getattr(record, self.field_name)
        if isinstance(current, tuple) and isinstance(self.value, tuple):
            return sorted(map(str, current)) == sorted(map(str, self.value))
        return bool(current == self.value)


@dataclass(frozen=True, kw_only=True)
class AddPurpose(XapiStep):
    network: str | Later
    purpose: str
    remove: bool = False

    @property
    def action(self) -> str:
        return "remove purpose" if self.remove else "add purpose"

    @property
    def calls(self) -> tuple[str, ...]:
        return ("network.remove_purpose" if self.remove else "network.add_purpose",)

    def args_text(self) -> str:
        return self.purpose

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call(self.calls[0], ctx.ref(self.network), self.purpose)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        n = snap.networks.get(NetworkRef(ctx.ref(self.network)))
        return n is not None and ((self.purpose in n.purpose) != self.remove)


@dataclass(frozen=True, kw_only=True)
class SetOtherConfig(XapiStep):
    """Set some ``other_config`` keys, leaving the others alone (``add_to``/``remove_from``;
    a key that exists with another value is removed first, as XAPI refuses duplicates)."""

    xapi_class: str
    ref: str | Later
    values: Mapping[str, str]
    replace: tuple[str, ...] = ()

    action = "set other_config"

    @property
    def calls(self) -> tuple[str, ...]:
        out = [f"{self.xapi_class}.remove_from_other_config" for _ in self.replace]
        return (*out, *(f"{self.xapi_class}.add_to_other_config" for _ in self.values))

    def args_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(self.values.items()))

    def execute(self, ctx: RunContext) -> str | None:
        ref = ctx.ref(self.ref)
        for key in self.replace:
            ctx.conn.call(f"{self.xapi_class}.remove_from_other_config", ref, key)
        for key, value in sorted(self.values.items()):
            ctx.conn.call(f"{self.xapi_class}.add_to_other_config", ref, key, value)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        record = _table(snap, self.xapi_class).get(ctx.ref(self.ref))
        return record is not None and all(
            record.other_config.get(k) == v for k, v in self.values.items())


# --- VLANs --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CreatePoolVLAN(XapiStep):
    """``pool.create_VLAN_from_PIF``: the VLAN on every live host's PIF of the trunk's network,
    in one call (the pool master fans it out)."""

    network: str | Later
    trunk: str | Later
    tag: int
    hosts: tuple[str, ...] = ()

    action = "create VLAN pool-wide"
    calls = ("pool.create_VLAN_from_PIF",)

    def args_text(self) -> str:
        return f"tag {self.tag} on {', '.join(self.hosts)}"

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        trunk = ctx.known(self.trunk)
        if trunk is None:
            return None
        if trunk not in snap.pifs:
            return _gone("PIF", trunk)
        if snap.vlan_on(PIFRef(trunk), self.tag) is not None:
            return f"VLAN {self.tag} appeared on the trunk since planning"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("pool.create_VLAN_from_PIF", ctx.ref(self.trunk),
                      ctx.ref(self.network), self.tag)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        vlan = snap.vlan_on(PIFRef(ctx.ref(self.trunk)), self.tag)
        if vlan is None:
            return False
        untagged = snap.pifs.get(snap.vlans[vlan].untagged_pif)
        return untagged is not None and untagged.network == ctx.ref(self.network)


@dataclass(frozen=True, kw_only=True)
class CreateVLAN(XapiStep):
    """``VLAN.create`` on one host: the repair for a host that lacks the VLAN."""

    host: HostRef
    host_label: str
    network: str | Later
    trunk: str | Later
    tag: int

    action = "create VLAN"
    calls = ("VLAN.create",)

    def args_text(self) -> str:
        return f"tag {self.tag} on {self.host_label}"

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        trunk = ctx.known(self.trunk)
        if trunk is None:
            return None
        if trunk not in snap.pifs:
            return _gone("PIF", trunk)
        if snap.vlan_on(PIFRef(trunk), self.tag) is not None:
            return f"VLAN {self.tag} appeared on {self.host_label} since planning"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        return str(ctx.conn.call("VLAN.create", ctx.ref(self.trunk), self.tag,
                                 ctx.ref(self.network)))

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return CreatePoolVLAN.effect_in(self, snap, ctx)  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True)
class DestroyVLAN(XapiStep):
    vlan: VLANRef
    host_label: str = ""

    action = "destroy VLAN"
    calls = ("VLAN.destroy",)

    def args_text(self) -> str:
        return f"on {self.host_label}" if self.host_label else ""

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        return None if self.vlan in snap.vlans else _gone("VLAN", self.vlan)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("VLAN.destroy", self.vlan)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return self.vlan not in snap.vlans


# --- PIFs and bonds -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ReplugPIF(XapiStep):
    """Plug an attached PIF again: XAPI re-applies the network's MTU to its bridge without
    taking it down (so VIFs of running VMs do not block it, as ``PIF.unplug`` would)."""

    pif: PIFRef
    allow_management: bool = False

    action = "re-plug"
    calls = ("PIF.plug",)

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        pif = snap.pifs.get(self.pif)
        if pif is None:
            return _gone("PIF", self.pif)
        if pif.management and not self.allow_management:
            return "the PIF became the management interface; not re-plugged"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("PIF.plug", self.pif)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        pif = snap.pifs.get(self.pif)
        net = snap.networks.get(pif.network) if pif is not None else None
        return pif is not None and net is not None and pif.currently_attached and (
            pif.mtu == net.mtu)


@dataclass(frozen=True, kw_only=True)
class CreateBond(XapiStep):
    host: HostRef
    host_label: str
    network: str | Later
    members: tuple[PIFRef, ...]
    member_devices: tuple[str, ...]
    mode: str = "balance-slb"
    properties: Mapping[str, str] = field(default_factory=dict)

    action = "create"
    calls = ("Bond.create",)

    def args_text(self) -> str:
        props = "".join(f", {k}={v}" for k, v in sorted(self.properties.items()))
        return f"{'+'.join(self.member_devices)} on {self.host_label}, {self.mode}{props}"

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        for m in self.members:
            pif = snap.pifs.get(m)
            if pif is None:
                return _gone("PIF", m)
            if pif.bond_slave_of in snap.bonds:
                return f"{pif.device} on {self.host_label} was bonded since planning"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        bond = str(ctx.conn.call("Bond.create", ctx.ref(self.network), list(self.members), "",
                                 self.mode, dict(self.properties)))
        if self.key:
            ctx.produced[f"{self.key}:master"] = str(ctx.conn.call("Bond.get_master", bond))
        return bond

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        bonds = {snap.pifs[m].bond_slave_of for m in self.members if m in snap.pifs}
        bond = next(iter(bonds)) if len(bonds) == 1 else None
        if bond is None or bond not in snap.bonds:
            return False
        if self.key:
            ctx.produced[f"{self.key}:master"] = snap.bonds[bond].master
        return str(bond)


@dataclass(frozen=True, kw_only=True)
class DestroyBond(XapiStep):
    bond: BondRef
    host_label: str = ""

    action = "destroy"
    calls = ("Bond.destroy",)

    def args_text(self) -> str:
        return f"on {self.host_label}"

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        return None if self.bond in snap.bonds else _gone("Bond", self.bond)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("Bond.destroy", self.bond)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return self.bond not in snap.bonds


# --- VIFs ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CreateVIF(XapiStep):
    vm: VMRef
    network: str | Later
    device: str
    mac: str = ""
    mtu: int = 1500
    other_config: Mapping[str, str] = field(default_factory=dict)
    locking_mode: str = "network_default"
    ipv4_allowed: tuple[str, ...] = ()
    ipv6_allowed: tuple[str, ...] = ()
    qos_algorithm_type: str = ""
    qos_algorithm_params: Mapping[str, str] = field(default_factory=dict)

    action = "create"
    calls = ("VIF.create",)

    def args_text(self) -> str:
        mac = self.mac or "generated"
        extra = f", locking {self.locking_mode}" if self.locking_mode != "network_default" else ""
        return f"device {self.device}, MAC {mac}, MTU {self.mtu}{extra}"

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        if self.vm not in snap.vms:
            return _gone("VM", self.vm)
        if snap.vif_on(self.vm, self.device) is not None:
            return f"device {self.device} of the VM was taken since planning"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        record = {"VM": self.vm, "network": ctx.ref(self.network), "device": self.device,
                  "MAC": self.mac, "MTU": self.mtu, "other_config": dict(self.other_config),
                  "qos_algorithm_type": self.qos_algorithm_type,
                  "qos_algorithm_params": dict(self.qos_algorithm_params),
                  "locking_mode": self.locking_mode,
                  "ipv4_allowed": list(self.ipv4_allowed),
                  "ipv6_allowed": list(self.ipv6_allowed)}
        return str(ctx.conn.call("VIF.create", record))

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        vif = snap.vif_on(self.vm, self.device)
        if vif is None or snap.vifs[vif].network != ctx.ref(self.network):
            return False
        return str(vif)


@dataclass(frozen=True, kw_only=True)
class _OnVIF(XapiStep):
    vif: str | Later

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        ref = ctx.known(self.vif)
        if ref is None or VIFRef(ref) in snap.vifs:
            return None
        return _gone("VIF", ref)


@dataclass(frozen=True, kw_only=True)
class PlugVIF(_OnVIF):
    action = "plug"
    calls = ("VIF.plug",)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("VIF.plug", ctx.ref(self.vif))
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        vif = snap.vifs.get(VIFRef(ctx.ref(self.vif)))
        return vif is not None and vif.currently_attached


@dataclass(frozen=True, kw_only=True)
class UnplugVIF(_OnVIF):
    action = "unplug"
    calls = ("VIF.unplug",)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("VIF.unplug", ctx.ref(self.vif))
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        vif = snap.vifs.get(VIFRef(ctx.ref(self.vif)))
        return vif is None or not vif.currently_attached


@dataclass(frozen=True, kw_only=True)
class ReplugVIF(_OnVIF):
    action = "re-plug"
    calls = ("VIF.unplug", "VIF.plug")

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("VIF.unplug", ctx.ref(self.vif))
        ctx.conn.call("VIF.plug", ctx.ref(self.vif))
        return None


@dataclass(frozen=True, kw_only=True)
class MoveVIF(_OnVIF):
    network: str | Later
    network_label: str = ""

    action = "move"
    calls = ("VIF.move",)

    def args_text(self) -> str:
        return f"to network {self.network_label!r}"

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("VIF.move", ctx.ref(self.vif), ctx.ref(self.network))
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        vif = snap.vifs.get(VIFRef(ctx.ref(self.vif)))
        return vif is not None and vif.network == ctx.ref(self.network)


@dataclass(frozen=True, kw_only=True)
class DestroyVIF(_OnVIF):
    action = "destroy"
    calls = ("VIF.destroy",)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("VIF.destroy", ctx.ref(self.vif))
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return VIFRef(ctx.ref(self.vif)) not in snap.vifs


def _table(snap: PoolSnapshot, xapi_class: str) -> Mapping[Any, Any]:
    tables: dict[str, Mapping[Any, Any]] = {
        "network": snap.networks, "VIF": snap.vifs, "PIF": snap.pifs, "VLAN": snap.vlans,
        "Bond": snap.bonds, "VM": snap.vms, "host": snap.hosts}
    return tables[xapi_class]


__all__ = [
    "AddPurpose",
    "Caller",
    "CreateBond",
    "CreateNetwork",
    "CreatePoolVLAN",
    "CreateVIF",
    "CreateVLAN",
    "DestroyBond",
    "DestroyNetwork",
    "DestroyVIF",
    "DestroyVLAN",
    "Later",
    "MoveVIF",
    "PlugVIF",
    "ReplugPIF",
    "ReplugVIF",
    "RunContext",
    "SetField",
    "SetOtherConfig",
    "UnplugVIF",
    "XapiStep",
]
