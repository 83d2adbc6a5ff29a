"""Steps on SR-IOV: ``network_sriov.create`` on one host's NIC, ``network_sriov.destroy``."""

from __future__ import annotations

from xapictl._frozen import frozen
from xapictl.model.refs import HostRef, NetworkRef, NetworkSriovRef, PIFRef
from xapictl.plan.steps.base import Later, RunContext, XapiStep, gone
from xapictl.plan.steps.facts import Facts, call, identity, relying
from xapictl.plan.steps.vlan import network_name
from xapictl.state.snapshot import PoolSnapshot


@frozen(kw_only=True)
class CreateSriov(XapiStep):
    """``network_sriov.create(pif, network)`` on one host: a logical PIF on the SR-IOV
    network. Whether the VFs need a reboot is XAPI's answer (``requires_reboot``), shown by
    the re-plan and ``network show``."""

    host: HostRef
    host_label: str
    pif: PIFRef
    network: str | Later

    action = "enable SR-IOV"
    disruption = ("enables SR-IOV on a NIC in use: its driver may be reloaded (the link "
                  "bounces) or the host may need a reboot before the VFs exist")
    calls = ("network_sriov.create",)
    reads = ("PIF", "network_sriov")

    def args_text(self) -> str:
        return f"on {self.host_label}"

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        return Facts("create", "network_sriov",
                     identity(snap, "network_sriov", None, host=self.host_label,
                              device=snap.pifs[self.pif].device if (
                                  snap is not None and self.pif in snap.pifs) else None,
                              network=network_name(snap, self.network)),
                     after={"host": self.host_label},
                     calls=(call("network_sriov.create", self.pif, self.network),),
                     relies_on=relying(("PIF", self.pif), ("network", self.network),
                                       ("host", self.host)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        pif = snap.pifs.get(self.pif)
        if pif is None:
            return gone("PIF", self.pif)
        if pif.sriov_physical_pif_of:
            return f"SR-IOV was enabled on {pif.device} of {self.host_label} since planning"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        return str(ctx.conn.call("network_sriov.create", self.pif, ctx.ref(self.network)))

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        found = snap.sriovs_on(NetworkRef(ctx.ref(self.network))).get(self.host)
        return str(found) if found is not None else False


@frozen(kw_only=True)
class DestroySriov(XapiStep):
    sriov: NetworkSriovRef
    host_label: str = ""

    action = "disable SR-IOV"
    disruption = "disables SR-IOV on the NIC (its logical PIF goes from the host)"
    calls = ("network_sriov.destroy",)
    reads = ("network_sriov",)

    def args_text(self) -> str:
        return f"on {self.host_label}" if self.host_label else ""

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        return Facts("delete", "network_sriov",
                     identity(snap, "network_sriov", self.sriov, host=self.host_label),
                     calls=(call("network_sriov.destroy", self.sriov),),
                     relies_on=relying(("network_sriov", self.sriov)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        return None if self.sriov in snap.sriovs else gone("network_sriov", self.sriov)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("network_sriov.destroy", self.sriov)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return self.sriov not in snap.sriovs


__all__ = ["CreateSriov", "DestroySriov"]
