"""Steps on PIFs: plug one the recipe expects attached; plug again so the bridge takes the
network's MTU; give one its IPv4 or IPv6 configuration or its primary address type."""

from __future__ import annotations

import ipaddress

from xapictl._frozen import frozen
from xapictl.errors import PlanDriftError
from xapictl.model.refs import HostRef, PIFRef
from xapictl.plan.steps.base import Later, RunContext, XapiStep, gone
from xapictl.plan.steps.facts import Facts, call, field_of, identity, relying
from xapictl.state.snapshot import PoolSnapshot


@frozen(kw_only=True)
class ReplugPIF(XapiStep):
    """Plug an attached PIF again: XAPI re-applies the network's MTU to its bridge without
    taking it down (so VIFs of running VMs do not block it, as ``PIF.unplug`` would)."""

    pif: PIFRef
    allow_management: bool = False
    mtu: int = 0
    """The MTU the plug applies (the network's new MTU; 0: the network's MTU now)."""

    action = "re-plug"
    disruption = "re-plugs the PIF (its bridge is reconfigured)"
    calls = ("PIF.plug",)
    reads = ("PIF",)

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        pif = snap.pifs.get(self.pif) if snap is not None else None
        net = snap.networks.get(pif.network) if snap is not None and pif is not None else None
        return Facts("replug", "PIF", identity(snap, "PIF", self.pif),
                     before={"MTU": pif.mtu} if pif is not None else None,
                     after={"MTU": self.mtu} if self.mtu else
                     {"MTU": net.mtu} if net is not None else None,
                     calls=(call("PIF.plug", self.pif),), relies_on=relying(("PIF", self.pif)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        pif = snap.pifs.get(self.pif)
        if pif is None:
            return gone("PIF", self.pif)
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


@frozen(kw_only=True)
class PlugPIF(XapiStep):
    """``PIF.plug`` of an unplugged PIF the recipe needs (a VLAN PIF, or the trunk under
    it): additive, it brings back what the recipe expects and interrupts nothing."""

    pif: PIFRef | Later
    """An existing PIF, or the one a ``ScanPIFs`` step of the plan finds."""

    action = "plug"
    calls = ("PIF.plug",)
    reads = ("PIF",)

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        attached = field_of(snap, "PIF", self.pif, "currently_attached")
        return Facts("plug", "PIF", identity(snap, "PIF", self.pif),
                     before={"currently_attached": attached} if attached is not None else None,
                     after={"currently_attached": True},
                     calls=(call("PIF.plug", self.pif),), relies_on=relying(("PIF", self.pif)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        pif = ctx.known(self.pif)
        return None if pif is None or pif in snap.pifs else gone("PIF", pif)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("PIF.plug", ctx.ref(self.pif))
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        pif = snap.pifs.get(PIFRef(ctx.ref(self.pif)))
        return pif is not None and pif.currently_attached


@frozen(kw_only=True)
class ScanPIFs(XapiStep):
    """``PIF.scan`` of one host: XAPI introduces every NIC the host has without a PIF (it
    never removes one). Asked for by ``rediscover: true`` when the host lacks ``device``;
    produces the new PIF (``key``), which later steps of the plan build on."""

    host: HostRef
    host_label: str
    device: str = ""
    """The NIC the plan builds on (``rediscover``); "" for a scan alone (``pif scan``)."""

    action = "scan NICs"
    calls = ("PIF.scan",)
    reads = ("host",)

    def args_text(self) -> str:
        return f"on {self.host_label}" + (f" (looking for {self.device})" if self.device else "")

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        return Facts("create", "PIF", identity(snap, "PIF", None, device=self.device,
                                               host=self.host_label),
                     after={"device": self.device, "host": self.host_label},
                     calls=(call("PIF.scan", self.host),), relies_on=relying(("host", self.host)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        return None if self.host in snap.hosts else gone("host", self.host)

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("PIF.scan", self.host)
        return self.found(ctx) if self.device else None

    def found(self, ctx: RunContext) -> str:
        """The PIF the scan made for ``device`` (what later steps of the plan build on).
        Raises ``PlanDriftError`` when the host has no such NIC: apply stops there."""
        expr = (f'field "host"="{self.host}" and field "device"="{self.device}" '
                'and field "physical"="true"')
        pifs = ctx.conn.call("PIF.get_all_records_where", expr)
        if not pifs:
            raise PlanDriftError(f"PIF.scan of {self.host_label} found no NIC {self.device}: "
                                 "check the device name and the host's hardware")
        return str(sorted(pifs)[0])

    def resume(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        return self.execute(ctx)

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        """The NIC's PIF; a scan alone shows no effect of its own: sent again (additive)."""
        found = snap.pif_on(self.host, self.device) if self.device else None
        return str(found) if found is not None else False


@frozen(kw_only=True)
class ReconfigureIP(XapiStep):
    """``PIF.reconfigure_ip``: XAPI writes the mode, address, netmask, gateway and DNS and
    brings an attached PIF down and up again (its bridge is reconfigured). The same call
    again writes the same values, so a lost answer is resolved by reading them back."""

    pif: PIFRef
    mode: str
    """XAPI's ``None``, ``DHCP`` or ``Static``."""
    ip: str = ""
    netmask: str = ""
    gateway: str = ""
    dns: str = ""

    action = "reconfigure IP"
    disruption = "reconfigures the PIF's IPv4 address (an attached PIF goes down and up)"
    calls = ("PIF.reconfigure_ip",)
    reads = ("PIF",)

    def args_text(self) -> str:
        return _ip_args(self.mode, f"{self.ip} netmask {self.netmask}", self.gateway, self.dns)

    def _values(self) -> dict[str, object]:
        return {"ip_configuration_mode": self.mode, "IP": self.ip, "netmask": self.netmask,
                "gateway": self.gateway, "DNS": self.dns}

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        pif = snap.pifs.get(self.pif) if snap is not None else None
        before = None if pif is None else {
            "ip_configuration_mode": pif.ip_configuration_mode.value, "IP": pif.ip,
            "netmask": pif.netmask, "gateway": pif.gateway, "DNS": pif.dns}
        return Facts("update", "PIF", identity(snap, "PIF", self.pif), before=before,
                     after=self._values(),
                     calls=(call("PIF.reconfigure_ip", self.pif, self.mode, self.ip,
                                 self.netmask, self.gateway, self.dns),),
                     relies_on=relying(("PIF", self.pif)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        pif = snap.pifs.get(self.pif)
        if pif is None:
            return gone("PIF", self.pif)
        if pif.management:
            return "the PIF became the management interface; its address is not changed"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("PIF.reconfigure_ip", self.pif, self.mode, self.ip, self.netmask,
                      self.gateway, self.dns)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        pif = snap.pifs.get(self.pif)
        return pif is not None and (pif.ip_configuration_mode.value, pif.ip, pif.netmask,
                                    pif.gateway, dns_of(pif.dns, 4)) == (
            self.mode, self.ip, self.netmask, self.gateway, dns_of(self.dns, 4))


def _ip_args(mode: str, address: str, gateway: str, dns: str) -> str:
    """A reconfigure step's arguments in words: the mode, and for Static what it sends."""
    if mode != "Static":
        return f"mode {mode}"
    extra = "".join(f", {k} {v}" for k, v in (("gateway", gateway), ("DNS", dns)) if v)
    return f"mode Static, {address}{extra}"


def dns_of(text: str, version: int) -> tuple[str, ...]:
    """The entries of a PIF's comma-separated ``DNS`` of one family, in order. XAPI keeps
    both families in that one field: ``reconfigure_ip`` replaces the IPv4 entries and keeps
    the IPv6 ones, ``reconfigure_ipv6`` the other way round (``restrict_to``: an entry that
    is not an address of the family, spaces included, is dropped)."""
    out = []
    for entry in text.split(","):
        try:
            if "%" not in entry and ipaddress.ip_address(entry).version == version:
                out.append(entry)
        except ValueError:
            continue
    return tuple(out)


def same_ipv6(have: tuple[str, ...], want: str) -> bool:
    """The PIF's ``IPv6`` set holds ``want`` (``address/prefix``), however written. Not "is
    exactly": XAPI's ``update_pif_address`` writes every address of the bridge into it (the
    link-local ``fe80::…/64`` beside the static one) when the PIF's IPv4 is DHCP."""
    try:
        wanted = ipaddress.IPv6Interface(want)
    except ValueError:
        return False
    for text in have:
        try:
            if ipaddress.IPv6Interface(text) == wanted:
                return True
        except ValueError:
            continue
    return False


@frozen(kw_only=True)
class ReconfigureIPv6(XapiStep):
    """``PIF.reconfigure_ipv6``: XAPI writes the mode, the address (``IPv6`` becomes the set
    of just it), the gateway and the IPv6 DNS entries (keeping the IPv4 ones), and brings an
    attached PIF down and up again. Sent again it writes the same: a lost answer is
    resolved by reading them back."""

    pif: PIFRef
    mode: str
    """XAPI's ``None``, ``DHCP``, ``Autoconf`` or ``Static``."""
    ipv6: str = ""
    """``address/prefix`` for Static; "" otherwise."""
    gateway: str = ""
    dns: str = ""
    """The IPv6 DNS servers, comma separated."""

    action = "reconfigure IPv6"
    disruption = "reconfigures the PIF's IPv6 address (an attached PIF goes down and up)"
    calls = ("PIF.reconfigure_ipv6",)
    reads = ("PIF",)

    def args_text(self) -> str:
        return _ip_args(self.mode, self.ipv6, self.gateway, self.dns)

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        pif = snap.pifs.get(self.pif) if snap is not None else None
        before = None if pif is None else {
            "ipv6_configuration_mode": pif.ipv6_configuration_mode.value,
            "IPv6": list(pif.ipv6), "ipv6_gateway": pif.ipv6_gateway,
            "DNS": ",".join(dns_of(pif.dns, 6))}
        return Facts("update", "PIF", identity(snap, "PIF", self.pif), before=before,
                     after={"ipv6_configuration_mode": self.mode, "IPv6": [self.ipv6],
                            "ipv6_gateway": self.gateway, "DNS": self.dns},
                     calls=(call("PIF.reconfigure_ipv6", self.pif, self.mode, self.ipv6,
                                 self.gateway, self.dns),),
                     relies_on=relying(("PIF", self.pif)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        pif = snap.pifs.get(self.pif)
        if pif is None:
            return gone("PIF", self.pif)
        if pif.management and pif.primary_address_type.value == "IPv6":
            return "the PIF became the management interface on IPv6; its address is not changed"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("PIF.reconfigure_ipv6", self.pif, self.mode, self.ipv6, self.gateway,
                      self.dns)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        pif = snap.pifs.get(self.pif)
        if pif is None or pif.ipv6_configuration_mode.value != self.mode:
            return False
        address = same_ipv6(pif.ipv6, self.ipv6) if self.ipv6 else True
        return address and (pif.ipv6_gateway, dns_of(pif.dns, 6)) == (
            self.gateway, dns_of(self.dns, 6))


@frozen(kw_only=True)
class SetPrimaryAddressType(XapiStep):
    """``PIF.set_primary_address_type``: which family XAPI uses on the PIF when it is (or
    becomes) the management interface. XAPI only writes the field (no re-plug), and refuses
    it on the management interface itself."""

    pif: PIFRef
    value: str
    """XAPI's ``IPv4`` or ``IPv6``."""

    action = "set primary address type"
    calls = ("PIF.set_primary_address_type",)
    reads = ("PIF",)
    touches = ("PIF",)

    def args_text(self) -> str:
        return self.value

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        before = field_of(snap, "PIF", self.pif, "primary_address_type")
        return Facts("update", "PIF", identity(snap, "PIF", self.pif),
                     before={"primary_address_type": str(before)}
                     if before is not None else None,
                     after={"primary_address_type": self.value},
                     calls=(call("PIF.set_primary_address_type", self.pif, self.value),),
                     relies_on=relying(("PIF", self.pif)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        pif = snap.pifs.get(self.pif)
        if pif is None:
            return gone("PIF", self.pif)
        if pif.management:
            return "the PIF became the management interface; XAPI keeps its address type"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("PIF.set_primary_address_type", self.pif, self.value)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        pif = snap.pifs.get(self.pif)
        return pif is not None and pif.primary_address_type.value == self.value


__all__ = ["PlugPIF", "ReconfigureIP", "ReconfigureIPv6", "ReplugPIF", "ScanPIFs",
           "SetPrimaryAddressType", "dns_of", "same_ipv6"]
