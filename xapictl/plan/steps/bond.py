"""Steps on bonds: create one host's bond (the planner puts the pool master last), set a mode
property, destroy (the mode is a plain ``SetField``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field

from xapictl._frozen import frozen
from xapictl.model.refs import BondRef, HostRef, PIFRef
from xapictl.plan.steps.base import Later, RunContext, XapiStep, gone
from xapictl.plan.steps.facts import Facts, call, field_of, identity, relying
from xapictl.state.snapshot import PoolSnapshot


@frozen(kw_only=True)
class CreateBond(XapiStep):
    host: HostRef
    host_label: str
    network: str | Later
    members: tuple[PIFRef, ...]
    member_devices: tuple[str, ...]
    mode: str = "balance-slb"
    properties: Mapping[str, str] = field(default_factory=dict)
    moves: tuple[str, ...] = ()
    """What ``Bond.create`` moves onto the bond besides the members' traffic, in words
    (the management interface, the primary member's IP configuration, VLANs, tunnels)."""
    answers_at: str = ""
    """A member whose management interface moves onto the bond (its address kept): where
    XAPI must answer afterwards, or the step fails and is undone ("": nothing to check)."""

    action = "create"

    @property
    def disruption(self) -> str:
        base = "moves the member NICs' traffic (and IP configuration) onto the bond"
        if any(m.startswith("the management interface") for m in self.moves):
            return base + "; the management interface moves with it (the host is out of " \
                "reach for a moment)"
        return base
    calls = ("Bond.create",)
    reads = ("PIF", "Bond")

    def args_text(self) -> str:
        props = "".join(f", {k}={v}" for k, v in sorted(self.properties.items()))
        return f"{'+'.join(self.member_devices)} on {self.host_label}, {self.mode}{props}"

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        host = snap.hosts.get(self.host) if snap is not None else None
        network = field_of(snap, "network", self.network, "name_label")
        return Facts("create", "Bond",
                     identity(snap, "Bond", Later(self.key) if self.key else None,
                              host=self.host_label, host_uuid=host.uuid if host else None,
                              network=network),
                     after={"members": list(self.member_devices), "mode": self.mode,
                            "properties": dict(self.properties), "moves": list(self.moves)},
                     calls=(call("Bond.create", self.network, list(self.members), "",
                                 self.mode, dict(self.properties)),),
                     relies_on=relying(("network", self.network), ("host", self.host),
                                       *(("PIF", m) for m in self.members)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        for m in self.members:
            pif = snap.pifs.get(m)
            if pif is None:
                return gone("PIF", m)
            if pif.bond_slave_of in snap.bonds:
                return f"{pif.device} on {self.host_label} was bonded since planning"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        bond = str(ctx.conn.call("Bond.create", ctx.ref(self.network), list(self.members), "",
                                 self.mode, dict(self.properties)))
        if self.key:
            ctx.produced[f"{self.key}:master"] = str(ctx.conn.call("Bond.get_master", bond))
        if self.answers_at:  # a member's management interface moved onto the bond
            from xapictl.plan.steps.management import still_answers

            still_answers(ctx, self.answers_at, f"{self.host_label} moved its management "
                          "interface onto the bond")
        return bond

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        bonds = {snap.pifs[m].bond_slave_of for m in self.members if m in snap.pifs}
        bond = next(iter(bonds)) if len(bonds) == 1 else None
        if bond is None or bond not in snap.bonds:
            return False
        if self.key:
            ctx.produced[f"{self.key}:master"] = snap.bonds[bond].master
        return str(bond)


@frozen(kw_only=True)
class DestroyBond(XapiStep):
    """``Bond.destroy``; as an undo step (``undoes``), the bond an earlier step made."""

    bond: BondRef | Later
    host_label: str = ""
    answers_at: str = ""
    """A member whose management interface moves back onto the primary member (its
    address kept): where XAPI must answer afterwards, or the step fails ("": no check)."""

    action = "destroy"
    disruption = ("destroys the bond (its traffic, IP configuration and management, if any, "
                  "move back to the primary member)")
    calls = ("Bond.destroy",)
    reads = ("Bond",)

    def args_text(self) -> str:
        return f"on {self.host_label}"

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        mode = field_of(snap, "Bond", self.bond, "mode")
        return Facts("delete", "Bond", identity(snap, "Bond", self.bond),
                     before={"mode": mode} if mode is not None else None,
                     calls=(call("Bond.destroy", self.bond),),
                     relies_on=relying(("Bond", self.bond)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        ref = ctx.known(self.bond)
        return None if ref in snap.bonds else gone("Bond", str(ref or self.bond))

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("Bond.destroy", ctx.ref(self.bond))
        if self.answers_at:  # a member's management interface moved off the bond
            from xapictl.plan.steps.management import still_answers

            still_answers(ctx, self.answers_at, f"{self.host_label}'s bond is destroyed and "
                          "its management interface moved back onto the primary member")
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return ctx.ref(self.bond) not in snap.bonds


@frozen(kw_only=True)
class SetBondProperty(XapiStep):
    """``Bond.set_property``: one mode property (``hashing_algorithm`` of an LACP bond);
    XAPI re-plugs the bond's master to apply it."""

    bond: BondRef
    name: str
    value: str

    action = "set property"
    disruption = "re-plugs the bond's master PIF"
    calls = ("Bond.set_property",)
    reads = ("Bond",)

    def args_text(self) -> str:
        return f"{self.name} = {self.value}"

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        props = field_of(snap, "Bond", self.bond, "properties")
        before = {self.name: props.get(self.name)} if isinstance(props, dict) else None
        return Facts("update", "Bond", identity(snap, "Bond", self.bond),
                     before={"properties": before} if before is not None else None,
                     after={"properties": {self.name: self.value}},
                     calls=(call("Bond.set_property", self.bond, self.name, self.value),),
                     relies_on=relying(("Bond", self.bond)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        return None if self.bond in snap.bonds else gone("Bond", self.bond)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("Bond.set_property", self.bond, self.name, self.value)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        bond = snap.bonds.get(self.bond)
        return bond is not None and bond.properties.get(self.name) == self.value


__all__ = ["CreateBond", "DestroyBond", "SetBondProperty"]
