"""Plan the ``interfaces`` entries: the IPv4 and IPv6 configuration of the PIF of each host
on a network (or NIC), its primary address type, and the dedicated storage interface marks.

Everything XAPI would refuse, or that would leave two hosts with one address, is a problem
named by its field before any write: a host without a PIF there, an address another PIF of
the pool already has (IPv4 or IPv6, the management interfaces included) or that another
entry of the recipe gives, the management interface's address (the management interface is
moved to another PIF, never re-addressed in place; on IPv6 when that is its primary address
type), its primary address type (XAPI's ``PIF_IS_MANAGEMENT_INTERFACE``), a range too short
for the hosts.
"""

from __future__ import annotations

import ipaddress

from xapictl.model.pif import PIF as PIFRecord
from xapictl.model.refs import HostRef, NetworkRef, PIFRef
from xapictl.plan import identity as ident
from xapictl.plan.desired import (
    IPV4_MODES,
    IPV6_MODES,
    PRIMARY_ADDRESS_TYPES,
    STORAGE_PURPOSE,
    InterfaceSpec,
    allot,
    ip_interface,
)
from xapictl.plan.diff.planner import Planner
from xapictl.plan.steps import (
    Later,
    PlugPIF,
    ReconfigureIP,
    ReconfigureIPv6,
    SetField,
    SetOtherConfig,
    SetPrimaryAddressType,
)
from xapictl.plan.steps.pif import dns_of, same_ipv6

Address = ipaddress.IPv4Interface | ipaddress.IPv6Interface
Claimed = dict[str, str]
"""An address (no prefix) -> the field of the recipe that gives it (one plan, every entry)."""


def plan_interfaces(d: Planner, specs: tuple[InterfaceSpec, ...]) -> None:
    """Every ``interfaces`` entry; an address two entries give is refused naming both."""
    claimed: Claimed = {}
    for spec in specs:
        plan_interface(d, spec, claimed)


def plan_interface(d: Planner, spec: InterfaceSpec, claimed: Claimed | None = None) -> None:
    claimed = {} if claimed is None else claimed
    pifs = _pifs(d, spec)
    if pifs is None:
        return
    addresses = _addresses(d, spec, list(pifs), 4)
    addresses6 = _addresses(d, spec, list(pifs), 6)
    if addresses is None or addresses6 is None:
        return
    for host, pif_ref in pifs.items():
        subject = f"{spec.subject} on {ident.host_name(d.snap, host)}"
        _plan_ip(d, spec, subject, pif_ref, addresses.get(host), claimed)
        _plan_ip6(d, spec, subject, pif_ref, addresses6.get(host), claimed)
        _plan_primary(d, spec, subject, pif_ref)
        if spec.purpose == "storage":
            _plan_storage(d, subject, pif_ref)


def _pifs(d: Planner, spec: InterfaceSpec) -> dict[HostRef, PIFRef] | None:
    """The PIF of each stated host, live ones in host order; ``None`` after a problem."""
    snap = d.snap
    if spec.network is not None:
        target = d.networks.get(spec.network)
        if isinstance(target, Later):
            d.problems.append(f"{spec.where}: interfaces: network {spec.network!r} is made "
                              "by this plan, its PIFs do not exist yet: apply the network "
                              "first, then the interfaces entry")
            return None
        found = _network(d, spec.network) if target is None else target
        if found is None:
            return None
        on_hosts = {p.host: r for r, p in snap.pifs.items() if p.network == found}
        where = f"network {spec.network!r}"
    else:
        on_hosts = ident.trunk_pifs_by_device(snap, spec.device or "")
        where = f"NIC {spec.device}"
    hosts = _hosts(d, spec)
    if hosts is None:
        return None
    live, offline = d.hosts(hosts)
    missing = [ident.host_name(snap, h) for h in live if h not in on_hosts]
    if missing:
        d.problems.append(f"{spec.where}: interfaces: {', '.join(missing)} "
                          f"{'has' if len(missing) == 1 else 'have'} no PIF on {where}; "
                          "state the network's PIF there first (or limit hosts:)")
        return None
    d.defer(spec.subject, offline, "its IP configuration")
    return {h: on_hosts[h] for h in live}


def _network(d: Planner, name: str) -> NetworkRef | None:
    found = [r for r, n in d.snap.networks.items() if n.name_label == name]
    if len(found) != 1:
        d.problems.append(f"interfaces: network {name!r} " + (
            "does not exist on the pool; state it under networks: or check the name"
            if not found else "is the name of several networks; rename one"))
        return None
    return found[0]


def _hosts(d: Planner, spec: InterfaceSpec) -> list[HostRef] | None:
    if spec.hosts is None:
        return ident.ordered_hosts(d.snap)
    by_word = {w: r for r, h in d.snap.hosts.items() for w in (h.name_label, h.uuid)}
    unknown = [h for h in spec.hosts if h not in by_word]
    if unknown:
        d.problems.append(f"{spec.where}: interfaces.hosts: no host {', '.join(unknown)} in "
                          f"the pool (hosts: {', '.join(sorted(by_word))})")
        return None
    return [by_word[h] for h in spec.hosts]


def _addresses(d: Planner, spec: InterfaceSpec, hosts: list[HostRef], version: int
               ) -> dict[HostRef, Address] | None:
    """The static address of each host in one family (4 or 6); ``None`` after a problem
    (named by its field)."""
    snap = d.snap
    given, ranged, mode = ((spec.addresses, spec.address_range, spec.ipv4) if version == 4
                           else (spec.addresses6, spec.address6_range, spec.ipv6))
    field, range_field = ("addresses", "address_range") if version == 4 else (
        "addresses6", "address6_range")
    out: dict[HostRef, Address] = {}
    if ranged is not None:
        by_name = sorted(hosts, key=lambda h: ident.host_name(snap, h))
        allotted = allot(ranged, len(by_name), version)
        if len(allotted) < len(by_name):
            d.problems.append(f"{spec.where}: interfaces.{range_field}: {ranged} "
                              f"holds {len(allotted)} addresses for {len(by_name)} hosts; "
                              "widen the range")
            return None
        out = dict(zip(by_name, allotted, strict=True))
    by_word = {w: r for r, h in snap.hosts.items() for w in (h.name_label, h.uuid)}
    bad = False
    for word, text in (given or {}).items():
        host = by_word.get(word)
        if host is None:
            d.problems.append(f"{spec.where}: interfaces.{field}.{word}: no host {word} in "
                              f"the pool (hosts: {', '.join(sorted(by_word))})")
            bad = True
        elif host in hosts:
            out[host] = ip_interface(text, version)
    for host in hosts:
        if mode == "static" and host not in out:
            d.problems.append(f"{spec.where}: interfaces.{field}: no address for "
                              f"{ident.host_name(snap, host)}; add one")
            bad = True
    return None if bad else out


def _plan_ip(d: Planner, spec: InterfaceSpec, subject: str, ref: PIFRef,
             address: Address | None, claimed: Claimed) -> None:
    if spec.ipv4 is None:
        return
    pif = d.snap.pifs[ref]
    mode = IPV4_MODES[spec.ipv4]
    ip, netmask = (str(address.ip), str(address.netmask)) if address is not None else ("", "")
    gateway, dns = _kept(spec, pif.gateway, ",".join(dns_of(pif.dns, 4)), address)
    want = (mode, ip, netmask, gateway, dns)
    have = (pif.ip_configuration_mode.value, pif.ip, pif.netmask, pif.gateway,
            ",".join(dns_of(pif.dns, 4)))
    if want == have or (mode != "Static" and want[0] == have[0]):
        d.noop(subject, f"IPv4 is already {_words(want)}")
        return
    field = ("interfaces.address_range" if spec.address_range is not None
             else f"interfaces.addresses.{ident.host_name(d.snap, pif.host)}")
    if pif.management:
        _not_in_place(d, spec, field, ref, f"({_words(have)})")
        return
    if ip and _collides(d, spec, field, ref, ip, 4, claimed):
        return
    d.add(ReconfigureIP(subject, f"IPv4 is {_words(have)}, the recipe says {_words(want)}",
                        pif=ref, mode=mode, ip=ip, netmask=netmask, gateway=gateway,
                        dns=dns))


def _plan_ip6(d: Planner, spec: InterfaceSpec, subject: str, ref: PIFRef,
              address: Address | None, claimed: Claimed) -> None:
    if spec.ipv6 is None:
        return
    pif = d.snap.pifs[ref]
    mode = IPV6_MODES[spec.ipv6]
    ipv6 = str(address) if address is not None else ""
    have_dns = ",".join(dns_of(pif.dns, 6))
    gateway, dns = _kept6(spec, pif.ipv6_gateway, have_dns, address)
    want = (mode, ipv6, gateway, dns)
    have = (pif.ipv6_configuration_mode.value, ",".join(a for a in pif.ipv6 if a),
            pif.ipv6_gateway, have_dns)
    if want[0] == have[0] and (mode != "Static" or (
            same_ipv6(pif.ipv6, ipv6) and want[2:] == have[2:])):
        d.noop(subject, f"IPv6 is already {_words6(have if mode == 'Static' else want)}")
        return
    field = ("interfaces.address6_range" if spec.address6_range is not None
             else f"interfaces.addresses6.{ident.host_name(d.snap, pif.host)}")
    if pif.management and pif.primary_address_type.value == "IPv6":
        _not_in_place(d, spec, field, ref, f"on IPv6 ({_words6(have)})")
        return
    if address is not None and _collides(d, spec, field, ref, str(address.ip), 6, claimed):
        return
    d.add(ReconfigureIPv6(subject, f"IPv6 is {_words6(have)}, the recipe says "
                          f"{_words6(want)}", pif=ref, mode=mode, ipv6=ipv6, gateway=gateway,
                          dns=dns))


def _not_in_place(d: Planner, spec: InterfaceSpec, field: str, ref: PIFRef, how: str) -> None:
    d.problems.append(f"{spec.where}: {field}: {ident.pif_words(d.snap, ref)} is the "
                      f"management interface {how}; its address is not changed in place: "
                      "move the management interface to another PIF first")


def _collides(d: Planner, spec: InterfaceSpec, field: str, ref: PIFRef, ip: str,
              version: int, claimed: Claimed) -> bool:
    """``ip`` is another PIF's (any PIF of the pool, the management interfaces included), a
    host's ``address`` (where XAPI and its clients reach the host), or another entry gives it:
    a problem naming both; else it is claimed for this PIF."""
    users = [r for r, p in d.snap.pifs.items() if r != ref and ip in _addresses_of(p, version)]
    hosts = [h for h in d.snap.hosts.values() if _same_ip(h.address, ip)]
    if users or hosts:
        whose = ident.pif_words(d.snap, users[0]) if users else f"host {hosts[0].name_label}"
        d.problems.append(f"{spec.where}: {field}: {ip} is already the address of {whose}; "
                          "give a free address")
        return True
    mine = f"{field} ({ident.pif_words(d.snap, ref)})"
    if claimed.setdefault(ip, mine) != mine:
        d.problems.append(f"{spec.where}: {field}: {ip} is also given by {claimed[ip]}; "
                          "every PIF needs its own address")
        return True
    return False


def _same_ip(text: str, ip: str) -> bool:
    """``text`` (a host's address: an IP, or a name) is the address ``ip``."""
    try:
        return ipaddress.ip_address(text) == ipaddress.ip_address(ip)
    except ValueError:
        return False


def _addresses_of(pif: PIFRecord, version: int) -> set[str]:
    """The addresses (no prefix) a PIF has in one family."""
    if version == 4:
        return {pif.ip} if pif.ip else set()
    out = set()
    for text in pif.ipv6:
        try:
            out.add(str(ipaddress.IPv6Interface(text).ip))
        except ValueError:
            continue
    return out


def _plan_primary(d: Planner, spec: InterfaceSpec, subject: str, ref: PIFRef) -> None:
    if spec.primary_address_type is None:
        return
    pif = d.snap.pifs[ref]
    want, have = PRIMARY_ADDRESS_TYPES[spec.primary_address_type], pif.primary_address_type.value
    if want == have:
        d.noop(subject, f"the primary address type is already {have}")
        return
    if pif.management:
        d.problems.append(f"{spec.where}: interfaces.primary_address_type: "
                          f"{ident.pif_words(d.snap, ref)} is the management interface; XAPI "
                          "keeps its primary address type (PIF_IS_MANAGEMENT_INTERFACE): set "
                          "it on the PIF management moves to, before the move")
        return
    d.add(SetPrimaryAddressType(subject, f"the primary address type is {have}, the recipe "
                                f"says {want}", pif=ref, value=want))


def _kept(spec: InterfaceSpec, gateway: str, dns: str,
          address: Address | None) -> tuple[str, str]:
    """The gateway and DNS to send: as stated, else the PIF's own (not stated: left alone;
    a gateway outside the new subnet is dropped, since it could not be reached)."""
    if spec.ipv4 != "static" or address is None:
        return "", ""
    return _gateway(spec.gateway, gateway, address), \
        ",".join(spec.dns) if spec.dns is not None else dns


def _kept6(spec: InterfaceSpec, gateway: str, dns: str,
           address: Address | None) -> tuple[str, str]:
    """``_kept`` for IPv6: the gateway and the IPv6 DNS entries to send."""
    if spec.ipv6 != "static" or address is None:
        return "", ""
    return _gateway(spec.gateway6, gateway, address), \
        ",".join(spec.dns6) if spec.dns6 is not None else dns


def _gateway(stated: str | None, own: str, address: Address) -> str:
    if stated is not None:
        return str(ipaddress.ip_address(stated))
    try:
        return own if own and ipaddress.ip_address(own) in address.network else ""
    except ValueError:
        return ""


def _plan_storage(d: Planner, subject: str, ref: PIFRef) -> None:
    pif = d.snap.pifs[ref]
    key, value = STORAGE_PURPOSE
    if pif.management:
        d.problems.append(f"{subject}: purpose: storage on {ident.pif_words(d.snap, ref)}, "
                          "the management interface; a storage interface is a second one")
        return
    if pif.other_config.get(key) != value:
        d.add(SetOtherConfig(subject, f"mark it a storage interface as XenCenter does "
                             f"({key}={value})", xapi_class="PIF", ref=ref,
                             values={key: value},
                             replace=(key,) if key in pif.other_config else ()))
    if not pif.disallow_unplug:
        d.add(SetField(subject, "a storage interface stays plugged (disallow_unplug)",
                       xapi_class="PIF", ref=ref, method="set_disallow_unplug",
                       field_name="disallow_unplug", value=True))
    if not pif.currently_attached:
        d.add(PlugPIF(subject, "a storage interface is plugged", pif=ref))
    if pif.other_config.get(key) == value and pif.disallow_unplug and pif.currently_attached:
        d.noop(subject, "already a plugged storage interface")


def _words6(values: tuple[str, ...]) -> str:
    mode, ipv6, gateway, dns = values
    if mode != "Static":
        return mode
    return f"Static {ipv6 or '-'}" + (f" gateway {gateway}" if gateway else "") + (
        f" DNS {dns}" if dns else "")


def _words(values: tuple[str, ...]) -> str:
    if values[0] != "Static":
        return values[0]
    _mode, ip, netmask, gateway, dns = values
    text = f"Static {ip}/{ipaddress.IPv4Network(f'0.0.0.0/{netmask}').prefixlen}" \
        if netmask else f"Static {ip or '-'}"
    return text + (f" gateway {gateway}" if gateway else "") + (f" DNS {dns}" if dns else "")


__all__ = ["plan_interface", "plan_interfaces"]
