"""Steps on networks: create (with xapictl's ownership mark), destroy, purposes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field

from xapictl._frozen import frozen
from xapictl.model.refs import NetworkRef
from xapictl.plan.identity import IDENTITY_KEY, owned_with_identity
from xapictl.plan.steps.base import Later, RunContext, XapiStep, gone
from xapictl.plan.steps.facts import Facts, call, field_of, identity, relying
from xapictl.state.snapshot import PoolSnapshot


@frozen(kw_only=True)
class CreateNetwork(XapiStep):
    """``network.create`` of a network the recipe states and the pool lacks."""

    name_label: str
    name_description: str = ""
    mtu: int = 1500
    other_config: Mapping[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    managed: bool = True

    action = "create"
    calls = ("network.create",)
    reads = ("network",)
    touches = ("network",)

    def args_text(self) -> str:
        parts = [f"name {self.name_label!r}", f"MTU {self.mtu}"]
        if self.name_description:
            parts.append(f"description {self.name_description!r}")
        if self.tags:
            parts.append(f"tags {list(self.tags)}")
        if not self.managed:
            parts.append("unmanaged")
        return ", ".join(parts)

    def _record(self) -> dict[str, object]:
        return {"name_label": self.name_label, "name_description": self.name_description,
                "MTU": self.mtu, "other_config": dict(self.other_config),
                "tags": list(self.tags), "managed": self.managed}

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        return Facts("create", "network",
                     identity(snap, "network", Later(self.key) if self.key else None,
                              name=self.name_label),
                     after=self._record(), calls=(call("network.create", self._record()),))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        identity = self.other_config.get(IDENTITY_KEY, "")
        if identity and owned_with_identity(snap, identity):
            return f"a network marked {identity!r} appeared since planning"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        return str(ctx.conn.call("network.create", self._record()))

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        found = owned_with_identity(snap, self.other_config.get(IDENTITY_KEY, ""))
        return found[0] if found else False


@frozen(kw_only=True)
class DestroyNetwork(XapiStep):
    """``network.destroy`` of a network the recipe says is absent."""

    network: NetworkRef | Later

    action = "destroy"
    disruption = "destroys the network (its bridge goes on every host)"
    calls = ("network.destroy",)
    reads = ("network",)
    touches = ("network",)

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        before = {k: field_of(snap, "network", self.network, f)
                  for k, f in (("name_label", "name_label"), ("MTU", "mtu"))}
        return Facts("delete", "network", identity(snap, "network", self.network),
                     before=before if snap is not None else None,
                     calls=(call("network.destroy", self.network),),
                     relies_on=relying(("network", self.network)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        ref = ctx.known(self.network)
        return None if ref in snap.networks else gone("network", str(ref or self.network))

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("network.destroy", ctx.ref(self.network))
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return ctx.ref(self.network) not in snap.networks


@frozen(kw_only=True)
class AddPurpose(XapiStep):
    """Add (or remove) one of a network's purposes."""

    network: str | Later
    purpose: str
    remove: bool = False

    touches = ("network",)

    @property
    def action(self) -> str:
        return "remove purpose" if self.remove else "add purpose"

    @property
    def disruption(self) -> str:
        if isinstance(self.network, Later):
            return ""  # a network this plan creates: nothing uses it yet
        return f"re-purposes the network ({self.action} {self.purpose})"

    @property
    def calls(self) -> tuple[str, ...]:
        return ("network.remove_purpose" if self.remove else "network.add_purpose",)

    def args_text(self) -> str:
        return self.purpose

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        current = field_of(snap, "network", self.network, "purpose")
        before = sorted(current) if isinstance(current, list) else (
            [] if isinstance(self.network, Later) else None)
        after = None
        if before is not None:
            after = sorted(p for p in {*before, self.purpose}
                           if not (self.remove and p == self.purpose))
        return Facts("update", "network", identity(snap, "network", self.network),
                     before={"purpose": before} if before is not None else None,
                     after={"purpose": after} if after is not None else
                     {("purpose_removed" if self.remove else "purpose_added"): self.purpose},
                     calls=(call(self.calls[0], self.network, self.purpose),),
                     relies_on=relying(("network", self.network)))

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call(self.calls[0], ctx.ref(self.network), self.purpose)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        n = snap.networks.get(NetworkRef(ctx.ref(self.network)))
        return n is not None and ((self.purpose in n.purpose) != self.remove)


__all__ = ["AddPurpose", "CreateNetwork", "DestroyNetwork"]
