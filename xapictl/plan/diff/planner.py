"""The planner's working state, shared by the per-class planning modules: the steps, no-ops,
warnings and pre-flight problems found so far, and what earlier entries resolved (recipe
network name -> network, bond trunks, claimed VIF devices, objects this plan removes)."""

from __future__ import annotations

from dataclasses import field

from xapictl._frozen import Mutable, mutable
from xapictl.errors import AmbiguousObjectError
from xapictl.model.refs import HostRef, NetworkRef, PIFRef, VIFRef, VMRef
from xapictl.plan import identity as ident
from xapictl.plan.core import Deferred, Noop, Step
from xapictl.plan.desired import DesiredState, NetworkSpec
from xapictl.plan.steps import Later, SetOtherConfig
from xapictl.state.snapshot import PoolSnapshot

NetTarget = NetworkRef | Later


@mutable
class Planner(Mutable):
    """One diff's working state: the desired and current pool, and what it found so far."""

    desired: DesiredState
    snap: PoolSnapshot
    steps: list[Step] = field(default_factory=list)
    noops: list[Noop] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    deferred: list[Deferred] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    networks: dict[str, NetTarget] = field(default_factory=dict)
    """Recipe network name -> its network (existing ref or created by this plan)."""
    bond_trunks: dict[str, dict[HostRef, PIFRef | Later]] = field(default_factory=dict)
    moved_vlans: dict[str, dict[int, NetworkRef]] = field(default_factory=dict)
    """A planned bond's master (its ``Later`` key) -> the VLANs (tag -> network) that
    ``Bond.create`` moves onto it from the members."""
    undo: list[Step] = field(default_factory=list)
    """Steps that undo done steps of a group whose later step fails (``Plan.undo``)."""
    claimed: dict[VMRef, set[str]] = field(default_factory=dict)
    leaving_vifs: set[VIFRef] = field(default_factory=set)
    leaving_networks: set[NetworkRef] = field(default_factory=set)
    raised_trunks: dict[NetworkRef, int] = field(default_factory=dict)
    """A trunk's network -> the MTU a ``raise_trunk_mtu`` VLAN entry of this plan raises it
    to (later VLAN entries on it see that MTU)."""
    lowered_bonds: list[Step] = field(default_factory=list)
    """A bond's network ``set_MTU`` that lowers it: planned after the networks (the VLANs on
    the bond come down first), as a NIC trunk's is."""
    management_leaves: set[PIFRef] = field(default_factory=set)
    """The PIFs this plan's ``management:`` section moves the management interface off."""
    after_management: list[Step] = field(default_factory=list)
    """The removal of a bond whose master carries a management interface this plan moves
    off it: planned after the moves (their undo moves a member back onto the bond)."""
    rescanning: dict[tuple[HostRef, str], Later] = field(default_factory=dict)
    """(host, device) -> the PIF a ``PIF.scan`` step of this plan finds there."""
    vf_demand: dict[tuple[VMRef, NetworkRef], int] = field(default_factory=dict)
    """(VM, SR-IOV network) -> the VIFs it will have there, each needing a VF at start."""
    vf_refused: set[tuple[VMRef, NetworkRef]] = field(default_factory=set)
    _desired_networks: dict[str, NetworkSpec] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # The recipe's networks by name (the first of a name, as ``network_named`` finds),
        # looked up once per stated VIF: a dict, not a scan of the recipe each time.
        self._desired_networks = {}
        for spec in self.desired.networks:
            self._desired_networks.setdefault(spec.name, spec)

    def desired_network(self, name: str) -> NetworkSpec | None:
        """The recipe's network named ``name`` (``DesiredState.network_named``)."""
        return self._desired_networks.get(name)

    def is_sriov(self, net: NetTarget, name: str = "") -> bool:
        """Whether ``net`` is an SR-IOV network (XAPI's ``is_sriov_network``: a PIF on it is
        an SR-IOV logical PIF, or a VLAN on one), or one this plan makes as SR-IOV."""
        if not isinstance(net, str):
            spec = self.desired_network(name)
            return spec is not None and spec.kind == "sriov"
        return ident.is_sriov_network(self.snap, NetworkRef(net))

    def add(self, step: Step) -> None:
        self.steps.append(step)

    def noop(self, subject: str, reason: str) -> None:
        self.noops.append(Noop(subject, reason))

    def hosts(self, hosts: list[HostRef] | None = None) -> tuple[list[HostRef], list[HostRef]]:
        """(live, offline) hosts in apply order (master last)."""
        if hosts is None:
            return self.snap.live_and_offline()
        live: list[HostRef] = []
        offline: list[HostRef] = []
        for h in ident.ordered_hosts(self.snap):
            if h not in hosts:
                continue
            (live if self.snap.host_is_live(h) else offline).append(h)
        return live, offline

    def defer(self, subject: str, offline: list[HostRef], what: str) -> None:
        """``what`` is missing on each offline host: work for a later run, pending now."""
        for h in offline:
            label = ident.host_name(self.snap, h)
            self.deferred.append(Deferred(
                f"{subject} on {label}",
                f"{label} is offline: {what} is made there when it is back (re-run then)"))

    def single(self, what: str, refs: list[NetworkRef]) -> NetworkRef | None:
        """The one network of ``refs`` (None for none); several are a problem naming all."""
        unique = sorted(set(refs))
        if len(unique) > 1:
            self.problems.append(
                str(
                    AmbiguousObjectError(
                        f"{what} matches {len(unique)} objects; make it unique or remove the extra "
                        "ones",
                        [ident.network_words(self.snap, r) for r in unique],
                    )
                )
            )
            return None
        return unique[0] if unique else None

    def owned_or_adopt(
        self, ref: NetworkRef, spec_adopt: bool, identity: str, subject: str, what: str
    ) -> bool:
        """True if xapictl may manage ``ref``; plans the adoption mark when asked to."""
        if ident.is_owned(self.snap, ref):
            return True
        words = ident.network_words(self.snap, ref)
        if not spec_adopt:
            self.problems.append(
                f"{subject}: {what} is {words}, which xapictl did not make; "
                "add `adopt: true` (or --adopt) to manage it, or leave it out"
            )
            return False
        current = self.snap.networks[ref].other_config
        self.add(
            SetOtherConfig(
                subject,
                "adopt: mark it as managed by xapictl",
                xapi_class="network",
                ref=ref,
                values=ident.mark(identity),
                replace=tuple(k for k in ident.mark(identity) if k in current),
            )
        )
        return True


__all__ = ["NetTarget", "Planner"]
